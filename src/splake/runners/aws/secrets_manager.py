"""SecretStore on AWS Secrets Manager, every secret encrypted with the stack's KMS key.

Secret names are ``<prefix><name>`` (default prefix ``splake/``),
e.g. ``splake/accounts/acme-na/refresh_token``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from splake.aws.clients import AwsEndpoint, error_code
from splake.errors import SecretNotFoundError
from splake.ports import SecretInfo

_MISSING = {"ResourceNotFoundException"}
# Secrets Manager dates have one-second resolution on some endpoints; splake keeps exact times in tags.
TAG_CREATED = "splake:created-at"
TAG_UPDATED = "splake:updated-at"


def _now() -> str:
    return datetime.now(UTC).isoformat()


class SecretsManagerSecretStore:
    """:class:`splake.ports.SecretStore` on Secrets Manager (KMS key ``kms_key_id``)."""

    def __init__(
        self,
        endpoint: AwsEndpoint | None = None,
        *,
        prefix: str = "splake/",
        kms_key_id: str | None = None,
        client: Any = None,
    ) -> None:
        self.prefix = prefix
        self.kms_key_id = kms_key_id
        self._sm = (
            client if client is not None else (endpoint or AwsEndpoint.from_env()).client("secretsmanager")
        )

    def _id(self, name: str) -> str:
        return self.prefix + name

    def _not_found(self, name: str) -> SecretNotFoundError:
        return SecretNotFoundError(
            f"secret {name!r} is not set",
            where=f"AWS Secrets Manager secret {self._id(name)}",
            hint=f"store it with `splake deploy secret {name}` (or `splake secrets set {name}` + "
            "`splake deploy secrets`), or "
            f"`aws secretsmanager create-secret --name {self._id(name)} --kms-key-id <stack key> "
            "--secret-string …`",
        )

    def get(self, name: str) -> str:
        try:
            resp = self._sm.get_secret_value(SecretId=self._id(name))
        except ClientError as exc:
            if error_code(exc) in _MISSING:
                raise self._not_found(name) from None
            raise
        return str(resp["SecretString"])

    def put(self, name: str, value: str) -> None:
        try:
            self._sm.put_secret_value(SecretId=self._id(name), SecretString=value)
            self._sm.tag_resource(SecretId=self._id(name), Tags=[{"Key": TAG_UPDATED, "Value": _now()}])
            return
        except ClientError as exc:
            if error_code(exc) not in _MISSING:
                raise
        kms = {"KmsKeyId": self.kms_key_id} if self.kms_key_id else {}
        now = _now()
        tags = [{"Key": TAG_CREATED, "Value": now}, {"Key": TAG_UPDATED, "Value": now}]
        try:
            self._sm.create_secret(Name=self._id(name), SecretString=value, Tags=tags, **kms)
        except ClientError as exc:
            if error_code(exc) != "ResourceExistsException":
                raise
            # Lost a race with another writer that created it first: write our value as the new version.
            self._sm.put_secret_value(SecretId=self._id(name), SecretString=value)
            self._sm.tag_resource(SecretId=self._id(name), Tags=[{"Key": TAG_UPDATED, "Value": _now()}])

    def delete(self, name: str) -> None:
        try:
            self._sm.delete_secret(SecretId=self._id(name), ForceDeleteWithoutRecovery=True)
        except ClientError as exc:
            if error_code(exc) not in _MISSING:
                raise

    def _info(self, raw: dict[str, Any]) -> SecretInfo:
        tags = {t["Key"]: t["Value"] for t in raw.get("Tags") or []}
        created: datetime = raw.get("CreatedDate") or raw["LastChangedDate"]
        updated: datetime = raw.get("LastChangedDate") or created
        if TAG_CREATED in tags:
            created = datetime.fromisoformat(tags[TAG_CREATED])
        if TAG_UPDATED in tags:
            updated = datetime.fromisoformat(tags[TAG_UPDATED])
        return SecretInfo(name=str(raw["Name"])[len(self.prefix) :], created_at=created, updated_at=updated)

    def info(self, name: str) -> SecretInfo | None:
        try:
            raw = self._sm.describe_secret(SecretId=self._id(name))
        except ClientError as exc:
            if error_code(exc) in _MISSING:
                return None
            raise
        if raw.get("DeletedDate"):
            return None
        return self._info(raw)

    def list(self) -> list[SecretInfo]:
        out: list[SecretInfo] = []
        paginator = self._sm.get_paginator("list_secrets")
        for page in paginator.paginate(Filters=[{"Key": "name", "Values": [self.prefix]}]):
            for raw in page.get("SecretList", []):
                if str(raw["Name"]).startswith(self.prefix) and not raw.get("DeletedDate"):
                    out.append(self._info(raw))
        return sorted(out, key=lambda s: s.name)
