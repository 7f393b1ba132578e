"""How to reach AWS: region + optional endpoint (a moto server in tests), and boto3 client construction.

One :class:`AwsEndpoint` is built from the environment (Lambda) or from settings and passed down; nothing
here holds global state.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

# Environment variables the Lambda functions read (set by the CDK stack).
ENV_ENDPOINT = "SPLAKE_AWS_ENDPOINT_URL"


@dataclass(frozen=True)
class AwsEndpoint:
    """Region and optional endpoint override for every AWS client splake creates."""

    region: str = "us-east-1"
    endpoint_url: str | None = None

    def __post_init__(self) -> None:
        # secrets (Secrets Manager) and lake data travel through these clients: https, or plain http only
        # to a loopback host (a local moto server) — never cleartext to anywhere else
        if self.endpoint_url:
            from splake.spapi.urls import check_url

            check_url(self.endpoint_url, what="AWS endpoint_url")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AwsEndpoint:
        e = os.environ if env is None else env
        region = e.get("AWS_REGION") or e.get("AWS_DEFAULT_REGION") or "us-east-1"
        return cls(region=region, endpoint_url=e.get(ENV_ENDPOINT) or None)

    def client(self, service: str, *, max_attempts: int = 5, session: Any = None) -> Any:
        """A boto3 client for ``service`` (standard retry mode). Without ``session``, a new session (so
        threads never share one); clients themselves are thread-safe."""
        session = session or boto3.session.Session(region_name=self.region)
        return session.client(
            service,
            endpoint_url=self.endpoint_url,
            config=Config(
                retries={"mode": "standard", "max_attempts": max_attempts}, max_pool_connections=50
            ),
        )


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` ('' for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""
