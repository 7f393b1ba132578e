"""The optional OAuth redirect endpoint on AWS (API Gateway HTTP API → this Lambda), for agencies that
onboard sellers through the website authorization workflow without a laptop in the loop.

Amazon redirects the seller's browser to
``GET <api>/callback?state=…&selling_partner_id=…&spapi_oauth_code=…``.
Only ``state`` values on the allow-list are served: a Secrets Manager secret (``SPLAKE_OAUTH_STATES``,
default ``oauth/states``) holding ``{"<state>": {"id": "acme-us", "type": "seller", "marketplaces": [],
"vendor_group": null}}`` — whoever knows a state can attach a selling account to your pipeline, so states
are secrets and each is used once. For an allowed state the code is exchanged at LWA
(``authorization_code``, the redirect URI in ``SPLAKE_OAUTH_REDIRECT_URI``), the refresh token stored in
Secrets Manager, the marketplaces discovered (sellers) and the account added to the settings store.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import httpx

from splake.accounts.oauth import exchange_code, parse_callback
from splake.accounts.onboard import draft_account, verify_and_discover
from splake.config import AccountSettings, Settings
from splake.errors import ConfigError, SecretNotFoundError, SplakeError
from splake.logs import get_logger, log_event
from splake.ports import SecretStore

log = get_logger(__name__)

ENV_STATES = "SPLAKE_OAUTH_STATES"
ENV_REDIRECT_URI = "SPLAKE_OAUTH_REDIRECT_URI"
DEFAULT_STATES = "oauth/states"


class SettingsStore(Protocol):
    def load(self) -> Settings: ...

    def publish(self, settings: Settings) -> list[str]: ...


@dataclass(frozen=True)
class Pending:
    id: str
    type: Literal["seller", "vendor"] = "seller"
    region: str | None = None  # default: the first marketplace's
    marketplaces: tuple[str, ...] = ()  # default: discovered (sellers)
    vendor_group: str | None = None

    def region_code(self) -> str:
        if self.region:
            return self.region
        if self.marketplaces:
            return _region_of(self.marketplaces[0])
        raise ConfigError(
            f"the allow-list entry for account {self.id} names neither region nor marketplaces",
            hint='add "region": "NA" (or EU, FE) to the entry',
        )


def allow_list(text: str) -> dict[str, Pending]:
    data = json.loads(text or "{}")
    out: dict[str, Pending] = {}
    for state, spec in data.items() if isinstance(data, dict) else []:
        if isinstance(spec, dict) and isinstance(spec.get("id"), str):
            kind: Literal["seller", "vendor"] = "vendor" if spec.get("type") == "vendor" else "seller"
            out[str(state)] = Pending(
                spec["id"],
                kind,
                spec.get("region"),
                tuple(spec.get("marketplaces") or ()),
                spec.get("vendor_group"),
            )
    return out


@dataclass(frozen=True)
class Outcome:
    status: int
    message: str
    account: AccountSettings | None = None


async def complete(
    query: Mapping[str, str],
    *,
    secrets: SecretStore,
    settings_store: SettingsStore,
    redirect_uri: str,
    states_name: str = DEFAULT_STATES,
) -> Outcome:
    state = query.get("state", "")
    try:
        allowed = allow_list(secrets.get(states_name))
    except SecretNotFoundError:
        allowed = {}
    pending = allowed.get(state) if state else None
    if pending is None:
        log_event(log, "oauth_redirect_refused", reason="state not on the allow-list")
        return Outcome(403, "This authorization link is not (or no longer) valid.")
    callback = parse_callback(query, state)
    del allowed[state]  # one use: spent before anything else can go wrong
    secrets.put(states_name, json.dumps({s: p.__dict__ for s, p in allowed.items()}))
    settings = settings_store.load()
    existing = next((a for a in settings.accounts if a.id == pending.id), None)
    region = existing.region if existing else pending.region_code()
    async with httpx.AsyncClient(timeout=settings.spapi.timeout_seconds) as http:
        token = await exchange_code(
            http, settings, secrets.get(settings.lwa.client_secret_ref), callback.code, redirect_uri
        )
    account = draft_account(
        pending.id,
        pending.type,
        region,
        callback.selling_partner_id,
        tuple(_mid(m) for m in pending.marketplaces) or (existing.marketplaces if existing else ()),
        existing,
    )
    secrets.put(account.secret_ref, token)
    found = await verify_and_discover(settings, secrets, account)
    marketplaces = pending.marketplaces or (found.marketplaces if found else ()) or account.marketplaces
    entry = account.model_copy(
        update={"marketplaces": tuple(_mid(m) for m in marketplaces), "vendor_group": pending.vendor_group}
    )
    entry = AccountSettings.model_validate(entry.model_dump())
    others = tuple(a for a in settings.accounts if a.id != entry.id)
    settings_store.publish(settings.model_copy(update={"accounts": (*others, entry)}))
    log_event(log, "oauth_account_added", account=entry.id, marketplaces=",".join(entry.marketplaces))
    return Outcome(200, f"splake is now authorized for {entry.id} ({callback.selling_partner_id}).", entry)


def _mid(ref: str) -> str:
    from splake.spapi.marketplaces import marketplace

    return marketplace(ref).id


def _region_of(ref: str) -> str:
    from splake.spapi.marketplaces import marketplace

    return marketplace(ref).region


def _page(outcome: Outcome) -> dict[str, Any]:
    title = "Authorized" if outcome.status == 200 else "Not authorized"
    body = f"<!doctype html><html><body><h1>{title}</h1><p>{html.escape(outcome.message)}</p></body></html>"
    return {
        "statusCode": outcome.status,
        "headers": {
            "Content-Type": "text/html; charset=utf-8",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
        "body": body,
    }


def _this_url(event: Mapping[str, Any]) -> str:
    """The URL API Gateway was called on (= the registered redirect URI): https://<domain><path>."""
    ctx = event.get("requestContext") or {}
    return f"https://{ctx.get('domainName', '')}{event.get('rawPath', '/callback')}"


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway HTTP API (payload 2.0) → the page the seller sees."""
    from splake.runners.aws.runtime import Runtime

    runtime = Runtime.from_env()
    query = {str(k): str(v) for k, v in (event.get("queryStringParameters") or {}).items()}
    try:
        outcome = asyncio.run(
            complete(
                query,
                secrets=runtime.secrets(),
                settings_store=runtime.settings_store(),
                redirect_uri=os.environ.get(ENV_REDIRECT_URI) or _this_url(event),
                states_name=os.environ.get(ENV_STATES) or DEFAULT_STATES,
            )
        )
    except SplakeError as exc:
        log_event(log, "oauth_redirect_failed", error=exc.message)
        outcome = Outcome(400, exc.message)
    return _page(outcome)
