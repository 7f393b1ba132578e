"""Conformance harness: land a document's exact bytes through splake's real path, read them back.

``ConformanceLab`` starts the sandbox (no rate limits) and a local lake with four accounts (``na``: US, CA;
``eu``: DE, GB, FR; ``fe``: JP, AU, SG; ``vendor``: US), then for each document:

1. registers the bytes, gzipped as Amazon stores them, as a document of the sandbox's document route,
   served with the Content-Type you give (e.g. ``text/plain`` with no charset) behind a pre-signed URL;
2. records a DONE ledger entry pointing at it and runs ``splake.reports.pipeline.ingest``: the real
   ``getReportDocument`` call, the real client download, raw zone, decode, parse, curated write,
   quarantine and ledger transition.

Expectations must be computed independently of splake's parser: :func:`read_flat` and :func:`read_json`
read files with the standard library only, and :func:`parse_amazon_time` is the test suite's own reading of
Amazon's date forms (its own zone table). Real files live in ``../shared/real-reports/`` (never copied in).

Usage::

    with ConformanceLab(tmp_path) as lab:
        out = lab.land(REAL["GET_MERCHANT_LISTINGS_ALL_DATA/saleweaver-de.txt"])
        rows = lab.rows("merchant_listings", out.report_id)
        bad = lab.quarantine("merchant_listings", out.report_id)
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import gzip
import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from splake.auth.secrets import LocalSecretStore
from splake.config import AccountSettings, LakeSettings, LwaSettings, Settings, SpApiSettings, SyncSettings
from splake.errors import SplakeError
from splake.reports import ledger, pipeline
from splake.reports.ledger import LedgerEntry
from splake.reports.planner import Window, WorkUnit
from splake.runners.local import LocalContext
from splake.sandbox import SandboxConfig, SandboxServer
from splake.sandbox.demo import seed_demo_secrets
from splake.sandbox.reports_state import DocumentRecord
from splake.spapi.client import SpApiClient
from splake.spapi.marketplaces import marketplace
from splake.spapi.ratelimit import NoRateLimiter

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REAL_REPORTS = PROJECT_ROOT.parent / "shared" / "real-reports"

# lab account id -> (sandbox account whose credentials it uses, marketplace codes, kind)
LAB_ACCOUNTS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "na": ("seller-na", ("US", "CA"), "seller"),
    "eu": ("seller-eu", ("DE", "GB", "FR"), "seller"),
    "fe": ("seller-jp", ("JP", "AU", "SG"), "seller"),
    "vendor": ("vendor-na", ("US",), "vendor"),
}
_ACCOUNT_OF_MARKETPLACE = {"US": "na", "CA": "na", "DE": "eu", "GB": "eu", "FR": "eu", "JP": "fe", "AU": "fe"}


@dataclass(frozen=True)
class RealFile:
    """One file of ``../shared/real-reports/`` and how it was served (from that folder's README)."""

    name: str  # "<REPORT_TYPE>/<file>"
    report_type: str
    marketplace: str  # code, e.g. "DE"
    content_type: str  # as served: "text/plain" (no charset) or "text/plain;charset=utf-8"
    account: str = ""  # lab account; default by marketplace ("vendor" for vendor reports)

    @property
    def path(self) -> Path:
        return REAL_REPORTS / self.name

    @property
    def account_id(self) -> str:
        if self.account:
            return self.account
        return _ACCOUNT_OF_MARKETPLACE[self.marketplace]


def _real(name: str, marketplace: str, content_type: str, account: str = "") -> RealFile:
    return RealFile(name, name.split("/", 1)[0], marketplace, content_type, account)


_TXT, _UTF8, _JSON = "text/plain", "text/plain;charset=UTF-8", "application/json"
REAL: dict[str, RealFile] = {
    f.name: f
    for f in (
        _real("GET_MERCHANT_LISTINGS_ALL_DATA/saleweaver-de.txt", "DE", _TXT),
        _real("GET_MERCHANT_LISTINGS_ALL_DATA/scaleleap-ca.txt", "CA", "text/plain;charset=utf-8"),
        _real("GET_MERCHANT_LISTINGS_ALL_DATA/zynk-uk-docs.txt", "GB", _UTF8),
        _real(
            "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL/airbyte-archived-orders-layout.csv",
            "US",
            _TXT,
        ),
        _real("GET_AFN_INVENTORY_DATA/airbyte.csv", "US", _TXT),
        _real("GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA/airbyte.csv", "US", _TXT),
        _real("GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA/airbyte.csv", "US", _TXT),
        _real("GET_SALES_AND_TRAFFIC_REPORT/amzn-models-example.json", "US", _JSON),
        _real("GET_SALES_AND_TRAFFIC_REPORT/airbyte.json", "US", _JSON),
        _real("GET_VENDOR_SALES_REPORT/amzn-models-example.json", "US", _JSON, "vendor"),
        _real("GET_VENDOR_SALES_REPORT/airbyte.json", "US", _JSON, "vendor"),
        _real("GET_VENDOR_INVENTORY_REPORT/amzn-models-example.json", "US", _JSON, "vendor"),
        _real("GET_VENDOR_INVENTORY_REPORT/airbyte.json", "US", _JSON, "vendor"),
        _real("GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE/peddler-au.txt", "AU", _TXT),
        _real("GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE/peddler-gb.txt", "GB", _TXT),
        _real("GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE/scaleleap-ca.txt", "CA", _TXT),
        _real("GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE/airbyte.csv", "US", _TXT),
    )
}


def real_files_on_disk() -> list[str]:
    """Every document under ``../shared/real-reports/`` (the README excluded), as ``<TYPE>/<file>``."""
    return sorted(
        str(p.relative_to(REAL_REPORTS))
        for p in REAL_REPORTS.glob("*/*")
        if p.is_file() and p.name != "README.md"
    )


@dataclass(frozen=True)
class Landed:
    """What one landing did: the ledger entry afterwards, the ingest result or the error it raised."""

    report_id: str
    entry: LedgerEntry
    result: pipeline.IngestResult | None
    error: SplakeError | None

    @property
    def status(self) -> str:
        return self.entry.status


class ConformanceLab:
    """Sandbox + local lake + real ingest path (see the module docstring). Use as a context manager."""

    def __init__(self, tmp_path: Path, *, hold_share: float | None = None) -> None:
        self.tmp = tmp_path
        self.sandbox = SandboxServer(SandboxConfig(seed=7, time_scale=0.0))
        self._loop = asyncio.new_event_loop()
        self._n = 0
        self.hold_share = hold_share
        self.ctx: LocalContext | None = None

    # --- lifecycle -------------------------------------------------------------------------------
    def __enter__(self) -> ConformanceLab:
        self.sandbox.start()
        self.settings = self._settings()
        secrets = LocalSecretStore(self.tmp / "secrets")
        seed_demo_secrets(secrets, self.sandbox.world, self.settings)
        client = SpApiClient(self.settings, secrets, limiter=NoRateLimiter())
        self.ctx = LocalContext.open(self.settings, secrets=secrets, client=client)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.ctx is not None:
            self._loop.run_until_complete(self.ctx.aclose())
        self._loop.close()
        self.sandbox.stop()

    def _settings(self) -> Settings:
        w = self.sandbox.world
        accounts = []
        for lab_id, (sandbox_id, codes, kind) in LAB_ACCOUNTS.items():
            a = w.account(sandbox_id)
            accounts.append(
                AccountSettings(
                    id=lab_id,
                    type=kind,  # type: ignore[arg-type]
                    region=a.region,
                    selling_partner_id=a.selling_partner_id,
                    marketplaces=codes,
                )
            )
        url = self.sandbox.url
        extra: dict[str, Any] = {"poll_initial_seconds": 0.1, "poll_max_seconds": 1.0}
        if self.hold_share is not None:
            extra["hold_quarantined_share"] = self.hold_share
        return Settings(
            lake=LakeSettings(path=str(self.tmp / "lake")),
            lwa=LwaSettings(client_id=w.client_id, token_url=url + "/auth/o2/token"),
            spapi=SpApiSettings(endpoint_override=url),
            sync=SyncSettings(**extra),
            accounts=tuple(accounts),
        )

    def run(self, coro: Any) -> Any:
        """Run a coroutine on the lab's event loop (the client's connections live on it)."""
        return self._loop.run_until_complete(coro)

    # --- landing ---------------------------------------------------------------------------------
    def serve(self, body: bytes, content_type: str, report_type: str, account_id: str) -> str:
        """Register ``body`` (gzipped, as Amazon stores documents) at the sandbox's document route;
        returns the document id. ``getReportDocument`` answers ``compressionAlgorithm: GZIP``."""
        self._n += 1
        doc_id = f"amzn1.spdoc.1.4.na.conformance-{self._n}-{uuid.uuid4().hex[:8]}"
        path = self.tmp / f"doc-{self._n}.gz"
        path.write_bytes(gzip.compress(body))
        spid = self.settings.account(account_id).selling_partner_id
        self.sandbox.state.documents[doc_id] = DocumentRecord(
            document_id=doc_id,
            selling_partner_id=spid,
            report_id=f"conf-{self._n}",
            report_type=report_type,
            content_type=content_type,
            path=path,
            size=path.stat().st_size,
        )
        return doc_id

    def prepare(
        self,
        body: bytes,
        *,
        report_type: str,
        marketplaces: tuple[str, ...],
        content_type: str,
        account_id: str | None = None,
        window: tuple[datetime, datetime] | None = None,
        report_id: str | None = None,
        kind: str = "request",
    ) -> LedgerEntry:
        """Serve ``body`` and record a DONE ledger entry for it (what a finished report looks like to the
        pipeline: ``sync`` resumes it, :meth:`ingest` lands it). ``marketplaces`` are codes; ``window``
        defaults to a snapshot slot (give one for windowed report types)."""
        assert self.ctx is not None, "use the lab as a context manager"
        acct = account_id or _ACCOUNT_OF_MARKETPLACE[marketplaces[0]]
        doc_id = self.serve(body, content_type, report_type, acct)
        rid = report_id or f"{90000000000 + self._n}"
        mids = tuple(marketplace(m).id for m in marketplaces)
        now = datetime.now(UTC)
        win = Window(window[0], window[1]) if window else Window(None, now.replace(microsecond=0))
        unit = WorkUnit(acct, report_type, mids, win, kind=kind)  # type: ignore[arg-type]
        # one ledger entry per landing (two documents for the same window must not share an entry)
        key = f"{report_type}#report#{rid}" if kind == "discover" else f"{unit.key}#conformance#{rid}"
        entry = dataclasses.replace(ledger.new_entry(unit), key=key)
        entry = ledger.on_report_obtained(entry, rid, "DONE", now, reused=True, document_id=doc_id)
        return ledger.save(self.ctx.state, entry)

    def ingest(self, entry: LedgerEntry) -> Landed:
        """Run the real ingest step for a prepared entry."""
        assert self.ctx is not None
        result: pipeline.IngestResult | None = None
        error: SplakeError | None = None
        try:
            result = self.run(pipeline.ingest(self.ctx, entry))
        except SplakeError as exc:
            error = exc
        after = ledger.load(self.ctx.state, entry.account_id, entry.key) or entry
        return Landed(entry.report_id or "", after, result, error)

    def land_bytes(self, body: bytes, **kw: Any) -> Landed:
        """Serve ``body`` and run the real ingest for a DONE report over it (arguments: :meth:`prepare`)."""
        return self.ingest(self.prepare(body, **kw))

    def land(self, f: RealFile, **kw: Any) -> Landed:
        """Land a real file's exact bytes, served as its README says."""
        return self.land_bytes(
            f.path.read_bytes(),
            report_type=kw.pop("report_type", f.report_type),
            marketplaces=kw.pop("marketplaces", (f.marketplace,)),
            content_type=kw.pop("content_type", f.content_type),
            account_id=kw.pop("account_id", f.account_id),
            **kw,
        )

    # --- reading back ----------------------------------------------------------------------------
    def sql(self, query: str) -> list[dict[str, Any]]:
        assert self.ctx is not None
        engine = self.ctx.query_engine()
        try:
            rows: list[dict[str, Any]] = engine.sql(query).to_pylist()
            return rows
        finally:
            engine.close()

    def tables(self) -> set[str]:
        assert self.ctx is not None
        return set(self.ctx.lake.table_stats())

    def rows(self, table: str, report_id: str | None = None) -> list[dict[str, Any]]:
        if table not in self.tables():
            return []
        where = f" where report_id = '{report_id}'" if report_id else ""
        return self.sql(f"select * from {table}{where}")

    def quarantine(self, table: str, report_id: str | None = None) -> list[dict[str, Any]]:
        return self.rows(f"{table}__quarantine", report_id)


# --- independent readers (standard library only) ---------------------------------------------------------


@dataclass(frozen=True)
class FlatFile:
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (1-based line number, fields) of well-formed data lines
    header_repeats: list[int]  # line numbers of data lines that repeat the header
    malformed: list[int]  # line numbers of lines whose field count differs from the header's


def read_flat(path: Path | bytes, encoding: str = "utf-8-sig") -> FlatFile:
    """A tab-separated report read with :mod:`csv` (no quoting), blank lines skipped."""
    data = path if isinstance(path, bytes) else path.read_bytes()
    text = data.decode(encoding)
    lines = list(csv.reader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE))
    header = lines[0]
    rows, repeats, bad = [], [], []
    for i, fields in enumerate(lines[1:], start=2):
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        if fields == header:
            repeats.append(i)
        elif len(fields) != len(header):
            bad.append(i)
        else:
            rows.append((i, fields))
    return FlatFile(header, rows, repeats, bad)


