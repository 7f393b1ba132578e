"""A model of how many execution-history events a state machine definition writes (pure).

AWS keeps at most 25,000 events in one execution's history; an execution that would write more fails
(``States.Runtime``). The counts per state follow the event types AWS records
(``GetExecutionHistory``; "Step Functions service quotas" and "Execution history events"):

- Task (``lambda:invoke``): ``TaskStateEntered``, ``TaskScheduled``, ``TaskStarted``,
  ``TaskSucceeded``/``TaskFailed``, ``TaskStateExited`` = 5; a ``.waitForTaskToken`` task adds
  ``TaskSubmitted`` = 6; every retry adds ``TaskScheduled``, ``TaskStarted``, ``TaskFailed``/``TaskTimedOut``
  = 3 (worst case: every ``Retry`` entry exhausts its ``MaxAttempts``).
- Pass, Choice, Wait, Succeed: ``…StateEntered`` + ``…StateExited`` = 2. Fail: ``FailStateEntered`` = 1.
- Inline Map: ``MapStateEntered``, ``MapStateStarted``, ``MapStateSucceeded``, ``MapStateExited`` = 4, plus
  ``MapIterationStarted`` + ``MapIterationSucceeded`` = 2 per item, plus the item's own states.
- Distributed Map (in the parent): ``MapStateEntered``, ``MapStateStarted``, ``MapRunStarted``,
  ``MapRunSucceeded``, ``MapStateSucceeded``, ``MapStateExited`` = 6, whatever the number of items: each
  child execution has its own history.
- An execution: ``ExecutionStarted`` + ``ExecutionSucceeded``/``ExecutionFailed`` = 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

HISTORY_LIMIT = 25_000
EXECUTION_EVENTS = 2
INLINE_MAP_EVENTS = 4
ITERATION_EVENTS = 2
DISTRIBUTED_MAP_EVENTS = 6


def retry_attempts(state: Mapping[str, Any]) -> int:
    """Worst case: every retrier exhausts its attempts (AWS's default MaxAttempts is 3)."""
    return sum(int(r.get("MaxAttempts", 3)) for r in state.get("Retry", ()))


def state_events(state: Mapping[str, Any]) -> int:
    """Events of one visit of a non-Map state (worst case)."""
    typ = state["Type"]
    if typ == "Task":
        base = 6 if str(state.get("Resource", "")).endswith(".waitForTaskToken") else 5
        return base + 3 * retry_attempts(state)
    if typ in ("Pass", "Choice", "Wait", "Succeed"):
        return 2
    if typ == "Fail":
        return 1
    if typ == "Map":
        mode = state.get("ItemProcessor", {}).get("ProcessorConfig", {}).get("Mode", "INLINE")
        if mode == "DISTRIBUTED":
            return DISTRIBUTED_MAP_EVENTS
        raise ValueError("an inline Map's events depend on its items: use inline_map_events")
    if typ == "Parallel":
        raise ValueError("Parallel states are not modelled")
    raise ValueError(f"unknown state type {typ!r}")


def successors(state: Mapping[str, Any]) -> list[str]:
    out = [state[k] for k in ("Next", "Default") if k in state]
    out += [c["Next"] for c in state.get("Choices", ())]
    out += [c["Next"] for c in state.get("Catch", ())]
    return list(dict.fromkeys(out))


def unit_worst_events(
    states: Mapping[str, Any], start_at: str, *, max_visits: Mapping[str, int] | None = None
) -> int:
    """The most events one run through ``states`` (from ``start_at`` to an end) can write, when state
    ``s`` may be entered at most ``max_visits[s]`` times (default 1; a loop must pass through a bounded
    state or this raises)."""
    limits = dict(max_visits or {})
    bounded = sorted(limits)

    @cache
    def longest(name: str, used: tuple[int, ...]) -> int:
        if name in limits:
            i = bounded.index(name)
            if used[i] >= limits[name]:
                return -1  # not allowed: this path does not exist
            used = (*used[:i], used[i] + 1, *used[i + 1 :])
        st = states[name]
        own = state_events(st)
        nexts = successors(st)
        if not nexts:
            return own
        best = -1
        for n in nexts:
            if n == name and name not in limits:
                raise ValueError(f"unbounded loop at {name!r}")
            sub = longest(n, used)
            best = max(best, sub)
        return -1 if best < 0 else own + best

    def guard(name: str, used: tuple[int, ...], seen: frozenset[str]) -> None:
        # refuse loops that pass through no bounded state (their length would be unbounded)
        if name in limits:
            return
        if name in seen:
            raise ValueError(f"loop through {name!r} has no bounded state")
        for n in successors(states[name]):
            guard(n, used, seen | {name})

    guard(start_at, (), frozenset())
    total = longest(start_at, tuple(0 for _ in bounded))
    if total < 0:
        raise ValueError("no path reaches an end within the visit limits")
    return total


def child_overhead_events() -> int:
    """A child execution of the fan-out: the execution and its inline Map over the batch."""
    return EXECUTION_EVENTS + INLINE_MAP_EVENTS


def child_worst_events(per_unit: int, batch: int) -> int:
    return child_overhead_events() + batch * (ITERATION_EVENTS + per_unit)


def parent_worst_events(states: Mapping[str, Any], start_at: str) -> int:
    """The parent execution: its own states (a Distributed Map counts 6, whatever its item count)."""
    return EXECUTION_EVENTS + unit_worst_events(states, start_at)
