"""Least privilege, verified: the sync state machine runs end to end on moto while every AWS request is
recorded and attributed to the function that made it (or to the state machine itself); each request's
IAM actions must be allowed by that principal's policies in the synthesized CloudFormation template. A
permission missing from infra/ fails this test (see tests/support/iam_check.py for why this is a policy
evaluation rather than moto's IAM enforcement)."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest

pytest.importorskip("aws_cdk")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

import aws_cdk as cdk
from aws_cdk import assertions
from infra.props import SplakeProps
from infra.stack import SplakeStack

from splake.runners.aws.handlers import run_step
from splake.runners.aws.statemachine import Timing
from tests.integration.items_helpers import sandbox_settings
from tests.support.aws_fixtures import LambdaHandlers, MotoServer, deploy_on_moto
from tests.support.iam_check import (
    ACCOUNT,
    HARNESS_KEY,
    REGION,
    STATE_MACHINE,
    RequestRecorder,
    TemplatePolicies,
    iam_actions,
    role_of,
)

LISTINGS = "GET_MERCHANT_LISTINGS_ALL_DATA"
ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"


def test_every_request_is_allowed_by_the_synthesized_policies(
    moto_server: MotoServer,
    lambda_handlers: LambdaHandlers,
    sandbox_factory: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    sb = sandbox_factory()
    settings = sandbox_settings(
        sb,
        tmp_path / "lake",
        ("seller-na",),
        # moto's Glue catalog is shared by the session: a namespace of this test's own
        lake={"path": str(tmp_path / "lake"), "namespace": f"spapi_{uuid.uuid4().hex[:10]}"},
        sync={"report_types": [LISTINGS, ORDERS], "lookback_days": 1, "poll_initial_seconds": 1},
    )
    stack_id = f"splakeiam{uuid.uuid4().hex[:8]}"
    # one function at a time, so every request can be attributed to the function running it
    timing = Timing(
        max_concurrency=1, unit_concurrency=1, retry_interval_seconds=1, throttle_interval_seconds=1
    )
    runtime, arn, functions = deploy_on_moto(
        moto_server, settings, sb, machine_name=f"{stack_id}-sync", timing=timing
    )
    props = SplakeProps(
        namespace=settings.lake.namespace, ssm_prefix=runtime.ssm_prefix, secret_prefix=runtime.secret_prefix
    )
    app = cdk.App(outdir=str(tmp_path / "cdk.out"))
    template = dict(assertions.Template.from_stack(SplakeStack(app, stack_id, props=props)).to_json())

    # the template's resources as deployed on moto
    res = template["Resources"]
    names: dict[str, tuple[str, str]] = {}
    fn_ids: dict[str, str] = {}
    for lid, r in res.items():
        t = r["Type"]
        if t == "AWS::S3::Bucket":
            names[lid] = (runtime.bucket, f"arn:aws:s3:::{runtime.bucket}")
        elif t == "AWS::DynamoDB::Table":
            names[lid] = (runtime.table, f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{runtime.table}")
        elif t == "AWS::KMS::Key":
            names[lid] = (str(runtime.kms_key_id).rsplit("/", 1)[-1], str(runtime.kms_key_id))
        elif t == "AWS::Lambda::Function":
            step = r["Properties"]["Description"].split(": ")[-1]
            fn_ids[step] = lid
            if step in functions:
                names[lid] = (functions[step].rsplit(":", 1)[-1], functions[step])
    sync_id = next(
        k
        for k, r in res.items()
        if r["Type"] == "AWS::StepFunctions::StateMachine"
        and r["Properties"]["StateMachineName"] == f"{stack_id}-sync"
    )
    policies = TemplatePolicies(template, names)
    roles = {step: role_of(template, lid) for step, lid in fn_ids.items()}
    roles[STATE_MACHINE] = role_of(template, sync_id)

    recorder = RequestRecorder()
    monkeypatch.setattr(
        DomainDispatcherApplication, "__call__", recorder.wrap(DomainDispatcherApplication.__call__)
    )

    def attribute(name: str | None) -> None:
        recorder.current = name.split("-")[1] if name else None  # splake-<step>-fn-<suffix>

    lambda_handlers.on_invoke = attribute
    harness = boto3.client(
        "stepfunctions",
        endpoint_url=moto_server.url,
        region_name=REGION,
        aws_access_key_id=HARNESS_KEY,
        aws_secret_access_key="harness",
    )
    recorder.recording = True
    execution = harness.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    deadline = time.monotonic() + 150
    while (desc := harness.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "execution still running"
        time.sleep(0.3)
    assert desc["status"] == "SUCCEEDED", (desc.get("error"), lambda_handlers.errors[:3])
    assert json.loads(desc["output"])["rows"] > 0
    # the daily maintenance function: compaction, then snapshot expiry deletes unreferenced files
    # (s3:DeleteObject, which the lake roles once lacked)
    recorder.current = "maintain"
    maintained = run_step("maintain", {"expire_days": 0, "retain_last": 1}, runtime.env())
    recorder.current = None
    recorder.recording = False
    assert maintained["files_deleted"] > 0, maintained

    denied: list[str] = []
    seen: Counter[tuple[str, str]] = Counter()
    for req in recorder.requests:
        for action, resource in iam_actions(req):
            seen[(req.principal, action)] += 1
            if not policies.allows(roles[req.principal], action, resource):
                denied.append(f"{req.principal}: {action} on {resource}")
    print(sorted(seen.items()))
    assert not denied, sorted(set(denied))
    # the check saw the calls that matter (it would pass vacuously otherwise)
    for expected in [
        (STATE_MACHINE, "lambda:InvokeFunction"),  # the fan-out's tasks
        (STATE_MACHINE, "s3:GetObject"),  # ItemReader: the plan
        (STATE_MACHINE, "s3:PutObject"),  # ResultWriter
        ("plan", "s3:PutObject"),
        ("plan", "ssm:GetParameter"),
        ("plan", "states:ListExecutions"),  # the overlapping-run guard
        ("request", "dynamodb:PutItem"),
        ("request", "secretsmanager:GetSecretValue"),
        ("ingest", "s3:PutObject"),
        ("ingest", "glue:UpdateTable"),
        ("summarize", "s3:GetObject"),
        ("maintain", "s3:DeleteObject"),
        ("maintain", "glue:UpdateTable"),
    ]:
        assert seen[expected] > 0, expected
