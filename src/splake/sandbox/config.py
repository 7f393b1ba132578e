"""Sandbox configuration: one frozen dataclass of knobs (fault injection, timing, data scale).

``time_scale`` multiplies rate-limit refill periods and report processing delays: 1.0 = real time,
0.01 = 100x faster, 0 = no rate limits and instant processing. Knobs can be changed at runtime with
``SandboxServer.configure(**knobs)`` or ``POST /_sandbox/config`` (JSON object of knob → value).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from splake.errors import ConfigError

# Knobs that may be changed while the server runs (everything except identity, data and networking).
RUNTIME_KNOBS = frozenset(
    {
        "time_scale",
        "token_ttl_seconds",
        "presigned_ttl_seconds",
        "presigned_expired_rate",
        "rate_limit_factor",
        "emit_rate_header",
        "processing_seconds",
        "error_rate",
        "spurious_429_rate",
        "spurious_429_once",
        "slow_rate",
        "slow_seconds",
        "truncate_download_rate",
        "corrupt_gzip_rate",
        "fatal_rate",
        "fatal_report_types",
        "cancel_rate",
        "omit_charset",
        "fba_cooldown_seconds",
        "schema_drift",
        "localized_headers",
        "lwa_error_rate",
        "lwa_latency_seconds",
        "vendor_data_delay_hours",
        "revoked_accounts",
        "aws_endpoint_url",
        "aws_region",
        "eventbridge_queue_url",
        "oauth_redirect_uris",
        "auth_code_ttl_seconds",
        "account_roles",
    }
)


FAULT_SCHEDULES = ("random", "spread")


@dataclass(frozen=True)
class SandboxConfig:
    seed: int = 7
    time_scale: float = 1.0
    # LWA access tokens and RDTs expire after this many (unscaled) seconds.
    token_ttl_seconds: float = 3600.0
    # Pre-signed report document URLs stop working after this many (unscaled) seconds.
    presigned_ttl_seconds: float = 300.0
    # Fault: this share of pre-signed URLs are handed out already expired (as if the client waited too long).
    presigned_expired_rate: float = 0.0
    # Multiplies the modelled usage plans (0.5 = the "real" limit is half the documented one).
    rate_limit_factor: float = 1.0
    emit_rate_header: bool = True
    # Time a report spends IN_QUEUE + IN_PROGRESS (multiplied by time_scale).
    processing_seconds: float = 30.0
    # --- faults (all drawn from one RNG seeded with ``seed``, unless fault_schedule="spread") ---
    # "random": each fault is an independent draw. "spread": each fault kind follows its own seeded, evenly
    # spread sequence: of its first n eligible requests, floor(n * rate) or floor(n * rate) + 1 get it, so a
    # rate-r fault provably happens within ceil(1 / r) eligible requests (suites that must see every fault).
    fault_schedule: str = "random"
    error_rate: float = 0.0  # 500/503 with Amazon-like bodies
    lwa_error_rate: float = 0.0  # the LWA token endpoint answers 500 server_error
    # The LWA token endpoint answers after this many (unscaled) seconds (Amazon's takes ~0.1-0.5 s; a
    # client that fetches a token between its rate-limit slot and its request sends it late).
    lwa_latency_seconds: float = 0.0
    # Sandbox account ids (e.g. "seller-eu") whose seller revoked the app: their refresh token gets
    # invalid_grant from LWA (tokens already issued keep working until they expire).
    revoked_accounts: tuple[str, ...] = ()
    spurious_429_rate: float = 0.0  # 429 even under the limit
    # One-shot: the first request of each of these operations per selling partner is answered 429 (no rate
    # header) although the quota has room: the "one spurious 429" case, deterministic (bench, tests).
    spurious_429_once: tuple[str, ...] = ()
    slow_rate: float = 0.0
    slow_seconds: float = 0.0
    truncate_download_rate: float = 0.0  # Content-Length says full size, body is cut
    corrupt_gzip_rate: float = 0.0
    fatal_rate: float = 0.0
    fatal_report_types: tuple[str, ...] = ()  # these report types always end FATAL
    cancel_rate: float = 0.0
    omit_charset: bool = False  # serve flat files without charset= (clients must fall back)
    # FBA snapshot reports requested again for the same marketplaces within this many (scaled) seconds
    # of the previous request end FATAL (Amazon generates them at most every 30 min; 0 = off).
    # On by default, as on Amazon; `splake sandbox serve --fba-cooldown-seconds 0` turns it off.
    fba_cooldown_seconds: float = 1800.0
    # Add the columns Amazon adds for some sellers (B2B pricing, IBA flags) to flat files.
    schema_drift: bool = False
    # JP listings reports with Japanese header labels (same column positions), as sellers whose
    # "language for feed processing report" is Japanese get them.
    localized_headers: bool = False
    # Vendor data for a day becomes available this many hours after the day ends; reports that ask
    # for later data end FATAL (Amazon: 72 h for many vendor reports; 0 = always available).
    # On by default, as on Amazon; `splake sandbox serve --vendor-data-delay-hours 0` turns it off.
    vendor_data_delay_hours: float = 72.0
    # --- data ---
    scale: float = 1.0  # multiplies the number of orders/SKUs in the world
    # --- notifications delivery (boto3 against e.g. a moto server) ---
    aws_endpoint_url: str | None = None
    aws_region: str = "us-east-1"
    # EventBridge destinations forward the event envelope to this SQS queue (stands in for the rule target).
    eventbridge_queue_url: str | None = None
    # --- website authorization (splake.sandbox.oauth) and roles (splake.sandbox.roles) ---
    # The app's registered OAuth redirect URIs: the consent page redirects to the first one unless the
    # consent URL names another registered one (anything else is Amazon's error MD5101).
    oauth_redirect_uris: tuple[str, ...] = (
        "http://127.0.0.1:8790/callback",
        "http://localhost:8790/callback",
    )
    # LWA authorization codes (spapi_oauth_code) are single-use and expire after 5 minutes (unscaled).
    auth_code_ttl_seconds: float = 300.0
    # Roles each sandbox account's authorization carries (account id -> role names); an account that is
    # not listed has every role. Calls needing a role it lacks get 403 Unauthorized, as Amazon answers.
    account_roles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # --- networking ---
    host: str = "127.0.0.1"
    port: int = 0  # 0 = a free port
    # Base URL of the pre-signed report document URLs (e.g. "https://sandbox.example:8443" behind a proxy).
    # None = the server's own URL (http://host:port). A real pre-signed URL never depends on the caller's
    # Host header, so neither does this one.
    public_url: str | None = None
    # Free-form settings for route modules (e.g. PagingTokens reads ``extra["expire_first_token"]``).
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.fault_schedule not in FAULT_SCHEDULES:
            raise ConfigError(
                f"sandbox fault_schedule={self.fault_schedule!r} is unknown",
                hint="one of: " + ", ".join(FAULT_SCHEDULES),
            )

    def replace(self, **knobs: Any) -> SandboxConfig:
        unknown = sorted(set(knobs) - RUNTIME_KNOBS)
        if unknown:
            raise ConfigError(
                f"unknown or non-runtime sandbox knob(s): {', '.join(unknown)}",
                hint="runtime knobs: " + ", ".join(sorted(RUNTIME_KNOBS)),
            )
        if "fatal_report_types" in knobs:
            knobs["fatal_report_types"] = tuple(knobs["fatal_report_types"] or ())
        if "oauth_redirect_uris" in knobs:
            knobs["oauth_redirect_uris"] = tuple(knobs["oauth_redirect_uris"] or ())
        if "account_roles" in knobs:
            knobs["account_roles"] = {
                str(k): tuple(v or ()) for k, v in dict(knobs["account_roles"] or {}).items()
            }
        if "spurious_429_once" in knobs:
            knobs["spurious_429_once"] = tuple(knobs["spurious_429_once"] or ())
        if "revoked_accounts" in knobs:
            knobs["revoked_accounts"] = tuple(knobs["revoked_accounts"] or ())
        for name in ("error_rate", "spurious_429_rate", "slow_rate", "truncate_download_rate"):
            _check_rate(name, knobs.get(name, 0.0))
        for name in (
            "corrupt_gzip_rate",
            "fatal_rate",
            "cancel_rate",
            "presigned_expired_rate",
            "lwa_error_rate",
        ):
            _check_rate(name, knobs.get(name, 0.0))
        return dataclasses.replace(self, **knobs)

    def knobs(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in sorted(RUNTIME_KNOBS)}


def _check_rate(name: str, value: Any) -> None:
    if not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
        raise ConfigError(f"sandbox knob {name}={value!r} must be a probability in [0, 1]")