def read_json(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


def flatten(record: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for k, v in record.items():
        key = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict):
            yield from flatten(v, key)
        else:
            yield key, v


# The test suite's own table of the zone words Amazon writes (hours east of UTC).
ZONE_HOURS: dict[str, float] = {
    "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "BST": 1, "WEST": 1, "IST": 5.5,
    "CET": 1, "MET": 1, "MEZ": 1, "CEST": 2, "MEST": 2, "MESZ": 2, "EET": 2, "EEST": 3,
    "PST": -8, "PDT": -7, "MST": -7, "MDT": -6, "CST": -6, "CDT": -5, "EST": -5, "EDT": -4,
    "AKST": -9, "AKDT": -8, "HST": -10, "JST": 9, "AEST": 10, "AEDT": 11, "BRT": -3,
    "SGT": 8, "GST": 4,
}  # fmt: skip


def parse_amazon_time(text: str, day_first: bool = True) -> datetime:
    """The instant a report's date text stands for (independent of splake; forms seen in real files)."""
    s = text.strip()
    zone: timezone = UTC
    parts = s.rsplit(" ", 1)
    if len(parts) == 2 and parts[1].isalpha():
        s, word = parts
        zone = timezone(timedelta(hours=ZONE_HOURS[word.upper()]))
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%d %H:%M:%S%z"):
        try:
            return datetime.strptime(s, fmt).astimezone(UTC)
        except ValueError:
            pass
    forms = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y"]
    forms += (["%d/%m/%Y %H:%M:%S", "%d/%m/%Y"] if day_first else ["%m/%d/%Y %H:%M:%S", "%m/%d/%Y"]) + [
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d",
    ]
    for fmt in forms:
        try:
            return datetime.strptime(s, fmt).replace(tzinfo=zone).astimezone(UTC)
        except ValueError:
            pass
    raise ValueError(f"test reader does not know the date form {text!r}")
