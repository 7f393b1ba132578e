"""Shared pytest fixtures. Fixture modules live in tests/support/ (one per owner)."""

pytest_plugins = [
    "tests.support.sandbox_fixtures",
    "tests.support.aws_fixtures",
    "tests.support.lake_fixtures",
]
