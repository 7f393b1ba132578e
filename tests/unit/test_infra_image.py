"""The Lambda image installs a complete, current lock of splake's runtime dependencies."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "infra" / "lambda" / "requirements.lock"


def _lock() -> dict[str, str]:
    out = {}
    for line in LOCK.read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            out[name] = version
    return out


def test_lock_pins_every_runtime_dependency_at_its_pyproject_version() -> None:
    lock = _lock()
    for dep in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]:
        req = Requirement(dep)
        (spec,) = req.specifier
        assert lock[req.name.lower()] == spec.version, dep
    assert "sqlalchemy" in lock and "pyiceberg-core" in lock  # the pyiceberg extras' dependencies


def test_lock_is_the_generator_output() -> None:
    sys.path.insert(0, str(ROOT / "infra" / "lambda"))
    try:
        import make_lock
    finally:
        sys.path.pop(0)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = make_lock.closure([Requirement(d) for d in project["dependencies"]])
    assert pinned == _lock(), "run `python infra/lambda/make_lock.py` after changing dependencies"


def test_image_installs_the_lock_without_resolving() -> None:
    docker = (ROOT / "infra" / "lambda" / "Dockerfile").read_text()
    assert "--no-deps -r /tmp/splake-build/requirements.lock" in docker
    assert docker.count("--no-deps") == 2  # splake itself adds nothing unlocked
