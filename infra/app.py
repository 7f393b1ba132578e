"""CDK entry point: `npx cdk synth` / `npx cdk deploy` from infra/ (see docs/aws.md).

Context values (``-c key=value``): ``stack_name`` (default ``splake``), ``schedule_minutes`` (default 60),
``items_schedule_hours`` (default 24), ``namespace`` (Glue database, default ``spapi``), ``oauth_redirect``
(``true`` adds the OAuth redirect endpoint of :mod:`infra.oauth_redirect`).
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
props = SplakeProps(
    schedule_minutes=int(ctx("schedule_minutes") or 60),
    items_schedule_hours=int(ctx("items_schedule_hours") or 24),
    namespace=str(ctx("namespace") or "spapi"),
)
stack = SplakeStack(app, str(ctx("stack_name") or "splake"), props=props)
if str(ctx("oauth_redirect") or "").lower() in ("1", "true", "yes"):
    from infra.oauth_redirect import add_oauth_redirect

    add_oauth_redirect(stack)
app.synth()
