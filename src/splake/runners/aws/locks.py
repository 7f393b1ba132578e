"""A lease lock shared by every Lambda, in the state table (DynamoDB conditional writes).

Used for the curated-table commits: concurrent Iceberg commits to one table are detected by the catalog
(Glue ``VersionId``) and retried by pyiceberg, but serialising the writers of a table avoids retry storms
when many Lambdas land the same report type at once. A crashed holder's lease expires after ``lease_seconds``.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Callable
from typing import Any, Literal

from botocore.exceptions import ClientError

from splake.errors import RetryableError
from splake.runners.aws.clients import error_code


class DynamoLock(asyncio.Lock):
    """``async with DynamoLock(...)``: holds ``name`` across processes. (An :class:`asyncio.Lock` subclass so
    it can stand in for the in-process lock of :class:`splake.runners.context.Context`.)"""

    def __init__(
        self,
        client: Any,
        table: str,
        name: str,
        *,
        lease_seconds: float = 900.0,
        timeout_seconds: float = 600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self._ddb = client
        self._table = table
        self._name = name
        self._lease = lease_seconds
        self._timeout = timeout_seconds
        self._clock = clock
        self._owner = uuid.uuid4().hex
        self._held = False

    def _key(self) -> dict[str, Any]:
        return {"pk": {"S": f"_lock#{self._name}"}, "sk": {"S": "-"}}

    def _try(self) -> bool:
        now = self._clock()
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item={
                    **self._key(),
                    "owner": {"S": self._owner},
                    "expires_at": {"N": repr(now + self._lease)},
                },
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
                ExpressionAttributeValues={":now": {"N": repr(now)}},
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    async def acquire(self) -> Literal[True]:
        deadline = time.monotonic() + self._timeout
        delay = 0.05
        while not await asyncio.to_thread(self._try):
            if time.monotonic() > deadline:
                raise RetryableError(
                    f"lock {self._name!r} still held after {self._timeout:.0f}s",
                    where=f"dynamodb table {self._table}",
                    hint="another worker is writing the same table; the step is retried later",
                )
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 1.5, 1.0)
        self._held = True
        return True

    def release(self) -> None:
        if not self._held:
            raise RuntimeError("release of an unheld DynamoLock")
        self._held = False
        try:
            self._ddb.delete_item(
                TableName=self._table,
                Key=self._key(),
                ConditionExpression="#o = :me",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":me": {"S": self._owner}},
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":  # lease expired and taken over
                raise

    def locked(self) -> bool:
        return self._held
