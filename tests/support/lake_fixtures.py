"""Fixtures: lake."""
