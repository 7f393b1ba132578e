"""Least privilege, checked by evaluating every AWS request the functions (and the state machine) make
against the IAM policies of the synthesized CloudFormation template.

moto's IAM enforcement cannot tell splake's functions apart (they run in one test process with one set of
credentials), so the check is done here instead:

- :class:`RequestRecorder` wraps moto's WSGI app and records every request while a function runs
  (attributed to that function; the harness runs one function at a time) or, between functions, to the
  state machine (its ItemReader/ResultWriter S3 calls and its Lambda invokes). Requests signed with the
  harness's own access key are not recorded.
- :func:`iam_actions` maps a request to the IAM actions and resource ARNs AWS would authorize.
- :class:`TemplatePolicies` resolves each role's policy statements from the template (Ref / Fn::GetAtt /
  Fn::Join against the resources deployed on moto) and :meth:`TemplatePolicies.allows` evaluates them.
"""

from __future__ import annotations

import fnmatch
import io
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

REGION = "us-east-1"
ACCOUNT = "123456789012"
HARNESS_KEY = "AKIAHARNESS000000000"
STATE_MACHINE = "state-machine"


@dataclass(frozen=True)
class Request:
    principal: str
    method: str
    path: str
    query: str
    target: str
    service: str
    body: bytes
    host: str = ""


@dataclass
class RequestRecorder:
    current: str | None = None  # the function running now (set by the Lambda dispatcher)
    recording: bool = False
    requests: list[Request] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wrap(self, call: Any) -> Any:
        recorder = self

        def wrapped(app: Any, environ: dict[str, Any], start_response: Any) -> Any:
            if recorder.recording:
                # bodies only where the action's resource is in them (JSON APIs, S3 multi-object delete);
                # S3 data is left untouched (streamed/chunked uploads)
                size = int(environ.get("CONTENT_LENGTH") or 0)
                wanted = environ.get("HTTP_X_AMZ_TARGET") or "delete" in environ.get("QUERY_STRING", "")
                body = environ["wsgi.input"].read(size) if size and wanted else b""
                if body:
                    environ["wsgi.input"] = io.BytesIO(body)
                auth = environ.get("HTTP_AUTHORIZATION", "")
                m = re.search(r"Credential=([^/]+)/[^/]+/[^/]+/([^/]+)/", auth)
                key, service = (m.group(1), m.group(2)) if m else ("", "")
                path = environ.get("PATH_INFO", "")
                if key != HARNESS_KEY and not path.startswith("/moto-api"):
                    with recorder._lock:
                        recorder.requests.append(
                            Request(
                                principal=recorder.current or STATE_MACHINE,
                                method=environ.get("REQUEST_METHOD", ""),
                                path=path,
                                query=environ.get("QUERY_STRING", ""),
                                target=environ.get("HTTP_X_AMZ_TARGET", ""),
                                service=service,
                                body=body,
                                host=environ.get("HTTP_HOST", ""),
                            )
                        )
            return call(app, environ, start_response)

        return wrapped


# --- request -> IAM actions ----------------------------------------------------------------------------

_TARGETS = {
    "DynamoDB_20120810": "dynamodb",
    "AmazonSSM": "ssm",
    "secretsmanager": "secretsmanager",
    "AWSGlue": "glue",
    "AWSStepFunctions": "states",
    "TrentService": "kms",
    "AmazonSQS": "sqs",
}


