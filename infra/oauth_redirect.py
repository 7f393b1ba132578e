"""Optional: the OAuth redirect endpoint (API Gateway HTTP API + Lambda) for the website authorization
workflow, so sellers can authorize the app from anywhere (Amazon only redirects to https URIs).

``add_oauth_redirect(stack)`` adds ``GET <api>/callback`` served by
:func:`splake.runners.aws.oauth_redirect.handler` and outputs ``OAuthRedirectUri`` (register it as the
app's OAuth redirect URI). The function may read the LWA client secret and the ``state`` allow-list
(``<secret_prefix>oauth/states``), write refresh tokens (``<secret_prefix>accounts/*``) and the allow-list,
and write account entries to the settings parameters — nothing else. Enable with ``-c oauth_redirect=true``.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

from infra.functions import ASSET_EXCLUDES, REPO_ROOT
from infra.stack import SplakeStack
from splake.runners.aws import runtime as rt
from splake.runners.aws.oauth_redirect import DEFAULT_STATES, ENV_STATES
from splake.runners.aws.ssm_config import OBJECT_PREFIX as SETTINGS_OBJECTS

CALLBACK_PATH = "/callback"


@dataclass(frozen=True)
class OAuthRedirect:
    api: apigw.HttpApi
    function: lambda_.DockerImageFunction
    redirect_uri: str


def _secret_arn(stack: SplakeStack, name: str) -> str:
    return stack.format_arn(
        service="secretsmanager",
        resource="secret",
        resource_name=f"{stack.props.secret_prefix}{name}",
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )


def add_oauth_redirect(stack: SplakeStack) -> OAuthRedirect:
    p = stack.props
    log_group = logs.LogGroup(
        stack,
        "Logs-oauth-redirect",
        retention=logs.RetentionDays.ONE_MONTH,
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    role = iam.Role(
        stack,
        "Role-oauth-redirect",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description="splake OAuth redirect endpoint (least privilege)",
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            resources=[
                _secret_arn(stack, "lwa/*"),
                _secret_arn(stack, "oauth/*"),
                _secret_arn(stack, "accounts/*"),
            ],
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=[
                "secretsmanager:PutSecretValue",
                "secretsmanager:CreateSecret",
                "secretsmanager:TagResource",
            ],
            resources=[_secret_arn(stack, "oauth/*"), _secret_arn(stack, "accounts/*")],
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            resources=[stack.key.key_arn],
        )
    )
    prefix = p.ssm_prefix.strip("/")
    role.add_to_policy(
        iam.PolicyStatement(
            actions=[
                "ssm:GetParameter",
                "ssm:GetParametersByPath",
                "ssm:PutParameter",
                "ssm:DeleteParameter",
            ],
            resources=[
                stack.format_arn(service="ssm", resource="parameter", resource_name=f"{prefix}/*"),
                stack.format_arn(service="ssm", resource="parameter", resource_name=prefix),
            ],
        )
    )
    # the settings object the pointer names (splake.runners.aws.ssm_config)
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["s3:GetObject", "s3:PutObject"],
            resources=[stack.bucket.arn_for_objects(f"{SETTINGS_OBJECTS}/*")],
        )
    )
    env = rt.Runtime(
        table=stack.table.table_name,
        bucket=stack.bucket.bucket_name,
        endpoint=rt.AwsEndpoint(region=stack.region),
        kms_key_id=stack.key.key_arn,
        ssm_prefix=p.ssm_prefix,
        secret_prefix=p.secret_prefix,
    ).env()
    env[ENV_STATES] = DEFAULT_STATES
    fn = lambda_.DockerImageFunction(
        stack,
        "Fn-oauth-redirect",
        code=lambda_.DockerImageCode.from_image_asset(
            str(REPO_ROOT),
            file="infra/lambda/Dockerfile",
            exclude=ASSET_EXCLUDES,
            cmd=["splake.runners.aws.oauth_redirect.handler"],
        ),
        role=role,
        memory_size=512,
        timeout=cdk.Duration.seconds(29),  # API Gateway's integration limit
        environment=env,
        log_group=log_group,
        description="splake OAuth redirect endpoint",
    )
    api = apigw.HttpApi(stack, "OAuthRedirectApi", description="splake OAuth redirect endpoint")
    api.add_routes(
        path=CALLBACK_PATH,
        methods=[apigw.HttpMethod.GET],
        integration=integrations.HttpLambdaIntegration("OAuthRedirectIntegration", fn),
    )
    redirect_uri = f"{api.api_endpoint}{CALLBACK_PATH}"
    cdk.CfnOutput(stack, "OAuthRedirectUri", value=redirect_uri)
    return OAuthRedirect(api, fn, redirect_uri)
