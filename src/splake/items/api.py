"""The slice of the SP-API client the items fetchers need (structural, so any client fits).

``splake.spapi.client.SpApiClient`` satisfies :class:`SpApi`; list-valued query parameters are sent
comma-separated (the models declare ``collectionFormat: csv``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from splake.config import AccountSettings
from splake.errors import ApiError


class SpApi(Protocol):
    async def call(
        self,
        account: AccountSettings,
        operation: str,
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        rdt_elements: Sequence[str] | None = None,
    ) -> Any: ...


def csv_param(values: Sequence[str]) -> str:
    return ",".join(values)


def is_not_found(exc: BaseException) -> bool:
    return isinstance(exc, ApiError) and exc.status == 404


def body_of(resp: Any) -> dict[str, Any]:
    body = getattr(resp, "body", None)
    return body if isinstance(body, dict) else {}
