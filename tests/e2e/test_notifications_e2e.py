"""End to end on loopback: notification-first report completion with a polling fallback.

A seller account with notifications enabled syncs its reports with zero getReport polls (the consumer
completes the ledger entries from REPORT_PROCESSING_FINISHED on a moto SQS queue); a vendor account, which
cannot subscribe, completes by polling. Replaying every notification afterwards changes nothing.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from splake.items.feed import listings_report_table
from splake.notifications.consumer import consume
from splake.notifications.local import sync_with_notifications
from splake.notifications.setup import setup_notifications
from splake.notifications.sqs import ensure_queue, open_queue
from splake.reports import ledger
from splake.runners.local import LocalContext
from tests.integration.items_helpers import sandbox_settings, seed_secrets

SELLER_TYPE = "GET_MERCHANT_LISTINGS_ALL_DATA"


class RecordingQueue:
    """The real queue, remembering every body received (to replay them later)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.bodies: list[str] = []

    def send(self, body: str, *, attributes: Any = None) -> str:
        return str(self.inner.send(body, attributes=attributes))

    def receive(self, **kw: Any) -> list[Any]:
        got = self.inner.receive(**kw)
        self.bodies += [m.body for m in got if m.body not in self.bodies]
        return list(got)

    def delete(self, receipt: str) -> None:
        self.inner.delete(receipt)

    def release(self, receipt: str) -> None:
        self.inner.release(receipt)


VENDOR_TYPE = "GET_VENDOR_SALES_REPORT"


async def test_seller_completes_by_notification_vendor_by_polling(
    sandbox_factory, moto_server, tmp_path: Path
) -> None:
    q = ensure_queue(
        f"splake-e2e-{uuid.uuid4().hex[:8]}",
        region="us-east-1",
        endpoint_url=moto_server.url,
        max_receive_count=3,
    )
    # Reports take ~1.5 s to finish; rate limits run 1000x faster than real time.
    sb = sandbox_factory(scale=0.05, processing_seconds=1500, aws_endpoint_url=moto_server.url)
    settings = sandbox_settings(
        sb,
        tmp_path / "lake",
        ("seller-na", "vendor-na"),
        sync={
            "poll_initial_seconds": 0.2,
            "poll_max_seconds": 0.5,
            "lookback_days": 5,
        },  # vendor data lags 72 h
        notifications={
            "enabled": True,
            "queue_url": q.url,
            "queue_arn": q.arn,
            "dlq_url": q.dlq_url,
            "aws_endpoint_url": moto_server.url,
        },
    )
    ctx = LocalContext.open(settings, secrets=seed_secrets(sb, settings, tmp_path / "secrets"))
    queue = RecordingQueue(open_queue(settings))
    try:
        await setup_notifications(ctx.client, settings)  # type: ignore[arg-type]
        res = await sync_with_notifications(
            settings,
            ctx,
            queue,
            report_types=[SELLER_TYPE, VENDOR_TYPE],
            wait_seconds=30,
            max_wait_seconds=60,
        )
        summary = res.summary
        assert res.requested >= 1 and res.completed_by_notification == res.requested

        seller = sb.world.account("seller-na").selling_partner_id
        vendor = sb.world.account("vendor-na").selling_partner_id
        assert sb.stats.requests_for("createReport", seller) >= 1
        assert sb.stats.requests_for("getReport", seller) == 0, "seller reports must complete by notification"
        assert sb.stats.requests_for("getReport", vendor) >= 1, "vendors complete by polling"
        assert summary.stats("seller-na", SELLER_TYPE).rows > 0
        assert summary.stats("vendor-na", VENDOR_TYPE).rows > 0
        assert sum(r.processed for r in res.consumed) == res.requested
        entries = {e.key: e for e in ledger.entries(ctx.state)}
        assert entries and all(e.status == "INGESTED" for e in entries.values())

        # Replaying every notification (exact duplicates) and stale, out-of-order ones (a FATAL for a
        # report already landed, under a new notification id) changes nothing.
        before = {k: (e.status, e.document_id, e.version) for k, e in entries.items()}
        rows_before = (
            ctx.query_engine().sql(f'select count(*) as n from "{listings_report_table()}"').to_pylist()
        )
        originals = list(queue.bodies)
        assert len(originals) == res.requested
        for body in originals:
            queue.send(body)
            stale = json.loads(body)
            stale["notificationMetadata"]["notificationId"] = str(uuid.uuid4())
            stale["payload"]["reportProcessingFinishedNotification"]["processingStatus"] = "FATAL"
            queue.send(json.dumps(stale))
        replay = await consume(ctx, queue, 50)
        assert replay.duplicates == len(originals) and replay.failed == 0 and replay.malformed == 0
        assert (
            ctx.query_engine().sql(f'select count(*) as n from "{listings_report_table()}"').to_pylist()
            == rows_before
        )
        assert {
            k: (e.status, e.document_id, e.version)
            for k, e in ((e.key, e) for e in ledger.entries(ctx.state))
        } == before
    finally:
        await ctx.aclose()
