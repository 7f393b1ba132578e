"""A settlement Amazon lists for a marketplace the account does not configure (a CA settlement of a unified
NA account configured for US only) lands under its real marketplace, never relabelled as the first
configured one. Ground truth: the sandbox world's settlement periods (their marketplace)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from splake.auth.secrets import LocalSecretStore
from splake.reports.attribution import attribute
from splake.reports.sync import sync
from splake.runners.local import LocalContext, default_secrets_dir
from splake.sandbox import SandboxConfig, SandboxServer
from splake.sandbox.demo import demo_settings, seed_demo_secrets

SETTLEMENT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
US, CA = "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"


def test_unlisted_marketplace_settlement_lands_under_its_own_marketplace(tmp_path: Path) -> None:
    with SandboxServer(SandboxConfig(seed=7, time_scale=0.0)) as sb:
        base = demo_settings(
            sb.url,
            tmp_path,
            ("seller-na",),
            world=sb.world,
            start_date=(datetime.now(UTC) - timedelta(days=30)).date(),
        )
        accounts = tuple(
            a.model_copy(update={"marketplaces": (US,), "report_types": (SETTLEMENT,)}) for a in base.accounts
        )
        s = base.model_copy(update={"accounts": accounts})
        seed_demo_secrets(LocalSecretStore(default_secrets_dir(s)), sb.world, s)

        async def go():  # type: ignore[no-untyped-def]
            ctx = LocalContext.open(s)
            try:
                return await sync(s, ctx, max_wait_seconds=60)
            finally:
                await ctx.aclose()

        summary = asyncio.run(go())
        assert summary.exit_code == 0, summary.failures
        spid = sb.world.account("seller-na").selling_partner_id
        periods = sb.world.settlements(spid, datetime.now(UTC) - timedelta(days=90), datetime.now(UTC))
        truth = {p.settlement_id: p.marketplace_id for p in periods}
        assert CA in truth.values() and US in truth.values()  # the world has both

        ctx = LocalContext.open(s)
        try:
            engine = ctx.query_engine()
            landed = engine.sql("select distinct settlement_id, marketplace_id from settlements").to_pylist()
            engine.close()
        finally:
            asyncio.run(ctx.aclose())
        assert landed, "no settlement landed"
        got = {r["settlement_id"]: r["marketplace_id"] for r in landed}
        assert len(got) == len(landed)  # one marketplace per settlement
        assert CA in got.values()
        for sid, mid in got.items():
            assert truth[sid] == mid, f"settlement {sid} landed as {mid}, is {truth[sid]}"


def test_attribution_rules() -> None:
    assert attribute({"reportId": "1", "marketplaceIds": [CA]}, (US,)).marketplace_ids == (CA,)
    note = attribute({"reportId": "1", "marketplaceIds": [CA]}, (US,)).note
    assert note is not None and "CA" in note
    assert attribute({"reportId": "2", "marketplaceIds": [US]}, (US,)).note is None
    skipped = attribute({"reportId": "3"}, (US, CA))
    assert skipped.marketplace_ids == () and skipped.note and "skipped" in skipped.note


_HEADER = (
    "settlement-id\tsettlement-start-date\tsettlement-end-date\tdeposit-date\ttotal-amount\tcurrency\t"
    "transaction-type\torder-id\tmarketplace-name\tamount-type\tamount-description\tamount\tposted-date-time\tsku"
)


def _settlement(rows: list[tuple[str, str, str, str]]) -> bytes:
    """A settlement document: (transaction-type, order-id, marketplace-name, amount) rows after a summary."""
    lines = [_HEADER, "777\t2026-11-01T00:00:00+00:00\t2026-11-15T00:00:00+00:00\t2026-11-17T00:00:00+00:00\t"
             "42.00\tEUR\t\t\t\t\t\t\t\t"]  # fmt: skip
    for i, (ttype, order, name, amount) in enumerate(rows):
        lines.append(
            f"777\t\t\t\t\tEUR\t{ttype}\t{order}\t{name}\tItemPrice\tPrincipal\t{amount}\t"
            f"2026-11-0{i + 2}T10:00:00+00:00\tSKU-{i}"
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_the_document_names_its_marketplaces_and_wins(tmp_path: Path) -> None:
    from tests.support.conformance import ConformanceLab

    de, fr, gb = "A1PA6795UKMFR9", "A13V1IB3VIYZZH", "A1F83G8C2ARO7P"
    with ConformanceLab(tmp_path) as lab:
        # getReports said GB; every row of the document says Amazon.de: the document wins
        one = lab.land_bytes(
            _settlement(
                [("Order", "302-1", "Amazon.de", "10.00"), ("Refund", "302-2", "Amazon.de", "-5.00")]
            ),
            report_type=SETTLEMENT,
            marketplaces=("GB",),
            content_type="text/plain",
            kind="discover",
        )
        assert one.status == "INGESTED", one.entry.reason
        got = lab.sql(f"select distinct marketplace_id from settlements where report_id = '{one.report_id}'")
        assert got == [{"marketplace_id": de}]
        # an EUR settlement over DE and FR: each row under its own; the summary row (no name) under the
        # listed marketplace, which the document names
        two = lab.land_bytes(
            _settlement([("Order", "302-3", "Amazon.de", "10.00"), ("Order", "171-4", "Amazon.fr", "7.00")]),
            report_type=SETTLEMENT,
            marketplaces=("FR",),
            content_type="text/plain",
            kind="discover",
        )
        rows = lab.sql(
            f"select order_id, marketplace_id from settlements where report_id = '{two.report_id}'"
        )
        assert sorted((r["order_id"] or "", r["marketplace_id"]) for r in rows) == [
            ("", fr),
            ("171-4", fr),
            ("302-3", de),
        ]
        assert gb not in {r["marketplace_id"] for r in lab.sql("select marketplace_id from settlements")}
