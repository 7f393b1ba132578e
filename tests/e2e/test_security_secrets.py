"""Security checks.

- After the e2e fault run (``tests/e2e/test_faults_sync.py``, shared, computed once): no secret appears
  in any file under the lake directory (raw zone, Iceberg data/metadata, state, catalog, tmp — every byte)
  nor in the captured DEBUG logs or console output: the sandbox's LWA client secret, every refresh token,
  every access token the sandbox issued, every pre-signed URL signature it handed out.
- Secret store files are 0600 (and the directory 0700).
- TLS: plain http (i.e. no TLS) is refused for any non-loopback endpoint, LWA URL or document URL; against
  a real TLS server with an untrusted certificate the client fails (there is no switch to turn
  verification off).
"""

from __future__ import annotations

import ssl
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from splake.auth.secrets import LocalSecretStore
from splake.config import parse_config
from splake.errors import ConfigError, RetryableError
from splake.spapi.client import SpApiClient
from tests.e2e.test_faults_sync import fault_run
from tests.support.tls import self_signed_cert


def _needles() -> dict[str, str]:
    run = fault_run()
    w = run.world
    needles = {"lwa client secret": w.client_secret}
    for a in w.accounts:
        needles[f"refresh token of {a.account_id}"] = a.refresh_token
    for i, t in enumerate(run.issued_tokens):
        needles[f"issued access token #{i}"] = t
    for i, sig in enumerate(run.signatures):
        needles[f"pre-signed URL signature #{i}"] = sig
    return needles


def test_the_scan_has_something_to_look_for() -> None:
    run = fault_run()
    assert len(run.issued_tokens) > 2  # one per account, plus re-issues after the forced expiries
    assert len(run.signatures) >= 5
    assert len(run.log_text) > 10_000  # DEBUG logs of several sync runs were captured
    assert "HTTP Request: GET" in run.log_text and "/_documents/" in run.log_text  # incl. httpx's own
    files = [p for p in run.lake_dir.rglob("*") if p.is_file()]
    assert any(".parquet" in p.name for p in files) and any(p.name.endswith(".gz") for p in files)


def test_no_secret_in_any_lake_file() -> None:
    run = fault_run()
    needles = {k: v.encode() for k, v in _needles().items()}
    leaks: list[tuple[str, str]] = []
    for path in run.lake_dir.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        leaks += [(str(path.relative_to(run.lake_dir)), what) for what, n in needles.items() if n in data]
    assert leaks == []


def test_no_secret_in_logs_or_console_output() -> None:
    run = fault_run()
    text = run.log_text + "\n" + run.console_text
    leaks = [what for what, n in _needles().items() if n in text]
    assert leaks == []
    assert "X-Amz-Signature" not in text and "X-Amz-Credential" not in text


def test_secret_store_files_are_private(tmp_path: Path) -> None:
    store = LocalSecretStore(tmp_path / "secrets")
    store.put("lwa/client_secret", "amzn1.oa2-cs.v1.abcdef0123456789")
    store.put("accounts/acme/refresh_token", "Atzr|IwEBIexample")
    root = tmp_path / "secrets"
    files = [p for p in root.rglob("*") if p.is_file()]
    assert files
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
        assert b"Atzr|IwEBIexample" not in p.read_bytes()  # encrypted at rest
    for d in [root, *(p for p in root.rglob("*") if p.is_dir())]:
        assert stat.S_IMODE(d.stat().st_mode) & 0o077 == 0, d


def test_lake_secret_dir_after_e2e_run_is_private() -> None:
    run = fault_run()
    secret_files = [p for p in (run.lake_dir / ".secrets").rglob("*") if p.is_file()]
    assert secret_files
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in secret_files)


def _settings(tmp: Path, endpoint: str, token_url: str = "https://api.amazon.com/auth/o2/token"):  # type: ignore[no-untyped-def]
    return parse_config(
        {
            "lake": {"path": str(tmp)},
            "lwa": {"client_id": "amzn1.application-oa2-client.x", "token_url": token_url},
            "spapi": {"endpoint_override": endpoint, "max_retries": 0},
            "accounts": [{"id": "a", "region": "NA", "selling_partner_id": "A1", "marketplaces": ["US"]}],
        }
    )


@pytest.mark.parametrize(
    "endpoint", ["http://sellingpartnerapi-na.amazon.com", "http://10.0.0.5:8080", "http://[2001:db8::1]"]
)
def test_plain_http_to_a_non_loopback_endpoint_is_refused(tmp_path: Path, endpoint: str) -> None:
    with pytest.raises(ConfigError) as err:
        SpApiClient(_settings(tmp_path, endpoint), LocalSecretStore(tmp_path / "s"))
    assert "https" in (err.value.hint or "")


def test_plain_http_lwa_url_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        SpApiClient(
            _settings(
                tmp_path, "https://sellingpartnerapi-na.amazon.com", "http://api.amazon.com/auth/o2/token"
            ),
            LocalSecretStore(tmp_path / "s"),
        )


async def test_plain_http_document_url_is_refused(tmp_path: Path) -> None:
    client = SpApiClient(
        _settings(tmp_path, "https://sellingpartnerapi-na.amazon.com"), LocalSecretStore(tmp_path / "s")
    )
    try:
        with pytest.raises(ConfigError):
            await client.download(
                "http://tortuga-prod-na.s3.amazonaws.com/doc?X-Amz-Signature=abc", tmp_path / "d"
            )
    finally:
        await client.aclose()


@pytest.fixture
def untrusted_tls_server(tmp_path: Path) -> Iterator[str]:
    """An HTTPS server on 127.0.0.1 with a self-signed certificate (not in any trust store)."""
    certfile, keyfile = self_signed_cert(tmp_path)
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certfile, keyfile)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    assert hits in ([], ["/control"])  # splake's request never got past the TLS handshake


async def test_untrusted_certificate_is_rejected(tmp_path: Path, untrusted_tls_server: str) -> None:
    # control: the server itself works when verification is off (so the failure below IS verification)
    async with httpx.AsyncClient(verify=False) as insecure:
        assert (await insecure.get(untrusted_tls_server + "/control")).status_code == 200
    client = SpApiClient(_settings(tmp_path, untrusted_tls_server), LocalSecretStore(tmp_path / "s"))
    try:
        with pytest.raises(RetryableError, match="ConnectError"):
            await client.download(untrusted_tls_server + "/doc?X-Amz-Signature=abc", tmp_path / "d")
    finally:
        await client.aclose()


@pytest.mark.parametrize("url", ["http://sqs.us-east-1.amazonaws.com", "http://10.1.2.3:4566"])
def test_plain_http_aws_endpoint_is_refused(url: str) -> None:
    """Found by this suite: an AWS endpoint override (SQS, S3, Secrets Manager, DynamoDB clients) accepted
    plain http to any host, so secrets and lake data could travel in cleartext."""
    from splake.aws.clients import AwsEndpoint

    with pytest.raises(ConfigError):
        AwsEndpoint(region="us-east-1", endpoint_url=url)
    assert AwsEndpoint(region="us-east-1", endpoint_url="http://127.0.0.1:5000").endpoint_url
    assert AwsEndpoint(region="us-east-1", endpoint_url="https://sqs.us-east-1.amazonaws.com").endpoint_url
