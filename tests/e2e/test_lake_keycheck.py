"""`splake lake check` verifies row keys on a real lake: a synced lake passes; rows landed through the lake's
write path with the released buggy repeat fingerprint (5bb07ed..148d46c: DuckDB ``hash()`` of the key text)
are found — the bug-keyed row and its correct copy from the next report, stored twice — and the check exits
1 naming `splake lake rebuild --table`; after the rebuild the check passes and the table holds exactly the
synced rows, each keyed by sha256 of its own text (computed here with hashlib)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from splake.auth.secrets import LocalSecretStore
from splake.cli import app
from splake.config import dump_config
from splake.lake import rowkeys
from splake.lake.catalog import open_local_catalog
from splake.lake.query import QueryEngine
from splake.lake.tables import Provenance
from splake.reports.sync import sync
from splake.reports.typed import table_spec
from splake.reports.types import REPORT_TYPES
from splake.runners.local import LocalContext, default_secrets_dir
from splake.sandbox import SandboxConfig, SandboxServer
from splake.sandbox.demo import demo_settings, seed_demo_secrets

TYPE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
TABLE = "orders_by_last_update"
BUGGY_SQL = "SELECT sha256(t) AS k, hash(t) AS fp FROM batch"  # the released buggy fingerprint


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _rows(root: Path) -> list[dict[str, Any]]:
    with QueryEngine(open_local_catalog(root), "spapi") as q:
        return q.sql(
            f"select account_id, marketplace_id, amazon_order_id, sku, row_key from {TABLE} order by row_key"
        ).to_pylist()


def _colliding_pair(acct: str, market: str) -> tuple[dict[str, str], dict[str, str]]:
    """Two order lines whose key texts collide under DuckDB hash() for this account and marketplace."""
    con = duckdb.connect()
    row = con.execute(
        "SELECT min(o), max(o) FROM (SELECT i::VARCHAR AS o, ? || chr(31) || ? || chr(31) || i::VARCHAR || "
        "chr(31) || 'SKU-' || (i % 1024)::VARCHAR AS t FROM range(900000000, 900060000) r(i)) "
        "GROUP BY hash(t) HAVING count(*) = 2 ORDER BY 1 LIMIT 1",
        [acct, market],
    ).fetchall()
    con.close()
    assert row, "no colliding pair in 60,000 order keys"
    a, b = row[0]
    return {"amazon_order_id": a, "sku": f"SKU-{int(a) % 1024}"}, {
        "amazon_order_id": b,
        "sku": f"SKU-{int(b) % 1024}",
    }


def _land(s: Any, rows: list[dict[str, str]], acct: str, market: str, report: str) -> None:
    """One hand-built document through the lake's write path (stage + commit, keys computed on the way)."""
    ctx = LocalContext.open(s)
    try:
        prov = Provenance(
            account_id=acct,
            report_id=report,
            source_key=f"hand/{report}",
            ingested_at=datetime.now(UTC),
            marketplace_id=market,
        )
        ctx.lake.write(table_spec(REPORT_TYPES[TYPE]), pa.Table.from_pylist(rows), prov)
    finally:
        asyncio.run(ctx.aclose())


def _check(cfg: Path) -> tuple[int, dict[str, Any], str]:
    runner = CliRunner()
    text = runner.invoke(app, ["lake", "check", "--config", str(cfg)])
    r = runner.invoke(app, ["lake", "check", "--config", str(cfg), "--json"])
    table = next(t for t in json.loads(r.output)["tables"] if t["table"] == TABLE)
    assert text.exit_code == r.exit_code, text.output
    return r.exit_code, table, text.output


