"""``splake notifications setup``: SP-API destinations and subscriptions (idempotent).

- One **SQS destination** (grantless ``createDestination``) for ``[notifications].queue_arn``, used by
  ``REPORT_PROCESSING_FINISHED`` (seller accounts; vendors complete by polling).
- One **EventBridge destination** (region + AWS account id of the queue) for the listings notifications
  ``LISTINGS_ITEM_STATUS_CHANGE`` (payload 1.0) and ``LISTINGS_ITEM_ISSUES_CHANGE`` (payload 2023-12-13);
  an EventBridge rule forwards them to the same queue (see :func:`splake.notifications.sqs.ensure_queue`).

Existing destinations/subscriptions are found and reused, so running setup twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from splake.config import AccountSettings, Settings
from splake.errors import ApiError, ConfigError
from splake.logs import get_logger, log_event

log = get_logger(__name__)


@dataclass(frozen=True)
class SubscriptionSpec:
    notification_type: str
    payload_version: str
    destination: str  # "sqs" | "eventBridge"


SUBSCRIPTIONS: tuple[SubscriptionSpec, ...] = (
    SubscriptionSpec("REPORT_PROCESSING_FINISHED", "2020-09-04", "sqs"),
    SubscriptionSpec("LISTINGS_ITEM_STATUS_CHANGE", "1.0", "eventBridge"),
    SubscriptionSpec("LISTINGS_ITEM_ISSUES_CHANGE", "2023-12-13", "eventBridge"),
)


class NotificationsApi(Protocol):
    async def call(self, account: AccountSettings, op: str, *, path: Any = None, json: Any = None) -> Any: ...

    async def call_grantless(self, op: str, *, path: Any = None, json: Any = None) -> Any: ...


@dataclass
class SetupResult:
    destinations: dict[str, str] = field(default_factory=dict)  # kind → destinationId
    subscriptions: dict[str, dict[str, str]] = field(default_factory=dict)  # account → type → subscriptionId
    created: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)


def parse_queue_arn(arn: str) -> tuple[str, str, str]:
    """``arn:aws:sqs:<region>:<account>:<name>`` → (region, account, name)."""
    parts = arn.split(":")
    if len(parts) != 6 or parts[:3] != ["arn", "aws", "sqs"] or not all(parts[3:]):
        raise ConfigError(
            f"[notifications].queue_arn {arn!r} is not an SQS queue ARN",
            hint="use arn:aws:sqs:<region>:<account id>:<queue name> (see `aws sqs get-queue-attributes`)",
        )
    return parts[3], parts[4], parts[5]


def _payload(resp: Any) -> Any:
    body = getattr(resp, "body", None)
    return body.get("payload") if isinstance(body, dict) else None


def find_destination(
    destinations: list[dict[str, Any]], kind: str, arn: str, region: str, aws_account: str
) -> str | None:
    for d in destinations:
        res = d.get("resource") or {}
        if kind == "sqs" and (res.get("sqs") or {}).get("arn") == arn:
            return str(d["destinationId"])
        eb = res.get("eventBridge") or {}
        if kind == "eventBridge" and eb.get("region") == region and eb.get("accountId") == aws_account:
            return str(d["destinationId"])
    return None


async def ensure_destinations(api: NotificationsApi, settings: Settings, result: SetupResult) -> None:
    arn = settings.notifications.queue_arn
    if not arn:
        raise ConfigError(
            "[notifications].queue_arn is not set",
            hint="create the queue (`splake notifications setup --create-queue NAME` or IaC), set queue_arn",
        )
    region, aws_account, name = parse_queue_arn(arn)
    existing = _payload(await api.call_grantless("getDestinations")) or []
    specs = {
        "sqs": {"name": f"splake-{name}", "resourceSpecification": {"sqs": {"arn": arn}}},
        "eventBridge": {
            "name": f"splake-eventbridge-{region}",
            "resourceSpecification": {"eventBridge": {"region": region, "accountId": aws_account}},
        },
    }
    for kind, body in specs.items():
        found = find_destination(existing, kind, arn, region, aws_account)
        if found:
            result.destinations[kind] = found
            result.reused.append(f"destination:{kind}")
            continue
        created = _payload(await api.call_grantless("createDestination", json=body))
        result.destinations[kind] = str(created["destinationId"])
        result.created.append(f"destination:{kind}")


async def ensure_subscriptions(
    api: NotificationsApi, account: AccountSettings, destinations: dict[str, str], result: SetupResult
) -> None:
    subs = result.subscriptions.setdefault(account.id, {})
    for spec in SUBSCRIPTIONS:
        try:
            current = _payload(
                await api.call(account, "getSubscription", path={"notificationType": spec.notification_type})
            )
        except ApiError as exc:
            if exc.status != 404:
                raise
            current = None
        if current and current.get("destinationId") == destinations[spec.destination]:
            subs[spec.notification_type] = str(current["subscriptionId"])
            result.reused.append(f"{account.id}:{spec.notification_type}")
            continue
        created = _payload(
            await api.call(
                account,
                "createSubscription",
                path={"notificationType": spec.notification_type},
                json={
                    "payloadVersion": spec.payload_version,
                    "destinationId": destinations[spec.destination],
                },
            )
        )
        subs[spec.notification_type] = str(created["subscriptionId"])
        result.created.append(f"{account.id}:{spec.notification_type}")


async def setup_notifications(api: NotificationsApi, settings: Settings) -> SetupResult:
    """Create (or find) destinations and subscribe every seller account. Vendor accounts are skipped:
    they complete reports by polling."""
    result = SetupResult()
    await ensure_destinations(api, settings, result)
    for account in settings.accounts:
        if account.type != "seller":
            log_event(log, "notifications_skip_vendor", account_id=account.id)
            continue
        await ensure_subscriptions(api, account, result.destinations, result)
    log_event(log, "notifications_setup", created=result.created, reused=len(result.reused))
    return result
