"""AWS backends against a moto server: behaviour the shared port suites don't cover (encryption at rest,
conditional writes on DynamoDB/S3, Secrets Manager KMS, SSM settings)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from splake.config import parse_config
from splake.errors import ConfigError, ConflictError, ObjectNotFoundError, SecretNotFoundError
from splake.ports import ObjectStore, SecretStore, StateStore
from splake.runners.aws import s3_objects
from splake.runners.aws.backends import (
    DynamoStateStore,
    S3ObjectStore,
    SecretsManagerSecretStore,
    SsmSettingsStore,
)
from tests.support.aws_fixtures import MotoServer, unique


def test_backends_implement_the_ports(
    aws_state_store: Any, aws_object_store: Any, aws_secret_store: Any
) -> None:
    assert isinstance(aws_state_store, StateStore)
    assert isinstance(aws_object_store, ObjectStore)
    assert isinstance(aws_secret_store, SecretStore)


def test_dynamo_versions_and_conflicts(aws_state_store: DynamoStateStore) -> None:
    s = aws_state_store
    first = s.put("ledger", "acct", "r1", {"status": "IN_QUEUE", "n": 1.5}, expect_version=0)
    assert first["_version"] == 1
    with pytest.raises(ConflictError):
        s.put("ledger", "acct", "r1", {"status": "x"}, expect_version=0)
    second = s.put("ledger", "acct", "r1", {**first, "status": "DONE"}, expect_version=1)
    assert second["_version"] == 2
    with pytest.raises(ConflictError):
        s.put("ledger", "acct", "r1", {"status": "stale"}, expect_version=1)
    third = s.put("ledger", "acct", "r1", {"status": "forced"})
    assert third["_version"] == 3
    got = s.get("ledger", "acct", "r1")
    assert got is not None
    assert got["status"] == "forced" and got["_version"] == 3
    assert isinstance(s.put("ledger", "acct", "f", {"x": 1.5})["x"], float)
    assert s.get("ledger", "acct", "f") == {"x": 1.5, "_version": 1, "_pk": "acct", "_sk": "f"}


def test_dynamo_namespaces_query_scan(aws_state_store: DynamoStateStore) -> None:
    s = aws_state_store
    for sk in ("b/2", "a/1", "b/1", "c"):
        s.put("cursors", "p", sk, {"sk": sk})
    s.put("other", "p", "b/9", {"sk": "other"})
    assert [i["_sk"] for i in s.query("cursors", "p", "b/")] == ["b/1", "b/2"]
    assert [i["_sk"] for i in s.query("cursors", "p")] == ["a/1", "b/1", "b/2", "c"]
    assert sorted(i["_sk"] for i in s.scan("cursors")) == ["a/1", "b/1", "b/2", "c"]
    s.delete("cursors", "p", "c")
    assert s.get("cursors", "p", "c") is None
    assert all(i["_pk"] == "p" for i in s.scan("other"))


def test_dynamo_concurrent_increments_never_lose_updates(aws_state_store: DynamoStateStore) -> None:
    s = aws_state_store
    s.put("counters", "c", "n", {"n": 0}, expect_version=0)

    def bump() -> None:
        for _ in range(5):
            while True:
                cur = s.get("counters", "c", "n")
                assert cur is not None
                try:
                    s.put("counters", "c", "n", {"n": cur["n"] + 1}, expect_version=cur["_version"])
                    break
                except ConflictError:
                    continue

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = s.get("counters", "c", "n")
    assert final is not None
    assert final["n"] == 20
    assert final["_version"] == 21


def test_s3_objects_are_kms_encrypted_and_immutable(
    moto_server: MotoServer, aws_object_store: S3ObjectStore, aws_kms_key: str, tmp_path: Path
) -> None:
    store = aws_object_store
    assert store.put_bytes("raw/a.tsv", b"one", if_absent=True, content_type="text/tab-separated-values")
    assert not store.put_bytes("raw/a.tsv", b"two", if_absent=True)
    assert store.get_bytes("raw/a.tsv") == b"one"
    head = moto_server.client("s3").head_object(Bucket=store.bucket, Key="raw/a.tsv")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == aws_kms_key
    assert head["ContentType"] == "text/tab-separated-values"
    p = tmp_path / "doc.gz"
    p.write_bytes(b"x" * 10_000)
    assert store.put_file("raw/doc.gz", p, if_absent=True)
    assert not store.put_file("raw/doc.gz", p, if_absent=True)
    with store.open("raw/doc.gz") as fh:
        assert fh.read(10) == b"x" * 10
        assert len(fh.read()) == 9_990
    assert store.exists("raw/doc.gz") and not store.exists("raw/nope")
    assert sorted((o.key, o.size) for o in store.list("raw/")) == [("raw/a.tsv", 3), ("raw/doc.gz", 10_000)]
    assert store.uri("raw/a.tsv") == f"s3://{store.bucket}/raw/a.tsv"
    with pytest.raises(ObjectNotFoundError):
        store.get_bytes("raw/missing")
    with pytest.raises(ObjectNotFoundError):
        store.open("raw/missing")


def test_s3_prefix_and_multipart(
    moto_server: MotoServer,
    aws_bucket: str,
    aws_kms_key: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = S3ObjectStore(aws_bucket, moto_server.endpoint, prefix="lake/", kms_key_id=aws_kms_key)
    monkeypatch.setattr(s3_objects, "SINGLE_PUT_MAX", 1024)
    monkeypatch.setattr(s3_objects, "PART_SIZE", 5 * 1024 * 1024)
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * (24 * 1024))  # 6 MiB -> 2 parts
    assert store.put_file("raw/big.bin", big, if_absent=True)
    assert not store.put_file("raw/big.bin", big, if_absent=True)
    assert store.get_bytes("raw/big.bin") == big.read_bytes()
    head = moto_server.client("s3").head_object(Bucket=aws_bucket, Key="lake/raw/big.bin")
    assert head["ETag"].strip('"').endswith("-2")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert [o.key for o in store.list("raw/")] == ["raw/big.bin"]


def test_secrets_manager_uses_kms_and_reports_missing(
    moto_server: MotoServer, aws_secret_store: SecretsManagerSecretStore, aws_kms_key: str
) -> None:
    s = aws_secret_store
    with pytest.raises(SecretNotFoundError) as err:
        s.get("accounts/a/refresh_token")
    assert "splake secrets set accounts/a/refresh_token" in str(err.value)
    s.put("accounts/a/refresh_token", "Atzr|first")
    s.put("accounts/a/refresh_token", "Atzr|second")
    s.put("lwa/client_secret", "amzn1.oa2-cs.v1.abc")
    assert s.get("accounts/a/refresh_token") == "Atzr|second"
    desc = moto_server.client("secretsmanager").describe_secret(
        SecretId=s.prefix + "accounts/a/refresh_token"
    )
    assert desc["KmsKeyId"] == aws_kms_key
    assert [i.name for i in s.list()] == ["accounts/a/refresh_token", "lwa/client_secret"]
    info = s.info("lwa/client_secret")
    assert info is not None and info.name == "lwa/client_secret"
    s.delete("lwa/client_secret")
    assert s.info("lwa/client_secret") is None
    s.put("lwa/client_secret", "amzn1.oa2-cs.v1.new")  # re-creating right after a delete works
    assert s.get("lwa/client_secret") == "amzn1.oa2-cs.v1.new"


def _settings() -> Any:
    return parse_config(
        {
            "lwa": {"client_id": "amzn1.application-oa2-client.test"},
            "spapi": {"endpoint_override": "http://127.0.0.1:1"},
            "sync": {"report_types": ["GET_MERCHANT_LISTINGS_ALL_DATA"], "lookback_days": 2},
            "accounts": [
                {"id": "seller-na", "region": "NA", "selling_partner_id": "A1", "marketplaces": ["US", "CA"]},
                {"id": "seller-eu", "region": "EU", "selling_partner_id": "A2", "marketplaces": ["DE"]},
            ],
        }
    )


def test_ssm_settings_round_trip(moto_server: MotoServer) -> None:
    store = SsmSettingsStore(moto_server.endpoint, prefix="/" + unique("splake"))
    with pytest.raises(ConfigError):
        store.load()
    settings = _settings()
    names = store.publish(settings)
    assert names[0].endswith("/settings") and len(names) == 3
    assert store.load() == settings
    fewer = settings.model_copy(update={"accounts": settings.accounts[:1]})
    store.publish(fewer)
    assert [a.id for a in store.load().accounts] == ["seller-na"]
