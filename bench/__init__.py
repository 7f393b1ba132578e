"""splake benchmarks (see bench/__main__.py)."""
