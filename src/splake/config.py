"""Typed, frozen configuration: one TOML file, validated once, passed down (no globals).

``load_config(path)`` returns :class:`Settings`; a wrong file raises :class:`ConfigError` naming the key
and the fix. ``starter_config()`` returns the commented file ``splake init`` writes.
"""

from __future__ import annotations

import json
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from splake.errors import ConfigError
from splake.spapi.marketplaces import marketplace, region


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LakeSettings(_Frozen):
    """Where data lands: ``path`` is a local directory holding raw/, warehouse/ and state."""

    path: str = "./splake-data"
    namespace: str = "spapi"


class LwaSettings(_Frozen):
    client_id: str
    # Name of the LWA client secret in the secret store (never the secret itself).
    client_secret_ref: str = "lwa/client_secret"  # noqa: S105 - a name, not a secret
    token_url: str = "https://api.amazon.com/auth/o2/token"  # noqa: S105
    # Warn when the client secret is older than this (Amazon rotates LWA secrets every 180 days).
    secret_max_age_days: int = 180
    # Website authorization (`splake accounts add`): the app id (amzn1.sp.solution… / amzn1.sellerapps.app…),
    # whether it is still in draft (consent URL gets version=beta), the OAuth redirect URI registered
    # for the app, and a replacement for the Seller/Vendor Central site (e.g. the local sandbox).
    application_id: str | None = None
    draft: bool = True
    redirect_uri: str | None = None
    authorize_url_override: str | None = None


class SpApiSettings(_Frozen):
    # Send every region's calls here instead of the official regional endpoint (the sandbox, a proxy).
    endpoint_override: str | None = None
    max_retries: Annotated[int, Field(ge=0, le=20)] = 6
    timeout_seconds: Annotated[float, Field(gt=0)] = 60.0
    concurrency: Annotated[int, Field(ge=1, le=256)] = 16


class SyncSettings(_Frozen):
    report_types: tuple[str, ...] = ()
    start_date: date | None = None  # backfill from here; default: lookback only
    lookback_days: Annotated[int, Field(ge=0, le=730)] = 3
    fatal_cooldown_minutes: Annotated[int, Field(ge=0)] = 30
    poll_initial_seconds: Annotated[float, Field(gt=0)] = 15.0
    poll_max_seconds: Annotated[float, Field(gt=0)] = 300.0
    report_timeout_minutes: Annotated[int, Field(ge=1)] = 24 * 60
    reuse_done_within_hours: Annotated[int, Field(ge=0)] = 6
    # A document with more than this share of its rows quarantined is held: nothing of it lands and the
    # table keeps its previous rows (always held when every row is quarantined). 0.05 = 5 %.
    hold_quarantined_share: Annotated[float, Field(ge=0, le=1)] = 0.05
    # worker processes that decode, parse and stage documents when a sync lands many (the local runner;
    # splake.runners.stagepool); 0 = stage in threads of the sync's process. Large documents (>= 32 MB
    # downloaded) are staged one at a time whatever this is: each can take ~0.5 GB while it is staged
    land_processes: Annotated[int, Field(ge=0, le=32)] = 2
    # per report type reportOptions, e.g. {"GET_BRAND_ANALYTICS_SEARCH_QUERY_PERFORMANCE_REPORT" =
    # {asin = "B0..."}}; validated against the type's declaration (`splake reports list`)
    report_options: dict[str, dict[str, str]] = Field(default_factory=dict)


class NotificationSettings(_Frozen):
    enabled: bool = False
    queue_url: str | None = None
    queue_arn: str | None = None
    dlq_url: str | None = None
    aws_endpoint_url: str | None = None  # e.g. a moto server in tests
    aws_region: str = "us-east-1"


