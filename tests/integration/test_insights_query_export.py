"""`splake query --format csv|parquet|json --out FILE` on a real (small) Iceberg lake."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from splake.lake.catalog import open_local_catalog
from splake.lake.iceberg import CuratedLake
from splake.lake.tables import Provenance, ReplaceScope, TableSpec


@pytest.fixture(scope="module")
def lake_config(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("query-lake")
    lake = CuratedLake(open_local_catalog(root), "spapi")
    spec = TableSpec(
        name="things",
        schema=pa.schema([pa.field("sku", pa.string()), pa.field("units", pa.int64())]),
        key_columns=("sku",),
        replace="snapshot",
    )
    rows = pa.table({"sku": ["A", "B", 'Ü,"x"'], "units": [3, 4, 5]})
    prov = Provenance(
        "acct", "r1", "raw/x", datetime(2026, 10, 1, tzinfo=UTC), marketplace_id="ATVPDKIKX0DER"
    )
    lake.write(spec, rows, prov, ReplaceScope())
    cfg = root / "splake.toml"
    cfg.write_text(
        f'[lake]\npath = "{root}"\n[lwa]\nclient_id = "x"\n'
        '[[accounts]]\nid = "acct"\nregion = "NA"\nselling_partner_id = "A1"\nmarketplaces = ["US"]\n',
        encoding="utf-8",
    )
    return cfg


def _query(cfg: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    splake = Path(sys.executable).parent / "splake"
    sql = "select sku, units from things order by sku"
    return subprocess.run(
        [str(splake), "query", sql, "--config", str(cfg), *args], capture_output=True, timeout=120
    )


def test_query_exports(lake_config, tmp_path):
    for fmt in ("csv", "parquet", "json"):
        out = tmp_path / f"out.{fmt}"
        res = _query(lake_config, "--format", fmt, "--out", str(out))
        assert res.returncode == 0, res.stderr
        assert b"wrote 3 rows" in res.stderr
    assert list(csv.DictReader((tmp_path / "out.csv").open(encoding="utf-8"))) == [
        {"sku": "A", "units": "3"},
        {"sku": "B", "units": "4"},
        {"sku": 'Ü,"x"', "units": "5"},
    ]
    assert pq.read_table(tmp_path / "out.parquet").to_pylist()[2] == {"sku": 'Ü,"x"', "units": 5}
    lines = (tmp_path / "out.json").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["units"] for x in lines] == [3, 4, 5]


def test_parquet_to_stdout_when_piped(lake_config):
    res = _query(lake_config, "--format", "parquet")
    assert res.returncode == 0, res.stderr
    assert res.stdout[:4] == b"PAR1"
    import io

    assert pq.read_table(io.BytesIO(res.stdout)).num_rows == 3


def _splake(*args: str) -> subprocess.CompletedProcess[str]:
    splake = Path(sys.executable).parent / "splake"
    return subprocess.run([str(splake), *args], capture_output=True, text=True, timeout=120)


def test_marts_cli(lake_config, tmp_path):
    listed = _splake("marts", "list", "--config", str(lake_config))
    assert listed.returncode == 0, listed.stderr
    assert "daily_sales" in listed.stdout and "waiting for" in listed.stdout
    sql = _splake("marts", "sql", "daily_sales", "--view", "--schema", "spapi")
    assert sql.returncode == 0 and sql.stdout.startswith('CREATE OR REPLACE VIEW "spapi"."daily_sales"')
    duck = _splake("marts", "sql", "returns_rate", "--dialect", "duckdb")
    assert duck.returncode == 0 and "FULL OUTER JOIN" in duck.stdout
    # the lake has no order table: the export says what is missing instead of a stack trace
    res = _splake(
        "marts", "export", "daily_sales", "--config", str(lake_config), "--out", str(tmp_path / "x.csv")
    )
    assert res.returncode == 2
    assert "orders_by_last_update" in res.stderr and "Traceback" not in res.stderr


def test_out_refuses_an_existing_file_without_force(lake_config, tmp_path):
    precious = tmp_path / "splake.toml"
    precious.write_text("keep me", encoding="utf-8")
    res = _query(lake_config, "--format", "csv", "--out", str(precious))
    assert res.returncode == 2 and b"refusing to overwrite" in res.stderr and b"--force" in res.stderr
    assert precious.read_text(encoding="utf-8") == "keep me"
    exp = _splake("marts", "export", "daily_sales", "--config", str(lake_config), "--out", str(precious))
    assert exp.returncode == 2 and "refusing to overwrite" in exp.stderr
    assert precious.read_text(encoding="utf-8") == "keep me"
    res = _query(lake_config, "--format", "csv", "--out", str(precious), "--force")
    assert res.returncode == 0, res.stderr
    assert precious.read_text(encoding="utf-8").splitlines()[0].replace('"', "") == "sku,units"
