"""End to end on AWS (moto): the real sync state machine definition runs on moto's Step Functions executor,
its Lambda tasks dispatched to the real handlers, against moto S3/DynamoDB/Secrets Manager/SSM/KMS/Glue and
the SP-API sandbox. The curated result must equal the embedded runner's sync on the same sandbox."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from splake.auth.secrets import LocalSecretStore
from splake.config import Settings, parse_config
from splake.lake.catalog import open_glue_catalog
from splake.lake.iceberg import CuratedLake
from splake.reports.sync import sync
from splake.runners.demo import DEMO_ACCOUNTS, all_types_settings, demo_start
from splake.runners.local import LocalContext
from splake.sandbox.demo import demo_settings, seed_demo_secrets
from tests.support.aws_fixtures import LambdaHandlers, MotoServer, deploy_on_moto, own_lake, run_execution

REPORT_TYPES = [
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
    "GET_MERCHANT_LISTINGS_ALL_DATA",
    "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",
    "GET_VENDOR_SALES_REPORT",
]
ACCOUNTS = ("seller-na", "vendor-na")


def sandbox_settings(sb: Any, lake_dir: Path) -> Settings:
    accounts = []
    for acc_id in ACCOUNTS:
        a = sb.world.account(acc_id)
        accounts.append(
            {
                "id": a.account_id,
                "type": a.type,
                "region": a.region,
                "selling_partner_id": a.selling_partner_id,
                "marketplaces": list(a.marketplace_ids),
            }
        )
    return parse_config(
        {
            # moto's Glue catalog is shared by the session: a namespace of this test's own.
            "lake": {"path": str(lake_dir), "namespace": f"spapi_{uuid.uuid4().hex[:10]}"},
            "lwa": {"client_id": sb.world.client_id, "token_url": sb.url + "/auth/o2/token"},
            "spapi": {"endpoint_override": sb.url},
            "sync": {
                "report_types": REPORT_TYPES,
                "lookback_days": 2,
                "poll_initial_seconds": 0.5,
                "poll_max_seconds": 1,
            },
            "accounts": accounts,
        }
    )


def table_keys(lake: CuratedLake) -> dict[str, tuple[int, frozenset[str]]]:
    out: dict[str, tuple[int, frozenset[str]]] = {}
    for name in lake.table_names():
        if name.startswith("_") or "quarantine" in name:
            continue
        keys = lake.table(name).scan(selected_fields=("row_key",)).to_arrow().column("row_key").to_pylist()
        out[name] = (len(keys), frozenset(keys))
    return out


def compare_with_local(
    moto: MotoServer, handlers: LambdaHandlers, sb: Any, settings: Settings, tmp_path: Path, timeout: float
) -> dict[str, Any]:
    """Run the sync state machine on moto, then the embedded runner on the same sandbox; the curated
    tables must hold the same rows (count and row keys). Returns the Summarize output."""
    # Both runs plan their windows from "now" (hour-aligned): don't let an hour boundary fall between them.
    now = datetime.now(UTC)
    to_next_hour = 3600 - (now.minute * 60 + now.second)
    if to_next_hour < min(timeout, 600):
        time.sleep(to_next_hour + 2)
    if settings.lake.namespace == "spapi":  # the demo's settings: a Glue namespace of this test's own
        settings = settings.model_copy(
            update={"lake": settings.lake.model_copy(update={"namespace": own_lake(tmp_path)["namespace"]})}
        )
    runtime, arn, _ = deploy_on_moto(moto, settings, sb)
    started = time.monotonic()
    desc = run_execution(moto, arn, timeout=timeout)
    elapsed = time.monotonic() - started
    assert desc["status"] == "SUCCEEDED", (desc.get("error"), handlers.errors[:3])
    output: dict[str, Any] = json.loads(desc["output"])
    print(f"state machine sync: {elapsed:.1f}s, {len(handlers.invocations)} invocations, summary {output}")

    local_secrets = LocalSecretStore(tmp_path / "secrets")
    seed_demo_secrets(local_secrets, sb.world, settings)

    async def local() -> Any:
        ctx = LocalContext.open(settings, secrets=local_secrets)
        try:
            summary = await sync(settings, ctx)
            return summary, table_keys(ctx.lake)
        finally:
            await ctx.aclose()

    summary, local_tables = asyncio.run(local())
    assert not summary.failures

    aws_lake = CuratedLake(open_glue_catalog(runtime.catalog_properties()), settings.lake.namespace)
    aws_tables = table_keys(aws_lake)
    assert local_tables, "the local sync landed no tables"
    assert sum(n for n, _ in local_tables.values()) > 0
    assert {k: v[0] for k, v in aws_tables.items()} == {k: v[0] for k, v in local_tables.items()}
    assert aws_tables == local_tables
    print("tables:", {k: v[0] for k, v in aws_tables.items()})
    assert output["failed"] == 0
    # every invoked step ran a real handler
    assert {name.split("-")[1] for name, _ in handlers.invocations} >= {
        "plan",
        "request",
        "ingest",
        "summarize",
    }
    # raw documents landed in S3 with SSE-KMS
    s3 = moto.client("s3")
    raw = s3.list_objects_v2(Bucket=runtime.bucket, Prefix="raw/")
    assert raw.get("KeyCount", 0) > 0
    head = s3.head_object(Bucket=runtime.bucket, Key=raw["Contents"][0]["Key"])
    assert head["ServerSideEncryption"] == "aws:kms"
    return output


def test_state_machine_sync_equals_local_sync(
    moto_server: MotoServer, lambda_handlers: LambdaHandlers, sandbox_factory: Any, tmp_path: Path
) -> None:
    """Two accounts (seller + vendor), four report types incl. settlement discovery: < 60 s."""
    sb = sandbox_factory(time_scale=0.001)
    output = compare_with_local(
        moto_server, lambda_handlers, sb, sandbox_settings(sb, tmp_path / "lake"), tmp_path, 90
    )
    assert output["units"] >= len(REPORT_TYPES)


@pytest.mark.slow
def test_state_machine_runs_the_demo_sync(
    moto_server: MotoServer, lambda_handlers: LambdaHandlers, sandbox_factory: Any, tmp_path: Path
) -> None:
    """Exactly what `splake demo` syncs (4 accounts, every report type, 7-day backfill) through the state
    machine: identical curated row counts and row keys."""
    sb = sandbox_factory(time_scale=0.001)
    base = demo_settings(
        sb.url,
        tmp_path / "lake",
        DEMO_ACCOUNTS,
        world=sb.world,
        start_date=demo_start(datetime.now(UTC)).date(),
    )
    output = compare_with_local(moto_server, lambda_handlers, sb, all_types_settings(base), tmp_path, 900)
    assert output["units"] > 20
