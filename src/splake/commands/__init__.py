"""CLI command groups. Each module defines ``register(app)`` and keeps commands thin (~15 lines)."""
