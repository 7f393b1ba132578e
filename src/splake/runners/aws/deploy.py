"""What `splake deploy` does, as functions: publish settings to SSM, put secrets in Secrets Manager, run
the CDK app, start a sync execution, re-land a report from the raw zone in S3. The command module only
parses arguments and prints."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from splake.aws.clients import AwsEndpoint
from splake.config import Settings
from splake.errors import ConfigError, FatalError, SecretNotFoundError
from splake.ports import SecretStore
from splake.runners.aws.secrets_manager import SecretsManagerSecretStore
from splake.runners.aws.ssm_config import SsmSettingsStore

if TYPE_CHECKING:
    from splake.reports.pipeline import IngestResult
    from splake.runners.aws.runtime import Runtime


def secret_names(settings: Settings) -> list[str]:
    """Every secret the deployment reads: the LWA client secret and one refresh token per account."""
    return [settings.lwa.client_secret_ref, *(a.secret_ref for a in settings.accounts)]


def publish_settings(
    settings: Settings,
    endpoint: AwsEndpoint,
    prefix: str,
    *,
    bucket: str | None = None,
    kms_key_id: str | None = None,
) -> list[str]:
    """Publish ``settings``: an S3 object in ``bucket`` (the stack's LakeBucket; default: the bucket of
    the settings already published) named by a small SSM pointer (see :mod:`.ssm_config`)."""
    return SsmSettingsStore(endpoint, prefix=prefix, bucket=bucket, kms_key_id=kms_key_id).publish(settings)


def copy_secrets(settings: Settings, source: SecretStore, target: SecretStore) -> tuple[list[str], list[str]]:
    """Copy the deployment's secrets from ``source`` (the local store) to ``target``.
    Returns (copied, missing)."""
    copied: list[str] = []
    missing: list[str] = []
    for name in secret_names(settings):
        try:
            value = source.get(name)
        except SecretNotFoundError:
            missing.append(name)
            continue
        target.put(name, value)
        copied.append(name)
    return copied, missing


def aws_secret_store(endpoint: AwsEndpoint, prefix: str, kms_key_id: str | None) -> SecretsManagerSecretStore:
    return SecretsManagerSecretStore(endpoint, prefix=prefix, kms_key_id=kms_key_id)


def infra_dir() -> Path:
    """The CDK app (infra/ next to src/ in a source checkout)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "infra" / "app.py").exists():
            return parent / "infra"
    raise ConfigError(
        "the CDK app (infra/) was not found",
        hint="run `splake deploy stack` from a source checkout of splake (git clone …; make setup)",
    )


def cdk_command(action: str, extra: Sequence[str], python: str) -> list[str]:
    return [str(infra_dir() / "node_modules" / ".bin" / "cdk"), action, "--app", f"{python} app.py", *extra]


def run_cdk(action: str, extra: Sequence[str], python: str) -> int:
    """``cdk <action>`` from infra/ (installs the pinned CDK CLI with ``npm ci`` first if needed)."""
    infra = infra_dir()
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise FatalError(
            "node and npm are required to run the AWS CDK CLI",
            hint="install Node.js 22+ (https://nodejs.org) and run again",
        )
    if not (infra / "node_modules" / ".bin" / "cdk").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=infra, check=True)
    return subprocess.run(cdk_command(action, extra, python), cwd=infra).returncode


def start_sync(endpoint: AwsEndpoint, state_machine_arn: str, accounts: Sequence[str] = ()) -> str:
    sfn = endpoint.client("stepfunctions")
    payload = {"accounts": list(accounts)} if accounts else {}
    resp = sfn.start_execution(stateMachineArn=state_machine_arn, input=json.dumps(payload))
    return str(resp["executionArn"])


def reland_report(
    runtime: Runtime, report_id: str, *, account_id: str | None = None, force: bool = False
) -> IngestResult:
    """`splake reports reland` for a deployment: the same core function
    (:func:`splake.reports.reland.reland`) with the AWS context of ``runtime`` -- the ledger in the
    state table, the raw document in the bucket, the Glue catalog. The core commits its one document
    directly (locally the lake lock keeps other writers out); here the Lambdas keep landing, so the
    report's table and its quarantine table are held under the same DynamoDB leases the Lambdas' commits
    take, for the whole reland. No SP-API call. Runs with the caller's AWS credentials; the settings are
    the published ones (SSM pointer -> S3 object)."""
    import asyncio

    from splake.reports.hold import find_for_reland
    from splake.reports.reland import reland
    from splake.reports.types import report_type
    from splake.runners.aws.runtime import open_context

    async def go() -> IngestResult:
        ctx = open_context(runtime)
        try:
            entry = find_for_reland(ctx.state, report_id, account_id)
            table = report_type(entry.unit.report_type).table
            async with ctx.lock(f"table:{table}"), ctx.lock(f"table:{table}__quarantine"):
                return await asyncio.to_thread(
                    reland, ctx, report_id, account_id=entry.account_id, force=force
                )
        finally:
            await ctx.aclose()

    return asyncio.run(go())
