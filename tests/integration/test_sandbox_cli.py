"""`splake sandbox serve` runs a usable sandbox and prints what a person needs to call it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx


def test_serve_prints_credentials_and_answers_lwa() -> None:
    exe = Path(sys.executable).with_name("splake")
    proc = subprocess.Popen(
        [str(exe), "sandbox", "serve", "--port", "0", "--seed", "7", "--time-scale", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any("vendor-na" in line for line in lines):
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
        text = "".join(lines)
        url = re.search(r"listening on (http://127\.0\.0\.1:\d+)", text)
        client_id = re.search(r"client_id\s*: (\S+)", text)
        secret = re.search(r"client_secret : (\S+)", text)
        refresh = re.search(r"refresh_token=(\S+)", text)
        assert url and client_id and secret and refresh, text
        r = httpx.post(
            url.group(1) + "/auth/o2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh.group(1),
                "client_id": client_id.group(1),
                "client_secret": secret.group(1),
            },
        )
        assert r.status_code == 200 and r.json()["access_token"].startswith("Atza|")
    finally:
        os.kill(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
