"""Parse SP-API notification messages as they arrive on a queue (pure functions, no I/O).

Real messages come in several shapes, all accepted here:

- SQS destination, camelCase keys (``REPORT_PROCESSING_FINISHED``: ``notificationType``, ``payload``,
  ``notificationMetadata.notificationId``).
- EventBridge destination forwarded to SQS by a rule: an EventBridge envelope (``version``, ``id``,
  ``detail-type``, ``source``, ``detail``) whose ``detail`` holds the notification, PascalCase keys
  (``NotificationType``, ``Payload``, ``NotificationMetadata.NotificationId``) for the listings types.
- An SNS envelope (``Type: Notification``, ``Message``: JSON string) around either of the above.

Everything else (not JSON, no notification type, no id, missing required payload fields) raises
:class:`splake.errors.BadDataError`; the consumer leaves such messages for the dead-letter queue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from splake.errors import BadDataError

REPORT_PROCESSING_FINISHED = "REPORT_PROCESSING_FINISHED"
LISTINGS_ITEM_STATUS_CHANGE = "LISTINGS_ITEM_STATUS_CHANGE"
LISTINGS_ITEM_ISSUES_CHANGE = "LISTINGS_ITEM_ISSUES_CHANGE"
# The official JSON schema's enum spells the status type with a trailing D (its own example does not).
_TYPE_ALIASES = {"LISTINGS_ITEM_STATUS_CHANGED": LISTINGS_ITEM_STATUS_CHANGE}


@dataclass(frozen=True)
class ReportFinished:
    notification_id: str
    event_time: datetime | None
    account_id: str  # "amzn1.merchant.o.…" or vendor group "amzn1.vg.…"
    seller_id: str | None  # absent for vendor-group reports
    report_id: str
    report_type: str
    processing_status: str  # DONE | FATAL | CANCELLED
    report_document_id: str | None
    notification_type: str = REPORT_PROCESSING_FINISHED


@dataclass(frozen=True)
class ListingChanged:
    notification_id: str
    notification_type: str  # LISTINGS_ITEM_STATUS_CHANGE | LISTINGS_ITEM_ISSUES_CHANGE
    event_time: datetime | None
    seller_id: str
    sku: str
    marketplace_id: str | None
    asin: str | None
    status: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    enforcement_actions: tuple[str, ...] = ()


@dataclass(frozen=True)
class OtherNotification:
    """A well-formed notification of a type splake does not act on (acknowledged and dropped)."""

    notification_id: str
    notification_type: str
    event_time: datetime | None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


Notification = ReportFinished | ListingChanged | OtherNotification


def _get(obj: Any, name: str) -> Any:
    """``obj[name]`` accepting camelCase or PascalCase spelling of ``name``."""
    if not isinstance(obj, dict):
        return None
    if name in obj:
        return obj[name]
    pascal = name[:1].upper() + name[1:]
    if pascal in obj:
        return obj[pascal]
    camel = name[:1].lower() + name[1:]
    return obj.get(camel)


def _str(obj: Any, name: str, *, required: bool, where: str) -> str | None:
    value = _get(obj, name)
    if value is None or value == "":
        if required:
            raise BadDataError(
                f"notification is missing required field {name!r}",
                where=where,
                hint="the message does not match the official notification schema; it is left for the DLQ",
            )
        return None
    if not isinstance(value, str | int):
        raise BadDataError(
            f"notification field {name!r} should be a string, got {type(value).__name__}", where=where
        )
    return str(value)


def _str_list(obj: Any, name: str) -> tuple[str, ...]:
    value = _get(obj, name)
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return ()


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def unwrap(doc: Any) -> dict[str, Any]:
    """Peel SNS and EventBridge envelopes off a decoded message body."""
    for _ in range(3):
        if not isinstance(doc, dict):
            break
        if doc.get("Type") == "Notification" and isinstance(doc.get("Message"), str):
            try:
                doc = json.loads(doc["Message"])
            except json.JSONDecodeError:
                raise BadDataError("SNS envelope holds a Message that is not JSON") from None
            continue
        if "detail" in doc and ("detail-type" in doc or "source" in doc):
            doc = doc["detail"]
            continue
        break
    if not isinstance(doc, dict):
        raise BadDataError("notification body is not a JSON object", hint="left for the DLQ")
    return doc


def parse_notification(body: str | bytes) -> Notification:
    """Parse one queue message body into a typed notification, or raise :class:`BadDataError`."""
    try:
        doc = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadDataError("notification body is not JSON", hint="left for the DLQ") from None
    doc = unwrap(doc)
    ntype = _str(doc, "notificationType", required=True, where="message")
    assert ntype is not None
    ntype = _TYPE_ALIASES.get(ntype, ntype)
    metadata = _get(doc, "notificationMetadata")
    nid = _str(metadata, "notificationId", required=True, where=f"{ntype}.notificationMetadata")
    assert nid is not None
    event_time = _time(_get(doc, "eventTime"))
    payload = _get(doc, "payload")
    if not isinstance(payload, dict):
        raise BadDataError(f"{ntype} notification {nid} has no payload object", where="payload")
    if ntype == REPORT_PROCESSING_FINISHED:
        inner = _get(payload, "reportProcessingFinishedNotification")
        where = f"{ntype} {nid}"
        if not isinstance(inner, dict):
            raise BadDataError("payload.reportProcessingFinishedNotification is missing", where=where)
        status = _str(inner, "processingStatus", required=True, where=where)
        if status not in {"DONE", "FATAL", "CANCELLED"}:
            raise BadDataError(f"unknown processingStatus {status!r}", where=where)
        seller_id = _str(inner, "sellerId", required=False, where=where)
        account_id = _str(inner, "accountId", required=False, where=where) or seller_id
        if account_id is None:
            raise BadDataError("neither accountId nor sellerId is set", where=where)
        return ReportFinished(
            notification_id=nid,
            event_time=event_time,
            account_id=account_id,
            seller_id=seller_id,
            report_id=str(_str(inner, "reportId", required=True, where=where)),
            report_type=str(_str(inner, "reportType", required=True, where=where)),
            processing_status=status,
            report_document_id=_str(inner, "reportDocumentId", required=False, where=where),
        )
    if ntype in {LISTINGS_ITEM_STATUS_CHANGE, LISTINGS_ITEM_ISSUES_CHANGE}:
        where = f"{ntype} {nid}"
        return ListingChanged(
            notification_id=nid,
            notification_type=ntype,
            event_time=event_time,
            seller_id=str(_str(payload, "sellerId", required=True, where=where)),
            sku=str(_str(payload, "sku", required=True, where=where)),
            marketplace_id=_str(payload, "marketplaceId", required=False, where=where),
            asin=_str(payload, "asin", required=False, where=where),
            status=_str_list(payload, "status"),
            severities=_str_list(payload, "severities"),
            enforcement_actions=_str_list(payload, "enforcementActions"),
        )
    return OtherNotification(notification_id=nid, notification_type=ntype, event_time=event_time, raw=doc)
