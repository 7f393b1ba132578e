"""Fixtures: aws. A moto server on loopback (one per test session) and fresh AWS resources on it.

``moto_server`` starts ``moto.server.ThreadedMotoServer`` on 127.0.0.1:<free port> with Step Functions
execution on and the simple (in-process) Lambda backend, sets dummy credentials/region and ``MOTO_PORT`` for
the session (restored afterwards). Resource fixtures (``aws_table``, ``aws_bucket``, ``aws_queue``,
``aws_kms_key``) create uniquely named resources so tests never see each other's data.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from splake.aws.clients import ENV_ENDPOINT, AwsEndpoint

REGION = "us-east-1"
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class MotoServer:
    url: str
    port: int
    endpoint: AwsEndpoint
    # one client per service for the session (creating a boto3 client costs ~0.5 s on a loaded machine)
    _clients: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self.endpoint.client(service)
            return self._clients[service]

    def reset(self) -> None:
        urllib.request.urlopen(
            urllib.request.Request(self.url + "/moto-api/reset", method="POST"), timeout=10
        ).read()


def _configure(url: str) -> None:
    req = urllib.request.Request(
        url + "/moto-api/config",
        data=json.dumps(MOTO_CONFIG).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(req, timeout=10).read()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = free_port()
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "MOTO_PORT": str(port),
        ENV_ENDPOINT: f"http://127.0.0.1:{port}",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        _configure(url)
        yield MotoServer(url=url, port=port, endpoint=AwsEndpoint(region=REGION, endpoint_url=url))
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class _SerialMotoServer:
    """A moto server that handles one request at a time: DynamoDB's per-item atomicity of conditional
    writes, which moto's threaded server does not guarantee under heavy contention."""

    def __init__(self, port: int) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        app = DomainDispatcherApplication(create_backend_app)
        self.server = make_server("127.0.0.1", port, app, threaded=False, request_handler=MotoRequestHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join()


@pytest.fixture(scope="session")
def moto_serial_server(moto_server: MotoServer) -> Iterator[MotoServer]:
    """A second moto server (same process, so same credentials env) that serialises requests."""
    port = free_port()
    server = _SerialMotoServer(port)
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        yield MotoServer(url=url, port=port, endpoint=AwsEndpoint(region=REGION, endpoint_url=url))
    finally:
        server.stop()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def own_lake(lake_dir: Any) -> dict[str, str]:
    """The ``[lake]`` section of a test deploying on moto: its own Glue namespace (database). moto's Glue
    catalog lives as long as the session's server, so a shared ``spapi`` would mix the tables of tests
    run in parallel or one after the other (each deployment also gets its own bucket and state table)."""
    return {"path": str(lake_dir), "namespace": f"spapi_{uuid.uuid4().hex[:10]}"}


def create_state_table(moto: MotoServer, name: str) -> str:
    """A table shaped like the stack's state table (string pk/sk, on-demand)."""
    moto.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


@pytest.fixture
def aws_kms_key(moto_server: MotoServer) -> str:
    return str(moto_server.client("kms").create_key(Description="splake test key")["KeyMetadata"]["Arn"])


@pytest.fixture
def aws_table(moto_server: MotoServer) -> str:
    return create_state_table(moto_server, unique("splake-state"))


@pytest.fixture
def aws_bucket(moto_server: MotoServer) -> str:
    name = unique("splake-lake")
    moto_server.client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture
def aws_queue(moto_server: MotoServer) -> str:
    """URL of a fresh standard queue."""
    return str(moto_server.client("sqs").create_queue(QueueName=unique("splake-q"))["QueueUrl"])


@pytest.fixture
def aws_state_store(moto_server: MotoServer, aws_table: str) -> Any:
    from splake.runners.aws.backends import DynamoStateStore

    return DynamoStateStore(aws_table, moto_server.endpoint)


@pytest.fixture
def aws_object_store(moto_server: MotoServer, aws_bucket: str, aws_kms_key: str) -> Any:
    from splake.runners.aws.backends import S3ObjectStore

    return S3ObjectStore(aws_bucket, moto_server.endpoint, kms_key_id=aws_kms_key)


@pytest.fixture
def aws_secret_store(moto_server: MotoServer, aws_kms_key: str) -> Any:
    from splake.runners.aws.backends import SecretsManagerSecretStore

    return SecretsManagerSecretStore(
        moto_server.endpoint, prefix=unique("splake") + "/", kms_key_id=aws_kms_key
    )


@pytest.fixture
def aws_queue_backend(moto_server: MotoServer, aws_queue: str) -> Any:
    from splake.runners.aws.backends import SqsQueue

    return SqsQueue(aws_queue, moto_server.endpoint)


# --- Lambda on moto: dispatch invocations to the real splake handlers ----------------------------------


class LambdaHandlers:
    """Patches moto's simple Lambda backend (``use_docker=False``) so ``Invoke`` runs our real handler for
    the function (by its ``Handler`` setting and ``Environment``), like the Lambda Python runtime would:
    an exception becomes ``FunctionError: Unhandled`` with ``{"errorType": type(e).__name__, ...}``.
    This patches moto's fake Lambda runtime only; none of splake's code is replaced."""

    def __init__(self) -> None:
        self.invocations: list[tuple[str, str]] = []  # (function name, errorType or "ok")
        self.errors: list[str] = []  # "function: errorType: message"
        self.durations: list[tuple[str, float]] = []  # (function name, seconds)
        # the usage plan the handlers' shared rate limiter starts from (None: Amazon's, from the models)
        self.rate_plan: Any = None
        # told the function name when an invocation starts, and None when it ends (request attribution)
        self.on_invoke: Any = None
        self._lock = threading.Lock()

    def invoke(self, backend: Any, function_name: str, body: Any, response_headers: dict[str, str]) -> bytes:
        import importlib

        name = function_name.split(":function:")[-1].split(":")[0]
        fn = backend.get_function(name)
        handler_path = fn.handler
        env = dict(fn.environment_vars or {})
        event = json.loads(body) if body else {}
        module_name, func_name = handler_path.rsplit(".", 1)
        module = importlib.import_module(module_name)
        started = time.monotonic()
        if self.on_invoke is not None:
            self.on_invoke(name)
        try:
            if module_name == "splake.runners.aws.handlers" and func_name in module.ALL_STEPS:
                result = module.run_step(func_name, event, env, rate_plan=self.rate_plan)
            elif func_name == "notifications":
                result = module.handle_notifications(event, env)
            else:
                result = getattr(module, func_name)(event, None)
        except Exception as exc:
            with self._lock:
                self.invocations.append((name, type(exc).__name__))
                self.errors.append(f"{name}: {type(exc).__name__}: {str(exc)[:500]}")
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)[:2000]}).encode()
        finally:
            if self.on_invoke is not None:
                self.on_invoke(None)
        with self._lock:
            self.invocations.append((name, "ok"))
            self.durations.append((name, time.monotonic() - started))
        return json.dumps(result, default=str).encode()


