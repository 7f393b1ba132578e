"""Assertions on the synthesized CloudFormation template (aws_cdk.assertions.Template): least-privilege IAM
and encryption at rest everywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("aws_cdk")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

import aws_cdk as cdk
from aws_cdk import assertions
from infra.stack import STEP_ACCESS, SplakeStack, _sub

from splake.runners.aws.statemachine import ITEMS_STEPS, SYNC_STEPS, Timing, items_definition, sync_definition


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("cdk.out")))
    stack = SplakeStack(app, "splake")
    return dict(assertions.Template.from_stack(stack).to_json())


def resources(t: dict[str, Any], typ: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in t["Resources"].items() if v["Type"] == typ}


def statements(t: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, res in t["Resources"].items():
        props = res.get("Properties", {})
        if res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for st in props["PolicyDocument"]["Statement"]:
                yield name, st
        if res["Type"] == "AWS::IAM::Role":
            for pol in props.get("Policies", []):
                for st in pol["PolicyDocument"]["Statement"]:
                    yield name, st


def as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def refs(node: Any) -> set[str]:
    """Logical ids referenced (Ref / Fn::GetAtt) anywhere in ``node``."""
    out: set[str] = set()
    if isinstance(node, dict):
        if "Ref" in node:
            out.add(node["Ref"])
        if "Fn::GetAtt" in node:
            out.add(node["Fn::GetAtt"][0])
        for v in node.values():
            out |= refs(v)
    elif isinstance(node, list):
        for v in node:
            out |= refs(v)
    return out


def test_no_wildcard_actions(template: dict[str, Any]) -> None:
    seen = 0
    for name, st in statements(template):
        for action in as_list(st.get("Action", [])):
            seen += 1
            assert "*" not in action, f"{name}: wildcard action {action}"
    assert seen > 20


# Actions that have no resource-level permissions (AWS requires "*"): X-Ray tracing and the CloudWatch Logs
# log delivery of the state machines (added by CDK for tracing_enabled / logs).
UNSCOPED_ONLY = {
    # the task-token callbacks (the Service Authorization Reference lists no resource type for them)
    "states:SendTaskSuccess",
    "states:SendTaskFailure",
    "states:SendTaskHeartbeat",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}


def test_resources_are_scoped_to_the_stack(template: dict[str, Any]) -> None:
    own = set(template["Resources"])
    allowed_names = (
        ":parameter/splake",
        ":secret:splake/",
        ":stateMachine:splake-sync",
        ":stateMachine:splake-items",
        ":execution:splake-sync/",
        ":execution:splake-items/",
        ":glue:",
    )
    for name, st in statements(template):
        assert st["Effect"] == "Allow"
        for res in as_list(st.get("Resource", [])):
            if res == "*":
                assert set(as_list(st["Action"])) <= UNSCOPED_ONLY, f"{name}: unscoped {st['Action']}"
                continue
            ids = refs(res) - {"AWS::Partition", "AWS::Region", "AWS::AccountId"}
            text = json.dumps(res)
            assert (ids and ids <= own) or any(a in text for a in allowed_names), f"{name}: {text}"
    # glue is limited to the catalog, the stack's database and its tables
    for name, st in statements(template):
        if any(str(a).startswith("glue:") for a in as_list(st["Action"])):
            texts = [json.dumps(r) for r in as_list(st["Resource"])]
            assert all(":catalog" in t or ":database/spapi" in t or ":table/spapi/*" in t for t in texts), (
                name
            )


def test_each_function_has_its_own_minimal_role(template: dict[str, Any]) -> None:
    functions = resources(template, "AWS::Lambda::Function")
    assert len(functions) == len(STEP_ACCESS)
    roles = {fn["Properties"]["Role"]["Fn::GetAtt"][0] for fn in functions.values()}
    assert len(roles) == len(functions)  # no shared role
    for role_id in roles:
        role = template["Resources"][role_id]["Properties"]
        assert "ManagedPolicyArns" not in role  # no AWSLambdaBasicExecutionRole (logs:* on *)
    by_role: dict[str, set[str]] = {}
    for pol in resources(template, "AWS::IAM::Policy").values():
        for role_ref in pol["Properties"]["Roles"]:
            for st in pol["Properties"]["PolicyDocument"]["Statement"]:
                by_role.setdefault(role_ref["Ref"], set()).update(as_list(st["Action"]))
    actions = {
        fn["Properties"]["Description"].split(": ")[1]: by_role.get(
            fn["Properties"]["Role"]["Fn::GetAtt"][0], set()
        )
        for fn in functions.values()
    }
    assert "secretsmanager:GetSecretValue" not in actions["plan"]
    assert "dynamodb:PutItem" not in actions["plan"]
    assert "s3:PutObject" not in actions["check"] and "s3:PutObject" in actions["ingest"]
    assert "states:SendTaskSuccess" in actions["await_report"]
    assert "states:SendTaskSuccess" not in actions["ingest"]
    assert "s3:DeleteObject" in actions["ingest"]  # row drops / metadata cleanup in the lake
    assert actions["summarize"] <= {
        "s3:GetObject",  # the Distributed Map's result files only (sfn/results/*)
        "ssm:GetParameter",
        "ssm:GetParametersByPath",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:DescribeKey",
    }


def test_task_token_callbacks_are_granted_the_way_iam_evaluates_them(template: dict[str, Any]) -> None:
    """SendTaskSuccess/Failure/Heartbeat have no resource-level permissions (Service Authorization
    Reference, AWS Step Functions: empty "Resource types" column): IAM authorizes them against "*", so a
    statement scoped to the state machine grants nothing in real AWS (moto enforces no IAM). Evaluated
    with the same policy evaluator as the least-privilege e2e (tests/support/iam_check.py)."""
    from tests.support.iam_check import NO_RESOURCE_LEVEL, TemplatePolicies, role_of

    policies = TemplatePolicies(template, {})
    fns = {
        fn["Properties"]["Description"].split(": ")[1]: lid
        for lid, fn in resources(template, "AWS::Lambda::Function").items()
    }
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:splake-sync"
    for step, lid in fns.items():
        role = role_of(template, lid)
        for action in ("states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"):
            assert action in NO_RESOURCE_LEVEL
            expected = step in ("await_report", "notifications")
            assert policies.allows(role, action, machine) is expected, (step, action)
    # the rule itself: the old statement (scoped to the machine) is denied, a "*" statement allowed
    scoped = {"Effect": "Allow", "Action": ["states:SendTaskSuccess"], "Resource": machine}
    star = {**scoped, "Resource": "*"}
    for statement, allowed in ((scoped, False), (star, True)):
        doc = {
            "Resources": {
                "P": {
                    "Type": "AWS::IAM::Policy",
                    "Properties": {"Roles": [{"Ref": "R"}], "PolicyDocument": {"Statement": [statement]}},
                }
            }
        }
        assert TemplatePolicies(doc, {}).allows("R", "states:SendTaskSuccess", machine) is allowed
        assert TemplatePolicies(doc, {}).allows("R", "states:StartExecution", machine) is False


def test_plan_roles_can_list_only_their_own_machines_executions(template: dict[str, Any]) -> None:
    """The overlapping-run guard: plan / items_plan list their machine's running executions, nothing else."""
    from tests.support.iam_check import TemplatePolicies, role_of

    policies = TemplatePolicies(template, {})
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:"
    fns = {
        fn["Properties"]["Description"].split(": ")[1]: lid
        for lid, fn in resources(template, "AWS::Lambda::Function").items()
    }
    for step, lid in fns.items():
        role = role_of(template, lid)
        for name in ("splake-sync", "splake-items"):
            expected = (step, name) in (("plan", "splake-sync"), ("items_plan", "splake-items"))
            assert policies.allows(role, "states:ListExecutions", machine + name) is expected, (step, name)


