"""`cdk synth` with the real CDK CLI (node, from infra/package-lock.json) and cfn-lint on the template."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

INFRA = Path(__file__).resolve().parents[2] / "infra"


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if (shutil.which("node") is None or shutil.which("npm") is None) and not os.environ.get("SPLAKE_CI"):
        pytest.skip(
            "node/npm not installed: the CDK CLI needs node (CI installs it; `apt-get install nodejs npm`)"
        )
    cdk = INFRA / "node_modules" / ".bin" / "cdk"
    if not cdk.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=INFRA, check=True, timeout=300)
    out = tmp_path_factory.mktemp("cdk.out")
    env = {
        **os.environ,
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
        "CDK_DISABLE_VERSION_CHECK": "1",
    }
    proc = subprocess.run(
        [
            str(cdk),
            "synth",
            "--app",
            f"{sys.executable} app.py",
            "--output",
            str(out),
            "--quiet",
            "--no-notices",
        ],
        cwd=INFRA,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def test_cdk_synth_writes_the_template(synthesized: Path) -> None:
    template = json.loads((synthesized / "splake.template.json").read_text())
    types = {r["Type"] for r in template["Resources"].values()}
    assert {"AWS::StepFunctions::StateMachine", "AWS::Lambda::Function", "AWS::DynamoDB::Table"} <= types
    manifest = json.loads((synthesized / "splake.assets.json").read_text())
    assert manifest["dockerImages"], "the Lambda image asset is staged for `cdk deploy`"


def test_cfn_lint_passes(synthesized: Path) -> None:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    proc = subprocess.run(
        [
            str(cfn_lint),
            "--config-file",
            str(INFRA / ".cfnlintrc.yaml"),
            str(synthesized / "splake.template.json"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
