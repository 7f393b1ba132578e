"""The records of grouped commits (:mod:`splake.lake.groupcommit`) and the pure decisions over them.

A record (StateStore namespace ``"commits"``, pk = table, sk = time#id) holds one staged write and its
state (pending → claimed → committed/failed, or discarded); :func:`plan_round` decides what a committer's
round discards, claims and forgets, :func:`should_linger` how long it waits for more documents of its
table, :func:`owner_action` what an owner waiting for its commit does next. Results and errors cross as
JSON (:func:`result_to_json`, :func:`error_to_json`); a staged write is packed when large
(:func:`pack_staged`). No I/O here: :class:`~splake.lake.groupcommit.GroupCommitter` does it.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from splake.errors import BadDataError, RetryableError, SplakeError
from splake.lake.staged import StagedWrite
from splake.lake.tables import WriteResult
from splake.ports import Item

NAMESPACE = "commits"
LINGER_STEP_SECONDS = 0.05

PENDING = "pending"  # staged, waiting for a committer; never handed to commit_staged
CLAIMED = "claimed"  # a committer took it into its group (it may be in the table already)
COMMITTED = "committed"  # in the table; ``result`` holds its WriteResult
FAILED = "failed"  # the commit refused it (bad data): ``error`` says why; nothing of it is in the table
DISCARDED = "discarded"  # abandoned/expired before any claim: its files are (being) deleted

State = Literal["pending", "claimed", "committed", "failed", "discarded"]


@dataclass(frozen=True)
class CommitTiming:
    """How long landers wait and how large groups get (frozen config, passed down)."""

    wait_seconds: float = 300.0  # an owner waits this long for its commit, then abandons its pending record
    grace_seconds: float = 60.0  # a pending record expires this long after its owner gave up (clock skew)
    poll_seconds: float = 1.0  # between attempts at the table lock (the record is re-read after each)
    max_group: int = 100  # documents per commit
    keep_seconds: float = 900.0  # a finished record its owner never collected (owner died) is then deleted
    # the committer waits up to this long for documents of its table that this process is still landing
    # (downloaded, waiting for a CPU slot or staging): fewer, larger commits where commits cost CPU
    linger_seconds: float = 2.0
    # ... and up to this long for documents of its table that are finished at Amazon and queued for
    # landing in this process (a sync lands a table's documents together, see reports/landgate.py: the
    # few of a table that land first need not make a commit of their own, ~0.2 CPU-s each)
    queue_linger_seconds: float = 15.0

    def expires_at(self, created: datetime) -> datetime:
        return created + timedelta(seconds=self.wait_seconds + self.grace_seconds)


class StagedCommits(Protocol):
    """What the coordinator needs from :class:`splake.lake.iceberg.CuratedLake`."""

    def commit_staged(self, table: str, staged: Sequence[StagedWrite]) -> list[WriteResult]: ...

    def discard(self, staged: StagedWrite) -> None: ...


class CommitLock(Protocol):
    """An :class:`asyncio.Lock`-like lock (in-process lock locally, a DynamoDB lease on AWS)."""

    async def acquire(self) -> Literal[True]: ...

    def release(self) -> None: ...


# --- pure decisions ---------------------------------------------------------------------------------


def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat()


def parse_time(text: Any) -> datetime:
    return datetime.fromisoformat(str(text))


def record_sk(created: datetime, staged_id: str) -> str:
    """Sort key: creation time (fixed width, UTC) then the staged id — records sort oldest first."""
    return f"{created.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ}#{staged_id}"


@dataclass(frozen=True)
class Round:
    """What one committer round does with the table's records."""

    claim: tuple[Item, ...]  # commit these, in this order (oldest first)
    discard: tuple[Item, ...]  # expired pending (or interrupted discards): delete their files, then them
    forget: tuple[Item, ...]  # committed records nobody collected (their owner died): delete


def plan_round(records: Sequence[Item], now: datetime, timing: CommitTiming) -> Round:
    """Decide a round for the holder of the table lock (pure). Claims made by others are stale: their
    committer no longer holds the lock, so it died or lost its lease; they are claimed again."""
    claim: list[Item] = []
    discard: list[Item] = []
    forget: list[Item] = []
    for rec in sorted(records, key=lambda r: str(r["_sk"])):
        state = rec.get("state")
        if state == PENDING:
            if parse_time(rec["expires_at"]) <= now:
                discard.append(rec)
            elif len(claim) < timing.max_group:
                claim.append(rec)
        elif state == CLAIMED:
            if len(claim) < timing.max_group:
                claim.append(rec)
        elif state == DISCARDED:
            discard.append(rec)
        elif state in (COMMITTED, FAILED):
            done = parse_time(rec.get("finished_at") or rec["created_at"])
            if done + timedelta(seconds=timing.keep_seconds) <= now:
                # a refused write's files are deleted with it; a committed one's belong to the table
                (discard if state == FAILED else forget).append(rec)
    return Round(tuple(claim), tuple(discard), tuple(forget))