def _table(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


def _secret(ref: str) -> str:
    return ref if ref.startswith("arn:") else f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{ref}-AbCdEf"


def _glue(db: str, table: str | None = None) -> list[str]:
    out = [f"arn:aws:glue:{REGION}:{ACCOUNT}:catalog", f"arn:aws:glue:{REGION}:{ACCOUNT}:database/{db}"]
    if table is not None:
        out.append(f"arn:aws:glue:{REGION}:{ACCOUNT}:table/{db}/{table}")
    return out


def _json_actions(service: str, op: str, body: dict[str, Any]) -> list[tuple[str, str]]:
    act = f"{service}:{op}"
    if service == "dynamodb":
        if op in ("TransactWriteItems", "TransactGetItems"):
            out = []
            for item in body.get("TransactItems", []):
                (kind, spec) = next(iter(item.items()))
                sub = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "Get": "GetItem"}
                out.append((f"dynamodb:{sub.get(kind, 'ConditionCheckItem')}", _table(spec["TableName"])))
            return out
        if op.startswith("Batch"):
            return [(act, _table(t)) for t in body.get("RequestItems", {})]
        return [(act, _table(body["TableName"]))]
    if service == "ssm":
        name = body.get("Name") or body.get("Path") or ""
        return [(act, f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{name.lstrip('/')}")]
    if service == "secretsmanager":
        if op == "BatchGetSecretValue":
            return [("secretsmanager:GetSecretValue", _secret(s)) for s in body.get("SecretIdList", [])]
        return [(act, _secret(body.get("SecretId") or body.get("Name") or ""))]
    if service == "glue":
        db = body.get("DatabaseName") or body.get("Name") or (body.get("DatabaseInput") or {}).get("Name")
        if op in ("GetDatabase", "CreateDatabase", "GetTables"):
            res = _glue(db) + ([f"arn:aws:glue:{REGION}:{ACCOUNT}:table/{db}/*"] if op == "GetTables" else [])
            return [(act, r) for r in res]
        table = (
            body.get("Name")
            if op in ("GetTable", "DeleteTable")
            else (body.get("TableInput") or {}).get("Name")
        )
        return [(act, r) for r in _glue(body["DatabaseName"], table)]
    if service == "states":
        arn = body.get("stateMachineArn") or body.get("executionArn") or ""
        return [(act, arn)]
    if service == "sqs":
        url = body.get("QueueUrl", "")
        return [(act, f"arn:aws:sqs:{REGION}:{ACCOUNT}:{url.rsplit('/', 1)[-1]}")]
    return [(act, "*")]


# Actions the Service Authorization Reference lists without a resource type: IAM authorizes them against
# "*" only, so only a statement whose Resource is "*" grants them ("Actions, resources, and condition keys
# for AWS Step Functions": SendTaskSuccess/SendTaskFailure/SendTaskHeartbeat have an empty "Resource types"
# column; the same for X-Ray's PutTraceSegments/PutTelemetryRecords/GetSamplingRules/GetSamplingTargets).
NO_RESOURCE_LEVEL = frozenset(
    {
        "states:SendTaskSuccess",
        "states:SendTaskFailure",
        "states:SendTaskHeartbeat",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
    }
)


def iam_actions(r: Request) -> list[tuple[str, str]]:
    """The (action, resource ARN) pairs AWS would authorize for one request ("*" for the actions without
    resource-level permissions)."""
    return [(a, "*" if a in NO_RESOURCE_LEVEL else res) for a, res in _iam_actions(r)]


def _iam_actions(r: Request) -> list[tuple[str, str]]:
    if r.target:
        prefix, _, op = r.target.partition(".")
        service = _TARGETS.get(prefix)
        if service is None:
            raise AssertionError(f"unmapped JSON target {r.target}")
        return _json_actions(service, op, json.loads(r.body or b"{}"))
    if r.service == "lambda":
        m = re.match(r"/2015-03-31/functions/([^/]+)/invocations", r.path)
        if m:
            name = unquote(m.group(1)).split(":function:")[-1]
            return [("lambda:InvokeFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}")]
        raise AssertionError(f"unmapped lambda request {r.method} {r.path}")
    if r.service == "s3":
        host = r.host.split(":")[0]
        if host and not host[0].isdigit() and host != "localhost":  # virtual-hosted style
            bucket, key = host.split(".")[0], unquote(r.path.lstrip("/"))
        else:
            parts = r.path.lstrip("/").split("/", 1)
            bucket, key = parts[0], unquote(parts[1]) if len(parts) > 1 else ""
        q = parse_qs(r.query, keep_blank_values=True)
        if not key:
            if r.method == "POST" and "delete" in q:
                keys = re.findall(rb"<Key>([^<]+)</Key>", r.body)
                return [("s3:DeleteObject", f"arn:aws:s3:::{bucket}/{k.decode()}") for k in keys]
            if "location" in q:
                return [("s3:GetBucketLocation", f"arn:aws:s3:::{bucket}")]
            return [("s3:ListBucket", f"arn:aws:s3:::{bucket}")]
        obj = f"arn:aws:s3:::{bucket}/{key}"
        if r.method in ("GET", "HEAD"):
            return [("s3:ListMultipartUploadParts" if "uploadId" in q else "s3:GetObject", obj)]
        if r.method in ("PUT", "POST"):
            return [("s3:PutObject", obj)]
        if r.method == "DELETE":
            return [("s3:AbortMultipartUpload" if "uploadId" in q else "s3:DeleteObject", obj)]
    raise AssertionError(f"unmapped request {r.service} {r.method} {r.path}?{r.query}")


# --- the template's policies ----------------------------------------------------------------------------


@dataclass
class TemplatePolicies:
    """Each principal's Allow statements, resolved against the deployed resources. ``names``: logical id →
    (Ref value, Arn) of the resources the policies reference."""

    template: dict[str, Any]
    names: dict[str, tuple[str, str]]

    def resolve(self, node: Any) -> Any:
        if isinstance(node, dict):
            if "Ref" in node:
                ref = node["Ref"]
                pseudo = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}
                if ref in pseudo:
                    return pseudo[ref]
                return self.names.get(ref, (f"unresolved-{ref}", ""))[0]
            if "Fn::GetAtt" in node:
                lid, attr = node["Fn::GetAtt"]
                if attr != "Arn":
                    raise AssertionError(f"unresolved GetAtt {lid}.{attr}")
                return self.names.get(lid, ("", f"arn:unresolved:{lid}"))[1]
            if "Fn::Join" in node:
                sep, parts = node["Fn::Join"]
                return sep.join(str(self.resolve(p)) for p in parts)
            return {k: self.resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self.resolve(v) for v in node]
        return node

    def statements(self, role_id: str) -> Iterator[dict[str, Any]]:
        for res in self.template["Resources"].values():
            if res["Type"] != "AWS::IAM::Policy":
                continue
            if {"Ref": role_id} in res["Properties"]["Roles"]:
                yield from self.resolve(res["Properties"]["PolicyDocument"]["Statement"])

    def allows(self, role_id: str, action: str, resource: str) -> bool:
        """Whether an Allow statement of the role matches. For an action without resource-level
        permissions (:data:`NO_RESOURCE_LEVEL`) only a statement with ``Resource: "*"`` matches, as in IAM:
        a statement scoped to an ARN silently grants nothing for it."""
        if action in NO_RESOURCE_LEVEL:
            resource = "*"
        for st in self.statements(role_id):
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            if st["Effect"] != "Allow":
                continue
            if any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in actions) and any(
                fnmatch.fnmatchcase(resource, r) for r in resources
            ):
                return True
        return False


def role_of(template: dict[str, Any], resource_id: str) -> str:
    props = template["Resources"][resource_id]["Properties"]
    role = props.get("Role") or props.get("RoleArn")
    return str(role["Fn::GetAtt"][0])
