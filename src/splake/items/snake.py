"""API keys (PascalCase, camelCase) → the curated tables' snake_case columns; a row shaped to a schema."""

from __future__ import annotations

import re
from typing import Any

from splake.items.convert import to_arrow_value


def shape_row(raw: dict[str, Any], schema: Any) -> dict[str, Any]:
    return {f.name: to_arrow_value(raw.get(f.name), f.type) for f in schema}


_WORD = re.compile(r"(.)([A-Z][a-z]+)")
_ACRONYM_END = re.compile(r"([a-z0-9])([A-Z])")


def snake(name: str) -> str:
    """``SellerSKU`` → ``seller_sku``, ``AddressLine1`` → ``address_line1``, ``ASIN`` → ``asin``."""
    return _ACRONYM_END.sub(r"\1_\2", _WORD.sub(r"\1_\2", name)).lower()


def snake_keys(obj: Any) -> Any:
    """PascalCase (Orders/Finances v0) → snake_case, recursively."""
    if isinstance(obj, dict):
        return {snake(k): snake_keys(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [snake_keys(v) for v in obj]
    return obj
