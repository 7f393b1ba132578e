"""No secret ever reaches the logs: run a busy client session (token exchange, refresh after expiry,
RDT, grantless, 404, 429s, 5xx, invalid_grant, downloads incl. an expired pre-signed URL) with every
logger at DEBUG, then grep the captured output for the real secret values."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from splake.auth.secrets import LocalSecretStore
from splake.errors import SplakeError
from splake.logs import configure_logging
from splake.sandbox import SandboxServer
from tests.integration.test_client_download import SIGNATURE, DocServer
from tests.integration.test_client_reports_download import report_document
from tests.integration.test_client_sandbox import Recorder, get_listing, make_client, skus


@pytest.fixture
def all_logs() -> Iterator[io.StringIO]:
    buf = io.StringIO()
    splake_logger = logging.getLogger("splake")
    saved = (list(splake_logger.handlers), splake_logger.level, splake_logger.propagate)
    configure_logging("DEBUG", stream=buf)  # the 'splake' tree (JSON lines)
    handler = logging.StreamHandler(buf)  # everything else (httpx, httpcore, asyncio, ...)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    touched = {n: logging.getLogger(n).level for n in ("httpx", "httpcore")}
    for n in touched:
        logging.getLogger(n).setLevel(logging.DEBUG)
    yield buf
    root.removeHandler(handler)
    root.setLevel(old_level)
    for n, lvl in touched.items():
        logging.getLogger(n).setLevel(lvl)
    splake_logger.handlers[:] = saved[0]
    splake_logger.setLevel(saved[1])
    splake_logger.propagate = saved[2]


async def test_no_secret_in_any_log_line(
    all_logs: io.StringIO, sandbox_factory: Callable[..., SandboxServer], tmp_path: Path
) -> None:
    sb = sandbox_factory(spurious_429_rate=0.2, error_rate=0.2)
    rec = Recorder()
    client = make_client(sb, tmp_path, recorder=rec)
    acct = client.settings.account("seller-na")
    errors: list[str] = []
    batch = skus(sb, n=15)
    await asyncio.gather(*(get_listing(client, sb, s) for s in batch))
    sb.configure(expire_tokens=True)
    await asyncio.gather(*(get_listing(client, sb, s) for s in batch[:5]))
    await client.call(
        acct,
        "getListingsItem",
        path={"sellerId": acct.selling_partner_id, "sku": batch[0]},
        params={"marketplaceIds": acct.marketplaces[0]},
        rdt_elements=[],
    )
    await client.call_grantless("getDestinations")
    try:
        await get_listing(client, sb, "NOPE")
    except SplakeError as exc:
        errors.append(str(exc))
    with DocServer() as docs:
        await client.download(docs.url("/doc.gz"), tmp_path / "d.gz")
        try:
            await client.download(docs.url("/expired"), tmp_path / "e")
        except SplakeError as exc:
            errors.append(str(exc))
    # the sandbox's own pre-signed report document URL (faults off: a 429 before the first rate header
    # would make the limiter wait createReport's real interval, ~60 s)
    sb.configure(spurious_429_rate=0.0, error_rate=0.0)
    doc = await report_document(client, acct)
    await client.download(doc["url"], tmp_path / "report.gz")
    sandbox_signature = parse_qs(urlsplit(doc["url"]).query)["X-Amz-Signature"][0]
    # invalid_grant with a revoked refresh token for another account
    LocalSecretStore(tmp_path / "secrets").put("accounts/seller-eu/refresh_token", "Atzr|IwEBrevokedvalue123")
    try:
        await get_listing(client, sb, "X", account_id="seller-eu")
    except SplakeError as exc:
        errors.append(str(exc))
    await client.aclose()

    text = all_logs.getvalue() + "\n".join(errors)
    assert "spapi_request" in text and "document_downloaded" in text  # we did log the run
    assert "lwa_token_invalidated" in text and "spapi_request_retry" in text
    sent_tokens = {r.headers["x-amz-access-token"] for r in rec.requests if "x-amz-access-token" in r.headers}
    assert any(t.startswith("Atz.sprdt|") for t in sent_tokens) and len(sent_tokens) >= 3
    secrets = {
        *sent_tokens,
        *(a.refresh_token for a in sb.world.accounts),
        "Atzr|IwEBrevokedvalue123",
        sb.world.client_secret,
        SIGNATURE,
        sandbox_signature,
    }
    for secret in secrets:
        for fragment in (secret, secret.split("|", 1)[-1]):
            assert fragment not in text, f"secret leaked into logs: {fragment[:8]}…"
