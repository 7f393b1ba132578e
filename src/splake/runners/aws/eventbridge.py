"""The EventBridge side of SP-API notifications on AWS (pure data, shared by the CDK stack and the tests).

SP-API delivers the listings notifications (``LISTINGS_ITEM_STATUS_CHANGE``, ``LISTINGS_ITEM_ISSUES_CHANGE``)
only to an EventBridge destination: ``createDestination`` creates a *partner event source* named
``aws.partner/sellingpartnerapi.amazon.com/<aws account>/<application id>`` in the account; an event bus of
the same name receives its events, and a rule on that bus forwards them to the notifications queue, where
the consumer unwraps the EventBridge envelope (``detail`` holds the notification).
"""

from __future__ import annotations

from typing import Any

SPAPI_SOURCE_PREFIX = "aws.partner/sellingpartnerapi.amazon"
LISTINGS_TYPES = ("LISTINGS_ITEM_STATUS_CHANGE", "LISTINGS_ITEM_ISSUES_CHANGE")


def listings_event_pattern(source: str) -> dict[str, Any]:
    """The rule's event pattern: every event of this SP-API event source. (Not filtered on
    ``detail-type``: the bus carries only SP-API notifications, and the consumer acknowledges types it
    does not handle, so a differently labelled event is never silently dropped by the rule.)"""
    if not source.startswith(SPAPI_SOURCE_PREFIX):
        raise ValueError(f"not an SP-API partner event source: {source!r} (expected {SPAPI_SOURCE_PREFIX}…)")
    return {"source": [source]}
