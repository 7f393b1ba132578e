"""Notifications end to end on loopback: sandbox (SP-API + publisher) → moto SQS → consumer → ledger/lake.

Covers: idempotent setup of destinations/subscriptions, listings notifications arriving through the
EventBridge envelope (PascalCase), REPORT_PROCESSING_FINISHED (camelCase) completing the ledger entry,
duplicates and out-of-order messages changing nothing, and a malformed message reaching the DLQ through
the SQS redrive policy while the consumer keeps going.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from splake.items.context import open_local_env
from splake.lake.query import QueryEngine
from splake.notifications.consumer import consume
from splake.notifications.setup import setup_notifications
from splake.notifications.sqs import ensure_queue, open_queue
from splake.reports import ledger
from splake.reports.planner import Window, WorkUnit
from splake.sandbox.catalog import products_for
from tests.integration.items_helpers import sandbox_settings, seed_secrets

US = "ATVPDKIKX0DER"


@pytest.fixture
def queue_info(moto_server):
    return ensure_queue(
        f"splake-n-{uuid.uuid4().hex[:8]}",
        region="us-east-1",
        endpoint_url=moto_server.url,
        max_receive_count=2,
    )


@pytest.fixture
async def env(sandbox_factory, moto_server, queue_info, tmp_path: Path):
    sb = sandbox_factory(aws_endpoint_url=moto_server.url, eventbridge_queue_url=queue_info.url)
    settings = sandbox_settings(
        sb,
        tmp_path / "lake",
        ("seller-na", "vendor-na"),
        notifications={
            "enabled": True,
            "queue_url": queue_info.url,
            "queue_arn": queue_info.arn,
            "dlq_url": queue_info.dlq_url,
            "aws_endpoint_url": moto_server.url,
        },
    )
    e = open_local_env(settings, seed_secrets(sb, settings, tmp_path / "secrets"))
    e.sandbox = sb  # type: ignore[attr-defined]
    yield e
    await e.client.aclose()


def _dlq_bodies(moto_server, url: str) -> list[str]:
    sqs = moto_server.client("sqs")
    out = []
    for _ in range(3):
        resp = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        out += [m["Body"] for m in resp.get("Messages", [])]
    return out


async def test_setup_is_idempotent_and_skips_vendors(env) -> None:
    first = await setup_notifications(env.client, env.settings)
    assert set(first.destinations) == {"sqs", "eventBridge"}
    assert set(first.subscriptions) == {"seller-na"}  # vendor-na completes by polling
    assert set(first.subscriptions["seller-na"]) == {
        "REPORT_PROCESSING_FINISHED",
        "LISTINGS_ITEM_STATUS_CHANGE",
        "LISTINGS_ITEM_ISSUES_CHANGE",
    }
    second = await setup_notifications(env.client, env.settings)
    assert second.created == []
    assert second.destinations == first.destinations
    assert second.subscriptions == first.subscriptions
    subs = env.sandbox.state.subscriptions.values()
    issues = [s for s in subs if s.notification_type == "LISTINGS_ITEM_ISSUES_CHANGE"]
    assert [s.payload_version for s in issues] == ["2023-12-13"]
    eb = env.sandbox.state.destinations[first.destinations["eventBridge"]]
    assert eb.kind == "eventBridge" and eb.account_id == env.settings.notifications.queue_arn.split(":")[4]


async def test_listing_notifications_refetch_dedup_and_dlq(env, moto_server, queue_info) -> None:
    sb = env.sandbox
    await setup_notifications(env.client, env.settings)
    seller = sb.world.account("seller-na")
    sku = products_for(sb.world.seed, seller, sb.world.scale)[3].sku
    async with httpx.AsyncClient() as http:
        r = await http.post(
            f"{sb.url}/_sandbox/listings/{seller.selling_partner_id}/{sku}/status",
            json={
                "marketplaceId": US,
                "status": ["DISCOVERABLE"],
                "severities": ["ERROR"],
                "enforcementActions": ["LISTING_SUPPRESSED"],
            },
        )
    assert r.status_code == 200 and r.json()["notificationsSent"] == 2
    queue = open_queue(env.settings)
    sqs = moto_server.client("sqs")
    # Peek at what the sandbox delivered (then make it visible again): EventBridge envelopes, PascalCase.
    peek = sqs.receive_message(QueueUrl=queue_info.url, MaxNumberOfMessages=10, VisibilityTimeout=0)[
        "Messages"
    ]
    delivered = [json.loads(m["Body"]) for m in peek]
    assert {d["detail-type"] for d in delivered} == {
        "LISTINGS_ITEM_STATUS_CHANGE",
        "LISTINGS_ITEM_ISSUES_CHANGE",
    }
    # A duplicate delivery of the status notification and a poison message.
    status_body = next(m["Body"] for m in peek if "STATUS" in json.loads(m["Body"])["detail-type"])
    queue.send(status_body)
    queue.send('{"NotificationType": "LISTINGS_ITEM_STATUS_CHANGE", "Payload": "not an object"')

    result = await consume(env, queue, max_messages=20, visibility_timeout=30)

    assert result.processed == 2
    assert result.duplicates == 1
    assert result.malformed >= 1  # received up to maxReceiveCount times, never deleted
    assert result.failed == 0
    assert _dlq_bodies(moto_server, queue_info.dlq_url) == [
        '{"NotificationType": "LISTINGS_ITEM_STATUS_CHANGE", "Payload": "not an object"'
    ]
    # The listing was refetched and landed with its new status and issue.
    q = QueryEngine(env.lake.catalog, env.settings.lake.namespace)
    rows = q.sql(f"select status, buyable, error_count from listings_items where sku = '{sku}'").to_pylist()
    assert rows == [{"status": ["DISCOVERABLE"], "buyable": False, "error_count": 1}]
    # Replaying every notification again (redelivery after a crash) changes nothing.
    before = q.sql("select count(*) as n from listings_items_history").to_pylist()[0]["n"]
    for m in peek:
        queue.send(m["Body"])
    again = await consume(env, queue, max_messages=10)
    assert again.duplicates == 2 and again.processed == 0
    assert q.sql("select count(*) as n from listings_items_history").to_pylist()[0]["n"] == before
    assert (
        sqs.get_queue_attributes(QueueUrl=queue_info.url, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"
        ]["ApproximateNumberOfMessages"]
        == "0"
    )


def _report_finished(
    account_id: str, seller_id: str | None, report_id: str, status: str, doc: str | None
) -> str:
    inner = {
        "accountId": account_id,
        "reportId": report_id,
        "reportType": "GET_MERCHANT_LISTINGS_ALL_DATA",
        "processingStatus": status,
    }
    if seller_id:
        inner["sellerId"] = seller_id
    if doc:
        inner["reportDocumentId"] = doc
    return json.dumps(
        {
            "notificationVersion": "2020-09-04",
            "notificationType": "REPORT_PROCESSING_FINISHED",
            "payloadVersion": "2020-09-04",
            "eventTime": "2026-11-24T10:00:00.000Z",
            "payload": {"reportProcessingFinishedNotification": inner},
            "notificationMetadata": {
                "applicationId": "amzn1.sellerapps.app.test",
                "subscriptionId": "sub-1",
                "publishTime": "2026-11-24T10:00:01.000Z",
                "notificationId": str(uuid.uuid4()),
            },
        }
    )


async def test_report_finished_completes_ledger_once(env, queue_info) -> None:
    seller = env.settings.account("seller-na")
    now = datetime.now(UTC)
    unit = WorkUnit(
        "seller-na", "GET_MERCHANT_LISTINGS_ALL_DATA", (US,), Window(None, now.replace(microsecond=0))
    )
    entry = ledger.save(
        env.state, ledger.on_report_obtained(ledger.new_entry(unit), "5001", "IN_QUEUE", now, reused=False)
    )
    queue = open_queue(env.settings)
    done = _report_finished(
        f"amzn1.merchant.o.{seller.selling_partner_id}", seller.selling_partner_id, "5001", "DONE", "doc-1"
    )
    queue.send(done)
    queue.send(done)  # duplicate delivery
    # Out of order / stale: a FATAL for the same report after DONE, and one for a report we never asked for.
    queue.send(
        _report_finished(
            f"amzn1.merchant.o.{seller.selling_partner_id}", seller.selling_partner_id, "5001", "FATAL", None
        )
    )
    queue.send(_report_finished("amzn1.merchant.o.SOMEONEELSE", "SOMEONEELSE", "777", "DONE", "doc-x"))

    result = await consume(env, queue, max_messages=10)

    assert result.duplicates == 1
    assert result.processed == 2  # DONE applied; the stale FATAL reached the entry and changed nothing
    assert result.ignored == 1  # unknown seller
    got = ledger.load(env.state, "seller-na", entry.key)
    assert got is not None
    assert got.status == "DONE" and got.document_id == "doc-1" and got.cooldown_until is None
    assert got.completed_at is not None and got.completed_at - now < timedelta(minutes=1)
