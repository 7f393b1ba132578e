"""Downloading report documents from pre-signed URLs: one streamed attempt, plus its errors.

The bytes are written exactly as served (no decompression, whatever ``Content-Encoding`` says): the
caller decides how to decode, using ``compressionAlgorithm``, the content encoding and the charset.
The pre-signed URL carries its signature in the query string, so only :func:`safe_url` forms are logged.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import httpx

from splake.errors import RetryableError
from splake.spapi.urls import safe_url

CHUNK_SIZE = 1 << 20


class DownloadExpiredError(RetryableError):
    """The pre-signed URL was refused (HTTP 403: it expires 5 minutes after getReportDocument).
    Fetch a fresh URL with getReportDocument and download again."""

    code = "download_expired"


class TruncatedDownloadError(RetryableError):
    """Fewer (or more) bytes arrived than the Content-Length announced."""

    code = "download_truncated"


class DownloadServerError(RetryableError):
    code = "download_server_error"


@dataclass(frozen=True)
class DownloadInfo:
    content_type: str | None  # media type without parameters, e.g. "text/plain"
    charset: str | None  # from Content-Type, as sent (e.g. "Cp1252"); None when absent
    content_encoding: str | None  # e.g. "gzip" (the body was NOT decoded)
    bytes_written: int


def parse_content_type(value: str | None) -> tuple[str | None, str | None]:
    """``text/plain; charset=Cp1252`` → ("text/plain", "Cp1252")."""
    if not value:
        return None, None
    msg = Message()
    msg["content-type"] = value
    charset = msg.get_param("charset")
    return msg.get_content_type(), (str(charset) if isinstance(charset, str) and charset else None)


def _content_length(resp: httpx.Response) -> int | None:
    value = resp.headers.get("content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


async def stream_once(http: httpx.AsyncClient, url: str, dest: Path) -> tuple[int, DownloadInfo]:
    """One GET of ``url`` streamed into ``dest`` (via ``dest.part`` + rename). Returns (status, info).

    Raises :class:`DownloadExpiredError` on 403, :class:`DownloadServerError` on other non-2xx,
    :class:`TruncatedDownloadError` when the body length disagrees with Content-Length.
    """
    tmp = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shown = safe_url(url)
    try:
        async with http.stream("GET", url, headers={"accept-encoding": "identity"}) as resp:
            if resp.status_code == 403:
                raise DownloadExpiredError(
                    "the pre-signed document URL was refused (HTTP 403): it has expired",
                    where=shown,
                    hint="pre-signed URLs live 5 minutes; call getReportDocument again for a fresh URL",
                )
            if resp.status_code >= 300:
                raise DownloadServerError(
                    f"document download failed with HTTP {resp.status_code}",
                    where=shown,
                    hint="the storage service had a problem; the download is retried",
                )
            expected = _content_length(resp)
            written = 0
            with tmp.open("wb") as fh:
                async for chunk in resp.aiter_raw(CHUNK_SIZE):
                    fh.write(chunk)
                    written += len(chunk)
            if expected is not None and written != expected:
                raise TruncatedDownloadError(
                    f"document download truncated: got {written} of {expected} bytes",
                    where=shown,
                    hint="the connection dropped mid-download; the download is retried",
                )
            os.replace(tmp, dest)
            content_type, charset = parse_content_type(resp.headers.get("content-type"))
            encoding = resp.headers.get("content-encoding")
            return resp.status_code, DownloadInfo(content_type, charset, encoding, written)
    except httpx.RemoteProtocolError as exc:
        # e.g. "peer closed connection without sending complete message body"
        raise TruncatedDownloadError(
            f"document download interrupted: {type(exc).__name__}",
            where=shown,
            hint="the connection dropped mid-download; the download is retried",
        ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
