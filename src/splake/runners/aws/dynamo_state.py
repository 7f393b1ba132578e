"""StateStore on DynamoDB: one table, ``pk = "<namespace>#<pk>"``, ``sk = <sk>``, conditional writes.

The item body is stored as a JSON string (``doc``) so values round-trip exactly as in the local SQLite store
(floats stay floats, no Decimal). ``_version`` is a number attribute used in condition expressions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from splake.aws.clients import AwsEndpoint, error_code
from splake.errors import ConflictError, FatalError
from splake.logs import get_logger
from splake.ports import Item

log = get_logger(__name__)

_RESERVED = ("_version", "_pk", "_sk")
TTL_ATTRIBUTE = "ttl"  # the table's DynamoDB TTL attribute (epoch seconds; infra/storage.py)
# Ledger entries of finished reports are pruned this long after they finished: far beyond any lookback or
# discovery window, so no finished report is ever requested or landed twice because its entry was gone.
LEDGER_RETENTION_DAYS = 400
_FINISHED = frozenset({"INGESTED", "CANCELLED"})


def ttl_of(namespace: str, item: Mapping[str, Any]) -> int | None:
    """The epoch second DynamoDB may delete an item at (pure): finished ledger entries only."""
    if namespace != "ledger" or item.get("status") not in _FINISHED or not item.get("completed_at"):
        return None
    try:
        done = datetime.fromisoformat(str(item["completed_at"]).replace("Z", "+00:00"))
    except ValueError:
        return None
    return int(done.timestamp()) + LEDGER_RETENTION_DAYS * 86400


def _partition(namespace: str, pk: str) -> str:
    if "#" in namespace:
        raise FatalError(
            f"state namespace {namespace!r} must not contain '#'", hint="use letters, digits, '-' or '_'"
        )
    return f"{namespace}#{pk}"


def _body(item: Mapping[str, Any], where: str) -> str:
    try:
        return json.dumps(
            {k: v for k, v in item.items() if k not in _RESERVED}, separators=(",", ":"), sort_keys=True
        )
    except TypeError as exc:
        raise FatalError(
            f"state item is not JSON-serialisable: {exc}",
            where=where,
            hint="store only str/int/float/bool/None/list/dict values (format datetimes as ISO strings)",
        ) from None


def _decode(raw: Mapping[str, Any]) -> Item:
    out: Item = json.loads(raw["doc"]["S"])
    out["_version"] = int(raw["_version"]["N"])
    out["_pk"] = raw["pk"]["S"].split("#", 1)[1]
    out["_sk"] = raw["sk"]["S"]
    return out


class DynamoStateStore:
    """:class:`splake.ports.StateStore` on a DynamoDB table (string keys ``pk`` hash, ``sk`` range)."""

    def __init__(self, table: str, endpoint: AwsEndpoint | None = None, *, client: Any = None) -> None:
        self.table = table
        self._ddb = client if client is not None else (endpoint or AwsEndpoint.from_env()).client("dynamodb")

    def get(self, namespace: str, pk: str, sk: str) -> Item | None:
        resp = self._ddb.get_item(
            TableName=self.table,
            Key={"pk": {"S": _partition(namespace, pk)}, "sk": {"S": sk}},
            ConsistentRead=True,
        )
        raw = resp.get("Item")
        return _decode(raw) if raw else None

    def put(
        self, namespace: str, pk: str, sk: str, item: Mapping[str, Any], *, expect_version: int | None = None
    ) -> Item:
        key = {"pk": {"S": _partition(namespace, pk)}, "sk": {"S": sk}}
        doc = _body(item, f"state {namespace}/{pk}/{sk}")
        ttl = ttl_of(namespace, item)
        try:
            if expect_version is None:
                values: dict[str, Any] = {":d": {"S": doc}, ":zero": {"N": "0"}, ":one": {"N": "1"}}
                expr = "SET doc = :d, #v = if_not_exists(#v, :zero) + :one"
                if ttl is not None:
                    expr += ", #ttl = :ttl"
                    values[":ttl"] = {"N": str(ttl)}
                else:
                    expr += " REMOVE #ttl"
                resp = self._ddb.update_item(
                    TableName=self.table,
                    Key=key,
                    UpdateExpression=expr,
                    ExpressionAttributeNames={"#v": "_version", "#ttl": TTL_ATTRIBUTE},
                    ExpressionAttributeValues=values,
                    ReturnValues="UPDATED_NEW",
                )
                version = int(resp["Attributes"]["_version"]["N"])
            else:
                version = expect_version + 1
                cond: dict[str, Any] = (
                    {"ConditionExpression": "attribute_not_exists(pk)"}
                    if expect_version == 0
                    else {
                        "ConditionExpression": "#v = :expected",
                        "ExpressionAttributeNames": {"#v": "_version"},
                        "ExpressionAttributeValues": {":expected": {"N": str(expect_version)}},
                    }
                )
                extra = {TTL_ATTRIBUTE: {"N": str(ttl)}} if ttl is not None else {}
                self._ddb.put_item(
                    TableName=self.table,
                    Item={**key, "doc": {"S": doc}, "_version": {"N": str(version)}, **extra},
                    **cond,
                )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise ConflictError(
                    f"state item {namespace}/{pk}/{sk} changed concurrently "
                    f"(expected version {expect_version})",
                    where=f"dynamodb table {self.table}",
                    hint="reload the item and retry the update",
                ) from None
            raise
        stored: Item = json.loads(doc)
        stored["_version"] = version
        stored["_pk"] = pk
        stored["_sk"] = sk
        return stored

    def delete(self, namespace: str, pk: str, sk: str) -> None:
        self._ddb.delete_item(
            TableName=self.table, Key={"pk": {"S": _partition(namespace, pk)}, "sk": {"S": sk}}
        )

    def query(self, namespace: str, pk: str, sk_prefix: str = "") -> list[Item]:
        names = {"#pk": "pk"}
        values: dict[str, Any] = {":pk": {"S": _partition(namespace, pk)}}
        expr = "#pk = :pk"
        if sk_prefix:
            names["#sk"] = "sk"
            values[":p"] = {"S": sk_prefix}
            expr += " AND begins_with(#sk, :p)"
        out: list[Item] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": expr,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
        }
        while True:
            resp = self._ddb.query(**kwargs)
            out.extend(_decode(raw) for raw in resp.get("Items", []))
            if "LastEvaluatedKey" not in resp:
                return out
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def scan(self, namespace: str) -> Iterator[Item]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "FilterExpression": "begins_with(#pk, :ns)",
            "ExpressionAttributeNames": {"#pk": "pk"},
            "ExpressionAttributeValues": {":ns": {"S": _partition(namespace, "")}},
            "ConsistentRead": True,
        }
        while True:
            resp = self._ddb.scan(**kwargs)
            for raw in resp.get("Items", []):
                if "doc" in raw:
                    yield _decode(raw)
            if "LastEvaluatedKey" not in resp:
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
