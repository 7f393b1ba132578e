"""Thread-safe counters of what the sandbox saw and did (requests, throttles, faults, token grants)."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class SandboxStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, str]] = Counter()  # (seller id or "grantless", operationId)
        self.throttled: Counter[tuple[str, str]] = Counter()  # 429s (real + spurious)
        self.faults: Counter[str] = Counter()  # fault kind -> count
        self.fault_draws: Counter[str] = Counter()  # fault kind -> requests it could have hit (rate > 0)
        self.token_grants: Counter[str] = Counter()  # grant_type -> count
        self.token_grants_by_subject: Counter[str] = Counter()  # selling partner id or "grantless"
        self.downloads: Counter[str] = Counter()  # report type -> document downloads
        self.notifications: Counter[str] = Counter()  # notification type -> messages sent
        # Signatures of the pre-signed URLs handed out (secret scans look for them; never in snapshot()).
        self.presigned_signatures: list[str] = []

    def count_request(self, seller: str, operation: str) -> None:
        with self._lock:
            self.requests[(seller, operation)] += 1

    def count_throttle(self, seller: str, operation: str) -> None:
        with self._lock:
            self.throttled[(seller, operation)] += 1

    def count_fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1

    def count_draw(self, kind: str) -> int:
        """Count one eligible request for fault ``kind``; returns how many came before it."""
        with self._lock:
            self.fault_draws[kind] += 1
            return self.fault_draws[kind] - 1

    def count_grant(self, grant_type: str, subject: str) -> None:
        with self._lock:
            self.token_grants[grant_type] += 1
            self.token_grants_by_subject[subject] += 1

    def count_download(self, report_type: str) -> None:
        with self._lock:
            self.downloads[report_type] += 1

    def record_presigned(self, signature: str) -> None:
        with self._lock:
            self.presigned_signatures.append(signature)

    def count_notification(self, notification_type: str) -> None:
        with self._lock:
            self.notifications[notification_type] += 1

    def requests_for(self, operation: str, seller: str | None = None) -> int:
        with self._lock:
            return sum(n for (s, op), n in self.requests.items() if op == operation and seller in (None, s))

    def throttled_for(self, operation: str, seller: str | None = None) -> int:
        with self._lock:
            return sum(n for (s, op), n in self.throttled.items() if op == operation and seller in (None, s))

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": {f"{s}/{op}": n for (s, op), n in sorted(self.requests.items())},
                "throttled": {f"{s}/{op}": n for (s, op), n in sorted(self.throttled.items())},
                "faults": dict(self.faults),
                "fault_draws": dict(self.fault_draws),
                "token_grants": dict(self.token_grants),
                "token_grants_by_subject": dict(self.token_grants_by_subject),
                "downloads": dict(self.downloads),
                "notifications": dict(self.notifications),
            }
