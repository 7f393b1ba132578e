"""What a Lambda function needs to know about its deployment, read once from its environment (set by the
CDK stack), and the :class:`~splake.runners.context.Context` built from it with AWS backends."""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import boto3
from pyiceberg.catalog import Catalog

from splake.aws.clients import ENV_ENDPOINT, AwsEndpoint
from splake.config import Settings
from splake.errors import ConfigError, FatalError
from splake.lake.catalog import open_glue_catalog
from splake.lake.commitrecords import CommitLock
from splake.lake.iceberg import CuratedLake
from splake.lake.raw import RawZone
from splake.runners.aws.dynamo_state import DynamoStateStore
from splake.runners.aws.locks import DynamoLock
from splake.runners.aws.ratelimit import DynamoRateLimiter
from splake.runners.aws.s3_objects import S3ObjectStore
from splake.runners.aws.secrets_manager import SecretsManagerSecretStore
from splake.runners.aws.ssm_config import SettingsCache, SsmSettingsStore
from splake.runners.aws.token_cache import SharedTokenCache
from splake.runners.context import Context, utcnow
from splake.spapi.ratelimit import default_plan

# Environment variable names (the CDK stack sets them on every function).
ENV_TABLE = "SPLAKE_STATE_TABLE"
ENV_BUCKET = "SPLAKE_BUCKET"
ENV_KMS_KEY = "SPLAKE_KMS_KEY_ID"
ENV_SSM_PREFIX = "SPLAKE_SSM_PREFIX"
ENV_SECRET_PREFIX = "SPLAKE_SECRET_PREFIX"  # noqa: S105 - a variable name, not a secret
ENV_QUEUE_URL = "SPLAKE_QUEUE_URL"
ENV_NOTIFY_TIMEOUT = "SPLAKE_NOTIFY_TIMEOUT_SECONDS"

# A grouped commit's lease: it covers only the Iceberg commit (staging happens before, outside it), so a
# killed committer blocks its table for at most this long; the next lander re-commits its claimed group.
COMMIT_LEASE_SECONDS = 30.0


@dataclass
class ContainerCache:
    """What one Lambda container keeps between invocations (warm starts): boto3 clients per endpoint
    (creating one costs 0.1-0.5 s), the Glue catalog per properties, and the parsed settings per published
    version (:class:`~splake.runners.aws.ssm_config.SettingsCache`: one GetParameter per invocation, the
    settings object only when its version changed)."""

    settings: SettingsCache = field(default_factory=SettingsCache)
    _clients: dict[tuple[str, str | None], dict[str, Any]] = field(default_factory=dict)
    _catalogs: dict[tuple[tuple[str, str], ...], Catalog] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self, endpoint: AwsEndpoint, service: str) -> Any:
        with self._lock:
            clients = self._clients.setdefault((endpoint.region, endpoint.endpoint_url), {})
            if service not in clients:
                if "_session" not in clients:
                    clients["_session"] = boto3.session.Session(region_name=endpoint.region)
                clients[service] = endpoint.client(service, session=clients["_session"])
            return clients[service]

    def catalog(self, props: Mapping[str, str]) -> Catalog:
        key = tuple(sorted(props.items()))
        with self._lock:
            if key not in self._catalogs:
                self._catalogs[key] = open_glue_catalog(props)
            return self._catalogs[key]


# The cache of this process (= one Lambda container; a test process shares it between its "functions").
CONTAINER = ContainerCache()


