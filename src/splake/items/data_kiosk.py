"""Data Kiosk: ``createQuery`` → ``getQuery`` until DONE/FATAL/CANCELLED → ``getDocument`` → JSONL download
→ typed table (declared queries, ``items/dk_tables.py``) or ``dk_<name>`` (user queries in config).

Per account and query, one run covers the sync window (``[sync].lookback_days`` whole days up to
yesterday, UTC) for all the account's marketplaces. Results that do not fit one document paginate: the
query is created again with ``paginationToken`` until no ``nextToken`` is left, and the run lands only
once every page is in (all-or-nothing per query). DONE without ``dataDocumentId`` means no data; FATAL
downloads the error document and raises a :class:`DataKioskQueryError` naming Amazon's message. Queries
are polled (getQuery, backing off from ``[sync].poll_initial_seconds`` up to ``poll_max_seconds``); the
DATA_KIOSK_QUERY_PROCESSING_FINISHED notification is not consumed yet.
Rate limits: createQuery 0.0167 r/s (burst 15), getQuery 2 r/s, getDocument 0.0167 r/s (burst 15).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, cast

from splake.config import AccountSettings
from splake.errors import FatalError, RetryableError
from splake.items.api import body_of
from splake.items.context import ItemsContext
from splake.items.convert import to_table
from splake.items.dk_tables import DECLARED, DK_USER, user_row, user_table
from splake.lake.tables import Provenance, TableSpec
from splake.logs import get_logger, log_event

log = get_logger(__name__)
MAX_PAGES = 1000


class DataKioskQueryError(FatalError):
    code = "data_kiosk_query_fatal"


class DataKioskTimeoutError(RetryableError):
    code = "data_kiosk_timeout"


class _Downloads(Protocol):
    async def download(self, url: str, dest: str | Path) -> Any: ...


def render_query(template: str, start: date, end: date, marketplace_ids: tuple[str, ...]) -> str:
    """Fill ``$startDate``, ``$endDate`` and ``$marketplaceIds`` (GraphQL literals)."""
    return (
        template.replace("$startDate", json.dumps(start.isoformat()))
        .replace("$endDate", json.dumps(end.isoformat()))
        .replace("$marketplaceIds", json.dumps(list(marketplace_ids)))
    )


def window(now: datetime, lookback_days: int) -> tuple[date, date]:
    """Whole UTC days: ``lookback_days`` days ending yesterday."""
    end = now.astimezone(UTC).date() - timedelta(days=1)
    return end - timedelta(days=max(1, lookback_days) - 1), end


def read_jsonl(data: bytes) -> list[dict[str, Any]]:
    if data[:2] == b"\x1f\x8b":  # served compressed without a Content-Encoding the client undid
        data = gzip.decompress(data)
    out = []
    for n, line in enumerate(data.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        rec = json.loads(line)
        if not isinstance(rec, dict):
            raise FatalError(
                f"Data Kiosk document line {n} is not a JSON object", hint="report this document"
            )
        out.append(rec)
    return out


async def _document(ctx: ItemsContext, account: AccountSettings, document_id: str) -> bytes:
    doc = body_of(await ctx.client.call(account, "getDocument", path={"documentId": document_id}))
    client = cast(_Downloads, ctx.client)
    with tempfile.TemporaryDirectory(prefix="splake-dk-") as tmp:
        dest = Path(tmp) / "document"
        await client.download(str(doc["documentUrl"]), dest)
        return dest.read_bytes()


async def run_query(
    ctx: ItemsContext, account: AccountSettings, query: str, *, pagination_token: str | None = None
) -> tuple[str, dict[str, Any]]:
    """createQuery, then getQuery until the query is final. Returns (queryId, the final query)."""
    spec: dict[str, Any] = {"query": query}
    if pagination_token:
        spec["paginationToken"] = pagination_token
    qid = str(body_of(await ctx.client.call(account, "createQuery", json=spec))["queryId"])
    sync = ctx.settings.sync
    delay, deadline = min(sync.poll_initial_seconds, 5.0), time.monotonic() + sync.report_timeout_minutes * 60
    while True:
        q = body_of(await ctx.client.call(account, "getQuery", path={"queryId": qid}))
        if q.get("processingStatus") in ("DONE", "FATAL", "CANCELLED"):
            return qid, q
        if time.monotonic() > deadline:
            raise DataKioskTimeoutError(
                f"Data Kiosk query {qid} still {q.get('processingStatus')} "
                f"after {sync.report_timeout_minutes} min",
                hint="Amazon is slow today; the next sync asks again",
            )
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, sync.poll_max_seconds)


async def fetch_all(
    ctx: ItemsContext, account: AccountSettings, query: str
) -> tuple[list[dict[str, Any]], list[str]]:
    """Every record of a query across its pages, and the query ids that produced them."""
    records: list[dict[str, Any]] = []
    ids: list[str] = []
    token: str | None = None
    for _ in range(MAX_PAGES):
        qid, q = await run_query(ctx, account, query, pagination_token=token)
        ids.append(qid)
        status = q.get("processingStatus")
        if status == "FATAL":
            detail = ""
            if q.get("errorDocumentId"):
                errors = read_jsonl(await _document(ctx, account, str(q["errorDocumentId"])))
                detail = "; ".join(str(e.get("errorMessage") or e) for e in errors)
            raise DataKioskQueryError(
                f"Data Kiosk query {qid} failed: {detail or 'no error document'}",
                where=f"account {account.id}",
                hint="check the query's dataset, fields and arguments against the Data Kiosk schema",
            )
        if status == "CANCELLED":
            raise DataKioskQueryError(f"Data Kiosk query {qid} was cancelled", where=f"account {account.id}")
        if q.get("dataDocumentId"):
            records += read_jsonl(await _document(ctx, account, str(q["dataDocumentId"])))
        token = (q.get("pagination") or {}).get("nextToken")
        if not token:
            return records, ids
    raise FatalError(
        f"Data Kiosk query kept paginating past {MAX_PAGES} pages", where=f"account {account.id}"
    )


@dataclass
class DataKioskResult:
    queries: dict[str, int] = field(default_factory=dict)  # name -> rows landed
    query_ids: dict[str, list[str]] = field(default_factory=dict)


async def sync_data_kiosk(
    ctx: ItemsContext, account: AccountSettings, *, now: datetime, names: tuple[str, ...] | None = None
) -> DataKioskResult:
    """Run the declared and user queries for one seller account over the sync window and land them."""
    settings = ctx.settings.data_kiosk
    start, end = window(now, ctx.settings.sync.lookback_days)
    jobs: list[tuple[str, str, TableSpec, Any]] = []
    for declared in settings.declared:
        d = DECLARED[declared]
        jobs.append((d.name, d.query, d.table, d.row))
    for uq in settings.queries:
        jobs.append((uq.name, uq.query, user_table(uq.name), uq.key))
    result = DataKioskResult()
    for name, template, table, mapper in jobs:
        if names is not None and name not in names:
            continue
        query = render_query(template, start, end, account.marketplaces)
        records, ids = await fetch_all(ctx, account, query)
        rows = await asyncio.to_thread(
            _land, ctx, account, name, query, records, ids, table, mapper, start, end, now
        )
        result.queries[name] = rows
        result.query_ids[name] = ids
        log_event(log, "data_kiosk_synced", account_id=account.id, query=name, rows=rows, pages=len(ids))
    return result


def _land(
    ctx: ItemsContext,
    account: AccountSettings,
    name: str,
    query: str,
    records: list[dict[str, Any]],
    ids: list[str],
    table: TableSpec,
    mapper: Any,
    start: date,
    end: date,
    now: datetime,
) -> int:
    source_id = f"data-kiosk-{name}-{ids[0]}"
    ref = ctx.raw.put_records(
        account.id,
        "api",
        source_id,
        records,
        {
            "type": "dataKiosk_2023-11-15",
            "query_name": name,
            "query": query,
            "query_ids": ids,
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
        },
        day=now.date(),
    )
    if not records:
        return 0
    if table.schema is DK_USER:
        rows = [
            {
                **user_row(r, mapper),
                "window_start": start,
                "window_end": end,
                "query_id": ids[0],
                "fetched_at": now,
            }
            for r in records
        ]
    else:
        rows = [{**mapper(r), "query_id": ids[0], "fetched_at": now} for r in records]
    # Rows must name their marketplace (the partition); a user query without marketplaceId in its records
    # lands under the account's only marketplace, or is refused when the account has several.
    for r in rows:
        if not r.get("marketplace_id"):
            if len(account.marketplaces) != 1:
                raise FatalError(
                    f"Data Kiosk query {name!r}: records carry no marketplaceId",
                    where=f"account {account.id}",
                    hint="select marketplaceId in the query so each row can be attributed",
                )
            r["marketplace_id"] = account.marketplaces[0]
    start_dt = datetime.combine(start, datetime.min.time(), UTC)
    end_dt = datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC)
    prov = Provenance(
        account_id=account.id,
        report_id=source_id,
        source_key=ref.key,
        ingested_at=now,
        data_start=start_dt,
        data_end=end_dt,
        marketplace_ids=tuple(account.marketplaces),
    )
    ctx.lake.write(table, to_table(rows, table.schema), prov)
    return len(rows)
