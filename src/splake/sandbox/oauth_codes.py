"""Authorization codes and refresh tokens issued by the sandbox's website authorization workflow.

An LWA authorization code (``spapi_oauth_code``) is bound to the account that consented, the app's
client id and the redirect URI it was sent to; it can be redeemed once, within its lifetime (Amazon:
5 minutes). Each redemption issues a NEW refresh token (Amazon does the same; earlier tokens keep
working), which the token endpoint then accepts like the account's seeded one.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class AuthCode:
    code: str
    account_id: str
    client_id: str
    redirect_uri: str
    expires_at: float  # monotonic seconds


Problem = Literal["unknown", "used", "expired", "client", "redirect_uri"]


@dataclass(frozen=True)
class Redemption:
    account_id: str | None
    problem: Problem | None


class OAuthRegistry:
    def __init__(self) -> None:
        self._codes: dict[str, AuthCode] = {}
        self._used: set[str] = set()
        self._refresh: dict[str, str] = {}  # refresh token -> sandbox account id
        self._reauthorized: set[str] = set()  # tokens won by authorizing again after a revocation
        self._lock = threading.Lock()

    def issue_code(
        self, account_id: str, client_id: str, redirect_uri: str, ttl: float, now: float
    ) -> AuthCode:
        code = AuthCode("ANd" + secrets.token_urlsafe(15), account_id, client_id, redirect_uri, now + ttl)
        with self._lock:
            self._codes[code.code] = code
        return code

    def redeem(self, code: str, client_id: str, redirect_uri: str, now: float) -> Redemption:
        """Spend ``code`` (single use: any attempt by the right client spends it)."""
        with self._lock:
            issued = self._codes.get(code)
            if issued is None:
                return Redemption(None, "used" if code in self._used else "unknown")
            if issued.client_id != client_id:
                return Redemption(None, "client")
            del self._codes[code]
            self._used.add(code)
        if issued.expires_at <= now:
            return Redemption(None, "expired")
        if issued.redirect_uri != redirect_uri:
            return Redemption(None, "redirect_uri")
        return Redemption(issued.account_id, None)

    def issue_refresh_token(self, account_id: str, *, after_revocation: bool = False) -> str:
        """A new refresh token; ``after_revocation``: the seller authorized again after revoking the
        app, so this token works although the account is in ``revoked_accounts``."""
        token = "Atzr|IwEB" + secrets.token_urlsafe(48)
        with self._lock:
            self._refresh[token] = account_id
            if after_revocation:
                self._reauthorized.add(token)
        return token

    def survives_revocation(self, token: str) -> bool:
        with self._lock:
            return token in self._reauthorized

    def account_for_refresh_token(self, token: str) -> str | None:
        with self._lock:
            return self._refresh.get(token)