def test_lake_check_finds_bug_keyed_rows_and_rebuild_repairs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "lake"
    with SandboxServer(SandboxConfig(seed=11, time_scale=0.002)) as sb:
        base = demo_settings(
            sb.url,
            root,
            ("seller-jp",),
            world=sb.world,
            start_date=(datetime.now(UTC) - timedelta(days=2)).date(),
        )
        s = base.model_copy(
            update={"accounts": tuple(a.model_copy(update={"report_types": (TYPE,)}) for a in base.accounts)}
        )
        seed_demo_secrets(LocalSecretStore(default_secrets_dir(s)), sb.world, s)

        async def run() -> Any:
            ctx = LocalContext.open(s)
            try:
                return await sync(s, ctx, max_wait_seconds=60)
            finally:
                await ctx.aclose()

        assert asyncio.run(run()).failures == []
    cfg = tmp_path / "splake.toml"
    cfg.write_text(dump_config(s))
    os.environ.pop("SPLAKE_SECRETS_DIR", None)
    synced = _rows(root)
    assert synced

    # 1. a lake landed by the current code: every key verified, none wrong
    code, t, out = _check(cfg)
    assert code == 0, out
    assert t["row_keys"]["rows"] == len(synced) and t["row_keys"]["wrong"] == 0, t
    assert f"{len(synced)} row keys verified in " in out

    # 2. the released bug, for real: a document with a colliding pair landed with the buggy fingerprint,
    #    then the next report carrying the second row, landed with the fixed code
    acct, market = synced[0]["account_id"], synced[0]["marketplace_id"]
    a, b = _colliding_pair(acct, market)
    text_b = f"{acct}\x1f{market}\x1f{b['amazon_order_id']}\x1f{b['sku']}"
    with monkeypatch.context() as m:
        m.setattr(rowkeys, "_KEYS_SQL", BUGGY_SQL)
        m.setattr(rowkeys, "SMALL_BATCH", 0)  # (hashed by its SQL, as every batch was then)
        _land(s, [a, b], acct, market, "old-version")
    _land(s, [b], acct, market, "next-report")
    buggy = _sha(_sha(text_b) + "#1")
    keys = {r["row_key"] for r in _rows(root)}
    assert {buggy, _sha(text_b)} <= keys and len(keys) == len(synced) + 3  # b is stored twice

    code, t, out = _check(cfg)
    assert code == 1, out
    rk = t["row_keys"]
    assert (rk["wrong"], rk["bug_keyed"], rk["stored_twice"], rk["same_row_key"]) == (1, 1, 1, 0), rk
    assert rk["examples"] == [{"row_key": buggy, "account_id": acct, "marketplace_id": market}]
    assert t["fix"] == f"splake lake rebuild --table {TABLE}"
    assert f"DAMAGED  {TABLE}" in out and buggy in out and f"lake rebuild --table {TABLE}" in out, out

    r = CliRunner().invoke(app, ["lake", "check", "--config", str(cfg), "--no-keys"])
    assert r.exit_code == 0 and "row keys verified" not in r.output, r.output  # keys not read

    # 3. the repair: rebuilt from the raw zone, the table holds the synced rows, each keyed by its own text
    r = CliRunner().invoke(app, ["lake", "rebuild", "--config", str(cfg), "--table", TABLE])
    assert r.exit_code == 0, r.output
    code, t, out = _check(cfg)
    assert code == 0 and t["row_keys"]["wrong"] == 0, out
    rebuilt = _rows(root)
    assert rebuilt == synced
    # per key text: m live copies (genuine repeats of one document) = keys {own, own#1, .., own#(m-1)}
    by_text: dict[str, list[str]] = {}
    for x in rebuilt:
        parts = [x["account_id"], x["marketplace_id"], x["amazon_order_id"], x["sku"]]
        assert all(p is None or not set(p) & {"\\", "\x1f", "\x00"} for p in parts)  # no escaping needed
        by_text.setdefault("\x1f".join("\x00" if p is None else p for p in parts), []).append(x["row_key"])
    for text, got in by_text.items():
        own = _sha(text)
        assert sorted(got) == sorted([own, *(_sha(f"{own}#{n}") for n in range(1, len(got)))]), text