def test_secret_writes_are_limited_to_the_token_cache(template: dict[str, Any]) -> None:
    writes = 0
    for name, st in statements(template):
        if any(
            a in ("secretsmanager:PutSecretValue", "secretsmanager:CreateSecret")
            for a in as_list(st["Action"])
        ):
            writes += 1
            assert all(":secret:splake/cache/*" in json.dumps(r) for r in as_list(st["Resource"])), name
    assert writes > 0


def test_encryption_at_rest_uses_the_stack_key(template: dict[str, Any]) -> None:
    (key_id,) = resources(template, "AWS::KMS::Key")
    assert template["Resources"][key_id]["Properties"]["EnableKeyRotation"] is True
    (bucket,) = resources(template, "AWS::S3::Bucket").values()
    rule = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert key_id in refs(rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"])
    assert bucket["Properties"]["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True
    (table,) = resources(template, "AWS::DynamoDB::Table").values()
    sse = table["Properties"]["SSESpecification"]
    assert sse["SSEEnabled"] is True and sse["SSEType"] == "KMS" and key_id in refs(sse["KMSMasterKeyId"])
    queues = resources(template, "AWS::SQS::Queue")
    assert len(queues) == 2
    for q in queues.values():
        assert key_id in refs(q["Properties"]["KmsMasterKeyId"])
    secrets = resources(template, "AWS::SecretsManager::Secret")
    assert secrets
    for s in secrets.values():
        assert key_id in refs(s["Properties"]["KmsKeyId"])
    (wg,) = resources(template, "AWS::Athena::WorkGroup").values()
    enc = wg["Properties"]["WorkGroupConfiguration"]["ResultConfiguration"]["EncryptionConfiguration"]
    assert enc["EncryptionOption"] == "SSE_KMS"


def test_state_machines_are_the_shared_definitions(template: dict[str, Any]) -> None:
    machines = {
        m["Properties"]["StateMachineName"]: m
        for m in resources(template, "AWS::StepFunctions::StateMachine").values()
    }
    assert set(machines) == {"splake-sync", "splake-items"}
    sync = machines["splake-sync"]["Properties"]
    assert len(sync["DefinitionSubstitutions"]) == len(SYNC_STEPS) + 1  # + the results bucket
    definition = json.loads(sync["DefinitionString"])
    assert definition == sync_definition(
        {s: "${" + _sub(s) + "}" for s in SYNC_STEPS}, Timing(), results_bucket="${LakeBucket}"
    )
    assert "LakeBucket" in sync["DefinitionSubstitutions"]
    waits = definition["States"]["FanOut"]["ItemProcessor"]["States"]["Units"]["ItemProcessor"]["States"]
    assert waits["PollWait"]["SecondsPath"] == "$.wait_seconds"
    assert waits["AwaitNotification"]["Resource"].endswith("waitForTaskToken")
    items = machines["splake-items"]["Properties"]
    assert len(items["DefinitionSubstitutions"]) == len(ITEMS_STEPS) + 1
    assert json.loads(items["DefinitionString"]) == items_definition(
        {s: "${" + _sub(s) + "}" for s in ITEMS_STEPS}, Timing(), results_bucket="${LakeBucket}"
    )
    # what is deployed carries the jittered, capped retries (tests/unit/test_aws_fanout.py checks them all)
    for d in (definition, json.loads(items["DefinitionString"])):
        assert '"JitterStrategy": "FULL"' in json.dumps(d) and '"MaxDelaySeconds": 300' in json.dumps(d)
    schedules = sorted(
        r["Properties"]["ScheduleExpression"] for r in resources(template, "AWS::Events::Rule").values()
    )
    assert schedules == ["rate(1 day)", "rate(1 day)", "rate(1 hour)"]  # items, maintenance, sync
    (table,) = resources(template, "AWS::DynamoDB::Table").values()
    assert table["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}


def test_state_machines_log_to_cloudwatch_and_trace_with_xray(template: dict[str, Any]) -> None:
    machines = resources(template, "AWS::StepFunctions::StateMachine")
    log_groups = set(resources(template, "AWS::Logs::LogGroup"))
    assert len(machines) == 2
    for name, m in machines.items():
        props = m["Properties"]
        assert props["TracingConfiguration"] == {"Enabled": True}, name
        logging = props["LoggingConfiguration"]
        assert logging["Level"] in ("ERROR", "ALL") and logging["IncludeExecutionData"] is False, name
        (dest,) = logging["Destinations"]
        assert refs(dest) <= log_groups and refs(dest), name


def test_alarms_cover_failures_throttling_and_the_dlq(template: dict[str, Any]) -> None:
    alarms = resources(template, "AWS::CloudWatch::Alarm").values()
    metrics = {(a["Properties"].get("Namespace"), a["Properties"].get("MetricName")) for a in alarms}
    assert ("AWS/States", "ExecutionsFailed") in metrics
    assert ("AWS/States", "ExecutionThrottled") in metrics
    assert ("AWS/Lambda", "Errors") in metrics and ("AWS/Lambda", "Throttles") in metrics
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible") in metrics
    assert ("splake", "SpApiThrottled") in metrics
    filters = resources(template, "AWS::Logs::MetricFilter")
    assert len(filters) == len(STEP_ACCESS)


def test_notifications_queue_accepts_spapi_and_redrives(template: dict[str, Any]) -> None:
    queues = resources(template, "AWS::SQS::Queue")
    main = [q for q in queues.values() if "RedrivePolicy" in q["Properties"]]
    assert len(main) == 1 and main[0]["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 5
    policies = json.dumps(list(resources(template, "AWS::SQS::QueuePolicy").values()))
    assert "437568002678" in policies and "sqs:SendMessage" in policies
    mapping = list(resources(template, "AWS::Lambda::EventSourceMapping").values())
    assert mapping and mapping[0]["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


SOURCE = "aws.partner/sellingpartnerapi.amazon.com/123456789012/amzn1.sp.solution.test"


@pytest.fixture(scope="module")
def template_all(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every optional part on: alarm e-mail, the SP-API event source, CloudTrail, Lake Formation, arm64."""
    from infra.props import SplakeProps

    app = cdk.App(outdir=str(tmp_path_factory.mktemp("cdk.out")))
    props = SplakeProps(
        alarm_email="ops@example.com",
        spapi_event_source=SOURCE,
        cloudtrail=True,
        lake_formation=True,
        architecture="arm64",
        max_concurrency=37,
        unit_concurrency=7,
    )
    stack = SplakeStack(app, "splake", props=props)
    return dict(assertions.Template.from_stack(stack).to_json())


def test_every_alarm_notifies_the_topic(template: dict[str, Any], template_all: dict[str, Any]) -> None:
    for t in (template, template_all):
        (topic_id,) = resources(t, "AWS::SNS::Topic")
        alarms = resources(t, "AWS::CloudWatch::Alarm")
        assert len(alarms) > 20
        for name, a in alarms.items():
            assert topic_id in refs(a["Properties"].get("AlarmActions", [])), name
        assert refs(t["Resources"][topic_id]["Properties"]["KmsMasterKeyId"]) <= set(
            resources(t, "AWS::KMS::Key")
        )
    subs = list(resources(template_all, "AWS::SNS::Subscription").values())
    assert [(s["Properties"]["Protocol"], s["Properties"]["Endpoint"]) for s in subs] == [
        ("email", "ops@example.com")
    ]
    assert not resources(template, "AWS::SNS::Subscription")


def test_partner_event_source_rule_reaches_the_queue(template_all: dict[str, Any]) -> None:
    from splake.runners.aws.eventbridge import listings_event_pattern

    (bus,) = resources(template_all, "AWS::Events::EventBus").values()
    assert bus["Properties"] == {"EventSourceName": SOURCE, "Name": SOURCE}
    (rule_id, rule) = next(
        (k, r)
        for k, r in resources(template_all, "AWS::Events::Rule").items()
        if "EventPattern" in r["Properties"]
    )
    assert rule["Properties"]["EventPattern"] == listings_event_pattern(SOURCE)
    queues = resources(template_all, "AWS::SQS::Queue")
    main = next(k for k, q in queues.items() if "RedrivePolicy" in q["Properties"])
    assert main in refs(rule["Properties"]["Targets"])
    # the queue policy admits EventBridge for this rule only, and the key lets EventBridge encrypt
    policy = json.dumps(list(resources(template_all, "AWS::SQS::QueuePolicy").values()))
    assert "events.amazonaws.com" in policy and rule_id in policy and "aws:SourceArn" in policy
    (key,) = resources(template_all, "AWS::KMS::Key").values()
    key_policy = json.dumps(key["Properties"]["KeyPolicy"])
    assert "events.amazonaws.com" in key_policy and "cloudwatch.amazonaws.com" in key_policy


def test_consumer_timeout_visibility_and_concurrency(template: dict[str, Any]) -> None:
    functions = resources(template, "AWS::Lambda::Function")
    consumer = next(
        f for f in functions.values() if f["Properties"]["Description"].endswith(": notifications")
    )
    timeout = consumer["Properties"]["Timeout"]
    queues = resources(template, "AWS::SQS::Queue")
    main = next(q for q in queues.values() if "RedrivePolicy" in q["Properties"])
    assert main["Properties"]["VisibilityTimeout"] >= 6 * timeout
    (mapping,) = resources(template, "AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["ScalingConfig"]["MaximumConcurrency"] >= 2
    assert {f["Properties"]["Architectures"][0] for f in functions.values()} == {"x86_64"}


def test_fan_out_concurrency_is_a_setting(template: dict[str, Any], template_all: dict[str, Any]) -> None:
    for t, children, units in ((template, 10, 10), (template_all, 37, 7)):
        for m in resources(t, "AWS::StepFunctions::StateMachine").values():
            fan = json.loads(m["Properties"]["DefinitionString"])["States"]["FanOut"]
            assert fan["MaxConcurrency"] == children
            assert fan["ItemProcessor"]["States"]["Units"]["MaxConcurrency"] == units


def test_optional_governance_parts(template_all: dict[str, Any]) -> None:
    (trail,) = resources(template_all, "AWS::CloudTrail::Trail").values()
    selectors = json.dumps(trail["Properties"]["EventSelectors"])
    assert "AWS::S3::Object" in selectors
    assert resources(template_all, "AWS::LakeFormation::Resource")
    grants = resources(template_all, "AWS::LakeFormation::PrincipalPermissions")
    assert len(grants) == 3 * 5  # database, tables, data location x the five lake-writing roles
    functions = resources(template_all, "AWS::Lambda::Function")
    assert {f["Properties"]["Architectures"][0] for f in functions.values()} == {"arm64"}


@pytest.mark.slow  # ~20 s of cfn-lint; the default template is linted by test_infra_synth.py
def test_cfn_lint_passes_with_every_option(template_all: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "splake-all.template.json"
    path.write_text(json.dumps(template_all))
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    infra = Path(__file__).resolve().parents[2] / "infra"
    proc = subprocess.run(
        [str(cfn_lint), "--config-file", str(infra / ".cfnlintrc.yaml"), str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_functions_use_the_clis_arrow_allocator_settings(template: dict[str, Any]) -> None:
    """Lambdas land GB documents too: Arrow uses jemalloc, and mimalloc (where jemalloc is missing) purges
    freed pages at once, as the CLI sets them."""
    functions = resources(template, "AWS::Lambda::Function")
    assert functions
    for name, fn in functions.items():
        env = fn["Properties"].get("Environment", {}).get("Variables", {})
        assert env.get("MIMALLOC_PURGE_DELAY") == "0", name
        assert env.get("ARROW_DEFAULT_MEMORY_POOL") == "jemalloc", name
