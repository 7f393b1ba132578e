"""SpApiClient.download against a real HTTP server on loopback that behaves like a pre-signed S3 URL:
serves bytes as stored (gzip + Content-Encoding), 403 once expired, truncated bodies, 5xx."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from splake.auth.secrets import LocalSecretStore
from splake.config import parse_config
from splake.errors import ConfigError
from splake.spapi.client import DownloadExpiredError, SpApiClient, TruncatedDownloadError
from splake.spapi.ratelimit import NoRateLimiter
from splake.spapi.retry import RetryPolicy

SIGNATURE = "4f1c0ffee5ec4e7b9d2a7b1c3e5f7a9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c"
BODY = ("sku\tprice\tname\n" + "".join(f"SKU-{i}\t{i}.99\tCafé {i}\n" for i in range(2000))).encode("cp1252")
GZ = gzip.compress(BODY)


class DocServer:
    """Paths: /doc.gz (gzip, Content-Encoding: gzip), /plain (cp1252 text), /expired (403),
    /truncated (Content-Length larger than the body), /flaky (503 n times, then ok), /big (5 MiB)."""

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.flaky_failures = 2
        self.truncate_times = 10**9
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                path = parts.path
                server.hits[path] = server.hits.get(path, 0) + 1
                n = server.hits[path]
                qs = parse_qs(parts.query)
                if qs.get("X-Amz-Signature") != [SIGNATURE]:
                    return self._send(
                        403, b"<Error><Code>SignatureDoesNotMatch</Code></Error>", "application/xml"
                    )
                if path == "/doc.gz":
                    return self._send(200, GZ, "text/plain; charset=Cp1252", encoding="gzip")
                if path == "/plain":
                    return self._send(200, BODY, "text/plain;charset=Cp1252")
                if path == "/expired":
                    return self._send(
                        403,
                        b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
                        "application/xml",
                    )
                if path == "/truncated":
                    if n <= server.truncate_times:
                        self.send_response(200)
                        self.send_header("Content-Type", "text/plain")
                        self.send_header("Content-Length", str(len(BODY)))
                        self.end_headers()
                        self.wfile.write(BODY[: len(BODY) // 2])
                        self.wfile.flush()
                        self.close_connection = True
                        return None
                    return self._send(200, BODY, "text/plain")
                if path == "/flaky":
                    if n <= server.flaky_failures:
                        return self._send(503, b"<Error><Code>SlowDown</Code></Error>", "application/xml")
                    return self._send(200, BODY, "text/plain")
                if path == "/big":
                    return self._send(200, b"x" * (5 << 20), "application/octet-stream")
                return self._send(404, b"", "text/plain")

            def _send(self, status: int, body: bytes, ctype: str, encoding: str | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                if encoding:
                    self.send_header("Content-Encoding", encoding)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        host, port = self.httpd.server_address[:2]
        return (
            f"http://{host}:{port}{path}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=300"
            f"&X-Amz-Signature={SIGNATURE}"
        )

    def __enter__(self) -> DocServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def docs() -> Iterator[DocServer]:
    with DocServer() as srv:
        yield srv


def make_client(tmp_path: Path, max_retries: int = 3) -> SpApiClient:
    settings = parse_config(
        {
            "lwa": {
                "client_id": "amzn1.application-oa2-client.test",
                "token_url": "http://127.0.0.1:9/auth/o2/token",
            },
            "spapi": {"endpoint_override": "http://127.0.0.1:9"},
            "accounts": [{"id": "a", "region": "NA", "selling_partner_id": "A1", "marketplaces": ["US"]}],
        }
    )
    return SpApiClient(
        settings,
        LocalSecretStore(tmp_path / "secrets"),
        limiter=NoRateLimiter(),
        retry=RetryPolicy(max_retries=max_retries, base_seconds=0.01, cap_seconds=0.02),
    )


async def test_gzip_document_is_saved_as_served_not_decompressed(docs: DocServer, tmp_path: Path) -> None:
    async with make_client(tmp_path) as client:
        info = await client.download(docs.url("/doc.gz"), tmp_path / "out" / "doc.gz")
    assert (tmp_path / "out" / "doc.gz").read_bytes() == GZ
    assert info.bytes_written == len(GZ)
    assert info.content_type == "text/plain"
    assert info.charset == "Cp1252"
    assert info.content_encoding == "gzip"
    assert gzip.decompress((tmp_path / "out" / "doc.gz").read_bytes()) == BODY
    assert not list((tmp_path / "out").glob("*.part"))


async def test_plain_document_and_charset_without_space(docs: DocServer, tmp_path: Path) -> None:
    async with make_client(tmp_path) as client:
        info = await client.download(docs.url("/plain"), tmp_path / "doc.txt")
    assert (tmp_path / "doc.txt").read_bytes() == BODY
    assert (info.content_type, info.charset, info.content_encoding) == ("text/plain", "Cp1252", None)


async def test_expired_url_raises_download_expired_at_once(docs: DocServer, tmp_path: Path) -> None:
    async with make_client(tmp_path) as client:
        with pytest.raises(DownloadExpiredError) as exc:
            await client.download(docs.url("/expired"), tmp_path / "x")
    assert docs.hits["/expired"] == 1  # not retried with the same dead URL
    assert exc.value.hint and "getReportDocument" in exc.value.hint
    assert SIGNATURE not in str(exc.value)
    assert not (tmp_path / "x").exists()


async def test_truncated_body_is_retried_then_succeeds(docs: DocServer, tmp_path: Path) -> None:
    docs.truncate_times = 2
    async with make_client(tmp_path) as client:
        info = await client.download(docs.url("/truncated"), tmp_path / "t")
    assert docs.hits["/truncated"] == 3
    assert info.bytes_written == len(BODY) and (tmp_path / "t").read_bytes() == BODY


async def test_persistently_truncated_raises_retryable_error(docs: DocServer, tmp_path: Path) -> None:
    async with make_client(tmp_path, max_retries=2) as client:
        with pytest.raises(TruncatedDownloadError):
            await client.download(docs.url("/truncated"), tmp_path / "t")
    assert docs.hits["/truncated"] == 3
    assert not (tmp_path / "t").exists()
    assert not (tmp_path / "t.part").exists()


async def test_5xx_is_retried(docs: DocServer, tmp_path: Path) -> None:
    async with make_client(tmp_path) as client:
        info = await client.download(docs.url("/flaky"), tmp_path / "f")
    assert docs.hits["/flaky"] == 3 and info.bytes_written == len(BODY)


async def test_big_document_streams_to_disk(docs: DocServer, tmp_path: Path) -> None:
    async with make_client(tmp_path) as client:
        info = await client.download(docs.url("/big"), tmp_path / "big")
    assert info.bytes_written == 5 << 20 == (tmp_path / "big").stat().st_size


async def test_plain_http_download_from_remote_host_refused(tmp_path: Path) -> None:
    async with make_client(tmp_path) as client:
        with pytest.raises(ConfigError):
            await client.download("http://example.com/doc?X-Amz-Signature=abc", tmp_path / "x")
