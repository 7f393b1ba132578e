"""Fixtures: aws."""
