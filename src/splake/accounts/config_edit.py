"""Write ``[[accounts]]`` entries into the user's TOML file, keeping their comments and layout (tomlkit).

Every edit is validated as a whole config before the file is replaced (temp file + rename, same mode),
so a failed edit never leaves a broken or half-written file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import tomlkit
from tomlkit.items import AoT, Table

from splake.config import Settings, parse_config
from splake.errors import ConfigError

# Order of keys in a written entry (keys already in the file keep their place).
KEY_ORDER = (
    "id",
    "type",
    "region",
    "selling_partner_id",
    "marketplaces",
    "vendor_group",
    "report_types",
    "exclude_report_types",
    "vendor_report_options",
    "refresh_token_ref",
)


def _load(path: Path) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} not found", hint="create one with `splake init` or pass --config PATH"
        ) from None
    except Exception as exc:  # tomlkit raises its own ParseError types
        raise ConfigError(
            f"config file {path} is not valid TOML: {exc}", hint="fix the syntax first"
        ) from None


def _accounts(doc: tomlkit.TOMLDocument) -> AoT:
    existing = doc.get("accounts")
    if existing is None:
        aot = tomlkit.aot()
        doc.append("accounts", aot)
        return aot
    if not isinstance(existing, AoT):
        raise ConfigError("`accounts` in the config is not an array of [[accounts]] tables")
    return existing


def _find(aot: AoT, account_id: str) -> Table | None:
    for table in aot:
        if table.get("id") == account_id:
            found: Table = table
            return found
    return None


def _toml_value(value: Any) -> Any:
    if isinstance(value, list | tuple):
        arr = tomlkit.array()
        arr.extend(value)
        return arr
    if isinstance(value, Mapping):
        inline = tomlkit.inline_table()
        inline.update(dict(value))
        return inline
    return value


def _write(path: Path, doc: tomlkit.TOMLDocument) -> Settings:
    text = tomlkit.dumps(doc)
    settings = parse_config(tomllib.loads(text), str(path))  # refuse to write a config that won't load
    mode = path.stat().st_mode & 0o777
    fd, tmp = tempfile.mkstemp(prefix=".splake-config-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return settings


def upsert_account(path: Path, entry: Mapping[str, Any]) -> tuple[Literal["added", "updated"], Settings]:
    """Add the ``[[accounts]]`` entry ``entry`` (keyed by ``id``) or update the keys it names."""
    doc = _load(path)
    aot = _accounts(doc)
    table = _find(aot, str(entry["id"]))
    values = {k: v for k, v in entry.items() if v is not None}
    if table is None:
        table = tomlkit.table()
        table.trivia.indent = "\n"  # a blank line before each new [[accounts]] entry
        for key in sorted(values, key=lambda k: KEY_ORDER.index(k) if k in KEY_ORDER else len(KEY_ORDER)):
            table[key] = _toml_value(values[key])
        aot.append(table)
        return "added", _write(path, doc)
    for key, value in values.items():
        table[key] = _toml_value(value)
    return "updated", _write(path, doc)


def set_exclusions(path: Path, account_id: str, report_types: Sequence[str]) -> Settings:
    """Set ``exclude_report_types`` of one account (an empty list removes the key)."""
    doc = _load(path)
    table = _find(_accounts(doc), account_id)
    if table is None:
        raise ConfigError(f"no [[accounts]] entry with id {account_id!r} in {path}")
    if report_types:
        table["exclude_report_types"] = _toml_value(list(report_types))
        table["exclude_report_types"].comment("splake accounts check: the authorization lacks the role")
    elif "exclude_report_types" in table:
        del table["exclude_report_types"]
    return _write(path, doc)
