"""`splake reports reland` on AWS: `splake deploy reland` re-lands a HELD report of a deployment from the
raw zone in S3 through the same core function, with the AWS context (ledger in DynamoDB, Glue catalog),
and without calling SP-API. On moto, with a real report file landed through the real ingest path."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from splake.cli import app
from splake.lake.catalog import open_glue_catalog
from splake.lake.iceberg import CuratedLake
from splake.reports import ledger, pipeline
from splake.reports.ledger import LedgerEntry
from splake.reports.planner import Window, WorkUnit
from splake.runners.aws.locks import DynamoLock
from splake.runners.aws.runtime import Runtime, open_context
from splake.sandbox.reports_state import DocumentRecord
from splake.spapi.marketplaces import marketplace
from tests.integration.items_helpers import sandbox_settings
from tests.integration.test_hold_and_charsets import _corrupt_dates
from tests.support.aws_fixtures import MotoServer, deploy_on_moto, own_lake
from tests.support.conformance import REAL, read_flat

LISTINGS = "GET_MERCHANT_LISTINGS_ALL_DATA"
ACCOUNT = "seller-eu"
DE = marketplace("DE").id


def _report_calls(sb: Any) -> int:
    return sum(v for k, v in sb.stats.snapshot().get("requests", {}).items() if "Report" in k)


def _land(sb: Any, runtime: Runtime, tmp_path: Path, body: bytes, rid: str) -> LedgerEntry:
    """Serve ``body`` as a finished report's document and run the real ingest path with the AWS context
    (what the ingest Lambda does for a DONE unit)."""
    doc_id = f"amzn1.spdoc.1.4.eu.reland-{uuid.uuid4().hex[:8]}"
    path = tmp_path / f"{rid}.gz"
    path.write_bytes(gzip.compress(body))
    sb.state.documents[doc_id] = DocumentRecord(
        document_id=doc_id,
        selling_partner_id=sb.world.account(ACCOUNT).selling_partner_id,
        report_id=rid,
        report_type=LISTINGS,
        content_type="text/plain",
        path=path,
        size=path.stat().st_size,
    )
    now = datetime.now(UTC)
    unit = WorkUnit(ACCOUNT, LISTINGS, (DE,), Window(None, now.replace(microsecond=0)))
    entry = dataclasses.replace(ledger.new_entry(unit), key=f"{unit.key}#reland-test#{rid}")
    entry = ledger.on_report_obtained(entry, rid, "DONE", now, reused=True, document_id=doc_id)

    async def go() -> LedgerEntry:
        ctx = open_context(runtime)
        try:
            ledger.save(ctx.state, entry)
            await pipeline.ingest(ctx, entry)
            return ledger.load(ctx.state, ACCOUNT, entry.key) or entry
        finally:
            await ctx.aclose()

    return asyncio.run(go())


def _rows(runtime: Runtime, namespace: str) -> list[dict[str, Any]]:
    lake = CuratedLake(open_glue_catalog(runtime.catalog_properties()), namespace)
    table = lake.table("merchant_listings").scan(selected_fields=("seller_sku", "open_date", "report_id"))
    return list(table.to_arrow().to_pylist())


def test_deploy_reland_lands_a_held_report_from_s3_without_spapi(
    moto_server: MotoServer, sandbox_factory: Any, tmp_path: Path
) -> None:
    sb = sandbox_factory()
    settings = sandbox_settings(sb, tmp_path / "lake", (ACCOUNT,), lake=own_lake(tmp_path / "lake"))
    runtime, _, _ = deploy_on_moto(moto_server, settings, sb)
    de = REAL["GET_MERCHANT_LISTINGS_ALL_DATA/saleweaver-de.txt"]

    good = _land(sb, runtime, tmp_path, de.path.read_bytes(), "70000000001")
    assert good.status == "INGESTED"
    before = _rows(runtime, settings.lake.namespace)
    assert len(before) == 40
    # 10 of 41 lines with unreadable dates: 24 % quarantined > 5 %, the document is held
    bad = _land(sb, runtime, tmp_path, _corrupt_dates(de.path.read_bytes(), keep=30), "70000000002")
    assert bad.status == "HELD" and bad.raw_key and bad.raw_key.startswith("raw/")
    assert sorted(map(str, _rows(runtime, settings.lake.namespace))) == sorted(map(str, before))

    calls = _report_calls(sb)
    base = [
        "deploy",
        "reland",
        "70000000002",
        "--bucket",
        runtime.bucket,
        "--table",
        runtime.table,
        "--kms-key",
        str(runtime.kms_key_id),
        "--ssm-prefix",
        runtime.ssm_prefix,
        "--secret-prefix",
        runtime.secret_prefix,
        "--endpoint-url",
        moto_server.url,
    ]
    res = CliRunner().invoke(app, base)
    assert res.exit_code == 1 and "still HELD" in res.output, res.output  # same rule, same outcome
    # A Lambda is committing to the table (it holds the table's lease): the reland waits for it, since
    # the core commits its document directly (no grouped commit)
    held = DynamoLock(moto_server.client("dynamodb"), runtime.table, "table:merchant_listings")
    asyncio.run(held.acquire())
    done: list[Any] = []
    worker = threading.Thread(target=lambda: done.append(CliRunner().invoke(app, [*base, "--force"])))
    worker.start()
    worker.join(timeout=5)
    assert worker.is_alive() and not done
    assert ledger.load(runtime.state(), ACCOUNT, bad.key).status == "HELD"  # type: ignore[union-attr]
    held.release()
    worker.join(timeout=120)
    (res,) = done
    assert res.exit_code == 0, res.output
    assert "30 rows, 11 quarantined" in res.output
    assert _report_calls(sb) == calls  # no SP-API report call: the document came from S3

    rows = _rows(runtime, settings.lake.namespace)
    ff = read_flat(de.path)
    sku = ff.header.index("seller-sku")
    assert len(rows) == 30 and {r["report_id"] for r in rows} == {"70000000002"}
    assert {r["seller_sku"] for r in rows} == {f[sku] for _, f in ff.rows[:30]}
    state = runtime.state()
    done = ledger.load(state, ACCOUNT, bad.key)
    assert done is not None and done.status == "INGESTED" and done.rows == 30

    res = CliRunner().invoke(app, [*base[:2], "99999999999", *base[3:]])
    assert res.exit_code == 2 and "99999999999" in res.output
