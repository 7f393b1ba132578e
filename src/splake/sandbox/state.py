"""The sandbox's shared mutable state: world, issued tokens, rate limiter, reports, notification
subscriptions/destinations, stats and the seeded fault RNG. One instance per running server."""

from __future__ import annotations

import hashlib
import math
import random
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from splake.sandbox.config import SandboxConfig
from splake.sandbox.notify import (
    Destination,
    SqsSender,
    Subscription,
    eventbridge_envelope,
    log_delivery_failure,
    notification_metadata,
)
from splake.sandbox.oauth_codes import OAuthRegistry
from splake.sandbox.prerender import Prerenderer
from splake.sandbox.ratelimit import RateLimiter
from splake.sandbox.reports_state import DocumentRecord, ReportRecord
from splake.sandbox.stats import SandboxStats
from splake.sandbox.tokens import TokenRegistry
from splake.sandbox.world import World

NotificationBuilder = Callable[[dict[str, str]], dict[str, Any]]


class SandboxState:
    def __init__(self, config: SandboxConfig, world: World | None = None) -> None:
        self.config = config
        self.world = world or World(seed=config.seed, scale=config.scale)
        self.world.drift = config.schema_drift
        self.world.localized_headers = config.localized_headers
        self.world.vendor_delay_hours = config.vendor_data_delay_hours
        self.stats = SandboxStats()
        self.tokens = TokenRegistry()
        self.oauth = OAuthRegistry()  # website authorization codes + issued refresh tokens
        self.limiter = RateLimiter()
        self.lock = threading.RLock()
        self._rng = random.Random(config.seed)
        self._rng_lock = threading.Lock()
        self.monotonic: Callable[[], float] = time.monotonic
        self.signing_key = hashlib.sha256(f"sandbox-signing-{config.seed}".encode()).digest()
        # Reports API state (owned by splake.sandbox.reports_*): reportId -> record, documentId -> record.
        self.reports: dict[str, ReportRecord] = {}
        self.documents: dict[str, DocumentRecord] = {}
        # Notifications API state (routes in sandbox/apis/notifications.py): id -> object.
        self.destinations: dict[str, Destination] = {}
        self.subscriptions: dict[str, Subscription] = {}
        # Report schedules (sandbox/apis/report_schedules.py): reportScheduleId -> Schedule.
        self.report_schedules: dict[str, Any] = {}
        # Data Kiosk queries (sandbox/apis/data_kiosk.py): queryId -> DkQuery.
        self.data_kiosk_queries: dict[str, Any] = {}
        # Rendered report documents (gzip files) live here until the server stops.
        self.doc_dir = Path(tempfile.mkdtemp(prefix="splake-sandbox-docs-"))
        # documents of long-processing reports are rendered while the report is in progress
        self.prerender = Prerenderer(self.doc_dir)
        self._sqs: SqsSender | None = None
        self._counter = 0
        # Base of pre-signed document URLs; SandboxServer.start sets it (config.public_url or its own URL).
        self.public_url = (config.public_url or f"http://{config.host}:{config.port}").rstrip("/")
        # (seller, operation) pairs that already got their one-shot spurious 429 (config.spurious_429_once)
        self.spurious_once_done: set[tuple[str, str]] = set()

    def close(self) -> None:
        self.prerender.close()
        shutil.rmtree(self.doc_dir, ignore_errors=True)

    # --- clock and randomness -------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.now(UTC)

    def chance(self, probability: float, kind: str | None = None) -> bool:
        """A reproducible coin flip from the seeded RNG (no draw when probability is 0). ``kind`` names a
        fault: its eligible requests are counted (``stats.fault_draws``) and, with
        ``fault_schedule="spread"``, it follows its own evenly spread sequence instead of the shared RNG."""
        if probability <= 0:
            return False
        if kind is not None:
            n = self.stats.count_draw(kind)
            if self.config.fault_schedule == "spread":
                # the n-th eligible request gets the fault when n * rate (shifted by a seeded offset)
                # crosses an integer: exactly one in every 1/rate, at a seed-dependent phase
                u = random.Random(f"{self.config.seed}/{kind}").random()
                return math.floor((n + 1) * probability + u) > math.floor(n * probability + u)
        with self._rng_lock:
            return self._rng.random() < probability

    def next_id(self) -> int:
        with self.lock:
            self._counter += 1
            return self._counter

    def scaled(self, seconds: float) -> float:
        """Real seconds for a modelled duration (``time_scale`` applied)."""
        return max(0.0, seconds * self.config.time_scale)

    # --- knobs ----------------------------------------------------------------------------------
    def configure(self, **knobs: Any) -> SandboxConfig:
        expire = bool(knobs.pop("expire_tokens", False))
        with self.lock:
            self.config = self.config.replace(**knobs)
            if {"aws_endpoint_url", "aws_region"} & set(knobs):
                self._sqs = None
            if {"rate_limit_factor", "time_scale"} & set(knobs):
                self.limiter.reset()
            self.world.drift = self.config.schema_drift
            self.world.localized_headers = self.config.localized_headers
            self.world.vendor_delay_hours = self.config.vendor_data_delay_hours
        if expire:
            self.tokens.expire_all()
            self.stats.count_fault("expire_tokens")
        return self.config

    # --- notifications --------------------------------------------------------------------------
    def subscriptions_for(self, notification_type: str, selling_partner_id: str) -> list[Subscription]:
        with self.lock:
            return [
                s
                for s in self.subscriptions.values()
                if s.notification_type == notification_type and s.selling_partner_id == selling_partner_id
            ]

    def _sender(self) -> SqsSender:
        with self.lock:
            if self._sqs is None:
                self._sqs = SqsSender(self.config.aws_endpoint_url, self.config.aws_region)
            return self._sqs

    def publish_notification(
        self, notification_type: str, selling_partner_id: str, build: NotificationBuilder
    ) -> int:
        """Send a notification to every destination subscribed to ``notification_type`` for this seller.

        ``build(metadata)`` returns the full notification JSON; ``metadata`` holds camelCase
        applicationId/subscriptionId/publishTime/notificationId (use ``notify.pascal`` for PascalCase
        payloads). Blocking (boto3): call it from a worker thread in async code. Returns messages sent;
        delivery failures are logged and counted as faults, never raised.
        """
        sent = 0
        for sub in self.subscriptions_for(notification_type, selling_partner_id):
            dest = self.destinations.get(sub.destination_id)
            if dest is None:
                continue
            body = build(notification_metadata(self.world.application_id, sub.subscription_id, self.now()))
            try:
                if dest.kind == "sqs" and dest.sqs_arn:
                    self._sender().send_to_arn(dest.sqs_arn, body)
                elif dest.kind == "eventBridge" and self.config.eventbridge_queue_url:
                    env = eventbridge_envelope(
                        body,
                        notification_type,
                        self.world.application_id,
                        dest.account_id or "000000000000",
                        dest.region or self.config.aws_region,
                    )
                    self._sender().send_to_url(self.config.eventbridge_queue_url, env)
                else:
                    continue
            except Exception as exc:
                log_delivery_failure(dest.kind, notification_type, exc)
                self.stats.count_fault("notification_delivery_failed")
                continue
            sent += 1
            self.stats.count_notification(notification_type)
        return sent
