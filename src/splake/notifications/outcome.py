"""What a notification handler reports back to the consumer (shared by ``consumer`` and ``handlers``)."""

from __future__ import annotations

from typing import Literal

Outcome = Literal["done", "ignored"]
