"""Settings in SSM Parameter Store: endpoints, marketplaces, accounts and report configs.

Layout under a prefix (default ``/splake``):

- ``<prefix>/settings``      — JSON of every section except accounts (lake, lwa, spapi, sync, notifications)
- ``<prefix>/accounts/<id>`` — JSON of one ``[[accounts]]`` entry (so accounts are added one by one)

Secrets are never stored here; the settings only name them (``refresh_token_ref``…), and they live in
Secrets Manager.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from splake.config import Settings, parse_config
from splake.errors import ConfigError
from splake.runners.aws.clients import AwsEndpoint, error_code


class SsmSettingsStore:
    """Read/write :class:`splake.config.Settings` as Parameter Store parameters under ``prefix``."""

    def __init__(
        self, endpoint: AwsEndpoint | None = None, *, prefix: str = "/splake", client: Any = None
    ) -> None:
        self.prefix = "/" + prefix.strip("/")
        self._ssm = client if client is not None else (endpoint or AwsEndpoint.from_env()).client("ssm")

    def publish(self, settings: Settings) -> list[str]:
        """Write ``settings`` (one parameter for the shared sections, one per account). Returns the names."""
        data = settings.model_dump(mode="json")
        accounts = data.pop("accounts")
        data["account_order"] = [a["id"] for a in accounts]
        names = [f"{self.prefix}/settings"]
        self._ssm.put_parameter(
            Name=names[0], Value=json.dumps(data, sort_keys=True), Type="String", Overwrite=True
        )
        for acc in accounts:
            name = f"{self.prefix}/accounts/{acc['id']}"
            self._ssm.put_parameter(
                Name=name, Value=json.dumps(acc, sort_keys=True), Type="String", Overwrite=True
            )
            names.append(name)
        wanted = {a["id"] for a in accounts}
        for stale in self._account_names():
            if stale.rsplit("/", 1)[-1] not in wanted:
                self._ssm.delete_parameter(Name=stale)
        return names

    def _account_names(self) -> list[str]:
        out: list[str] = []
        paginator = self._ssm.get_paginator("get_parameters_by_path")
        for page in paginator.paginate(Path=f"{self.prefix}/accounts", Recursive=False):
            out.extend(p["Name"] for p in page.get("Parameters", []))
        return out

    def load(self) -> Settings:
        """The settings stored under the prefix, validated like a config file."""
        try:
            raw = self._ssm.get_parameter(Name=f"{self.prefix}/settings")["Parameter"]["Value"]
        except ClientError as exc:
            if error_code(exc) == "ParameterNotFound":
                raise ConfigError(
                    f"no splake settings in SSM Parameter Store at {self.prefix}/settings",
                    hint="publish your config with `splake deploy config --config splake.toml`",
                ) from None
            raise
        data: dict[str, Any] = json.loads(raw)
        accounts: list[dict[str, Any]] = []
        paginator = self._ssm.get_paginator("get_parameters_by_path")
        for page in paginator.paginate(Path=f"{self.prefix}/accounts", Recursive=False):
            accounts.extend(json.loads(p["Value"]) for p in page.get("Parameters", []))
        order = {acc_id: i for i, acc_id in enumerate(data.pop("account_order", []))}
        data["accounts"] = sorted(
            accounts, key=lambda a: (order.get(str(a.get("id")), len(order)), str(a.get("id")))
        )
        return parse_config(data, f"ssm:{self.prefix}")
