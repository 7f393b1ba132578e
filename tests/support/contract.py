"""Contract validation against Amazon's official models (reusable by every sandbox route's tests).

- ``validate_response(model_file, operation_id, status, body)``: the body of an SP-API response must
  validate against the model's response schema for that status (swagger 2.0 → JSON Schema Draft 4, with
  the model document as the ``$ref`` resolver root). ``strict=True`` (default) also rejects keys the
  model does not declare (the models rarely say ``additionalProperties: false``, so typos would pass).
- ``validate_definition(model_file, "Report", instance)``: one definition of a model.
- ``validate_report_document(schema_file, doc)`` / ``validate_notification(schema_file, msg)``: the
  Draft-07 JSON schemas under ``schemas/reports`` and ``schemas/notifications``.

Raises ``AssertionError`` listing every violation with its JSON path.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from functools import cache
from typing import Any

from jsonschema import Draft4Validator, Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT7

from splake.spapi.usage_plans import load_model, models_dir

BASE_URI = "urn:splake:spapi-model:"

# RFC 3339 checks (jsonschema only checks date-time when an optional package is installed).
FORMATS = FormatChecker()
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.fullmatch(value):
        raise ValueError(f"{value!r} is not an RFC 3339 date-time")
    datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    return True


@FORMATS.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    if isinstance(value, str):
        date.fromisoformat(value)
    return True


@cache
def _registry(model_file: str) -> Registry:
    resource: Resource[Any] = DRAFT4.create_resource(load_model(model_file))
    return Registry().with_resource(BASE_URI + model_file, resource)


def find_operation(model_file: str, operation_id: str) -> dict[str, Any]:
    for item in load_model(model_file)["paths"].values():
        for method, spec in item.items():
            if isinstance(spec, dict) and spec.get("operationId") == operation_id:
                return spec
    raise AssertionError(f"operation {operation_id} not found in {model_file}")


def response_schema(model_file: str, operation_id: str, status: int) -> dict[str, Any] | None:
    responses = find_operation(model_file, operation_id)["responses"]
    resp = responses.get(str(status)) or responses.get("default")
    if resp is None:
        raise AssertionError(
            f"{operation_id}: status {status} is not declared in {model_file} (declared: {sorted(responses)})"
        )
    schema = resp.get("schema")
    return dict(schema) if schema is not None else None


def _resolve(model: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/"), ref
        node: Any = model
        for part in ref[2:].split("/"):
            node = node[part]
        schema = node
    return schema


def undocumented_keys(
    model: dict[str, Any], schema: dict[str, Any], instance: Any, path: str = "$"
) -> list[str]:
    """Paths of object keys the schema does not declare (where it declares ``properties``)."""
    schema = _resolve(model, schema)
    out: list[str] = []
    if isinstance(instance, dict):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        # allOf: a key is declared when the schema or any of its allOf branches declares it.
        for sub in schema.get("allOf", []):
            sub_props = _resolve(model, sub).get("properties")
            if sub_props is not None:
                props = {**sub_props, **(props or {})}
        for key, value in instance.items():
            if props is not None and key in props:
                out += undocumented_keys(model, props[key], value, f"{path}.{key}")
            elif isinstance(extra, dict):
                out += undocumented_keys(model, extra, value, f"{path}.{key}")
            elif props is not None and extra is not True:
                out.append(f"{path}.{key}")
    elif isinstance(instance, list) and isinstance(schema.get("items"), dict):
        for i, value in enumerate(instance):
            out += undocumented_keys(model, schema["items"], value, f"{path}[{i}]")
    return out


def _errors(validator: Any, instance: Any) -> list[str]:
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '$'}: {e.message}"
        for e in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    ]


def validate_against(
    model_file: str, schema: dict[str, Any], instance: Any, *, strict: bool = True, what: str = ""
) -> None:
    rooted = dict(schema)
    if "$ref" in rooted:
        rooted["$ref"] = BASE_URI + model_file + rooted["$ref"]
    validator = Draft4Validator(rooted, registry=_registry(model_file), format_checker=FORMATS)
    problems = _errors(validator, instance)
    if strict:
        problems += [
            f"{p}: key not declared in the model"
            for p in undocumented_keys(load_model(model_file), schema, instance)
        ]
    if problems:
        raise AssertionError(
            f"{what or model_file} violates the official model:\n  " + "\n  ".join(problems[:30])
        )


def validate_response(
    model_file: str, operation_id: str, status: int, body: Any, *, strict: bool = True
) -> None:
    schema = response_schema(model_file, operation_id, status)
    if schema is None:
        assert body in (None, b"", "", {}), (
            f"{operation_id} {status}: the model declares no body, got {body!r}"
        )
        return
    validate_against(model_file, schema, body, strict=strict, what=f"{operation_id} {status} response")


def validate_definition(model_file: str, definition: str, instance: Any, *, strict: bool = True) -> None:
    validate_against(
        model_file, {"$ref": f"#/definitions/{definition}"}, instance, strict=strict, what=definition
    )


@cache
def _json_schema(kind: str, schema_file: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (models_dir() / "schemas" / kind / schema_file).read_text(encoding="utf-8")
    )
    return data


def _validate_draft7(kind: str, schema_file: str, instance: Any) -> None:
    schema = _json_schema(kind, schema_file)
    resource: Resource[Any] = DRAFT7.create_resource(schema)
    registry = Registry().with_resource(schema.get("$id", "urn:splake:schema"), resource)
    validator = Draft7Validator(schema, registry=registry, format_checker=FORMATS)
    problems = _errors(validator, instance)
    if problems:
        raise AssertionError(f"{schema_file} violated:\n  " + "\n  ".join(problems[:30]))


def validate_report_document(schema_file: str, doc: Any) -> None:
    _validate_draft7("reports", schema_file, doc)


def validate_notification(schema_file: str, message: Any) -> None:
    _validate_draft7("notifications", schema_file, message)
