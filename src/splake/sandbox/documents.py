"""Pre-signed report document URLs (S3-style query signing) and the download endpoint they point to.

``GET /_documents/<id>?X-Amz-Algorithm=…&X-Amz-Date=…&X-Amz-Expires=300&X-Amz-Signature=<hmac>``
serves the gzip body; an expired or tampered URL gets S3's 403 XML. Fault knobs: a truncated body
(Content-Length still says the full size) and a corrupted gzip stream.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import anyio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from splake.sandbox.reports_state import DocumentRecord
from splake.sandbox.state import SandboxState

AMZ_DATE = "%Y%m%dT%H%M%SZ"


def _sign(key: bytes, document_id: str, amz_date: str, expires: str, encoding: str) -> str:
    msg = "\n".join(("GET", document_id, amz_date, expires, encoding)).encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def presign(state: SandboxState, base_url: str, document_id: str, content_encoding: bool) -> str:
    now = state.now()
    expires = str(max(1, round(state.config.presigned_ttl_seconds)))
    if state.chance(state.config.presigned_expired_rate, "presigned_expired"):
        now -= timedelta(seconds=int(expires) + 5)  # signed long enough ago to have expired already
        state.stats.count_fault("presigned_expired")
    amz_date = now.strftime(AMZ_DATE)
    enc = "gzip" if content_encoding else ""
    params = {
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": f"ASIASANDBOX/{now:%Y%m%d}/us-east-1/s3/aws4_request",
        "X-Amz-Date": amz_date,
        "X-Amz-Expires": expires,
        "X-Amz-SignedHeaders": "host",
    }
    if enc:
        params["response-content-encoding"] = enc
    params["X-Amz-Signature"] = _sign(state.signing_key, document_id, amz_date, expires, enc)
    state.stats.record_presigned(params["X-Amz-Signature"])
    return f"{base_url.rstrip('/')}/_documents/{document_id}?{urlencode(params)}"


def s3_error(status: int, code: str, message: str, **extra: str) -> Response:
    fields = "".join(f"<{k}>{v}</{k}>" for k, v in extra.items())
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>{fields}"
        f"<RequestId>SANDBOX{abs(hash(message)) % 10**12:012d}</RequestId></Error>"
    )
    return Response(body, status_code=status, media_type="application/xml")


def check_url(state: SandboxState, request: Request, document_id: str) -> Response | None:
    """None when the signature is valid and unexpired, else the S3 error response (pure but for now())."""
    q = request.query_params
    amz_date, expires, sig = q.get("X-Amz-Date", ""), q.get("X-Amz-Expires", ""), q.get("X-Amz-Signature", "")
    enc = q.get("response-content-encoding", "")
    if not (amz_date and expires and sig):
        return s3_error(
            403,
            "AccessDenied",
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
        )
    good = _sign(state.signing_key, document_id, amz_date, expires, enc)
    if not hmac.compare_digest(good, sig):
        return s3_error(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
        )
    signed_at = datetime.strptime(amz_date, AMZ_DATE).replace(tzinfo=UTC)
    expiry = signed_at + timedelta(seconds=int(expires))
    now = state.now()
    if now > expiry:
        return s3_error(
            403,
            "AccessDenied",
            "Request has expired",
            Expires=expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
            ServerTime=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
    return None


def ensure_rendered(state: SandboxState, doc: DocumentRecord) -> None:
    """Render a lazily-created document (settlements) to its gzip file."""
    from splake.sandbox.reports_render import render_gzip_to

    with state.lock:  # concurrent first downloads must not render into the same file
        if doc.path is not None or doc.request is None:
            return
        path = state.doc_dir / f"{doc.document_id}.gz"
        info = render_gzip_to(path, doc.request, cache=True)
        doc.path, doc.size = path, info.gzip_bytes


def routes(state: SandboxState) -> list[Route]:
    async def download(request: Request) -> Response:
        document_id = request.path_params["documentId"]
        problem = check_url(state, request, document_id)
        if problem is not None:
            return problem
        doc: DocumentRecord | None = state.documents.get(document_id)
        if doc is None:
            return s3_error(404, "NoSuchKey", "The specified key does not exist.", Key=document_id)
        if doc.path is None:
            await anyio.to_thread.run_sync(ensure_rendered, state, doc)
        assert doc.path is not None
        data_size = doc.path.stat().st_size
        cfg = state.config
        truncate = state.chance(cfg.truncate_download_rate, "truncate_download")
        corrupt = state.chance(cfg.corrupt_gzip_rate, "corrupt_gzip")
        if truncate:
            state.stats.count_fault("truncate_download")
        if corrupt:
            state.stats.count_fault("corrupt_gzip")
        state.stats.count_download(doc.report_type)
        ctype = doc.content_type
        if cfg.omit_charset and ";" in ctype:
            ctype = ctype.split(";", 1)[0]
        headers = {"Content-Length": str(data_size), "Content-Type": ctype, "x-amz-request-id": "SANDBOX"}
        if request.query_params.get("response-content-encoding") == "gzip":
            headers["Content-Encoding"] = "gzip"
        path = doc.path
        limit = data_size // 2 if truncate else data_size

        async def body() -> AsyncIterator[bytes]:
            sent = 0
            async with await anyio.open_file(path, "rb") as fh:
                while sent < limit:
                    chunk = await fh.read(min(1 << 20, limit - sent))
                    if not chunk:
                        break
                    if corrupt and sent <= data_size // 2 < sent + len(chunk):
                        # Damage the deflate stream in the middle (keeps the length).
                        i = data_size // 2 - sent
                        chunk = chunk[:i] + bytes(b ^ 0x5A for b in chunk[i : i + 64]) + chunk[i + 64 :]
                    sent += len(chunk)
                    yield chunk

        return StreamingResponse(body(), headers=headers, media_type=None)

    return [Route("/_documents/{documentId}", download, methods=["GET"])]