class DataKioskQuery(_Frozen):
    """A user's Data Kiosk GraphQL query, landed into table ``dk_<name>``. ``$startDate``, ``$endDate``
    (the sync window, YYYY-MM-DD) and ``$marketplaceIds`` (the account's) are filled in per run. ``key``:
    record fields (dotted paths) that identify a row; default: the record's top-level scalar fields."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")]
    query: Annotated[str, Field(min_length=1)]
    key: tuple[str, ...] = ()


class DataKioskSettings(_Frozen):
    # Declared queries (typed tables): "sales_traffic_by_date" (dk_sales_traffic_by_date), "economics"
    # (dk_economics).
    declared: tuple[Literal["sales_traffic_by_date", "economics"], ...] = (
        "sales_traffic_by_date",
        "economics",
    )
    queries: tuple[DataKioskQuery, ...] = ()

    @model_validator(mode="after")
    def _unique_names(self) -> DataKioskSettings:
        names = [q.name for q in self.queries]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate Data Kiosk query name(s): {', '.join(dupes)}")
        return self


class AccountSettings(_Frozen):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
    type: Literal["seller", "vendor"] = "seller"
    region: str
    selling_partner_id: str
    marketplaces: tuple[str, ...]
    refresh_token_ref: str | None = None  # default: accounts/<id>/refresh_token
    report_types: tuple[str, ...] | None = None  # override [sync].report_types for this account
    # report types not to sync for this account although configured (e.g. its authorization lacks the
    # role: `splake accounts check ID --exclude-denied` writes this)
    exclude_report_types: tuple[str, ...] = ()
    pii: bool = False  # fetch buyer/address data with Restricted Data Tokens
    vendor_group: str | None = None  # vendors: the Vendor Central vendor group this authorization covers
    vendor_report_options: dict[str, str] = Field(default_factory=dict)
    report_options: dict[str, dict[str, str]] = Field(default_factory=dict)  # overrides [sync] per type

    @field_validator("region")
    @classmethod
    def _region(cls, v: str) -> str:
        return region(v).code

    @field_validator("marketplaces")
    @classmethod
    def _marketplaces(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("at least one marketplace is required")
        return tuple(marketplace(m).id for m in v)

    @model_validator(mode="after")
    def _marketplaces_in_region(self) -> AccountSettings:
        for mid in self.marketplaces:
            m = marketplace(mid)
            if m.region != self.region:
                raise ValueError(
                    f"marketplace {m.code} ({m.id}) is in region {m.region}, not {self.region}; "
                    f"use a separate account entry for {m.region} (each region has its own authorization)"
                )
        return self

    @property
    def secret_ref(self) -> str:
        return self.refresh_token_ref or f"accounts/{self.id}/refresh_token"


class Settings(_Frozen):
    lake: LakeSettings = LakeSettings()
    lwa: LwaSettings
    spapi: SpApiSettings = SpApiSettings()
    sync: SyncSettings = SyncSettings()
    notifications: NotificationSettings = NotificationSettings()
    data_kiosk: DataKioskSettings = DataKioskSettings()
    accounts: tuple[AccountSettings, ...] = ()
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _unique_accounts(self) -> Settings:
        ids = [a.id for a in self.accounts]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate account ids: {', '.join(dupes)}")
        return self

    @model_validator(mode="after")
    def _report_options(self) -> Settings:
        from splake.reports.catalog.options import effective_options, missing_options, option_errors
        from splake.reports.types import REPORT_TYPES

        errors: list[str] = []
        scopes = [("sync.report_options", self.sync.report_options)]
        scopes += [(f"accounts (id={a.id!r}).report_options", a.report_options) for a in self.accounts]
        for where, table in scopes:
            for name, opts in table.items():
                errors += [f"{where}: {e}" for e in option_errors(name, opts)]
        for a in self.accounts:
            for name in self.report_types_for(a):
                spec = REPORT_TYPES.get(name)
                if spec is None or a.type not in spec.account_kinds:
                    continue
                conf = {**self.sync.report_options.get(name, {}), **a.report_options.get(name, {})}
                opts = effective_options(spec, conf, a.vendor_report_options if a.type == "vendor" else None)
                missing = missing_options(spec, opts)
                if missing:
                    errors.append(
                        f"accounts (id={a.id!r}): {name} needs reportOption(s) {', '.join(missing)}: add "
                        f'[sync.report_options.{name}] with {missing[0]} = "..."'
                    )
        if errors:
            raise ValueError("; ".join(errors))
        return self

    def account(self, account_id: str) -> AccountSettings:
        for a in self.accounts:
            if a.id == account_id:
                return a
        raise ConfigError(
            f"no account {account_id!r} in config", hint="known: " + ", ".join(a.id for a in self.accounts)
        )

    def report_types_for(self, account: AccountSettings) -> tuple[str, ...]:
        return account.report_types if account.report_types is not None else self.sync.report_types


def _loc(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    parts: list[str] = []
    node: Any = data
    for item in loc:
        if isinstance(item, int) and isinstance(node, list | tuple):
            label = node[item].get("id") if item < len(node) and isinstance(node[item], dict) else None
            parts[-1] = f"{parts[-1]}[{item}]" + (f" (id={label!r})" if label else "")
            node = node[item] if item < len(node) else None
        else:
            parts.append(str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts)


def parse_config(data: dict[str, Any], source: str = "<config>") -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = _loc(tuple(err["loc"]), data)
            msg = err["msg"]
            if err["type"] == "missing":
                fix = f"add `{key}` to the file (see `splake init` for an example)"
            elif err["type"] == "extra_forbidden":
                fix = f"remove or rename `{key}` (unknown key; check spelling)"
            else:
                fix = f"fix the value of `{key}`"
            lines.append(f"  - {key}: {msg} → {fix}")
        raise ConfigError(
            f"invalid config {source}:\n" + "\n".join(lines),
            hint="edit the file and run again; `splake init --print` shows a valid starter file",
        ) from None
    except ConfigError as exc:
        raise ConfigError(f"invalid config {source}: {exc.message}", hint=exc.hint) from None


def load_config(path: str | Path) -> Settings:
    p = Path(path)
    if not p.exists():
        raise ConfigError(
            f"config file {p} not found", hint="create one with `splake init` or pass --config PATH"
        )
    if p.is_dir():
        raise ConfigError(
            f"config path {p} is a directory, not a file",
            hint=f"pass the TOML file itself, e.g. --config {p / 'splake.toml'}",
        )
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read config file {p}: {exc.strerror}", hint="check the path and its permissions"
        ) from None
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")  # a BOM (Windows editors) is harmless
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"config file {p} is not UTF-8 text: byte 0x{raw[exc.start]:02x} on line {line} "
            "cannot be decoded",
            hint="save the file as UTF-8 (most editors: File → Save with encoding → UTF-8)",
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"config file {p} is not valid TOML: {exc}", hint="fix the syntax at the line shown"
        ) from None
    return parse_config(data, str(p))


STARTER_CONFIG = """\
# splake configuration. Secrets are never stored here: they live in the secret store
# (`splake secrets set NAME`), and this file refers to them by name.

