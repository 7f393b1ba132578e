"""End to end on AWS (moto): a listings notification travels the way SP-API's EventBridge destination
delivers it — partner event source → its event bus → the stack's rule (pattern from
:func:`splake.runners.aws.eventbridge.listings_event_pattern`) → the notifications queue → the consumer
Lambda (real handler) — and the listing is refetched and lands with its new status."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from splake.lake.catalog import open_glue_catalog
from splake.lake.query import QueryEngine
from splake.notifications.setup import setup_notifications
from splake.notifications.sqs import ensure_queue
from splake.runners.aws.eventbridge import listings_event_pattern
from splake.runners.local import LocalContext
from splake.sandbox.catalog import products_for
from tests.e2e.test_aws_sfn_notifications import EventSourceMapping
from tests.integration.items_helpers import sandbox_settings, seed_secrets
from tests.support.aws_fixtures import LambdaHandlers, MotoServer, deploy_on_moto

US = "ATVPDKIKX0DER"


def test_listing_status_change_arrives_through_eventbridge(
    moto_server: MotoServer,
    lambda_handlers: LambdaHandlers,
    moto_partner_buses: None,
    sandbox_factory: Any,
    tmp_path: Path,
) -> None:
    sqs, events = moto_server.client("sqs"), moto_server.client("events")
    # What Amazon's publisher hands to EventBridge: the sandbox writes its EventBridge events here.
    outbox = sqs.create_queue(QueueName=f"spapi-outbox-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    sb = sandbox_factory(aws_endpoint_url=moto_server.url, eventbridge_queue_url=outbox)
    q = ensure_queue(f"splake-eb-{uuid.uuid4().hex[:8]}", region="us-east-1", endpoint_url=moto_server.url)
    settings = sandbox_settings(
        sb,
        tmp_path / "lake",
        ("seller-na",),
        # moto's Glue catalog is shared by the session: a namespace of this test's own
        lake={"path": str(tmp_path / "lake"), "namespace": f"spapi_{uuid.uuid4().hex[:10]}"},
        notifications={
            "enabled": True,
            "queue_url": q.url,
            "queue_arn": q.arn,
            "aws_endpoint_url": moto_server.url,
        },
    )
    local = LocalContext.open(settings, secrets=seed_secrets(sb, settings, tmp_path / "secrets"))

    async def subscribe() -> None:
        try:
            await setup_notifications(local.client, settings)  # type: ignore[arg-type]
        finally:
            await local.aclose()

    asyncio.run(subscribe())
    runtime, _, functions = deploy_on_moto(moto_server, settings, sb, queue_url=q.url)

    # The partner event source (created by createDestination), its bus and the stack's rule → queue.
    source = f"aws.partner/sellingpartnerapi.amazon.com/{sb.world.application_id}"
    events.create_partner_event_source(Name=source, Account="123456789012")
    bus = events.create_event_bus(Name=source, EventSourceName=source)["EventBusArn"]
    events.put_rule(
        Name="splake-listings", EventBusName=source, EventPattern=json.dumps(listings_event_pattern(source))
    )
    events.put_targets(Rule="splake-listings", EventBusName=source, Targets=[{"Id": "queue", "Arn": q.arn}])

    seller = sb.world.account("seller-na")
    sku = products_for(sb.world.seed, seller, sb.world.scale)[2].sku
    r = httpx.post(
        f"{sb.url}/_sandbox/listings/{seller.selling_partner_id}/{sku}/status",
        json={"marketplaceId": US, "status": ["DISCOVERABLE"], "severities": [], "enforcementActions": []},
    )
    assert r.status_code == 200 and r.json()["notificationsSent"] >= 1
    published = sqs.receive_message(QueueUrl=outbox, MaxNumberOfMessages=10, WaitTimeSeconds=2)["Messages"]
    sent = 0
    for m in published:
        envelope = json.loads(m["Body"])
        assert envelope["source"] == source
        out = events.put_events(
            Entries=[
                {
                    "Source": envelope["source"],
                    "DetailType": envelope["detail-type"],
                    "Detail": json.dumps(envelope["detail"]),
                    "EventBusName": bus,
                }
            ]
        )
        assert out["FailedEntryCount"] == 0
        sent += 1
    assert sent >= 1

    mapping = EventSourceMapping(moto_server, q.url, functions["notifications"])
    mapping.start()
    try:
        deadline = time.monotonic() + 60
        while mapping.delivered < sent and time.monotonic() < deadline and not mapping.errors:
            time.sleep(0.2)
    finally:
        mapping.stop.set()
        mapping.join(timeout=10)
    print("durations", lambda_handlers.durations)
    assert not mapping.errors and mapping.delivered == sent, (mapping.errors, lambda_handlers.errors[:3])

    q_engine = QueryEngine(open_glue_catalog(runtime.catalog_properties()), settings.lake.namespace)
    rows = q_engine.sql(f"select status from listings_items where sku = '{sku}'").to_pylist()
    assert rows == [{"status": ["DISCOVERABLE"]}]
