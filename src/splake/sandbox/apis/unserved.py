"""The last route: any request no other route serves answers as Amazon answers an operation the
application may not call — 403 ``Unauthorized`` in the SP-API JSON error shape, with ``x-amzn-RequestId``
(never Starlette's ``text/plain`` "Not Found"). ``details`` names the documented operation when the path
and method match one of the vendored models, so a developer sees what the sandbox does not serve yet.
"""

from __future__ import annotations

import re
import uuid
from functools import cache

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from splake.sandbox.responses import UNAUTHORIZED_MESSAGE, sp_error
from splake.sandbox.state import SandboxState
from splake.spapi.usage_plans import MODEL_FILES, load_model

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@cache
def _templates() -> tuple[tuple[str, re.Pattern[str], str, str], ...]:
    out = []
    for model_file in MODEL_FILES:
        for path, item in load_model(model_file)["paths"].items():
            pattern = re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(path)) + "$")
            for method, spec in item.items():
                if isinstance(spec, dict) and "operationId" in spec:
                    out.append((method.upper(), pattern, spec["operationId"], model_file))
    return tuple(out)


def documented_operation(method: str, path: str) -> tuple[str, str] | None:
    """(operationId, model file) of the documented operation ``method path``, if any."""
    for op_method, pattern, name, model in _templates():
        if op_method == method.upper() and pattern.match(path):
            return name, model
    return None


def route(state: SandboxState) -> Route:
    async def unserved(request: Request) -> Response:
        found = documented_operation(request.method, request.url.path)
        state.stats.count_request("unserved", found[0] if found else "unknown")
        if found:
            details = f"The splake sandbox does not serve {found[0]} ({found[1]})."
        else:
            details = f"No SP-API operation {request.method} {request.url.path}."
        resp = sp_error(403, "Unauthorized", UNAUTHORIZED_MESSAGE, details)
        resp.headers["x-amzn-RequestId"] = str(uuid.uuid4())
        return resp

    return Route("/{path:path}", unserved, methods=METHODS, name="unserved")
