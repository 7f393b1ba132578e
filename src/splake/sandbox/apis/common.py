"""Helpers shared by the sandbox's SP-API modules: hashing, timestamps, query parameters, paging tokens."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from splake.sandbox.accounts import SandboxAccount
from splake.sandbox.responses import bad_request
from splake.sandbox.routing import Caller
from splake.sandbox.state import SandboxState


def digest(*parts: object) -> int:
    return int(hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:15], 16)


def ts(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def csv_param(request: Request, name: str) -> list[str]:
    values: list[str] = []
    for raw in request.query_params.getlist(name):
        values.extend(v for v in raw.split(",") if v)
    return values


def included_data(request: Request, allowed: frozenset[str]) -> set[str] | Response:
    values = csv_param(request, "includedData") or ["summaries"]
    bad = [v for v in values if v not in allowed]
    if bad:
        return bad_request(f"Invalid includedData value(s): {', '.join(bad)}.", code="InvalidInput")
    return set(values)


def b64(obj: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


def unb64(token: str) -> dict[str, Any] | None:
    try:
        out = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, json.JSONDecodeError):
        return None
    return out if isinstance(out, dict) else None


def parse_dt(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def seller_account(caller: Caller) -> SandboxAccount | None:
    acct = caller.account
    return acct if acct is not None and acct.type == "seller" else None


class PagingTokens:
    """Expiry of paging tokens (issued with ``"t": state.monotonic()``).

    ``SandboxConfig.extra["expire_first_token"] = True`` makes the first paging token used per operation
    fail once as expired, to exercise clients' restart logic deterministically."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self._used: set[str] = set()
        self._lock = threading.Lock()

    def expired(self, tok: dict[str, Any], ttl: float, operation: str) -> bool:
        issued = float(tok.get("t", 0))
        if self.state.monotonic() - issued > self.state.scaled(ttl):
            return True
        if self.state.config.extra.get("expire_first_token"):
            with self._lock:
                if operation not in self._used:
                    self._used.add(operation)
                    return True
        return False
