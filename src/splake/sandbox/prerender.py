"""Report documents rendered while their report is IN_QUEUE / IN_PROGRESS, in a worker process.

Amazon generates a report on its own servers while the client waits; the sandbox used to render the
document only when the report's processing time was up, in the ticker thread of the client's own process:
hundreds of reports due at once then finished seconds late, and their rendering competed with the client
(same cores, same GIL) exactly when the client lands them. Now a report whose processing takes long enough
(:data:`MIN_PROCESSING_SECONDS`, scaled) is rendered right after ``createReport`` in one worker process; the
ticker still decides the status at the due time and only adopts the rendered file when the request is
still the one the report renders (knobs such as ``schema_drift`` changed since → rendered again, inline).
The document bytes are those :func:`~splake.sandbox.reports_render.render_gzip_to` writes either way.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import multiprocessing
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from splake.logs import get_logger, log_event
from splake.sandbox.report_request import ReportRequest
from splake.sandbox.reports_render import RenderInfo, render_gzip_to

log = get_logger(__name__)

# reports processed faster than this (scaled seconds) render at their due time, inline, as before: the
# worker process is not worth starting for them (tests run the sandbox at time_scale 0 / 0.01)
MIN_PROCESSING_SECONDS = 2.0


@dataclass
class _Pending:
    request: ReportRequest
    path: Path
    future: cf.Future[RenderInfo]


def _render(path: str, req: ReportRequest) -> RenderInfo:
    return render_gzip_to(path, req, cache=True)


class Prerenderer:
    """Renders documents ahead of their report's due time in one worker process (started on first use)."""

    def __init__(self, doc_dir: Path) -> None:
        self._dir = doc_dir
        self._pool: cf.ProcessPoolExecutor | None = None
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()
        self._closed = False
        self.adopted = 0  # documents the ticker took from here (observability for tests and benches)

    def submit(self, report_id: str, req: ReportRequest) -> None:
        """Start rendering ``report_id``'s document (best effort: on any failure the ticker renders it)."""
        with self._lock:
            if self._closed or report_id in self._pending:
                return
            path = self._dir / f"prerender-{report_id}.gz"
            try:
                if self._pool is None:
                    # spawn: the sandbox runs in a thread of a process with other threads (fork is unsafe)
                    self._pool = cf.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
                future = self._pool.submit(_render, str(path), req)
            except Exception as exc:  # e.g. a daemonic process may not start children: render at due time
                log_event(log, "sandbox_prerender_unavailable", error=repr(exc))
                self._closed = True
                return
            self._pending[report_id] = _Pending(req, path, future)

    def take(self, report_id: str, req: ReportRequest, dest: Path) -> RenderInfo | None:
        """The pre-rendered document moved to ``dest`` (waits for it), or None when there is none for this
        exact request (the caller renders inline). Re-raises the render's ``ReportFatal``."""
        with self._lock:
            pending = self._pending.pop(report_id, None)
        if pending is None:
            return None
        if pending.request != req:  # a knob changed the document since the report was created
            pending.future.cancel()
            with contextlib.suppress(cf.TimeoutError, cf.CancelledError, Exception):
                pending.future.result(timeout=60)
            pending.path.unlink(missing_ok=True)
            return None
        try:
            info = pending.future.result()
        except cf.CancelledError:
            return None
        except cf.process.BrokenProcessPool as exc:
            log_event(log, "sandbox_prerender_failed", report_id=report_id, error=repr(exc))
            pending.path.unlink(missing_ok=True)
            return None
        os.replace(pending.path, dest)
        self.adopted += 1
        return dataclasses.replace(info, path=dest)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
            pending, self._pending = self._pending, {}
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        for p in pending.values():
            p.path.unlink(missing_ok=True)
