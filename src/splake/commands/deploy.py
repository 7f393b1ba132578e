"""`splake deploy`: run splake on AWS (see docs/aws.md).

splake deploy stack                  # cdk deploy from infra/ (the whole stack)
splake deploy config -c splake.toml  # publish the config to SSM Parameter Store
splake deploy secrets -c splake.toml # copy LWA client secret + refresh tokens to Secrets Manager (KMS)
splake deploy secret NAME            # store one secret (stdin or hidden prompt)
splake deploy run --state-machine ARN
splake deploy reland REPORT_ID --bucket B --table T   # re-land a HELD report from the raw zone in S3
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from splake.errors import SplakeError

deploy_app = typer.Typer(name="deploy", help="Deploy and operate splake on AWS (Step Functions + Lambda).")

CONFIG = typer.Option("splake.toml", "--config", "-c", help="Path to the splake config file.")
REGION = typer.Option(None, "--region", help="AWS region (default: AWS_REGION / your AWS profile).")
ENDPOINT = typer.Option(None, "--endpoint-url", help="AWS endpoint override (e.g. a moto server).")
SSM_PREFIX = typer.Option("/splake", "--ssm-prefix", help="Parameter Store prefix the functions read.")
SECRET_PREFIX = typer.Option("splake/", "--secret-prefix", help="Secrets Manager name prefix.")
KMS_KEY = typer.Option(None, "--kms-key", help="KMS key for new secrets (stack output KmsKeyArn).")


def _endpoint(region: str | None, endpoint_url: str | None) -> object:
    from splake.aws.clients import AwsEndpoint

    base = AwsEndpoint.from_env()
    return AwsEndpoint(region=region or base.region, endpoint_url=endpoint_url or base.endpoint_url)


def _fail(exc: SplakeError) -> typer.Exit:
    typer.echo(f"error: {exc.render()}", err=True)
    return typer.Exit(code=1)


@deploy_app.command("stack")
def stack(args: list[str] = typer.Argument(None, help="Extra arguments for `cdk deploy`.")) -> None:
    """Deploy (or update) the AWS stack with the CDK app in infra/."""
    from splake.runners.aws.deploy import run_cdk

    try:
        raise typer.Exit(code=run_cdk("deploy", args or [], sys.executable))
    except SplakeError as exc:
        raise _fail(exc) from None


@deploy_app.command("config")
def config_cmd(
    config: Path = CONFIG,
    prefix: str = SSM_PREFIX,
    region: str | None = REGION,
    endpoint_url: str | None = ENDPOINT,
    bucket: str | None = typer.Option(
        None, "--bucket", help="Stack output LakeBucket (default: where the settings were published before)."
    ),
    kms_key: str | None = KMS_KEY,
) -> None:
    """Publish the config file to the lake bucket, behind an SSM pointer (the functions read it there)."""
    from splake.config import load_config
    from splake.runners.aws.deploy import publish_settings

    try:
        names = publish_settings(
            load_config(config),
            _endpoint(region, endpoint_url),  # type: ignore[arg-type]
            prefix,
            bucket=bucket,
            kms_key_id=kms_key,
        )
    except SplakeError as exc:
        raise _fail(exc) from None
    typer.echo("published " + ", ".join(names))


@deploy_app.command("secrets")
def secrets_cmd(
    config: Path = CONFIG,
    dir: Path | None = typer.Option(None, "--dir", help="Local secret store directory."),
    prefix: str = SECRET_PREFIX,
    kms_key: str | None = KMS_KEY,
    region: str | None = REGION,
    endpoint_url: str | None = ENDPOINT,
) -> None:
    """Copy the LWA client secret and each account's refresh token from the local store to Secrets Manager."""
    from splake.auth.secrets import open_local_secret_store
    from splake.config import load_config
    from splake.runners.aws.deploy import aws_secret_store, copy_secrets

    try:
        settings = load_config(config)
        target = aws_secret_store(_endpoint(region, endpoint_url), prefix, kms_key)  # type: ignore[arg-type]
        copied, missing = copy_secrets(settings, open_local_secret_store(settings, dir), target)
    except SplakeError as exc:
        raise _fail(exc) from None
    for name in copied:
        typer.echo(f"stored {prefix}{name}")
    for name in missing:
        typer.echo(f"missing locally (set it with `splake deploy secret {name}`): {name}", err=True)
    if missing:
        raise typer.Exit(code=1)


