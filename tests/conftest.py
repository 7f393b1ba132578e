"""Shared pytest fixtures. Fixture modules live in tests/support/ (one per owner)."""

import os
import tempfile

# Local secret keys live in the user's config dir by default; tests (and the processes they start) keep
# theirs in a temporary directory instead of the home directory.
os.environ.setdefault("SPLAKE_KEY_DIR", tempfile.mkdtemp(prefix="splake-test-keys-"))

pytest_plugins = [
    "tests.support.sandbox_fixtures",
    "tests.support.aws_fixtures",
    "tests.support.lake_fixtures",
]
