"""The static HTML report (`splake report --out report.html`): one self-contained file with the chart
library, the page code, the styles and the data inlined — it opens offline, from disk or as an attachment."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from splake.insights.app import STATIC_DIR
from splake.insights.runner import Filters
from splake.insights.service import Insights

_TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>splake report · {generated}</title>
<style>{css}</style>
</head>
<body data-page="report">
<header><span class="brand">splake report</span><a href="#overview">Business overview</a>
<a href="#health">Pipeline health</a><span class="muted">generated {generated}</span></header>
<main>
<h1 id="overview" style="font-size:18px">Business overview</h1>
<div id="overview-root"></div>
<h1 id="health" style="font-size:18px;margin-top:24px">Pipeline health</h1>
<div id="health-root"></div>
</main>
<footer>Charts: Chart.js (MIT licence, inlined). Data: splake curated lake snapshot.</footer>
<script>window.SPLAKE_SNAPSHOT = {data};</script>
<script>{chartjs}</script>
<script>{appjs}</script>
<script>
Splake.markRendered(Promise.all([
  Splake.renderOverviewPage(document.getElementById("overview-root")),
  Splake.renderHealthPage(document.getElementById("health-root")),
]).then(function (s) {{ return s.indexOf("error") >= 0 ? "error" : "true"; }}));
</script>
</body>
</html>
"""


def _script_safe(text: str) -> str:
    """Make text safe inside a <script> element (no early ``</script>`` or ``<!--``)."""
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def render_report(snapshot: dict[str, Any], generated: datetime) -> str:
    """The report HTML for a snapshot (pure apart from reading the packaged assets)."""
    data = json.dumps(snapshot, default=str, ensure_ascii=False).replace("<", "\\u003c")
    return _TEMPLATE.format(
        generated=generated.strftime("%Y-%m-%d %H:%M UTC"),
        css=(STATIC_DIR / "style.css").read_text(encoding="utf-8"),
        data=data,
        chartjs=_script_safe((STATIC_DIR / "vendor" / "chart.umd.min.js").read_text(encoding="utf-8")),
        appjs=_script_safe((STATIC_DIR / "app.js").read_text(encoding="utf-8")),
    )


def write_report(
    insights: Insights, out: str | Path, generated: datetime, filters: Filters = Filters()
) -> Path:
    """Compute every mart and the pipeline health once and write the self-contained report."""
    path = Path(out)
    html = render_report(insights.snapshot(filters), generated)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
