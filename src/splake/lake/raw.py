"""The raw zone: every downloaded document and API response, kept byte-for-byte and immutable.

Layout (deterministic, so a crashed or repeated run lands on the same key)::

    raw/<kind>/<account>/<type>/<yyyy>/<mm>/<dd>/<source_id>.<ext>          the bytes as received
    raw/<kind>/<account>/<type>/<yyyy>/<mm>/<dd>/<source_id>.<ext>.meta.json  provenance sidecar

``kind`` is e.g. ``reports``; ``type`` the report type (``meta["report_type"]``) or API operation
(``meta["type"]``); the date is the data window's start (``meta["data_start"]``, else ``day=``, else today);
``source_id`` e.g. ``<reportId>__<documentId>``. Re-putting the same bytes is a no-op returning the same
ref; different bytes for the same source id are kept next to it as ``<source_id>~<sha12>.<ext>``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from splake.errors import BadDataError
from splake.logs import get_logger, log_event
from splake.ports import ObjectStore

log = get_logger(__name__)

META_SUFFIX = ".meta.json"
_SAFE = re.compile(r"[^A-Za-z0-9._=-]+")
_EXT_BY_TYPE = {
    "text/tab-separated-values": "tsv",
    "text/csv": "csv",
    "application/json": "json",
    "application/x-ndjson": "ndjson",
    "text/xml": "xml",
    "application/xml": "xml",
    "text/plain": "txt",
}


@dataclass(frozen=True)
class RawRef:
    key: str
    sha256: str
    size: int

    @property
    def meta_key(self) -> str:
        return self.key + META_SUFFIX


@dataclass(frozen=True)
class RawDocument:
    """A stored raw object and its sidecar, as read back by :meth:`RawZone.iter_documents`."""

    key: str
    meta: Mapping[str, Any]
    store: ObjectStore

    def open(self) -> BinaryIO:
        """The bytes exactly as received (still gzipped if they came gzipped)."""
        return self.store.open(self.key)

    def open_decoded(self) -> BinaryIO:
        """The document with transport compression removed (gunzipped when ``compression == 'gzip'``)."""
        raw = self.store.open(self.key)
        if self.meta.get("compression") == "gzip":
            return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
        return raw

    def read_text(self) -> str:
        """Decoded text using the recorded charset (default utf-8). Small documents only."""
        with self.open_decoded() as f:
            data = f.read()
        return data.decode(str(self.meta.get("charset") or "utf-8"))


def safe_segment(value: str) -> str:
    seg = _SAFE.sub("_", value).strip("._") or "_"
    return seg[:200]


def _day_of(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo is None else value.astimezone(UTC)).date()
    if isinstance(value, date):
        return value
    text = str(value)
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (dt if dt.tzinfo is None else dt.astimezone(UTC)).date()


def extension_for(meta: Mapping[str, Any], gzipped: bool) -> str:
    ext = str(meta.get("format") or "")
    if not ext:
        ctype = str(meta.get("content_type") or "").split(";")[0].strip().lower()
        ext = _EXT_BY_TYPE.get(ctype, "bin")
    return f"{ext}.gz" if gzipped else ext


def raw_key(
    kind: str,
    account_id: str,
    type_name: str,
    day: date,
    source_id: str,
    ext: str,
    *,
    variant: str | None = None,
) -> str:
    """The deterministic raw-zone key (pure)."""
    name = safe_segment(source_id) + (f"~{variant}" if variant else "")
    return (
        f"raw/{safe_segment(kind)}/{safe_segment(account_id)}/{safe_segment(type_name)}/"
        f"{day:%Y}/{day:%m}/{day:%d}/{name}.{ext}"
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


HASH_INLINE_BYTES = 4 * 1024 * 1024  # documents up to this size are hashed before the copy, not beside it


def _hash_file(path: Path) -> tuple[str, int, bool]:
    h = hashlib.sha256()
    size = 0
    head = b""
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            if not head:
                head = chunk[:2]
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size, head == b"\x1f\x8b"


class RawZone:
    """Immutable raw documents on an :class:`~splake.ports.ObjectStore`."""

    def __init__(self, store: ObjectStore, *, clock: Callable[[], datetime] | None = None) -> None:
        self.store = store
        self._clock = clock or (lambda: datetime.now(UTC))

    def _read_meta(self, key: str) -> dict[str, Any] | None:
        meta_key = key + META_SUFFIX
        if not self.store.exists(meta_key):
            return None
        loaded: dict[str, Any] = json.loads(self.store.get_bytes(meta_key))
        return loaded

    def _stored_sha(self, key: str) -> str:
        meta = self._read_meta(key)
        if meta and meta.get("sha256"):
            return str(meta["sha256"])
        h = hashlib.sha256()
        with self.store.open(key) as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        return h.hexdigest()

    def put_document(
        self,
        account_id: str,
        kind: str,
        source_id: str,
        path: str | Path,
        meta: Mapping[str, Any],
        *,
        day: date | None = None,
    ) -> RawRef:
        """Store the file at ``path`` byte-for-byte. ``meta`` should carry report_id, document_id,
        report_type, marketplaces, data_start, data_end, content_type, charset (all go to the sidecar)."""
        path = Path(path)
        if not path.is_file():
            raise BadDataError(f"raw document {path} does not exist", where="RawZone.put_document")
        type_name = str(meta.get("report_type") or meta.get("type") or "_")
        the_day = day or _day_of(meta.get("data_start")) or self._clock().date()

        def copy(gzipped: bool) -> tuple[str, str, bool]:
            ext = extension_for(meta, gzipped)
            key = raw_key(kind, account_id, type_name, the_day, source_id, ext)
            return ext, key, self.store.put_file(key, path, if_absent=True)

        if path.stat().st_size <= HASH_INLINE_BYTES:  # a thread would cost more than hashing it here
            sha, size, gzipped = _hash_file(path)
            ext, key, wrote = copy(gzipped)
        else:
            # the digest is computed while the store writes the copy (both read the file; hashlib and file
            # I/O release the GIL): it is only needed after the write, to tell a different document at the
            # key from the same one, and for the sidecar (a 234 MB document: 0.17 s of hashing no longer in
            # series)
            with ThreadPoolExecutor(1, thread_name_prefix="splake-rawhash") as pool:
                hashing = pool.submit(_hash_file, path)
                with open(path, "rb") as f:
                    head = f.read(2)
                ext, key, wrote = copy(head == b"\x1f\x8b")
                sha, size, gzipped = hashing.result()
        sidecar = {
            **meta,
            "account_id": account_id,
            "kind": kind,
            "source_id": source_id,
            "sha256": sha,
            "size": size,
            "compression": "gzip" if gzipped else meta.get("compression"),
            "received_at": self._clock().isoformat(),
            "key": key,
        }
        variant = raw_key(kind, account_id, type_name, the_day, source_id, ext, variant=sha[:12])
        return self._put(
            key, variant, sha, size, sidecar, lambda k: self.store.put_file(k, path, if_absent=True), wrote
        )

    def _put(
        self,
        key: str,
        variant_key: str,
        sha: str,
        size: int,
        sidecar: dict[str, Any],
        write: Callable[[str], bool],
        wrote: bool,
    ) -> RawRef:
        """``wrote``: what ``write(key)`` returned (False: an object was already there)."""
        if not wrote:
            existing = self._stored_sha(key)
            if existing != sha:
                log_event(
                    log, "raw_document_differs", key=key, kept_as=variant_key, sha256=sha, existing=existing
                )
                key = variant_key
                sidecar["key"] = key
                write(key)
        meta_key = key + META_SUFFIX
        if not self.store.exists(meta_key):
            body = json.dumps(sidecar, default=_json_default, sort_keys=True, indent=1).encode()
            if self.store.put_bytes(meta_key, body, if_absent=True, content_type="application/json"):
                log_event(log, "raw_stored", key=key, size=size, sha256=sha)
        return RawRef(key=key, sha256=sha, size=size)

    def put_records(
        self,
        account_id: str,
        kind: str,
        source_id: str,
        records: Iterable[Mapping[str, Any]],
        meta: Mapping[str, Any],
        *,
        day: date | None = None,
    ) -> RawRef:
        """Store API records as gzipped NDJSON (deterministic bytes: same records → same object)."""
        fd, tmp_name = tempfile.mkstemp(prefix="splake-raw-", suffix=".ndjson.gz")
        tmp = Path(tmp_name)
        count = 0
        try:
            with os.fdopen(fd, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, filename="") as gz:
                text = io.TextIOWrapper(gz, encoding="utf-8", newline="\n")
                for rec in records:
                    text.write(json.dumps(rec, default=_json_default, sort_keys=True, separators=(",", ":")))
                    text.write("\n")
                    count += 1
                text.flush()
                text.detach()
            full = {
                "content_type": "application/x-ndjson",
                "charset": "utf-8",
                "format": "ndjson",
                **meta,
                "records": count,
            }
            return self.put_document(account_id, kind, source_id, tmp, full, day=day)
        finally:
            tmp.unlink(missing_ok=True)

    def get_meta(self, key: str) -> dict[str, Any]:
        meta = self._read_meta(key)
        if meta is None:
            raise BadDataError(f"raw object {key!r} has no {META_SUFFIX} sidecar", where=self.store.uri(key))
        return meta

    def iter_documents(self, prefix: str = "raw/") -> Iterator[RawDocument]:
        """Stored documents under ``prefix`` (key order) with their sidecar metadata."""
        for info in self.store.list(prefix):
            if info.key.endswith(META_SUFFIX):
                continue
            meta = self._read_meta(info.key)
            if meta is None:  # a crash between the object and its sidecar; the re-run will add it
                continue
            yield RawDocument(key=info.key, meta=meta, store=self.store)
