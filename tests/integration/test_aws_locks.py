"""The table-commit lease on DynamoDB (moto): exclusive, renewed by a heartbeat while held, and a crashed
holder blocks the table for one short lease only."""

from __future__ import annotations

import asyncio
import time

from splake.runners.aws.locks import DynamoLock
from tests.support.aws_fixtures import MotoServer, create_state_table, unique


def test_heartbeat_keeps_a_short_lease_and_a_dead_holder_expires(moto_server: MotoServer) -> None:
    ddb = moto_server.client("dynamodb")
    table = create_state_table(moto_server, unique("splake-locks"))

    async def scenario() -> None:
        a = DynamoLock(ddb, table, "table:orders", lease_seconds=1.0, timeout_seconds=0.3)
        b = DynamoLock(ddb, table, "table:orders", lease_seconds=1.0, timeout_seconds=0.3)
        async with a:
            await asyncio.sleep(2.5)  # 2.5 leases: only the heartbeat keeps it
            assert a.renewals >= 3 and not a.lost
            try:
                await b.acquire()
                raise AssertionError("two holders")
            except Exception as exc:
                assert "still held" in str(exc)
        async with b:  # released: the next writer gets it at once
            pass
        # a holder that dies (no release, no heartbeat) blocks for one lease
        dead = DynamoLock(ddb, table, "table:orders", lease_seconds=1.0)
        assert await asyncio.to_thread(dead._try)
        started = time.monotonic()
        c = DynamoLock(ddb, table, "table:orders", lease_seconds=1.0, timeout_seconds=5)
        async with c:
            waited = time.monotonic() - started
        assert 0.5 < waited < 3.0, waited

    asyncio.run(scenario())


def test_a_holder_that_stalls_past_its_lease_learns_it_lost_it(moto_server: MotoServer) -> None:
    ddb = moto_server.client("dynamodb")
    table = create_state_table(moto_server, unique("splake-locks"))

    async def scenario() -> None:
        slow = DynamoLock(ddb, table, "table:x", lease_seconds=0.6, heartbeat_seconds=2.0)
        other = DynamoLock(ddb, table, "table:x", lease_seconds=5, timeout_seconds=3)
        await slow.acquire()
        await other.acquire()  # slow's lease ran out before its first heartbeat
        await asyncio.sleep(2.2)
        assert slow.lost
        slow.release()  # does not delete the other holder's lease
        item = ddb.get_item(TableName=table, Key={"pk": {"S": "_lock#table:x"}, "sk": {"S": "-"}})["Item"]
        assert item["owner"]["S"] == other._owner
        other.release()

    asyncio.run(scenario())


def test_finished_ledger_entries_expire_and_reopened_ones_do_not(moto_server: MotoServer) -> None:
    from splake.runners.aws.dynamo_state import LEDGER_RETENTION_DAYS, DynamoStateStore

    ddb = moto_server.client("dynamodb")
    table = create_state_table(moto_server, unique("splake-state"))
    store = DynamoStateStore(table, client=ddb)
    key = {"pk": {"S": "ledger#acct"}, "sk": {"S": "k1"}}
    store.put("ledger", "acct", "k1", {"status": "IN_PROGRESS", "completed_at": None})
    assert "ttl" not in ddb.get_item(TableName=table, Key=key)["Item"]
    store.put("ledger", "acct", "k1", {"status": "INGESTED", "completed_at": "2026-01-01T00:00:00+00:00"})
    ttl = int(ddb.get_item(TableName=table, Key=key)["Item"]["ttl"]["N"])
    assert ttl == 1767225600 + LEDGER_RETENTION_DAYS * 86400
    store.put("ledger", "acct", "k1", {"status": "NEW", "completed_at": None}, expect_version=2)
    assert "ttl" not in ddb.get_item(TableName=table, Key=key)["Item"]
    store.put("cursors", "acct", "c", {"status": "INGESTED", "completed_at": "2026-01-01T00:00:00+00:00"})
    assert (
        "ttl"
        not in ddb.get_item(TableName=table, Key={"pk": {"S": "cursors#acct"}, "sk": {"S": "c"}})["Item"]
    )
