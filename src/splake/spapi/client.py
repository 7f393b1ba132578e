"""The SP-API client: async httpx, LWA tokens, rate limiting, retries, RDTs and document downloads.

```python
client = SpApiClient(settings, secrets)
resp = await client.call(account, "getReport", path={"reportId": rid})
resp = await client.call_grantless("createDestination", json={...})
info = await client.download(url, dest_path)
await client.aclose()
```

Every request: LWA (or Restricted Data) token (fetched before the wait and looked up again after it,
so it is fresh when sent) → rate limiter → bounded concurrency → HTTP/1.1 keep-alive.
429 / 5xx / timeouts / connection errors are retried with full-jitter exponential backoff up to
``settings.spapi.max_retries``; then :class:`ThrottledError` / :class:`ServerError` (both retryable).
A 401/403 is retried with a fresh token (the cached one may have expired early; at most
``TOKEN_REFRESHES_PER_CALL`` times, as a long call can outlive more than one token); other 4xx raise
:class:`ApiError` with Amazon's code/message, the request id and a hint. Each request is logged as a
structured event (operation, status, request id, attempt, latency) — never a token or a URL's query.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from splake import __version__
from splake.auth.lwa import NOTIFICATIONS_SCOPE, CacheKey, LwaClient, key_for_account, key_for_scope
from splake.config import AccountSettings, Settings
from splake.errors import FatalError, RetryableError, ServerError, ThrottledError
from splake.logs import get_logger, log_event
from splake.ports import SecretStore
from splake.spapi.download import (
    DownloadExpiredError,
    DownloadInfo,
    DownloadServerError,
    TruncatedDownloadError,
    stream_once,
)
from splake.spapi.httppool import LeanTransport
from splake.spapi.ratelimit import GRANTLESS, LocalRateLimiter, RateLimiter
from splake.spapi.rdt import RdtProvider
from splake.spapi.responses import api_error, looks_like_token_rejection
from splake.spapi.retry import RetryPolicy, classify_status, parse_retry_after, retry_delay, should_retry
from splake.spapi.urls import base_url, check_url, is_loopback_host, safe_url
from splake.spapi.usage_plans import Operation, operation

__all__ = [
    "DownloadExpiredError",
    "DownloadInfo",
    "SpApiClient",
    "SpApiResponse",
    "TruncatedDownloadError",
    "user_agent",
]

log = get_logger(__name__)

RATE_HEADER = "x-amzn-ratelimit-limit"
REQUEST_ID_HEADERS = ("x-amzn-requestid", "x-amz-request-id", "x-amzn-request-id")


def user_agent() -> str:
    return f"splake/{__version__} (Language=Python)"


@dataclass(frozen=True)
class SpApiResponse:
    status: int
    body: Any
    headers: Mapping[str, str]
    request_id: str | None


def render_path(spec: Operation, path: Mapping[str, str] | None) -> str:
    rendered = spec.render_path(**(path or {}))
    if "{" in rendered:
        missing = [seg.strip("{}") for seg in rendered.split("/") if seg.startswith("{")]
        raise FatalError(
            f"{spec.name} needs path parameter(s) {', '.join(missing)}",
            where=spec.path,
            hint=f"pass path={{{', '.join(repr(m) + ': ...' for m in missing)}}}",
        )
    return rendered


def query_params(params: Mapping[str, Any] | None) -> dict[str, str]:
    """SP-API query conventions: arrays comma-separated, booleans lowercase, None dropped."""
    out: dict[str, str] = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, list | tuple | set | frozenset):
            out[key] = ",".join(str(v) for v in value)
        else:
            out[key] = str(value)
    return out


def request_id_of(headers: httpx.Headers) -> str | None:
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return str(value)
    return None


def _json_or_none(resp: httpx.Response) -> Any:
    if not resp.content:
        return None
    try:
        return resp.json()
    except ValueError:
        return None


def _uses_loopback(settings: Settings) -> bool:
    from urllib.parse import urlsplit

    override = settings.spapi.endpoint_override
    return bool(override) and is_loopback_host(urlsplit(override or "").hostname or "")


def _http_client(settings: Settings, connections: int) -> httpx.AsyncClient:
    trust_env = not _uses_loopback(settings)
    limits = httpx.Limits(
        max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=30.0
    )
    return httpx.AsyncClient(
        transport=LeanTransport(limits=limits, trust_env=trust_env),  # (certificates verified)
        follow_redirects=False,
        trust_env=trust_env,
        timeout=httpx.Timeout(settings.spapi.timeout_seconds),
        limits=limits,
    )


# A rejected token is replaced by a fresh one at most this many times per call: a long call (throttled,
# paced, retried) can outlive more than one token, but a server that rejects every fresh token must not
# make us loop.
TOKEN_REFRESHES_PER_CALL = 2


class SpApiClient:
    def __init__(
        self,
        settings: Settings,
        secrets: SecretStore,
        limiter: RateLimiter | None = None,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        if settings.spapi.endpoint_override:
            check_url(settings.spapi.endpoint_override, what="spapi.endpoint_override")
        self._clock = clock
        self._sleep = sleep
        self._rand = rand
        self.retry = retry or RetryPolicy(max_retries=settings.spapi.max_retries)
        self.limiter: RateLimiter = (
            limiter if limiter is not None else LocalRateLimiter(clock=clock, sleep=sleep)
        )
        concurrency = settings.spapi.concurrency
        self._owns_http = http is None
        # API calls (and LWA) and document downloads get a connection pool each: httpcore scans every
        # connection of its pool (twice) for each request it starts, so two pools of ``concurrency`` cost
        # half as much per request as one of twice the size
        # (+ a few for LWA token and RDT calls, made outside the API call slots)
        self._http = http or _http_client(settings, concurrency + 4)
        self._download_http = http or _http_client(settings, concurrency)
        _quiet_transport_logs()
        self.lwa = LwaClient(
            settings, secrets, self._http, clock=clock, retry=self.retry, sleep=sleep, rand=rand
        )
        self.rdt = RdtProvider(self._create_rdt, clock)
        self._api_slots = asyncio.Semaphore(concurrency)
        # HTTP 429 responses seen, per (account id or "grantless", operation): pipeline health.
        self.throttle_counts: Counter[tuple[str, str]] = Counter()
        self._download_slots = asyncio.Semaphore(concurrency)

    async def __aenter__(self) -> SpApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()
            await self._download_http.aclose()

    # --- public API -------------------------------------------------------------------------------------

    async def call(
        self,
        account: AccountSettings,
        op: str,
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        rdt_elements: Sequence[str] | None = None,
    ) -> SpApiResponse:
        """Call ``op`` for ``account``. ``rdt_elements`` not None → use a Restricted Data Token
        (``[]`` for restricted operations without data elements, e.g. getOrderAddress)."""
        return await self._request(account, None, op, path, params, json, rdt_elements)

    async def call_grantless(
        self,
        op: str,
        *,
        scope: str = NOTIFICATIONS_SCOPE,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> SpApiResponse:
        return await self._request(None, scope, op, path, params, json, None)

    async def download(self, url: str, dest: str | Path) -> DownloadInfo:
        """Stream a pre-signed document URL to ``dest`` as served (never decompressed).

        Retries 5xx, truncation and connection errors; raises :class:`DownloadExpiredError` at once on
        403 (get a fresh URL from getReportDocument)."""
        check_url(url, what="document URL")
        dest = Path(dest)
        shown = safe_url(url)
        attempt = 0
        while True:
            started = self._clock()
            try:
                async with self._download_slots:
                    status, info = await stream_once(self._download_http, url, dest)
            except DownloadExpiredError:
                log_event(log, "document_download_expired", logging.WARNING, url=shown, attempt=attempt)
                raise
            except (DownloadServerError, TruncatedDownloadError, httpx.TransportError) as exc:
                problem: RetryableError = (
                    exc
                    if isinstance(exc, RetryableError)
                    else ServerError(f"document download failed: {type(exc).__name__}", where=shown)
                )
                log_event(
                    log,
                    "document_download_retry",
                    logging.WARNING,
                    url=shown,
                    attempt=attempt,
                    problem=problem.code,
                )
                if not should_retry(attempt, self.retry):
                    raise problem from None
                await self._sleep(retry_delay(attempt, self.retry, self._rand))
                attempt += 1
                continue
            log_event(
                log,
                "document_downloaded",
                url=shown,
                status=status,
                bytes=info.bytes_written,
                content_type=info.content_type,
                charset=info.charset,
                content_encoding=info.content_encoding,
                attempt=attempt,
                latency_ms=round((self._clock() - started) * 1000, 1),
            )
            return info

    # --- internals ------------------------------------------------------------------------------------

    async def _create_rdt(self, account: AccountSettings, op: str, body: dict[str, Any]) -> Any:
        resp = await self._request(account, None, op, None, None, body, None)
        return resp.body

    async def _token(
        self,
        account: AccountSettings | None,
        scope: str | None,
        spec: Operation,
        rendered: str,
        rdt_elements: Sequence[str] | None,
    ) -> str:
        if account is None:
            return await self.lwa.grantless_token(scope or NOTIFICATIONS_SCOPE)
        if rdt_elements is not None:
            return await self.rdt.token(account, spec.method, rendered, rdt_elements)
        return await self.lwa.access_token(account)

    def _drop_token(
        self,
        account: AccountSettings | None,
        scope: str | None,
        spec: Operation,
        rendered: str,
        rdt_elements: Sequence[str] | None,
        token: str,
    ) -> None:
        if account is not None and rdt_elements is not None:
            # a fresh RDT is minted with the cached LWA token (itself refreshed if createRestrictedDataToken
            # reports it expired)
            self.rdt.invalidate(account, spec.method, rendered, rdt_elements, token)
            return
        key: CacheKey = key_for_account(account) if account is not None else key_for_scope(scope or "")
        self.lwa.invalidate(key, token)

    async def _request(
        self,
        account: AccountSettings | None,
        scope: str | None,
        op: str,
        path: Mapping[str, str] | None,
        params: Mapping[str, Any] | None,
        json: Any,
        rdt_elements: Sequence[str] | None,
    ) -> SpApiResponse:
        spec = operation(op)
        rendered = render_path(spec, path)
        url = base_url(self.settings, account) + rendered
        query = query_params(params)
        limiter_key = account.selling_partner_id if account is not None else GRANTLESS
        who = account.id if account is not None else GRANTLESS
        attempt = 0
        token_refreshes_left = TOKEN_REFRESHES_PER_CALL
        while True:
            # The token is fetched (refreshed if due) BEFORE the limiter slot and looked up again after it.
            # Fetched only after the slot, an LWA round trip (or an RDT mint) sat between the slot and the
            # request: requests went out later than the limiter planned while the server's bucket sat full
            # (its refill lost at the cap), then arrived together beyond its burst -- 429s, up to 9 of 40
            # with 20 workers on one bucket and a slow LWA. Looked up again after the slot (a cache hit
            # unless it expired while the call waited), so a token never expires in the queue either.
            # (outside the connection slots: minting an RDT is itself an SP-API call that needs one)
            await self._token(account, scope, spec, rendered, rdt_elements)
            await self.limiter.acquire(limiter_key, op)
            token = await self._token(account, scope, spec, rendered, rdt_elements)
            headers = {
                "x-amz-access-token": token,
                "user-agent": user_agent(),
                "x-amz-date": datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"),
                "accept": "application/json",
            }
            started = self._clock()
            resp: httpx.Response | None = None
            problem = ""
            try:
                async with self._api_slots:
                    resp = await self._http.request(
                        spec.method, url, params=query, json=json, headers=headers
                    )
            except httpx.TransportError as exc:
                problem = type(exc).__name__
            latency_ms = round((self._clock() - started) * 1000, 1)
            status = resp.status_code if resp is not None else 0
            request_id = request_id_of(resp.headers) if resp is not None else None
            outcome = classify_status(status) if resp is not None else "server_error"
            fields = {"operation": op, "account": who, "status": status, "request_id": request_id}
            fields |= {"attempt": attempt, "latency_ms": latency_ms}

            if resp is not None:
                if outcome == "throttled":
                    self.limiter.throttled(limiter_key, op)
                    self.throttle_counts[(who, op)] += 1
                else:
                    self.limiter.observe(limiter_key, op, resp.headers.get(RATE_HEADER))

            if resp is not None and outcome == "ok":
                log_event(log, "spapi_request", logging.DEBUG, **fields)
                return SpApiResponse(status, _json_or_none(resp), dict(resp.headers), request_id)

            body = _json_or_none(resp) if resp is not None else None
            if resp is not None and outcome == "unauthorized":
                if token_refreshes_left > 0 and looks_like_token_rejection(status, body):
                    token_refreshes_left -= 1
                    log_event(log, "spapi_request_token_rejected", logging.WARNING, **fields)
                    self._drop_token(account, scope, spec, rendered, rdt_elements, token)
                    continue
                log_event(log, "spapi_request_failed", logging.WARNING, **fields)
                raise api_error(status, op, body, request_id, account.id if account else None)
            if resp is not None and outcome == "client_error":
                log_event(log, "spapi_request_failed", logging.WARNING, **fields)
                raise api_error(status, op, body, request_id, account.id if account else None)

            # retryable: 429, 5xx, timeouts, connection errors
            log_event(
                log, "spapi_request_retry", logging.WARNING, problem=problem or f"HTTP {status}", **fields
            )
            if not should_retry(attempt, self.retry):
                raise self._exhausted(op, who, outcome, status, problem, request_id, attempt)
            retry_after = parse_retry_after(resp.headers.get("retry-after"), time.time()) if resp else None
            await self._sleep(retry_delay(attempt, self.retry, self._rand, retry_after))
            attempt += 1

    def _exhausted(
        self, op: str, who: str, outcome: str, status: int, problem: str, request_id: str | None, attempt: int
    ) -> RetryableError:
        where = f"{op} for {who}" + (f" (request {request_id})" if request_id else "")
        tries = attempt + 1
        if outcome == "throttled":
            return ThrottledError(
                f"SP-API kept throttling {op} (HTTP 429) after {tries} attempts",
                where=where,
                hint="the quota is shared by every app instance using this seller authorization; splake "
                "slowed down and will pick up where it left off on the next run (raise spapi.max_retries to "
                "wait longer)",
            )
        what = problem or f"HTTP {status}"
        return ServerError(
            f"SP-API {op} kept failing ({what}) after {tries} attempts",
            where=where,
            hint="Amazon's service (or the network) is having trouble; the next run retries. Check "
            "https://sellercentral.amazon.com/sp-api-status if it persists",
        )


class _RenderRedactFilter(logging.Filter):
    """httpx logs request URLs (with pre-signed query strings) as %-args: render, then redact."""

    def filter(self, record: logging.LogRecord) -> bool:
        from splake.logs import redact

        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        record.msg = redact(message)
        record.args = ()
        return True


def _quiet_transport_logs() -> None:
    for name in ("httpx", "httpcore", "httpcore.connection", "httpcore.http11", "httpcore.proxy"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RenderRedactFilter) for f in logger.filters):
            logger.addFilter(_RenderRedactFilter())
