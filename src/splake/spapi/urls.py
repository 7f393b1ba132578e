"""URL decisions (pure): which base URL an account's calls go to, and which URLs we may talk to.

TLS verification is never disabled. Plain ``http://`` is accepted only for loopback hosts
(127.0.0.0/8, ::1, localhost), i.e. the local sandbox; anything else must be ``https://``.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from splake.config import AccountSettings, Settings
from splake.errors import ConfigError
from splake.spapi.marketplaces import region


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, what: str) -> str:
    """Return ``url`` if it is https, or http to a loopback host; else raise :class:`ConfigError`."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return url
    if parts.scheme == "http" and host and is_loopback_host(host):
        return url
    raise ConfigError(
        f"{what} {safe_url(url)!r} is not allowed",
        hint="use an https:// URL (TLS is always verified); plain http:// is accepted only for a local "
        "server on 127.0.0.1, ::1 or localhost (e.g. the splake sandbox)",
    )


def base_url(settings: Settings, account: AccountSettings | None) -> str:
    """SP-API base URL for ``account`` (``None`` = grantless call: the first account's region, else NA)."""
    if settings.spapi.endpoint_override:
        url = settings.spapi.endpoint_override
        what = "spapi.endpoint_override"
    else:
        code = account.region if account else (settings.accounts[0].region if settings.accounts else "NA")
        url = region(code).endpoint
        what = f"endpoint for region {code}"
    return check_url(url.rstrip("/"), what=what)


def safe_url(url: str) -> str:
    """The URL without its query string and fragment (pre-signed URLs carry their signature there)."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return f"{parts.scheme}://{netloc}{parts.path}"