@dataclass(frozen=True)
class Runtime:
    """The deployment a handler runs in (pure data; see :meth:`from_env`)."""

    table: str
    bucket: str
    endpoint: AwsEndpoint
    kms_key_id: str | None = None
    ssm_prefix: str = "/splake"
    secret_prefix: str = "splake/"  # noqa: S105 - a name prefix
    queue_url: str | None = None
    notify_timeout_seconds: int = 3600
    # The SP-API usage plan the shared rate limiter starts each (seller, operation) bucket from, until the
    # rate header tells the live limit (None: the official models, splake.spapi.ratelimit.default_plan).
    rate_plan: Callable[[str], tuple[float, int]] | None = field(default=None, compare=False, repr=False)
    cache: ContainerCache = field(default_factory=lambda: CONTAINER, compare=False, repr=False)

    def client(self, service: str) -> Any:
        return self.cache.client(self.endpoint, service)

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        rate_plan: Callable[[str], tuple[float, int]] | None = None,
    ) -> Runtime:
        e = os.environ if env is None else env
        missing = [k for k in (ENV_TABLE, ENV_BUCKET) if not e.get(k)]
        if missing:
            raise ConfigError(
                f"Lambda environment lacks {', '.join(missing)}",
                where="splake.runners.aws.runtime",
                hint="deploy with the CDK app in infra/ (it sets these variables on every function)",
            )
        return cls(
            table=e[ENV_TABLE],
            bucket=e[ENV_BUCKET],
            endpoint=AwsEndpoint.from_env(e),
            kms_key_id=e.get(ENV_KMS_KEY) or None,
            ssm_prefix=e.get(ENV_SSM_PREFIX) or "/splake",
            secret_prefix=e.get(ENV_SECRET_PREFIX) or "splake/",
            queue_url=e.get(ENV_QUEUE_URL) or None,
            notify_timeout_seconds=int(e.get(ENV_NOTIFY_TIMEOUT) or 3600),
            rate_plan=rate_plan,
        )

    def env(self) -> dict[str, str]:
        """The environment variables that reproduce this runtime (the stack and tests use it)."""
        out = {
            ENV_TABLE: self.table,
            ENV_BUCKET: self.bucket,
            ENV_SSM_PREFIX: self.ssm_prefix,
            ENV_SECRET_PREFIX: self.secret_prefix,
            ENV_NOTIFY_TIMEOUT: str(self.notify_timeout_seconds),
        }
        if self.kms_key_id:
            out[ENV_KMS_KEY] = self.kms_key_id
        if self.queue_url:
            out[ENV_QUEUE_URL] = self.queue_url
        if self.endpoint.endpoint_url:
            out[ENV_ENDPOINT] = self.endpoint.endpoint_url
        return out

    def warehouse(self) -> str:
        return f"s3://{self.bucket}/warehouse"

    def catalog_properties(self) -> dict[str, str]:
        props = {
            "warehouse": self.warehouse(),
            "glue.region": self.endpoint.region,
            "s3.region": self.endpoint.region,
        }
        if self.endpoint.endpoint_url:  # a moto server in tests
            props["glue.endpoint"] = self.endpoint.endpoint_url
            props["s3.endpoint"] = self.endpoint.endpoint_url
            for prefix in ("glue", "s3"):
                key = os.environ.get("AWS_ACCESS_KEY_ID")
                secret = os.environ.get("AWS_SECRET_ACCESS_KEY")
                if key and secret:
                    props[f"{prefix}.access-key-id"] = key
                    props[f"{prefix}.secret-access-key"] = secret
        return props

    def settings_store(self) -> SsmSettingsStore:
        return SsmSettingsStore(
            prefix=self.ssm_prefix,
            client=self.client("ssm"),
            bucket=self.bucket,
            s3_client=self.client("s3"),
            kms_key_id=self.kms_key_id,
            cache=self.cache.settings,
        )

    def settings(self, pin: Mapping[str, Any] | None = None) -> Settings:
        """The published settings; with ``pin`` (what ``Plan`` carried in the units' ``options``), exactly
        that version, without a Parameter Store call."""
        store = self.settings_store()
        return store.load_pinned(pin) if pin else store.load()

    def secrets(self) -> SecretsManagerSecretStore:
        return SecretsManagerSecretStore(
            prefix=self.secret_prefix, kms_key_id=self.kms_key_id, client=self.client("secretsmanager")
        )

    def state(self) -> DynamoStateStore:
        return DynamoStateStore(self.table, client=self.client("dynamodb"))

    def objects(self) -> S3ObjectStore:
        return S3ObjectStore(self.bucket, kms_key_id=self.kms_key_id, client=self.client("s3"))


@dataclass
class AwsContext(Context):
    """The pipeline context on AWS: ``lock("table:…")`` is a DynamoDB lease shared by every Lambda."""

    runtime: Runtime | None = None

    def lock(self, name: str) -> asyncio.Lock:
        if name.startswith("table:") and self.runtime is not None:
            rt = self.runtime
            return DynamoLock(rt.client("dynamodb"), rt.table, name)
        return super().lock(name)

    def commit_lock(self, table: str) -> CommitLock:
        """The lease a grouped commit takes (the same lock as ``lock("table:…")``, so maintenance excludes
        commits): short (:data:`COMMIT_LEASE_SECONDS`, renewed by the heartbeat while the commit runs),
        tried once per attempt — the waiting lander re-reads its record between attempts."""
        if self.runtime is None:
            return super().commit_lock(table)
        rt = self.runtime
        return DynamoLock(
            rt.client("dynamodb"),
            rt.table,
            f"table:{table}",
            lease_seconds=COMMIT_LEASE_SECONDS,
            timeout_seconds=0,
        )


class NoLakeCatalog:
    """The catalog of a step whose role has no lake access (plan, check, items_plan): opening the lake is a
    no-op (the stack creates the Glue database), anything else is a bug that fails loudly, instead of an
    AccessDenied from Glue."""

    def __init__(self, step: str) -> None:
        self._step = step

    def create_namespace_if_not_exists(self, namespace: Any, properties: Any = None) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        raise FatalError(
            f"the {self._step} step has no access to the lake (catalog.{name})",
            where="splake.runners.aws.runtime",
            hint="a bug: this step's function role (infra/functions.py STEP_ACCESS) does not include 'lake'",
        )


def open_context(
    runtime: Runtime, settings: Settings | None = None, *, lake_for: str | None = None
) -> AwsContext:
    """A pipeline context on AWS: DynamoDB state, S3 raw zone, Glue/S3 Iceberg lake, SP-API client with
    the shared DynamoDB rate limiter and LWA secrets from Secrets Manager. ``lake_for``: the step, when
    its role has no lake access (its context's lake refuses to be used)."""
    from splake.spapi.client import SpApiClient

    s = settings or runtime.settings()
    secrets = runtime.secrets()
    objects = runtime.objects()
    catalog = (
        cast(Catalog, NoLakeCatalog(lake_for))
        if lake_for is not None
        else runtime.cache.catalog(runtime.catalog_properties())
    )
    lake = CuratedLake(catalog, s.lake.namespace)
    limiter = DynamoRateLimiter(
        runtime.table, client=runtime.client("dynamodb"), plan=runtime.rate_plan or default_plan
    )
    work = Path(tempfile.gettempdir()) / "splake"
    work.mkdir(parents=True, exist_ok=True)
    client = SpApiClient(s, secrets, limiter=limiter)
    client.lwa.cache = SharedTokenCache(secrets, time.monotonic)
    return AwsContext(
        runtime=runtime,
        settings=s,
        state=runtime.state(),
        objects=objects,
        raw=RawZone(objects),
        lake=lake,
        client=client,
        clock=utcnow,
        work_dir=work,
    )