@deploy_app.command("secret")
def secret_cmd(
    name: str = typer.Argument(..., help="e.g. accounts/<id>/refresh_token"),
    prefix: str = SECRET_PREFIX,
    kms_key: str | None = KMS_KEY,
    region: str | None = REGION,
    endpoint_url: str | None = ENDPOINT,
) -> None:
    """Store one secret in Secrets Manager; the value comes from stdin or a hidden prompt, never arguments."""
    from splake.runners.aws.deploy import aws_secret_store

    value = sys.stdin.read().rstrip("\r\n") if not sys.stdin.isatty() else typer.prompt(name, hide_input=True)
    if not value.strip():
        typer.echo("error: empty value; nothing stored", err=True)
        raise typer.Exit(code=1)
    try:
        aws_secret_store(_endpoint(region, endpoint_url), prefix, kms_key).put(name, value)  # type: ignore[arg-type]
    except SplakeError as exc:
        raise _fail(exc) from None
    typer.echo(f"stored {prefix}{name}")


@deploy_app.command("run")
def run_cmd(
    state_machine: str = typer.Option(..., "--state-machine", help="Stack output SyncStateMachineArn."),
    account: list[str] = typer.Option(None, "--account", help="Only these account ids (repeatable)."),
    region: str | None = REGION,
    endpoint_url: str | None = ENDPOINT,
) -> None:
    """Start a sync execution now (the stack also runs it on a schedule)."""
    from splake.runners.aws.deploy import start_sync

    typer.echo(start_sync(_endpoint(region, endpoint_url), state_machine, account or []))  # type: ignore[arg-type]


@deploy_app.command("reland")
def reland_cmd(
    report_id: str = typer.Argument(..., help="the report id (the execution's Summarize output lists it)"),
    bucket: str = typer.Option(..., "--bucket", help="Stack output LakeBucket."),
    table: str = typer.Option(..., "--table", help="Stack output StateTable."),
    kms_key: str | None = KMS_KEY,
    account: str | None = typer.Option(None, "--account", "-a", help="the account, when ids repeat"),
    force: bool = typer.Option(
        False, "--force", help="land the readable rows even when more than the hold share is quarantined"
    ),
    ssm_prefix: str = SSM_PREFIX,
    secret_prefix: str = SECRET_PREFIX,
    region: str | None = REGION,
    endpoint_url: str | None = ENDPOINT,
) -> None:
    """Re-land a report of the deployment (e.g. a HELD one, after fixing the config or upgrading) from the
    document kept in the bucket's raw zone: no SP-API call. Exit code 1 when it is still held."""
    from splake.runners.aws.deploy import reland_report
    from splake.runners.aws.runtime import Runtime

    runtime = Runtime(
        table=table,
        bucket=bucket,
        endpoint=_endpoint(region, endpoint_url),  # type: ignore[arg-type]
        kms_key_id=kms_key,
        ssm_prefix=ssm_prefix,
        secret_prefix=secret_prefix,
    )
    try:
        res = reland_report(runtime, report_id, account_id=account, force=force)
    except SplakeError as exc:
        typer.echo(f"error: {exc.render()}", err=True)
        raise typer.Exit(code=2) from None
    if res.entry.status == "HELD":
        typer.echo(f"report {report_id} is still HELD: {res.reason}", err=True)
        raise typer.Exit(code=1)
    typer.echo(f"report {report_id} landed: {res.rows} rows, {res.quarantined} quarantined")


def register(app: typer.Typer) -> None:
    """Add this group's commands to the root app."""
    app.add_typer(deploy_app)
