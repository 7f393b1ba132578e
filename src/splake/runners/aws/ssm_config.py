"""Settings on AWS: a small pointer in SSM Parameter Store, the settings themselves in S3.

Layout (``prefix`` default ``/splake``, bucket = the stack's lake bucket):

- ``<prefix>/settings`` (SSM, ~200 bytes whatever the fleet): ``{"format": "splake-settings-pointer/1",
  "version": <sha256 of the settings JSON>, "bucket", "key", "accounts": <count>}``
- ``s3://<bucket>/config/settings/<version>.json``: every section incl. all accounts (SSE-KMS; immutable:
  a new version is a new object, and the pointer switches to it in one PutParameter)

Functions read the pointer on each invocation (one GetParameter) and the object only when the version
changed (:class:`SettingsCache`, one per Lambda container). Inside a state machine execution not even
that: ``Plan`` pins the version it read (:meth:`SsmSettingsStore.pin`, carried in the units' ``options``)
and the unit steps load exactly that object (:meth:`SsmSettingsStore.load_pinned`): no Parameter Store
call per unit, and one settings version for the whole execution. Without a bucket (``SsmSettingsStore`` built
with none, and no pointer to take it from) the store keeps the older all-SSM layout: ``<prefix>/settings``
for the shared sections and ``<prefix>/accounts/<id>`` per account (each account carries its position, so
no parameter grows with the fleet); ``load`` reads both layouts.

Secrets are never stored here; the settings only name them (``refresh_token_ref``…), and they live in
Secrets Manager.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from splake.aws.clients import AwsEndpoint, error_code
from splake.config import Settings, parse_config
from splake.errors import ConfigError

POINTER_FORMAT = "splake-settings-pointer/1"
OBJECT_PREFIX = "config/settings"
_ORDER = "_order"  # an account's position (legacy per-account parameters)


@dataclass
class SettingsCache:
    """Parsed settings by (prefix, version), shared by the invocations of one Lambda container."""

    _by_prefix: dict[str, tuple[str, Settings]] = field(default_factory=dict)
    _pins: dict[str, dict[str, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    loads: int = 0  # settings objects fetched and parsed (for tests and metrics)

    def get(self, prefix: str, version: str) -> Settings | None:
        with self._lock:
            hit = self._by_prefix.get(prefix)
        return hit[1] if hit and hit[0] == version else None

    def pin(self, prefix: str, pin: dict[str, str]) -> None:
        with self._lock:
            self._pins[prefix] = pin

    def pinned(self, prefix: str) -> dict[str, str] | None:
        """Where the settings last loaded under ``prefix`` came from (None: nothing, or all-SSM layout)."""
        with self._lock:
            pin = self._pins.get(prefix)
            hit = self._by_prefix.get(prefix)
        return dict(pin) if pin and hit and hit[0] == pin["version"] else None

    def put(self, prefix: str, version: str, settings: Settings) -> None:
        with self._lock:
            self._by_prefix[prefix] = (version, settings)
            self.loads += 1


def settings_json(settings: Settings) -> bytes:
    return json.dumps(settings.model_dump(mode="json"), sort_keys=True, separators=(",", ":")).encode()


class SsmSettingsStore:
    """Read/write :class:`splake.config.Settings` under the SSM ``prefix`` (pointer) and, given a bucket,
    an S3 object per version."""

    def __init__(
        self,
        endpoint: AwsEndpoint | None = None,
        *,
        prefix: str = "/splake",
        client: Any = None,
        bucket: str | None = None,
        s3_client: Any = None,
        kms_key_id: str | None = None,
        cache: SettingsCache | None = None,
    ) -> None:
        self.prefix = "/" + prefix.strip("/")
        self._endpoint = endpoint
        self._ssm = client if client is not None else (endpoint or AwsEndpoint.from_env()).client("ssm")
        self._s3_client = s3_client
        self.bucket = bucket
        self.kms_key_id = kms_key_id
        self.cache = cache

    @property
    def _s3(self) -> Any:
        if self._s3_client is None:
            self._s3_client = (self._endpoint or AwsEndpoint.from_env()).client("s3")
        return self._s3_client

    # --- publish ------------------------------------------------------------------------------------

    def publish(self, settings: Settings) -> list[str]:
        """Store ``settings``; returns what was written (SSM names and ``s3://`` URIs)."""
        pointer = self._pointer()
        bucket = self.bucket or (pointer or {}).get("bucket")
        if not bucket:
            return self._publish_parameters(settings)
        body = settings_json(settings)
        version = hashlib.sha256(body).hexdigest()
        key = f"{OBJECT_PREFIX}/{version}.json"
        extra: dict[str, Any] = {"ServerSideEncryption": "aws:kms"}
        if self.kms_key_id:
            extra["SSEKMSKeyId"] = self.kms_key_id
        self._s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json", **extra)
        doc = {
            "format": POINTER_FORMAT,
            "version": version,
            "bucket": bucket,
            "key": key,
            "accounts": len(settings.accounts),
        }
        name = f"{self.prefix}/settings"
        self._ssm.put_parameter(
            Name=name, Value=json.dumps(doc, sort_keys=True), Type="String", Overwrite=True
        )
        for stale in self._account_names():  # an older all-SSM layout: its accounts are superseded
            self._ssm.delete_parameter(Name=stale)
        return [name, f"s3://{bucket}/{key}"]

    def _publish_parameters(self, settings: Settings) -> list[str]:
        data = settings.model_dump(mode="json")
        accounts = data.pop("accounts")
        names = [f"{self.prefix}/settings"]
        self._ssm.put_parameter(
            Name=names[0], Value=json.dumps(data, sort_keys=True), Type="String", Overwrite=True
        )
        existing = set(self._account_names())
        for i, acc in enumerate(accounts):
            name = f"{self.prefix}/accounts/{acc['id']}"
            self._ssm.put_parameter(
                Name=name, Value=json.dumps({**acc, _ORDER: i}, sort_keys=True), Type="String", Overwrite=True
            )
            names.append(name)
        wanted = set(names)
        for stale in existing - wanted:
            self._ssm.delete_parameter(Name=stale)
        return names

    def _account_names(self) -> list[str]:
        out: list[str] = []
        paginator = self._ssm.get_paginator("get_parameters_by_path")
        for page in paginator.paginate(Path=f"{self.prefix}/accounts", Recursive=False):
            out.extend(p["Name"] for p in page.get("Parameters", []))
        return out

    # --- load ---------------------------------------------------------------------------------------

    def _raw(self) -> dict[str, Any] | None:
        try:
            raw = self._ssm.get_parameter(Name=f"{self.prefix}/settings")["Parameter"]["Value"]
        except ClientError as exc:
            if error_code(exc) == "ParameterNotFound":
                return None
            raise
        doc: dict[str, Any] = json.loads(raw)
        return doc

    def _pointer(self) -> dict[str, Any] | None:
        doc = self._raw()
        return doc if doc is not None and doc.get("format") == POINTER_FORMAT else None

    def version(self) -> str | None:
        """The published version (the pointer's), or None for the all-SSM layout / nothing published."""
        pointer = self._pointer()
        return str(pointer["version"]) if pointer else None

    def load(self) -> Settings:
        """The settings stored under the prefix, validated like a config file."""
        doc = self._raw()
        if doc is None:
            raise ConfigError(
                f"no splake settings in SSM Parameter Store at {self.prefix}/settings",
                hint="publish your config: `splake deploy config -c splake.toml --bucket <LakeBucket>`",
            )
        if doc.get("format") == POINTER_FORMAT:
            return self.load_pinned(doc)
        return self._load_parameters(doc)

    def pin(self) -> dict[str, str] | None:
        """What identifies the settings this container last loaded (``version``, ``bucket``, ``key``), for
        :meth:`load_pinned`; None for the all-SSM layout or before any load."""
        return self.cache.pinned(self.prefix) if self.cache is not None else None

    def load_pinned(self, pin: Mapping[str, Any]) -> Settings:
        """The settings object of one published version (no SSM call): from the container cache, else
        from S3 (objects are immutable; the sha256 must match the version)."""
        version, bucket, key = str(pin["version"]), str(pin["bucket"]), str(pin["key"])
        if self.cache is not None and (hit := self.cache.get(self.prefix, version)) is not None:
            self.cache.pin(self.prefix, {"version": version, "bucket": bucket, "key": key})
            return hit
        body = self._s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        if hashlib.sha256(body).hexdigest() != version:
            raise ConfigError(
                f"settings object s3://{bucket}/{key} does not match its version",
                hint="publish the config again (`splake deploy config`)",
            )
        settings = parse_config(json.loads(body), f"s3://{bucket}/{key}")
        if self.cache is not None:
            self.cache.put(self.prefix, version, settings)
            self.cache.pin(self.prefix, {"version": version, "bucket": bucket, "key": key})
        return settings

    def _load_parameters(self, data: dict[str, Any]) -> Settings:
        accounts: list[dict[str, Any]] = []
        paginator = self._ssm.get_paginator("get_parameters_by_path")
        for page in paginator.paginate(Path=f"{self.prefix}/accounts", Recursive=False):
            accounts.extend(json.loads(p["Value"]) for p in page.get("Parameters", []))
        legacy_order = {acc_id: i for i, acc_id in enumerate(data.pop("account_order", []))}

        def position(a: dict[str, Any]) -> tuple[int, str]:
            pos = a.get(_ORDER, legacy_order.get(str(a.get("id")), len(legacy_order) + len(accounts)))
            return int(pos), str(a.get("id"))

        data["accounts"] = [
            {k: v for k, v in a.items() if k != _ORDER} for a in sorted(accounts, key=position)
        ]
        return parse_config(data, f"ssm:{self.prefix}")
