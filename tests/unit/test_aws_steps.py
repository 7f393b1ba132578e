"""Pure parts of the AWS runner: stable error names, the ASL definitions, handler decisions, runtime env."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from splake.aws.clients import AwsEndpoint
from splake.config import parse_config
from splake.errors import (
    AuthError,
    BadDataError,
    ConflictError,
    ReportNotReadyError,
    ServerError,
    ThrottledError,
)
from splake.ports import QueueMessage
from splake.reports.ledger import new_entry
from splake.reports.planner import Window, WorkUnit
from splake.runners.aws import errors
from splake.runners.aws.handlers import EventBatchQueue, notifies, wait_seconds
from splake.runners.aws.runtime import Runtime
from splake.runners.aws.statemachine import SYNC_STEPS, Timing, sync_definition

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "Op")


@pytest.mark.parametrize(
    ("exc", "name"),
    [
        (ThrottledError("429"), "splake.Throttled"),
        (ServerError("503"), "splake.Retryable"),
        (ReportNotReadyError("later"), "splake.Retryable"),
        (ConflictError("race"), "splake.Retryable"),
        (AuthError("invalid_grant"), "splake.Fatal"),
        (BadDataError("bad rows"), "splake.BadData"),
        (EndpointConnectionError(endpoint_url="http://x"), "splake.Retryable"),
        (_client_error("ThrottlingException"), "splake.Throttled"),
        (_client_error("ProvisionedThroughputExceededException"), "splake.Retryable"),
        (_client_error("AccessDeniedException"), "splake.Fatal"),
        (KeyError("bug"), "splake.Fatal"),
    ],
)
def test_error_names(exc: BaseException, name: str) -> None:
    assert errors.error_name(exc) == name
    wrapped = errors.as_step_error(exc)
    assert type(wrapped).__name__ == name  # what the Lambda runtime reports as errorType
    assert name in errors.STABLE_NAMES


def test_step_error_keeps_the_actionable_message() -> None:
    err = errors.as_step_error(AuthError("refresh token revoked", hint="re-authorize the app"))
    assert "refresh token revoked" in str(err) and "re-authorize the app" in str(err)


def _defn() -> dict:
    return sync_definition(
        {s: f"fn-{s}" for s in SYNC_STEPS}, Timing(retry_interval_seconds=2), results_bucket="lake"
    )


def _scopes(states: dict) -> list[dict]:
    out = [states]
    for st in states.values():
        if st["Type"] == "Map":
            out += _scopes(st["ItemProcessor"]["States"])
    return out


def _all_states(defn: dict) -> dict:
    states: dict = {}
    for scope in _scopes(defn["States"]):
        states.update(scope)
    return states


def test_every_task_retries_on_the_stable_names_and_units_catch_failures() -> None:
    states = _all_states(_defn())
    tasks = {n: s for n, s in states.items() if s["Type"] == "Task"}
    assert {s["Parameters"]["FunctionName"] for s in tasks.values()} == {f"fn-{s}" for s in SYNC_STEPS}
    for name, st in tasks.items():
        retried = {e for r in st["Retry"] for e in r["ErrorEquals"]}
        assert {"splake.Throttled", "splake.Retryable"} <= retried, name
        assert "splake.Fatal" not in retried and "splake.BadData" not in retried, name
    for name in ("Request", "Check", "Ingest"):
        assert tasks[name]["Catch"][0]["Next"] == "UnitFailed"


def test_transitions_reference_existing_states() -> None:
    defn = _defn()
    for scope in _scopes(defn["States"]):
        for st in scope.values():
            targets = [st.get("Next"), st.get("Default")]
            targets += [c["Next"] for c in st.get("Choices", [])] + [c["Next"] for c in st.get("Catch", [])]
            for t in filter(None, targets):
                assert t in scope


def test_polling_wait_comes_from_the_payload() -> None:
    states = _all_states(_defn())
    assert states["PollWait"] == {"Type": "Wait", "SecondsPath": "$.wait_seconds", "Next": "Check"}
    assert states["AwaitNotification"]["TimeoutSecondsPath"] == "$.notify_timeout_seconds"
    assert states["AwaitNotification"]["Catch"][0]["Next"] == "Check"  # timeout -> polling fallback


def test_missing_function_is_an_error() -> None:
    with pytest.raises(ValueError, match="ingest"):
        sync_definition({s: "x" for s in SYNC_STEPS if s != "ingest"}, results_bucket="lake")


def _settings(notifications: bool) -> object:
    return parse_config(
        {
            "lwa": {"client_id": "c"},
            "sync": {"poll_initial_seconds": 15, "poll_max_seconds": 300},
            "notifications": {"enabled": notifications},
            "accounts": [
                {"id": "s", "region": "NA", "selling_partner_id": "A1", "marketplaces": ["US"]},
                {
                    "id": "v",
                    "type": "vendor",
                    "region": "NA",
                    "selling_partner_id": "A2",
                    "marketplaces": ["US"],
                },
            ],
        }
    )


def test_wait_seconds_follows_the_ledger_backoff() -> None:
    s = _settings(False)
    entry = new_entry(WorkUnit("s", "GET_MERCHANT_LISTINGS_ALL_DATA", ("ATVPDKIKX0DER",), Window(None, NOW)))
    assert wait_seconds(entry, NOW, s) == 15  # type: ignore[arg-type]
    later = entry.__class__(**{**entry.__dict__, "next_check_at": NOW + timedelta(seconds=42.2)})
    assert wait_seconds(later, NOW, s) == 43  # type: ignore[arg-type]
    far = entry.__class__(**{**entry.__dict__, "next_check_at": NOW + timedelta(hours=2)})
    assert wait_seconds(far, NOW, s) == 300  # type: ignore[arg-type]
    past = entry.__class__(**{**entry.__dict__, "next_check_at": NOW - timedelta(seconds=5)})
    assert wait_seconds(past, NOW, s) == 0  # type: ignore[arg-type]


def test_only_sellers_with_notifications_wait_for_them() -> None:
    assert notifies(_settings(True), "s") is True  # type: ignore[arg-type]
    assert notifies(_settings(True), "v") is False  # type: ignore[arg-type]
    assert notifies(_settings(False), "s") is False  # type: ignore[arg-type]


def test_event_batch_queue_reports_unfinished_messages() -> None:
    msgs = [QueueMessage(f"m{i}", "{}", f"r{i}", 1, {}) for i in range(3)]
    q = EventBatchQueue(msgs)
    assert [m.message_id for m in q.receive()] == ["m0", "m1", "m2"]
    assert q.receive() == []
    q.delete("r0")
    q.release("r1")
    assert q.failures() == [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]


def test_runtime_env_round_trip() -> None:
    rt = Runtime(
        table="t",
        bucket="b",
        endpoint=AwsEndpoint("eu-west-1", "http://127.0.0.1:5000"),
        kms_key_id="arn:k",
        ssm_prefix="/x",
        secret_prefix="y/",
        queue_url="https://q",
        notify_timeout_seconds=7,
    )
    env = {**rt.env(), "AWS_REGION": "eu-west-1"}
    assert Runtime.from_env(env) == rt
    assert rt.catalog_properties()["warehouse"] == "s3://b/warehouse"
    with pytest.raises(Exception, match="SPLAKE_STATE_TABLE"):
        Runtime.from_env({})