# --- Distributed Map on moto ------------------------------------------------------------------------------
#
# moto 5.2's ASL interpreter runs a Distributed Map (``ItemReader`` from S3 with ``InputType: JSON``, child
# runs with ``MaxConcurrency``), but (1) its grammar has no ``ItemBatcher`` (create_state_machine rejects it)
# and (2) its ``ResultWriter`` writes a manifest listing no result files ("TODO: generate result files").
# The two stand-ins below change only those two things, so the rest of the definition (ItemReader, the
# child's inline Map and unit states, ResultWriter's bucket/prefix, Summarize reading the manifest) runs as
# generated:
#
# - :func:`for_moto` replaces ``ItemBatcher`` with the ``ItemSelector`` that gives each child the input shape
#   AWS's batcher gives it, ``{"Items": [unit], "BatchInput": {...}}`` (a batch of one unit per child).
# - :func:`moto_result_writer` makes moto's ResultWriter write what AWS writes: ``manifest.json`` listing
#   ``SUCCEEDED_0.json`` (child records with their ``Output`` as a JSON string) and ``FAILED_0.json``.


def for_moto(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition with each ``ItemBatcher`` replaced by the equivalent one-item ``ItemSelector``."""
    import copy

    out = copy.deepcopy(definition)

    def walk(states: dict[str, Any]) -> None:
        for st in states.values():
            if st.get("Type") != "Map":
                continue
            batcher = st.pop("ItemBatcher", None)
            if batcher is not None:
                assert "ItemSelector" not in st, "AWS applies ItemSelector before batching: not modelled"
                st["ItemSelector"] = {
                    "Items.$": "States.Array($$.Map.Item.Value)",
                    "BatchInput": batcher.get("BatchInput", {}),
                }
            walk(st["ItemProcessor"]["States"])

    walk(out["States"])
    return out


def _write_results(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
    from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for

    parameters = env.stack.pop()
    outputs = env.stack.pop()
    s3 = boto_client_for(
        service="s3", region=resource_runtime_part.region, state_credentials=state_credentials
    )
    record = env.map_run_record_pool_manager.get_all().pop()
    run_id = record.map_run_arn.split(":")[-1]
    prefix = parameters.get("Prefix", "")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    succeeded, failed = [], []
    for i, out in enumerate(outputs if isinstance(outputs, list) else []):
        child = {
            "ExecutionArn": f"{record.map_run_arn}:{i}",
            "Name": str(i),
            "StartDate": now,
            "StopDate": now,
            "StateMachineArn": record.map_run_arn,
            "RedriveCount": 0,
            "RedriveStatus": "NOT_REDRIVABLE",
            "InputDetails": {"Included": True},
            "Input": "{}",
        }
        if out is None:  # moto keeps no output for a failed child
            failed.append({**child, "Status": "FAILED", "Error": "States.Runtime", "Cause": "child failed"})
        else:
            succeeded.append(
                {
                    **child,
                    "Status": "SUCCEEDED",
                    "OutputDetails": {"Included": True},
                    "Output": json.dumps(out),
                }
            )
    files: dict[str, list[dict[str, Any]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    for kind, rows in (("SUCCEEDED", succeeded), ("FAILED", failed)):
        if rows:
            body = json.dumps(rows).encode()
            key = f"{prefix}{run_id}/{kind}_0.json"
            s3.put_object(Bucket=parameters["Bucket"], Key=key, Body=body)
            files[kind].append({"Key": key, "Size": len(body)})
    manifest_key = f"{prefix}{run_id}/manifest.json"
    manifest = {
        "DestinationBucket": parameters["Bucket"],
        "MapRunArn": record.map_run_arn,
        "ResultFiles": files,
    }
    s3.put_object(Bucket=parameters["Bucket"], Key=manifest_key, Body=json.dumps(manifest).encode())
    env.stack.append(
        {
            "MapRunArn": record.map_run_arn,
            "ResultWriterDetails": {"Bucket": parameters["Bucket"], "Key": manifest_key},
        }
    )


@pytest.fixture
def moto_result_writer(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval import (
        resource_eval_s3,
    )

    monkeypatch.setattr(resource_eval_s3.ResourceEvalS3, "_handle_put_object", staticmethod(_write_results))


@pytest.fixture
def moto_partner_buses(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """moto 5.2 takes an event bus's name as the last ``/`` segment of its name or ARN, so partner event
    buses (``aws.partner/…/…``) cannot get rules; resolve names like AWS (the whole name, or what follows
    ``:event-bus/`` in an ARN)."""
    from moto.events.models import EventsBackend

    def normalize(self: Any, name_or_arn: str | None) -> str:
        if name_or_arn is None:
            return "default"
        return name_or_arn.split(":event-bus/", 1)[1] if name_or_arn.startswith("arn:") else name_or_arn

    monkeypatch.setattr(EventsBackend, "_normalize_event_bus_arn", normalize)


@pytest.fixture
def lambda_handlers(
    moto_server: MotoServer, moto_result_writer: None, monkeypatch: pytest.MonkeyPatch
) -> LambdaHandlers:
    from moto.awslambda_simple.models import LambdaSimpleBackend

    dispatcher = LambdaHandlers()

    def invoke(
        self: Any, function_name: str, qualifier: Any, body: Any, headers: Any, response_headers: Any
    ) -> bytes:
        return dispatcher.invoke(self, function_name, body, response_headers)

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
    return dispatcher


def create_function(moto: MotoServer, name: str, handler: str, env: dict[str, str]) -> str:
    """A Lambda function on moto (code is a placeholder; the ``lambda_handlers`` patch runs ``handler``)."""
    iam = moto.client("iam")
    role_name = "splake-test-lambda-role"
    try:
        role_arn = iam.get_role(RoleName=role_name)["Role"]["Arn"]
    except Exception:
        role_arn = iam.create_role(
            RoleName=role_name,
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )["Role"]["Arn"]
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("placeholder.py", "# splake handlers are dispatched by the test harness\n")
    fn = moto.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role_arn,
        Handler=handler,
        Code={"ZipFile": buf.getvalue()},
        Environment={"Variables": env},
        Timeout=900,
    )
    return str(fn["FunctionArn"])


# --- AWS params of the shared port suites (tests/integration/test_ports_*.py) -------------------------


def _dynamodb_state(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    from splake.runners.aws.backends import DynamoStateStore

    server: MotoServer = request.getfixturevalue("moto_server")
    return DynamoStateStore(create_state_table(server, unique("splake-state")), server.endpoint)


def _dynamodb_state_reopen(request: pytest.FixtureRequest, tmp_path: Any, store: Any) -> Any:
    from splake.runners.aws.backends import DynamoStateStore

    server: MotoServer = request.getfixturevalue("moto_server")
    return DynamoStateStore(store.table, server.endpoint)  # another client on the same table


def _s3_objects(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    from splake.runners.aws.backends import S3ObjectStore

    server: MotoServer = request.getfixturevalue("moto_server")
    bucket = unique("splake-lake")
    server.client("s3").create_bucket(Bucket=bucket)
    key = server.client("kms").create_key(Description="splake test")["KeyMetadata"]["Arn"]
    return S3ObjectStore(bucket, server.endpoint, kms_key_id=key)


def _s3_objects_reopen(request: pytest.FixtureRequest, tmp_path: Any, store: Any) -> Any:
    from splake.runners.aws.backends import S3ObjectStore

    server: MotoServer = request.getfixturevalue("moto_server")
    return S3ObjectStore(store.bucket, server.endpoint, prefix=store.prefix, kms_key_id=store.kms_key_id)


def _register_port_backends() -> None:
    from tests.support import lake_fixtures

    lake_fixtures.STATE_BACKENDS["dynamodb"] = _dynamodb_state
    lake_fixtures.STATE_BACKEND_REOPEN["dynamodb"] = _dynamodb_state_reopen
    lake_fixtures.OBJECT_BACKENDS["s3"] = _s3_objects
    lake_fixtures.OBJECT_BACKEND_REOPEN["s3"] = _s3_objects_reopen


def secrets_manager_store(tmp_path: Any, request: pytest.FixtureRequest) -> Any:
    """Factory for tests/integration/test_ports_secrets.py (SECRET_STORE_BACKENDS["aws"])."""
    return request.getfixturevalue("aws_secret_store")


def pytest_configure(config: pytest.Config) -> None:
    """Add the AWS params once every fixture module is loaded (lake_fixtures defines the registries)."""
    _register_port_backends()


# --- the stack on moto (what `cdk deploy` + `splake deploy config|secrets` set up) ---------------------


def deploy_on_moto(
    moto: MotoServer,
    settings: Any,
    sb: Any,
    *,
    notify_timeout_seconds: int = 2,
    queue_url: str | None = None,
    machine_name: str | None = None,
    timing: Any = None,
) -> tuple[Any, str, dict[str, str]]:
    """What `cdk deploy` + `splake deploy config|secrets` set up, on moto: resources, settings, secrets,
    functions (dispatched by ``lambda_handlers``) and the sync state machine."""
    from splake.config import LakeSettings
    from splake.runners.aws.backends import SsmSettingsStore
    from splake.runners.aws.runtime import Runtime
    from splake.runners.aws.statemachine import SYNC_STEPS, Timing, sync_definition

    if settings.lake.namespace == LakeSettings().namespace:
        raise AssertionError(
            "a deployment on moto needs a Glue namespace of its own (moto's catalog is shared by the "
            "session): build the settings with lake=own_lake(tmp_path / 'lake')"
        )
    kms = moto.client("kms").create_key(Description="splake")["KeyMetadata"]["Arn"]
    bucket = unique("splake-lake")
    moto.client("s3").create_bucket(Bucket=bucket)
    runtime = Runtime(
        table=create_state_table(moto, unique("splake-state")),
        bucket=bucket,
        endpoint=moto.endpoint,
        kms_key_id=kms,
        ssm_prefix="/" + unique("splake"),
        secret_prefix=unique("splake") + "/",
        notify_timeout_seconds=notify_timeout_seconds,
        queue_url=queue_url,
    )
    SsmSettingsStore(moto.endpoint, prefix=runtime.ssm_prefix, bucket=bucket, kms_key_id=kms).publish(
        settings
    )
    secrets = runtime.secrets()
    secrets.put(settings.lwa.client_secret_ref, sb.world.client_secret)
    for acc in settings.accounts:
        secrets.put(acc.secret_ref, sb.world.account(acc.id).refresh_token)
    suffix = unique("fn")
    functions = {
        step: create_function(
            moto, f"splake-{step}-{suffix}", f"splake.runners.aws.handlers.{step}", runtime.env()
        )
        for step in SYNC_STEPS
    }
    definition = for_moto(
        sync_definition(
            functions,
            timing or Timing(max_concurrency=8, retry_interval_seconds=1, throttle_interval_seconds=1),
            results_bucket=bucket,
        )
    )
    sm = moto.client("stepfunctions").create_state_machine(
        name=machine_name or unique("splake-sync"),
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/splake-sfn",
    )
    functions["notifications"] = create_function(
        moto, f"splake-notifications-{suffix}", "splake.runners.aws.handlers.notifications", runtime.env()
    )
    return runtime, str(sm["stateMachineArn"]), functions


def run_execution(
    moto: MotoServer, arn: str, timeout: float = 90.0, input: dict[str, Any] | None = None
) -> dict[str, Any]:
    sfn = moto.client("stepfunctions")
    # a name of its own: moto names an unnamed execution "None", so a machine's second run would clash
    execution = sfn.start_execution(stateMachineArn=arn, name=unique("run"), input=json.dumps(input or {}))[
        "executionArn"
    ]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        desc = sfn.describe_execution(executionArn=execution)
        if desc["status"] != "RUNNING":
            return dict(desc)
        time.sleep(0.25)
    raise AssertionError(f"execution still RUNNING after {timeout}s")
