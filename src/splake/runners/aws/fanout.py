"""The Distributed Map's two ends, for the Plan and Summarize handlers.

- Plan writes the work units to the lake bucket as one JSON array (``sfn/plans/<kind>/<execution>.json``,
  what the Map's ``ItemReader`` reads), interleaved across accounts (:func:`interleave`), and returns only
  a pointer.
- The Map's ``ResultWriter`` writes ``manifest.json`` plus ``SUCCEEDED_n.json`` / ``FAILED_n.json`` /
  ``PENDING_n.json`` files: JSON arrays of child-execution records whose ``Output`` (and ``Input``) are JSON
  strings. :func:`unit_results` turns them back into one record per unit; a failed child execution counts
  each of its units as failed.
- :func:`overlapping`: the running-execution guard (pure): an hourly run must not re-plan the units of one
  still running (and register a second task token for the same report).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from splake.errors import BadDataError
from splake.ports import ObjectStore
from splake.runners.aws.statemachine import PLANS_PREFIX

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def plan_key(kind: str, execution_id: str | None, now: datetime) -> str:
    name = execution_id.rsplit(":", 1)[-1] if execution_id else now.strftime("manual-%Y%m%dT%H%M%S%f")
    return f"{PLANS_PREFIX}/{kind}/{_SAFE.sub('-', name)}.json"


def interleave(units: list[Any]) -> list[Any]:
    """The units in the order the Map should start them (pure): round-robin over the accounts, each
    account's units rotated by the account's position. The planner lists an account's units together, so
    in planning order the units in flight (``max_concurrency`` x ``unit_concurrency``, batched by
    ``ItemBatcher`` in file order) would all belong to a handful of sellers and wait on those sellers'
    SP-API buckets (``createReport``: burst 15, then one a minute, per seller and application), inside
    Lambdas, while every other seller's bucket sat idle. Interleaved, the units in flight belong to as many
    sellers as possible, and the rotation spreads them over report types (curated tables) too."""
    lanes: dict[str, list[Any]] = {}
    for u in units:
        lanes.setdefault(str(u.get("account_id") if isinstance(u, Mapping) else ""), []).append(u)
    rotated = []
    for i, lane in enumerate(lanes.values()):
        k = i % len(lane)
        rotated.append(lane[k:] + lane[:k])
    depth = max((len(lane) for lane in rotated), default=0)
    return [lane[d] for d in range(depth) for lane in rotated if d < len(lane)]


def write_plan(
    objects: ObjectStore, bucket: str, kind: str, execution_id: str | None, now: datetime, units: list[Any]
) -> dict[str, Any]:
    """Store the units (the ItemReader's JSON array, :func:`interleave`d); the pointer goes in the state
    payload."""
    key = plan_key(kind, execution_id, now)
    body = json.dumps(interleave(units), separators=(",", ":"), sort_keys=True).encode()
    objects.put_bytes(key, body, content_type="application/json")
    return {"bucket": bucket, "key": key, "bytes": len(body)}


def state_machine_arn(execution_arn: str) -> str:
    """``arn:…:execution:<machine>:<name>`` → ``arn:…:stateMachine:<machine>``."""
    head, _, rest = execution_arn.partition(":execution:")
    machine = rest.split(":", 1)[0]
    if not head or not machine:
        raise BadDataError(f"not an execution ARN: {execution_arn!r}", where="splake.runners.aws.fanout")
    return f"{head}:stateMachine:{machine}"


def overlapping(running: Iterable[Mapping[str, Any]], me: str) -> str | None:
    """The ARN of a RUNNING execution that started before ``me`` (ties broken by ARN), if any: then ``me``
    skips its run. Two executions starting at once both see each other; exactly one of them goes on."""
    runs = [r for r in running if str(r.get("status", "RUNNING")) == "RUNNING"]
    mine = next((r for r in runs if r["executionArn"] == me), None)
    if mine is None:
        return None  # not listed yet (eventual consistency): the others will see us and skip

    def order(r: Mapping[str, Any]) -> tuple[Any, str]:
        return (r["startDate"], str(r["executionArn"]))

    older = [r for r in runs if r["executionArn"] != me and order(r) < order(mine)]
    return str(min(older, key=order)["executionArn"]) if older else None


def running_executions(sfn: Any, machine_arn: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for page in sfn.get_paginator("list_executions").paginate(
        stateMachineArn=machine_arn, statusFilter="RUNNING"
    ):
        out.extend(page.get("executions", []))
    return out


# --- results ------------------------------------------------------------------------------------------


def _failed_child(record: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    try:
        items = json.loads(record.get("Input") or "{}").get("Items") or [None]
    except (TypeError, ValueError):
        items = [None]
    error = {
        "Error": record.get("Error") or record.get("Status") or "ChildExecutionFailed",
        "Cause": str(record.get("Cause") or record.get("ExecutionArn") or "")[:1000],
    }
    for unit in items:
        yield {"outcome": "failed", "unit": unit, "error": error}


def records_of(child: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """One child-execution record of a result file → its units' result records."""
    if child.get("Status", "SUCCEEDED") != "SUCCEEDED":
        yield from _failed_child(child)
        return
    out = child.get("Output")
    parsed = json.loads(out) if isinstance(out, str) else out
    for r in parsed or []:
        yield dict(r)


def unit_results(results: Any, get_json: Any) -> Iterator[dict[str, Any]]:
    """Unit records from the Map's output: the ResultWriter pointer (``{"ResultWriterDetails": {"Bucket",
    "Key"}}``), read with ``get_json(bucket, key)``; or an inline list of records."""
    if isinstance(results, list):
        yield from (dict(r) for r in results)
        return
    details = (results or {}).get("ResultWriterDetails")
    if not details:
        raise BadDataError(
            "the fan-out returned neither results nor a ResultWriter manifest",
            where="splake.runners.aws.fanout",
            hint="check the state machine definition (FanOut.ResultWriter)",
        )
    manifest = get_json(details["Bucket"], details["Key"])
    bucket = manifest.get("DestinationBucket") or details["Bucket"]
    files = manifest.get("ResultFiles") or {}
    for kind in ("SUCCEEDED", "FAILED", "PENDING"):
        for f in files.get(kind) or []:
            for child in get_json(bucket, f["Key"]):
                if kind == "PENDING" and child.get("Status") in (None, "RUNNING", "PENDING"):
                    child = {**child, "Status": "PENDING", "Error": "splake.ChildPending"}
                yield from records_of(child)
