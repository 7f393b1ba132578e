"""Operations and their default usage plans, read from Amazon's official OpenAPI models.

The models (vendored under ``splake/spapi/models``, Apache-2.0) are the spec: each operation's
description carries a "Usage Plan" table with its rate (requests/s) and burst. Nothing is typed in by
hand here; :func:`operations` parses them once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

MODEL_FILES = (
    "catalogItems_2022-04-01.json",
    "fbaInventory.json",
    "financesV0.json",
    "listingsItems_2021-08-01.json",
    "notifications.json",
    "ordersV0.json",
    "reports_2021-06-30.json",
    "sellers.json",
    "tokens_2021-03-01.json",
    "orders_2026-01-01.json",
    "finances_2024-06-19.json",
    "dataKiosk_2023-11-15.json",
    "vendorOrders.json",
    "vendorDirectFulfillmentOrders_2021-12-28.json",
)

_PLAN_RE = re.compile(
    r"\|\s*Rate \(requests per second\)\s*\|\s*Burst\s*\|\s*\n"
    r"\|[-\s|]+\|\s*\n"
    r"\|\s*([0-9.]+)\s*\|\s*([0-9]+)\s*\|"
)


@dataclass(frozen=True)
class Operation:
    name: str  # operationId, e.g. "getListingsItem"
    method: str  # "GET"
    path: str  # "/listings/2021-08-01/items/{sellerId}/{sku}"
    rate: float  # default requests per second
    burst: int
    grantless: bool
    model_file: str

    def render_path(self, **params: str) -> str:
        from urllib.parse import quote

        out = self.path
        for key, value in params.items():
            out = out.replace("{" + key + "}", quote(str(value), safe=""))
        return out


def models_dir() -> Path:
    return Path(str(resources.files("splake.spapi") / "models"))


@cache
def load_model(file_name: str) -> dict[str, Any]:
    with (models_dir() / file_name).open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def parse_usage_plan(description: str) -> tuple[float, int] | None:
    m = _PLAN_RE.search(description)
    if not m:
        return None
    return float(m.group(1)), int(m.group(2))


@cache
def operations() -> dict[str, Operation]:
    """All operations of the vendored models that have a usage plan, keyed by operationId.

    An operationId that repeats across models (``getOrder`` in two Orders versions, ``getOrders`` in
    Orders v0 and Vendor Direct Fulfillment) keeps the first model's operation under the bare name; the
    later ones are keyed ``<model file stem>.<operationId>`` (``orders_2026-01-01.getOrder``).
    """
    ops: dict[str, Operation] = {}
    for file_name in MODEL_FILES:
        model = load_model(file_name)
        for path, item in model["paths"].items():
            for method, spec in item.items():
                if method not in {"get", "post", "put", "patch", "delete"}:
                    continue
                desc = spec.get("description", "")
                plan = parse_usage_plan(desc)
                if plan is None:
                    continue
                op_id = spec["operationId"]
                grantless = "grantless" in desc.lower()
                if op_id in ops and ops[op_id].model_file != file_name:
                    op_id = f"{file_name.removesuffix('.json')}.{op_id}"
                ops.setdefault(
                    op_id,
                    Operation(op_id, method.upper(), path, plan[0], plan[1], grantless, file_name),
                )
    return ops


def operation(name: str) -> Operation:
    try:
        return operations()[name]
    except KeyError:
        from splake.errors import FatalError

        raise FatalError(
            f"unknown SP-API operation {name!r}", hint="see splake.spapi.usage_plans.operations()"
        ) from None
