"""Settings on AWS at fleet size: a ~200-byte SSM pointer + an S3 object per version; functions re-read the
object only when the version changed (one GetParameter per invocation otherwise)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from splake.config import parse_config
from splake.errors import ConfigError
from splake.runners.aws.runtime import ContainerCache, Runtime
from splake.runners.aws.ssm_config import SettingsCache, SsmSettingsStore
from tests.support.aws_fixtures import MotoServer, create_state_table, unique


def fleet(n: int, lookback: int = 2) -> Any:
    return parse_config(
        {
            "lwa": {"client_id": "amzn1.application-oa2-client.test"},
            "sync": {"report_types": ["GET_MERCHANT_LISTINGS_ALL_DATA"], "lookback_days": lookback},
            "accounts": [
                {
                    "id": f"acct-{i:03d}",
                    "region": "EU",
                    "selling_partner_id": f"A{i:012d}",
                    "marketplaces": ["DE", "FR", "IT", "ES", "UK"],
                }
                for i in range(n)
            ],
        }
    )


class CountingSsm:
    """The real boto3 SSM client, counting calls per operation (moto has no call accounting)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name in ("get_parameter", "put_parameter", "get_paginator", "delete_parameter"):

            def counted(*a: Any, **kw: Any) -> Any:
                self.calls[name] = self.calls.get(name, 0) + 1
                return attr(*a, **kw)

            return counted
        return attr


def test_500_accounts_behind_a_small_pointer_with_a_version_cache(moto_server: MotoServer) -> None:
    bucket = unique("splake-lake")
    moto_server.client("s3").create_bucket(Bucket=bucket)
    kms = moto_server.client("kms").create_key(Description="t")["KeyMetadata"]["Arn"]
    prefix = "/" + unique("splake")
    settings = fleet(500)
    publisher = SsmSettingsStore(moto_server.endpoint, prefix=prefix, bucket=bucket, kms_key_id=kms)
    names = publisher.publish(settings)
    ssm = moto_server.client("ssm")
    pointer = ssm.get_parameter(Name=f"{prefix}/settings")["Parameter"]["Value"]
    assert len(pointer) < 400 and json.loads(pointer)["accounts"] == 500  # 4 KB Standard limit: far off
    key = names[1].split("/", 3)[3]
    head = moto_server.client("s3").head_object(Bucket=bucket, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms" and head["ContentLength"] > 50_000

    cache = SettingsCache()
    counting = CountingSsm(ssm)
    reader = SsmSettingsStore(moto_server.endpoint, prefix=prefix, client=counting, cache=cache)
    for _ in range(5):  # five invocations of one warm container
        assert reader.load() == settings
    assert cache.loads == 1 and counting.calls == {"get_parameter": 5}  # no GetParametersByPath paging

    changed = fleet(500, lookback=5)
    SsmSettingsStore(moto_server.endpoint, prefix=prefix).publish(changed)  # bucket taken from the pointer
    assert reader.load() == changed and cache.loads == 2


def test_runtime_reads_settings_through_the_container_cache(moto_server: MotoServer) -> None:
    bucket = unique("splake-lake")
    moto_server.client("s3").create_bucket(Bucket=bucket)
    runtime = Runtime(
        table=create_state_table(moto_server, unique("splake-state")),
        bucket=bucket,
        endpoint=moto_server.endpoint,
        ssm_prefix="/" + unique("splake"),
        cache=ContainerCache(),
    )
    with pytest.raises(ConfigError, match="no splake settings"):
        runtime.settings()
    runtime.settings_store().publish(fleet(3))
    assert runtime.settings() == fleet(3) and runtime.settings() == fleet(3)
    assert runtime.cache.settings.loads == 1


def test_plan_pins_the_settings_version_for_its_units(moto_server: MotoServer) -> None:
    """An execution's unit steps load the version its Plan read, from S3, with no Parameter Store call
    (one GetParameter per invocation at fleet concurrency exceeds the account's default 40 TPS)."""
    from splake.runners.aws.handlers import run_step
    from splake.runners.aws.ssm_config import settings_json

    bucket = unique("splake-lake")
    moto_server.client("s3").create_bucket(Bucket=bucket)
    runtime = Runtime(
        table=create_state_table(moto_server, unique("splake-state")),
        bucket=bucket,
        endpoint=moto_server.endpoint,
        ssm_prefix="/" + unique("splake"),
    )
    v1, v2 = fleet(3), fleet(3, lookback=5)
    runtime.settings_store().publish(v1)
    planned = run_step("plan", {"input": {}, "execution_id": None}, runtime.env())
    pin = planned["options"]["settings"]
    assert pin["version"] == hashlib.sha256(settings_json(v1)).hexdigest()
    assert pin["bucket"] == bucket and pin["key"].endswith(pin["version"] + ".json")

    runtime.settings_store().publish(v2)  # a new version while the execution runs
    calls: list[str] = []

    def count(**kw: Any) -> None:
        calls.append(kw["event_name"])

    ssm = runtime.client("ssm")  # the container's client, which run_step's runtime uses too
    ssm.meta.events.register("before-call.ssm.GetParameter", count)
    try:
        assert runtime.settings(pin) == v1 and calls == []  # the pinned version, no GetParameter
        fresh = Runtime(**{**runtime.__dict__, "cache": ContainerCache()})  # a cold container
        assert fresh.settings(pin) == v1  # from the S3 object
        assert runtime.settings() == v2 and len(calls) == 1  # outside an execution: the pointer
    finally:
        ssm.meta.events.unregister("before-call.ssm.GetParameter", count)
    # the object must be the version it claims
    moto_server.client("s3").put_object(Bucket=bucket, Key=pin["key"], Body=settings_json(v2))
    with pytest.raises(ConfigError, match="does not match its version"):
        Runtime(**{**runtime.__dict__, "cache": ContainerCache()}).settings(pin)


def test_legacy_all_ssm_layout_still_loads_and_no_parameter_grows(moto_server: MotoServer) -> None:
    prefix = "/" + unique("splake")
    settings = fleet(30)
    store = SsmSettingsStore(moto_server.endpoint, prefix=prefix)  # no bucket: all-SSM layout
    store.publish(settings)
    shared = moto_server.client("ssm").get_parameter(Name=f"{prefix}/settings")["Parameter"]["Value"]
    assert "acct-" not in shared  # no account list in the shared parameter
    assert store.load() == settings
    # switching to a bucket replaces the per-account parameters with the pointer + object
    bucket = unique("splake-lake")
    moto_server.client("s3").create_bucket(Bucket=bucket)
    SsmSettingsStore(moto_server.endpoint, prefix=prefix, bucket=bucket).publish(settings)
    assert store.load() == settings and store.version() is not None
    left = moto_server.client("ssm").get_parameters_by_path(Path=f"{prefix}/accounts")["Parameters"]
    assert left == []