def should_linger(
    landing: int,
    queued: int,
    waited: float,
    timing: CommitTiming,
    *,
    queue_seen: bool = False,
    queued_anywhere: int = 0,
) -> bool:
    """Does the committer wait for more documents before it claims (pure)? While this process still lands
    documents of the table (``landing``), for at most ``linger_seconds``; while more are queued to land
    (``queued``) — and then while those land (``queue_seen``: some were queued since it began to wait), as
    long as documents of any table are still queued (``queued_anywhere``) — for at most
    ``queue_linger_seconds``: the table's documents of a sync then make one commit, not a second one for
    those still landing when its queue emptied. At a sync's end (nothing queued anywhere) what is staged is
    committed while the last documents land: the last commit, which nothing else overlaps, stays small."""
    if queued > 0 or (queue_seen and landing > 0 and queued_anywhere > 0):
        return waited < timing.queue_linger_seconds
    return landing > 0 and waited < timing.linger_seconds


OwnerAction = Literal["done", "failed", "lost", "abandon", "give_up", "wait"]


def owner_action(record: Item | None, now: datetime, deadline: datetime, give_up_at: datetime) -> OwnerAction:
    """What the owner of a record does next (pure).

    ``lost``: the record is gone or discarded (it expired: the owner was too slow) — stage again.
    ``abandon``: waited too long while still pending — discard it (conditionally) and retry later.
    ``give_up``: a committer claimed it but did not finish by ``give_up_at`` — leave it (the next committer
    commits it) and retry later."""
    if record is None or record.get("state") == DISCARDED:
        return "lost"
    state = record.get("state")
    if state == COMMITTED:
        return "done"
    if state == FAILED:
        return "failed"
    if now >= deadline and state == PENDING:
        return "abandon"
    if now >= give_up_at:
        return "give_up"
    return "wait"


def result_to_json(result: WriteResult) -> dict[str, Any]:
    out = dataclasses.asdict(result)
    out["columns_added"] = list(result.columns_added)
    return out


def result_from_json(data: Mapping[str, Any]) -> WriteResult:
    names = {f.name for f in dataclasses.fields(WriteResult)}
    kwargs = {k: v for k, v in data.items() if k in names}
    kwargs["columns_added"] = tuple(kwargs.get("columns_added") or ())
    return WriteResult(**kwargs)


def error_to_json(exc: BaseException) -> dict[str, str | None]:
    kind = "bad_data" if isinstance(exc, BadDataError) else "fatal"
    if isinstance(exc, SplakeError):
        return {"kind": kind, "message": exc.message, "hint": exc.hint, "where": exc.where}
    return {"kind": kind, "message": f"{type(exc).__name__}: {exc}", "hint": None, "where": None}


def error_from_json(data: Mapping[str, Any]) -> SplakeError:
    """The owner's error for a refused staged write. Bad data stays bad data; anything else the lake
    refuses a staged write for (its files are gone, e.g. swept after its committer died) is cured by
    staging the document again, which is what retrying the owner's step does."""
    message, where = str(data.get("message")), data.get("where")
    if data.get("kind") == "bad_data":
        return BadDataError(message, hint=data.get("hint"), where=where)
    return RetryableError(
        message, hint="nothing of it landed; the step stages the document again", where=where
    )


# a staged write's JSON above this is stored compressed (DynamoDB items <= 400 KB); and well below that:
# a record is read back (whole) by each poll of its owner and by each commit round of its table, and a
# packed staged write is one string to decode there, not a tree of per-column statistics
INLINE_BYTES = 1024


def pack_staged(staged: StagedWrite) -> dict[str, Any]:
    """The record fields holding ``staged``: its JSON, or zlib+base64 of it when large (the per-file
    statistics compress ~8x: a 20-file document is 134 KB as JSON, 17 KB packed)."""
    data = staged.to_json()
    text = json.dumps(data, separators=(",", ":"))
    if len(text) <= INLINE_BYTES:
        return {"staged": data}
    return {"staged_z": base64.b64encode(zlib.compress(text.encode("utf-8"), 6)).decode("ascii")}


def unpack_staged(rec: Mapping[str, Any]) -> StagedWrite:
    if "staged_z" in rec:
        return StagedWrite.from_json(json.loads(zlib.decompress(base64.b64decode(rec["staged_z"]))))
    return StagedWrite.from_json(rec["staged"])
