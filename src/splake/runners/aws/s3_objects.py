"""ObjectStore on S3: SSE-KMS on every write, ``if_absent`` via a conditional put (``If-None-Match: *``)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

from botocore.exceptions import ClientError

from splake.aws.clients import AwsEndpoint, error_code
from splake.errors import FatalError, ObjectNotFoundError
from splake.logs import get_logger, log_event
from splake.ports import ObjectInfo

log = get_logger(__name__)

# Objects up to this size go in one conditional PutObject; bigger files use a multipart upload.
SINGLE_PUT_MAX = 256 * 1024 * 1024
PART_SIZE = 64 * 1024 * 1024
_EXISTS_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "412"}


class _BodyReader(io.RawIOBase):
    """Adapts a botocore StreamingBody to a real binary file object (for gzip, csv, pyarrow readers)."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._body.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n

    def close(self) -> None:
        self._body.close()
        super().close()


class S3ObjectStore:
    """:class:`splake.ports.ObjectStore` on one bucket (optionally under a key prefix)."""

    def __init__(
        self,
        bucket: str,
        endpoint: AwsEndpoint | None = None,
        *,
        prefix: str = "",
        kms_key_id: str | None = None,
        client: Any = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.kms_key_id = kms_key_id
        self._s3 = client if client is not None else (endpoint or AwsEndpoint.from_env()).client("s3")

    def _key(self, key: str) -> str:
        if not key or key.startswith("/") or ".." in key.split("/"):
            raise FatalError(
                f"invalid object key {key!r}", hint="keys are relative paths like 'raw/reports/…'"
            )
        return self.prefix + key

    def _sse(self) -> dict[str, str]:
        if self.kms_key_id:
            return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id}
        return {"ServerSideEncryption": "aws:kms"}

    def _put(self, key: str, body: Any, if_absent: bool, content_type: str | None) -> bool:
        extra: dict[str, Any] = self._sse()
        if content_type:
            extra["ContentType"] = content_type
        if if_absent:
            extra["IfNoneMatch"] = "*"
        try:
            self._s3.put_object(Bucket=self.bucket, Key=self._key(key), Body=body, **extra)
        except ClientError as exc:
            if if_absent and error_code(exc) in _EXISTS_CODES:
                return False
            raise
        return True

    def put_bytes(
        self, key: str, data: bytes, *, if_absent: bool = False, content_type: str | None = None
    ) -> bool:
        return self._put(key, data, if_absent, content_type)

    def put_file(
        self, key: str, path: Path, *, if_absent: bool = False, content_type: str | None = None
    ) -> bool:
        size = Path(path).stat().st_size
        if size <= SINGLE_PUT_MAX:
            with Path(path).open("rb") as fh:
                return self._put(key, fh, if_absent, content_type)
        if if_absent and self.exists(key):
            return False
        return self._multipart(key, Path(path), if_absent, content_type)

    def _multipart(self, key: str, path: Path, if_absent: bool, content_type: str | None) -> bool:
        extra: dict[str, Any] = self._sse()
        if content_type:
            extra["ContentType"] = content_type
        full = self._key(key)
        upload_id = self._s3.create_multipart_upload(Bucket=self.bucket, Key=full, **extra)["UploadId"]
        parts: list[dict[str, Any]] = []
        try:
            with path.open("rb") as fh:
                number = 1
                while chunk := fh.read(PART_SIZE):
                    etag = self._s3.upload_part(
                        Bucket=self.bucket, Key=full, UploadId=upload_id, PartNumber=number, Body=chunk
                    )["ETag"]
                    parts.append({"PartNumber": number, "ETag": etag})
                    number += 1
            cond = {"IfNoneMatch": "*"} if if_absent else {}
            self._s3.complete_multipart_upload(
                Bucket=self.bucket, Key=full, UploadId=upload_id, MultipartUpload={"Parts": parts}, **cond
            )
        except ClientError as exc:
            self._s3.abort_multipart_upload(Bucket=self.bucket, Key=full, UploadId=upload_id)
            if if_absent and error_code(exc) in _EXISTS_CODES:
                return False
            raise
        log_event(log, "s3_multipart_upload", bucket=self.bucket, key=full, parts=len(parts))
        return True

    def _get(self, key: str) -> Any:
        try:
            return self._s3.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except ClientError as exc:
            if error_code(exc) in {"NoSuchKey", "404"}:
                raise ObjectNotFoundError(
                    f"object {key!r} not found",
                    where=self.uri(key),
                    hint="check the key (list the prefix to see what exists)",
                ) from None
            raise

    def get_bytes(self, key: str) -> bytes:
        body = self._get(key)
        try:
            return cast(bytes, body.read())
        finally:
            body.close()

    def open(self, key: str) -> BinaryIO:
        return cast(BinaryIO, io.BufferedReader(_BodyReader(self._get(key)), buffer_size=1024 * 1024))

    def exists(self, key: str) -> bool:
        try:
            self._s3.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if error_code(exc) in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
            for obj in page.get("Contents", []):
                yield ObjectInfo(
                    key=obj["Key"][len(self.prefix) :], size=int(obj["Size"]), modified=obj["LastModified"]
                )

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"
