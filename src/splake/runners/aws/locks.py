"""A lease lock shared by every Lambda, in the state table (DynamoDB conditional writes).

Used for the curated-table commits: concurrent Iceberg commits to one table are detected by the catalog
(Glue ``VersionId``) and retried by pyiceberg, but serialising the writers of a table avoids retry storms
when many Lambdas land the same report type at once.

The lease is short (``lease_seconds``, default 60 s) and renewed by a heartbeat every ``lease_seconds / 3``
while the holder works, so a killed Lambda blocks the table for at most one lease, not for the function's
whole timeout. A holder whose heartbeat finds the lease taken over (it stalled for longer than a lease)
logs it; its commit is still safe, because the catalog's optimistic concurrency rejects a stale commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Callable
from typing import Any, Literal

from botocore.exceptions import ClientError

from splake.aws.clients import error_code
from splake.errors import RetryableError
from splake.logs import get_logger, log_event

log = get_logger(__name__)


class DynamoLock(asyncio.Lock):
    """``async with DynamoLock(...)``: holds ``name`` across processes. (An :class:`asyncio.Lock` subclass so
    it can stand in for the in-process lock of :class:`splake.runners.context.Context`.)"""

    def __init__(
        self,
        client: Any,
        table: str,
        name: str,
        *,
        lease_seconds: float = 60.0,
        timeout_seconds: float = 600.0,
        heartbeat_seconds: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self._ddb = client
        self._table = table
        self._name = name
        self._lease = lease_seconds
        self._timeout = timeout_seconds
        self._heartbeat = heartbeat_seconds if heartbeat_seconds is not None else lease_seconds / 3
        self._clock = clock
        self._owner = uuid.uuid4().hex
        self._held = False
        self._beat: asyncio.Task[None] | None = None
        self.renewals = 0
        self.lost = False  # the lease expired and another holder took it while we held it

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
                    # DynamoDB TTL (epoch seconds) cleans up locks nobody released
                    "ttl": {"N": str(int(now + self._lease + 3600))},
                },
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
                ExpressionAttributeValues={":now": {"N": repr(now)}},
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _renew(self) -> bool:
        now = self._clock()
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key=self._key(),
                UpdateExpression="SET expires_at = :until",
                ConditionExpression="#o = :me",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={
                    ":until": {"N": repr(now + self._lease)},
                    ":me": {"S": self._owner},
                },
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    async def _heartbeat_loop(self) -> None:
        while self._held:
            await asyncio.sleep(self._heartbeat)
            if not self._held:
                return
            try:
                renewed = await asyncio.to_thread(self._renew)
            except ClientError as exc:  # a transient error: the next beat tries again within the lease
                log_event(log, "lock_renew_failed", logging.WARNING, lock=self._name, error=error_code(exc))
                continue
            if renewed:
                self.renewals += 1
            else:
                self.lost = True
                log_event(log, "lock_lost", logging.WARNING, lock=self._name)
                return

    async def _attempt(self) -> bool:
        """One conditional put, safe to cancel (``asyncio.wait_for``): a put still in flight when the
        caller is cancelled is waited for, and a lease it took is given back."""
        put = asyncio.ensure_future(asyncio.to_thread(self._try))
        try:
            return await asyncio.shield(put)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                if await put:
                    await asyncio.to_thread(self._delete_mine)
            raise

    async def acquire(self) -> Literal[True]:
        """Take the lease; a ``timeout_seconds`` of 0 tries once. Raises :class:`RetryableError` when the
        lease stays held past the timeout."""
        deadline = time.monotonic() + self._timeout
        delay = 0.05
        while not await self._attempt():
            if time.monotonic() > deadline:
                raise RetryableError(
                    f"lock {self._name!r} still held after {self._timeout:.0f}s",
                    where=f"dynamodb table {self._table}",
                    hint="another worker is writing the same table; the step is retried later",
                )
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 1.5, 1.0)
        self._held = True
        self._beat = asyncio.get_running_loop().create_task(self._heartbeat_loop())
        return True

    def release(self) -> None:
        if not self._held:
            raise RuntimeError("release of an unheld DynamoLock")
        self._held = False
        if self._beat is not None:
            self._beat.cancel()
            self._beat = None
        self._delete_mine()

    def _delete_mine(self) -> None:
        with contextlib.suppress(ClientError):
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
