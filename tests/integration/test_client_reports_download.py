"""The client through a whole report round trip on the sandbox: createReport → getReport → getReportDocument →
download of the pre-signed URL (gzip kept as served), expiry of the URL, truncated downloads."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from splake.config import AccountSettings
from splake.sandbox import SandboxServer
from splake.spapi.client import DownloadExpiredError, SpApiClient, TruncatedDownloadError
from splake.spapi.retry import RetryPolicy
from tests.integration.test_client_sandbox import make_client

LISTINGS = "GET_MERCHANT_LISTINGS_ALL_DATA"


async def report_document(client: SpApiClient, acct: AccountSettings, **doc_params: Any) -> dict[str, Any]:
    created = await client.call(
        acct, "createReport", json={"reportType": LISTINGS, "marketplaceIds": [acct.marketplaces[0]]}
    )
    assert created.status == 202
    rid = created.body["reportId"]
    for _ in range(200):
        report = (await client.call(acct, "getReport", path={"reportId": rid})).body
        if report["processingStatus"] in ("DONE", "FATAL", "CANCELLED"):
            break
        await asyncio.sleep(0.02)
    assert report["processingStatus"] == "DONE"
    doc = await client.call(
        acct,
        "getReportDocument",
        path={"reportDocumentId": report["reportDocumentId"]},
        params=doc_params or None,
    )
    body: dict[str, Any] = doc.body
    return body


async def test_report_round_trip_download_is_byte_exact_gzip(sandbox: SandboxServer, tmp_path: Path) -> None:
    async with make_client(sandbox, tmp_path) as client:
        acct = client.settings.account("seller-na")
        doc = await report_document(client, acct)
        info = await client.download(doc["url"], tmp_path / "doc.gz")
        doc2 = await report_document(client, acct, enableContentEncodingUrlHeader=True)
        info2 = await client.download(doc2["url"], tmp_path / "doc2.gz")
    raw = (tmp_path / "doc.gz").read_bytes()
    assert doc["compressionAlgorithm"] == "GZIP"
    assert info.bytes_written == len(raw) and raw[:2] == b"\x1f\x8b"
    text = gzip.decompress(raw).decode(info.charset or "utf-8")
    assert text.split("\n", 1)[0].startswith("item-name\t")
    assert info.content_type == "text/plain" and info.charset
    # with Content-Encoding: gzip the bytes are still stored compressed (never decoded twice)
    assert info2.content_encoding == "gzip"
    assert (tmp_path / "doc2.gz").read_bytes()[:2] == b"\x1f\x8b"


async def test_expired_presigned_url_raises_and_a_fresh_url_works(
    sandbox_factory: Callable[..., SandboxServer], tmp_path: Path
) -> None:
    sb = sandbox_factory(presigned_ttl_seconds=1)
    async with make_client(sb, tmp_path) as client:
        acct = client.settings.account("seller-na")
        doc = await report_document(client, acct)
        await asyncio.sleep(2.1)
        with pytest.raises(DownloadExpiredError):
            await client.download(doc["url"], tmp_path / "d.gz")
        again = await client.call(
            acct, "getReportDocument", path={"reportDocumentId": doc["reportDocumentId"]}
        )
        info = await client.download(again.body["url"], tmp_path / "d.gz")
    assert info.bytes_written > 0 and not (tmp_path / "d.gz.part").exists()


async def test_truncated_downloads_retried_or_reported(
    sandbox_factory: Callable[..., SandboxServer], tmp_path: Path
) -> None:
    sb = sandbox_factory(truncate_download_rate=1.0)
    async with make_client(
        sb, tmp_path, retry=RetryPolicy(max_retries=2, base_seconds=0.01, cap_seconds=0.02)
    ) as client:
        acct = client.settings.account("seller-na")
        doc = await report_document(client, acct)
        with pytest.raises(TruncatedDownloadError):
            await client.download(doc["url"], tmp_path / "t.gz")
        assert sb.stats.faults["truncate_download"] == 3
        assert not (tmp_path / "t.gz").exists()
        sb.configure(truncate_download_rate=0.5)
        info = await client.download(doc["url"], tmp_path / "t.gz")
    assert gzip.decompress((tmp_path / "t.gz").read_bytes())
    assert info.bytes_written == (tmp_path / "t.gz").stat().st_size
