"""Issued LWA access tokens and Restricted Data Tokens, and how a request's token is judged."""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass
from typing import Literal

TokenKind = Literal["access", "grantless", "rdt"]


@dataclass(frozen=True)
class RestrictedResource:
    method: str
    path: str  # may contain no wildcards; "/orders/v0/orders" covers the bulk operation
    data_elements: tuple[str, ...] = ()


@dataclass(frozen=True)
class IssuedToken:
    token: str
    kind: TokenKind
    client_id: str
    selling_partner_id: str | None  # None for grantless tokens
    scope: str | None
    expires_at: float  # monotonic seconds
    epoch: int  # tokens issued before an ``expire_tokens`` are expired
    restricted: tuple[RestrictedResource, ...] = ()

    def covers(self, method: str, path: str) -> RestrictedResource | None:
        """The resource granting ``method path``; a ``{param}`` segment (generic RDT) matches any value."""
        for r in self.restricted:
            if r.method.upper() == method.upper() and path_matches(r.path, path):
                return r
        return None


def path_matches(template: str, path: str) -> bool:
    t_parts = template.rstrip("/").split("/")
    p_parts = path.rstrip("/").split("/")
    if len(t_parts) != len(p_parts):
        return False
    return all(
        t == p or (t.startswith("{") and t.endswith("}")) for t, p in zip(t_parts, p_parts, strict=True)
    )


@dataclass(frozen=True)
class TokenVerdict:
    token: IssuedToken | None
    problem: Literal["missing", "invalid", "expired"] | None


class TokenRegistry:
    def __init__(self) -> None:
        self._tokens: dict[str, IssuedToken] = {}
        self._lock = threading.Lock()
        self.epoch = 0

    def issue(
        self,
        kind: TokenKind,
        client_id: str,
        selling_partner_id: str | None,
        scope: str | None,
        ttl: float,
        now: float,
        restricted: tuple[RestrictedResource, ...] = (),
    ) -> IssuedToken:
        raw = secrets.token_urlsafe(48)
        prefix = "Atz.sprdt|" if kind == "rdt" else "Atza|"
        token = prefix + raw
        issued = IssuedToken(
            token, kind, client_id, selling_partner_id, scope, now + ttl, self.epoch, restricted
        )
        with self._lock:
            self._tokens[token] = issued
        return issued

    def expire_all(self) -> None:
        with self._lock:
            self.epoch += 1

    def judge(self, token: str | None, now: float) -> TokenVerdict:
        if not token:
            return TokenVerdict(None, "missing")
        with self._lock:
            issued = self._tokens.get(token)
            epoch = self.epoch
        if issued is None:
            return TokenVerdict(None, "invalid")
        if issued.expires_at <= now or issued.epoch < epoch:
            return TokenVerdict(issued, "expired")
        return TokenVerdict(issued, None)


def fingerprint(token: str) -> str:
    """A short non-reversible tag for logs (never log the token itself)."""
    return hashlib.sha256(token.encode()).hexdigest()[:10]
