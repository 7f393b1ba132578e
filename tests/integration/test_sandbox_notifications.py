"""REPORT_PROCESSING_FINISHED reaches a real SQS queue (moto server on loopback) with Amazon's payload,
and EventBridge destinations get an EventBridge envelope."""

from __future__ import annotations

import json
import time
from typing import Any

from splake.sandbox import SandboxServer
from splake.sandbox.notify import Destination, Subscription
from tests.support.contract import validate_notification
from tests.support.sandbox_fixtures import SpCaller, grantless_token

N = "/notifications/v1"


def receive(sqs: Any, url: str, timeout: float = 10.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        if msgs:
            return [json.loads(m["Body"]) for m in msgs]
    return []


def test_report_finished_notification_via_sqs(sandbox_factory, moto_server, aws_queue) -> None:  # type: ignore[no-untyped-def]
    sqs = moto_server.client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=aws_queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sb: SandboxServer = sandbox_factory(aws_endpoint_url=moto_server.url)
    grantless = SpCaller(sb, "seller-na", token=grantless_token(sb))
    dest = grantless.post(
        f"{N}/destinations", {"name": "splake", "resourceSpecification": {"sqs": {"arn": arn}}}
    )
    assert dest.status_code == 200, dest.text
    seller = SpCaller(sb, "seller-na")
    sub = seller.post(
        f"{N}/subscriptions/REPORT_PROCESSING_FINISHED",
        {"payloadVersion": "1.0", "destinationId": dest.json()["payload"]["destinationId"]},
    )
    assert sub.status_code == 200, sub.text

    done = seller.wait_report(seller.create_report("GET_MERCHANT_LISTINGS_ALL_DATA"))
    fatal_id = seller.create_report("GET_VENDOR_SALES_REPORT")  # sellers get FATAL for vendor reports
    fatal = seller.wait_report(fatal_id)
    other = SpCaller(sb, "seller-eu")  # not subscribed: no message
    other.wait_report(other.create_report("GET_MERCHANT_LISTINGS_ALL_DATA"))

    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + 15
    while len(got) < 2 and time.monotonic() < deadline:
        got += receive(sqs, aws_queue, timeout=2)
    assert len(got) == 2
    by_id = {m["payload"]["reportProcessingFinishedNotification"]["reportId"]: m for m in got}
    assert set(by_id) == {done["reportId"], fatal["reportId"]}
    for msg in got:
        validate_notification("ReportProcessingFinishedNotification.json", msg)
        meta = msg["notificationMetadata"]
        assert meta["applicationId"] == sb.world.application_id
        assert meta["subscriptionId"] == sub.json()["payload"]["subscriptionId"]
    p = by_id[done["reportId"]]["payload"]["reportProcessingFinishedNotification"]
    acct = sb.world.account("seller-na")
    assert p == {
        "sellerId": acct.selling_partner_id,
        "accountId": f"amzn1.merchant.o.{acct.selling_partner_id}",
        "reportId": done["reportId"],
        "reportType": "GET_MERCHANT_LISTINGS_ALL_DATA",
        "processingStatus": "DONE",
        "reportDocumentId": done["reportDocumentId"],
    }
    assert (
        by_id[fatal["reportId"]]["payload"]["reportProcessingFinishedNotification"]["processingStatus"]
        == "FATAL"
    )
    assert sb.stats.notifications["REPORT_PROCESSING_FINISHED"] == 2
    assert receive(sqs, aws_queue, timeout=1.5) == []


def test_eventbridge_destination_gets_envelope(sandbox_factory, moto_server, aws_queue) -> None:  # type: ignore[no-untyped-def]
    sqs = moto_server.client("sqs")
    sb: SandboxServer = sandbox_factory(aws_endpoint_url=moto_server.url, eventbridge_queue_url=aws_queue)
    seller = sb.world.account("seller-jp")
    sb.state.destinations["d1"] = Destination(
        "d1", "eb", "eventBridge", region="us-west-2", account_id="123456789012"
    )
    sb.state.subscriptions["s1"] = Subscription(
        "s1", "LISTINGS_ITEM_STATUS_CHANGE", seller.selling_partner_id, "d1", "1.0"
    )

    def build(meta: dict[str, str]) -> dict[str, Any]:
        return {
            "NotificationType": "LISTINGS_ITEM_STATUS_CHANGE",
            "Payload": {"SellerId": seller.selling_partner_id},
            "NotificationMetadata": meta,
        }

    assert sb.state.publish_notification("LISTINGS_ITEM_STATUS_CHANGE", seller.selling_partner_id, build) == 1
    [env] = receive(sqs, aws_queue)
    assert env["version"] == "0" and env["detail-type"] == "LISTINGS_ITEM_STATUS_CHANGE"
    assert env["source"] == f"aws.partner/sellingpartnerapi.amazon.com/{sb.world.application_id}"
    assert env["account"] == "123456789012" and env["region"] == "us-west-2" and env["resources"] == []
    assert env["detail"]["Payload"]["SellerId"] == seller.selling_partner_id
    assert env["detail"]["NotificationMetadata"]["subscriptionId"] == "s1"


def test_delivery_failure_is_counted_not_raised(sandbox_factory, moto_server) -> None:  # type: ignore[no-untyped-def]
    sb: SandboxServer = sandbox_factory(aws_endpoint_url=moto_server.url)
    seller = sb.world.account("seller-na")
    sb.state.destinations["d"] = Destination(
        "d", "gone", "sqs", sqs_arn="arn:aws:sqs:us-east-1:123456789012:does-not-exist"
    )
    sb.state.subscriptions["s"] = Subscription(
        "s", "REPORT_PROCESSING_FINISHED", seller.selling_partner_id, "d", "1.0"
    )
    assert (
        sb.state.publish_notification(
            "REPORT_PROCESSING_FINISHED", seller.selling_partner_id, lambda m: {"m": m}
        )
        == 0
    )
    assert sb.stats.faults["notification_delivery_failed"] == 1
