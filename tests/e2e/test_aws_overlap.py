"""The overlapping-run guard on moto: a scheduled sync that starts while an older execution of its machine
is still running plans nothing (the older run owns the in-flight units and their task tokens)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from splake.runners.aws.handlers import run_step
from tests.integration.items_helpers import sandbox_settings
from tests.support.aws_fixtures import LambdaHandlers, MotoServer, deploy_on_moto, own_lake, unique


def test_a_second_run_skips_while_the_first_is_running(
    moto_server: MotoServer, lambda_handlers: LambdaHandlers, sandbox: Any, tmp_path: Path
) -> None:
    settings = sandbox_settings(sandbox, tmp_path / "lake", ("seller-na",), lake=own_lake(tmp_path / "lake"))
    runtime, _, _ = deploy_on_moto(moto_server, settings, sandbox)
    sfn = moto_server.client("stepfunctions")
    # a machine whose executions stay RUNNING for a while (the sync's own would finish too soon)
    machine = sfn.create_state_machine(
        name=unique("splake-sync"),
        definition=json.dumps(
            {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 30, "End": True}}}
        ),
        roleArn="arn:aws:iam::123456789012:role/splake-sfn",
    )["stateMachineArn"]
    first = sfn.start_execution(stateMachineArn=machine, name="first")["executionArn"]
    second = sfn.start_execution(stateMachineArn=machine, name="second")["executionArn"]
    try:
        skipped = run_step("plan", {"input": {}, "execution_id": second}, runtime.env())
        assert skipped == {"skip": True, "units": 0, "running": first}
        planned = run_step("plan", {"input": {}, "execution_id": first}, runtime.env())
        assert planned["skip"] is False and planned["units"] > 0
        assert planned["plan"]["key"].endswith("/first.json")
    finally:
        for arn in (first, second):
            sfn.stop_execution(executionArn=arn)
