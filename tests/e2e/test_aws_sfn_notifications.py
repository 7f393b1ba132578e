"""End to end on AWS (moto): a seller's reports complete through REPORT_PROCESSING_FINISHED — the state
machine waits on a task token, the SQS consumer Lambda releases it — while a vendor's complete by polling
(Wait SecondsPath). The notification Lambda is fed by an event-source-mapping stand-in: a thread that polls
SQS and invokes the function through moto's Lambda API with an SQS event, as AWS would."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from pathlib import Path
from typing import Any

from splake.notifications.setup import setup_notifications
from splake.notifications.sqs import ensure_queue
from splake.reports import ledger
from splake.runners.local import LocalContext
from tests.integration.items_helpers import sandbox_settings, seed_secrets
from tests.support.aws_fixtures import LambdaHandlers, MotoServer, deploy_on_moto, own_lake, run_execution

SELLER_TYPE = "GET_MERCHANT_LISTINGS_ALL_DATA"
VENDOR_TYPE = "GET_VENDOR_SALES_REPORT"


class EventSourceMapping(threading.Thread):
    """Polls the queue and invokes the function with SQS events; deletes what the function didn't report
    as a batch item failure (ReportBatchItemFailures)."""

    def __init__(self, moto: MotoServer, queue_url: str, function_arn: str) -> None:
        super().__init__(daemon=True)
        self.sqs = moto.client("sqs")
        self.lam = moto.client("lambda")
        self.queue_url = queue_url
        self.function_arn = function_arn
        self.stop = threading.Event()
        self.delivered = 0
        self.errors: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            got = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=1,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            ).get("Messages", [])
            if not got:
                continue
            records = [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": {},
                    "eventSource": "aws:sqs",
                }
                for m in got
            ]
            resp = self.lam.invoke(FunctionName=self.function_arn, Payload=json.dumps({"Records": records}))
            payload = json.loads(resp["Payload"].read())
            if resp.get("FunctionError"):
                self.errors.append(str(payload)[:500])
                continue
            failed = {f["itemIdentifier"] for f in payload.get("batchItemFailures", [])}
            for m in got:
                if m["MessageId"] not in failed:
                    self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
                    self.delivered += 1


def test_seller_by_notification_vendor_by_polling(
    moto_server: MotoServer, lambda_handlers: LambdaHandlers, sandbox_factory: Any, tmp_path: Path
) -> None:
    q = ensure_queue(
        f"splake-aws-e2e-{uuid.uuid4().hex[:8]}", region="us-east-1", endpoint_url=moto_server.url
    )
    sb = sandbox_factory(processing_seconds=1500, aws_endpoint_url=moto_server.url)  # ~1.5 s per report
    settings = sandbox_settings(
        sb,
        tmp_path / "lake",
        ("seller-na", "vendor-na"),
        lake=own_lake(tmp_path / "lake"),
        sync={
            "report_types": [SELLER_TYPE, VENDOR_TYPE],
            "poll_initial_seconds": 1,
            "poll_max_seconds": 1,
            "lookback_days": 5,  # vendor data lags 72 h: a shorter lookback plans no vendor window
        },
        notifications={
            "enabled": True,
            "queue_url": q.url,
            "queue_arn": q.arn,
            "aws_endpoint_url": moto_server.url,
        },
    )
    # Subscribe the seller (what `splake notifications setup` does once per deployment).
    local = LocalContext.open(settings, secrets=seed_secrets(sb, settings, tmp_path / "secrets"))

    async def subscribe() -> None:
        try:
            await setup_notifications(local.client, settings)  # type: ignore[arg-type]
        finally:
            await local.aclose()

    asyncio.run(subscribe())

    # A polling fallback after 20 s would show up as getReport calls for the seller.
    runtime, arn, functions = deploy_on_moto(
        moto_server, settings, sb, notify_timeout_seconds=20, queue_url=q.url
    )
    mapping = EventSourceMapping(moto_server, q.url, functions["notifications"])
    mapping.start()
    try:
        desc = run_execution(moto_server, arn, timeout=90)
    finally:
        mapping.stop.set()
        mapping.join(timeout=10)
    print("durations", [(n.split("-")[1], round(d, 2)) for n, d in lambda_handlers.durations])
    assert desc["status"] == "SUCCEEDED", (desc.get("error"), lambda_handlers.errors[:3], mapping.errors[:3])
    summary = json.loads(desc["output"])
    assert summary["failed"] == 0

    seller = sb.world.account("seller-na").selling_partner_id
    vendor = sb.world.account("vendor-na").selling_partner_id
    assert sb.stats.requests_for("createReport", seller) >= 1
    assert sb.stats.requests_for("getReport", seller) == 0, "seller reports must complete by notification"
    assert sb.stats.requests_for("getReport", vendor) >= 1, "vendor reports complete by polling"
    assert mapping.delivered >= sb.stats.requests_for("createReport", seller)
    assert not mapping.errors
    entries = ledger.entries(runtime.state())
    assert entries and all(e.status == "INGESTED" for e in entries)
    assert {e.unit.report_type for e in entries if e.rows > 0} == {SELLER_TYPE, VENDOR_TYPE}
    # every task token was released and cleaned up
    assert list(runtime.state().scan("sfn_waiters")) == []
