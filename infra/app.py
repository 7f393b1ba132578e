"""CDK entry point: `npx cdk synth` / `npx cdk deploy` from infra/ (see docs/aws.md).

Context values (``-c key=value``): ``stack_name`` (default ``splake``), ``schedule_minutes`` (default 60),
``items_schedule_hours`` (default 24), ``namespace`` (Glue database, default ``spapi``),
``max_concurrency`` / ``unit_concurrency`` (fan-out, default 10 / 10), ``architecture`` (``x86_64`` or
``arm64``), ``alarm_email``, ``spapi_event_source`` (the SP-API partner event source name),
``cloudtrail`` and ``lake_formation`` (``true`` to add them), ``oauth_redirect`` (``true`` adds the OAuth
redirect endpoint of :mod:`infra.oauth_redirect`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import aws_cdk as cdk

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from infra.stack import SplakeProps, SplakeStack

app = cdk.App()
ctx = app.node.try_get_context


def flag(name: str) -> bool:
    return str(ctx(name) or "").lower() in ("1", "true", "yes", "on")


props = SplakeProps(
    schedule_minutes=int(ctx("schedule_minutes") or 60),
    items_schedule_hours=int(ctx("items_schedule_hours") or 24),
    namespace=str(ctx("namespace") or "spapi"),
    max_concurrency=int(ctx("max_concurrency") or 10),
    unit_concurrency=int(ctx("unit_concurrency") or 10),
    architecture=str(ctx("architecture") or "x86_64"),
    alarm_email=ctx("alarm_email") or None,
    spapi_event_source=ctx("spapi_event_source") or None,
    cloudtrail=flag("cloudtrail"),
    lake_formation=flag("lake_formation"),
)
stack = SplakeStack(app, str(ctx("stack_name") or "splake"), props=props)
if str(ctx("oauth_redirect") or "").lower() in ("1", "true", "yes"):
    from infra.oauth_redirect import add_oauth_redirect

    add_oauth_redirect(stack)
app.synth()