log_level = "INFO"

[lake]
# Local directory for the raw zone, the Iceberg warehouse and pipeline state.
path = "./splake-data"
namespace = "spapi"

[lwa]
# Your SP-API application's LWA client id (Developer Central → App → View credentials).
client_id = "amzn1.application-oa2-client.REPLACE_ME"
# Name of the client secret in the secret store: `splake secrets set lwa/client_secret`.
client_secret_ref = "lwa/client_secret"
# For `splake accounts add` (website authorization of public apps): the app id, whether the app is
# still a draft (adds version=beta to the consent URL) and the OAuth redirect URI registered for it.
# application_id = "amzn1.sp.solution.REPLACE_ME"
# draft = true
# redirect_uri = "https://splake.localhost.example:8443/callback"

[spapi]
# endpoint_override = "http://127.0.0.1:8765"   # e.g. the local sandbox (`splake sandbox serve`)
max_retries = 6
concurrency = 16

[sync]
report_types = [
  "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
  "GET_MERCHANT_LISTINGS_ALL_DATA",
  "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA",
  "GET_SALES_AND_TRAFFIC_REPORT",
]
start_date = "2026-10-01"      # backfill from this date on the first run
lookback_days = 3              # re-pull this many days every run to catch late data
fatal_cooldown_minutes = 30    # don't re-request a report type for this long after FATAL/CANCELLED
# `splake reports list` shows every type with its reportOptions (* = required) and the roles it needs.
# [sync.report_options.GET_BRAND_ANALYTICS_SEARCH_QUERY_PERFORMANCE_REPORT]
# asin = "B0EXAMPLE1 B0EXAMPLE2"

[notifications]
enabled = false
# queue_url = "https://sqs.us-east-1.amazonaws.com/123456789012/splake-notifications"

# One [[accounts]] entry per seller account (or vendor group) and region. `splake accounts add ID
# --marketplace US` authorizes the app (website workflow, or --self-authorize for a private app),
# stores the refresh token and writes the entry below itself; `splake accounts check` checks roles.
# [[accounts]]
# id = "acme-na"                 # your name for it: lowercase letters, digits, - and _
# type = "seller"                # or "vendor"
# region = "NA"                  # NA, EU or FE
# selling_partner_id = "A1EXAMPLESELLER"
# marketplaces = ["US", "CA"]
# refresh token: `splake secrets set accounts/acme-na/refresh_token`
"""


def starter_config() -> str:
    return STARTER_CONFIG


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON string escapes are valid TOML basic strings
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _toml_table(header: str, table: dict[str, Any]) -> list[str]:
    return ["", header] + [f"{k} = {_toml_value(v)}" for k, v in table.items() if v is not None]


def dump_config(settings: Settings) -> str:
    """The TOML file for ``settings``, holding only values that differ from the defaults:
    ``parse_config(tomllib.loads(dump_config(s))) == s``."""
    data = settings.model_dump(mode="json", exclude_defaults=True)
    accounts = data.pop("accounts", [])
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict) and v is not None]
    for key, value in data.items():
        if isinstance(value, dict):
            lines += _toml_table(f"[{key}]", value)
    for account in accounts:
        lines += _toml_table("[[accounts]]", account)
    return "\n".join(lines).lstrip("\n") + "\n"
