"""Parsing notification messages in every shape seen in practice (pure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from splake.errors import BadDataError
from splake.notifications.messages import (
    ListingChanged,
    OtherNotification,
    ReportFinished,
    parse_notification,
)
from splake.spapi.usage_plans import models_dir

SCHEMAS = Path(models_dir()) / "schemas" / "notifications"


def _example(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text())["examples"][0]


def test_report_processing_finished_official_example_camel_case() -> None:
    n = parse_notification(json.dumps(_example("ReportProcessingFinishedNotification.json")))
    assert isinstance(n, ReportFinished)
    ex = _example("ReportProcessingFinishedNotification.json")
    inner = ex["payload"]["reportProcessingFinishedNotification"]
    assert n.report_id == inner["reportId"]
    assert n.processing_status == inner["processingStatus"]
    assert n.notification_id == ex["notificationMetadata"]["notificationId"]
    assert n.report_document_id == inner.get("reportDocumentId")


def test_listings_examples_pascal_case_and_schema_enum_typo() -> None:
    status = _example("ListingsItemStatusChangeNotification.json")
    n = parse_notification(json.dumps(status))
    assert isinstance(n, ListingChanged)
    assert n.notification_type == "LISTINGS_ITEM_STATUS_CHANGE"
    assert (n.seller_id, n.sku, n.marketplace_id) == ("A3AYAZLIQ7AX77", "NLS-SHOES-03", "ATVPDKIKX0DER")
    assert n.status == ("BUYABLE", "DISCOVERABLE")
    # The official schema's enum spells it ..._CHANGED; accept it as the same type.
    status["NotificationType"] = "LISTINGS_ITEM_STATUS_CHANGED"
    assert parse_notification(json.dumps(status)).notification_type == "LISTINGS_ITEM_STATUS_CHANGE"
    issues = parse_notification(json.dumps(_example("ListingsItemIssuesChangeNotification_2023-12-13.json")))
    assert isinstance(issues, ListingChanged)
    assert issues.severities == ("ERROR", "WARNING")
    assert "LISTING_SUPPRESSED" in issues.enforcement_actions


def test_eventbridge_and_sns_envelopes_are_unwrapped() -> None:
    inner = _example("ListingsItemStatusChangeNotification.json")
    eb = {
        "version": "0",
        "id": "x",
        "detail-type": "LISTINGS_ITEM_STATUS_CHANGE",
        "source": "aws.partner/x",
        "detail": inner,
    }
    n = parse_notification(json.dumps(eb))
    assert isinstance(n, ListingChanged) and n.sku == "NLS-SHOES-03"
    sns = {"Type": "Notification", "MessageId": "m", "Message": json.dumps(eb)}
    assert parse_notification(json.dumps(sns)) == n


def test_other_types_are_well_formed_but_not_actionable() -> None:
    doc = {
        "notificationVersion": "1.0",
        "notificationType": "ANY_OFFER_CHANGED",
        "payloadVersion": "1.0",
        "eventTime": "2026-01-01T00:00:00Z",
        "payload": {"anyOfferChangedNotification": {}},
        "notificationMetadata": {"notificationId": "abc"},
    }
    n = parse_notification(json.dumps(doc))
    assert isinstance(n, OtherNotification) and n.notification_id == "abc"


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        json.dumps({"NotificationType": "LISTINGS_ITEM_STATUS_CHANGE"}),  # no metadata / payload
        json.dumps(
            {
                "NotificationType": "LISTINGS_ITEM_STATUS_CHANGE",
                "NotificationMetadata": {"NotificationId": "n1"},
                "Payload": {"SellerId": "S"},  # no Sku
            }
        ),
        json.dumps(
            {
                "notificationType": "REPORT_PROCESSING_FINISHED",
                "notificationMetadata": {"notificationId": "n2"},
                "payload": {
                    "reportProcessingFinishedNotification": {
                        "reportId": "1",
                        "reportType": "T",
                        "processingStatus": "WEIRD",
                        "accountId": "a",
                    }
                },
            }
        ),
    ],
)
def test_malformed_messages_raise_bad_data(body: str) -> None:
    with pytest.raises(BadDataError):
        parse_notification(body)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=25), children, max_size=6)
    ),
    max_leaves=30,
)
keys = st.sampled_from(
    [
        "notificationType",
        "NotificationType",
        "payload",
        "Payload",
        "notificationMetadata",
        "NotificationMetadata",
        "detail",
        "detail-type",
        "Type",
        "Message",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, json_values, max_size=6) | json_values)
def test_any_json_either_parses_or_raises_bad_data(doc) -> None:
    try:
        n = parse_notification(json.dumps(doc))
    except BadDataError:
        return
    assert n.notification_id and n.notification_type
