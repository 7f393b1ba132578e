"""Fuzz targets (atheris, with a hypothesis fallback). Run ``python -m fuzz --seconds 30``."""
