"""A small GraphQL reader for the sandbox's Data Kiosk: one query operation of fields, arguments and
selection sets (the subset Data Kiosk queries use; no fragments, variables or directives).

    parse('query { ds { table(startDate: "2024-01-01", ids: ["A"]) { a b { c } } } }')
    → [Field("ds", {}, [Field("table", {...}, [Field("a"), Field("b", {}, [Field("c")])])])]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(
    r'\s+|,|#[^\n]*|(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>-?\d+(?:\.\d+)?)|(?P<name>[_A-Za-z][_0-9A-Za-z]*)'
    r"|(?P<punct>[{}()\[\]:!$])"
)


class GraphQLSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class Field:
    name: str
    args: dict[str, Any] = field(default_factory=dict)
    selections: tuple[Field, ...] = ()


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise GraphQLSyntaxError(f"unexpected character {text[pos]!r} at offset {pos}")
        pos = m.end()
        kind = m.lastgroup
        if kind is not None:
            out.append((kind, m.group(kind)))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value) or (kind is not None and tok[0] != kind):
            want = value or kind
            raise GraphQLSyntaxError(f"expected {want}, got {tok[1] if tok else 'end of query'}")
        self.i += 1
        return tok[1]

    def document(self) -> tuple[Field, ...]:
        tok = self.peek()
        if tok is not None and tok == ("name", "query"):
            self.take()
            nxt = self.peek()
            if nxt is not None and nxt[0] == "name":
                self.take()
        sels = self.selection_set()
        if self.peek() is not None:
            raise GraphQLSyntaxError(f"unexpected {self.peek()[1]} after the query")  # type: ignore[index]
        return sels

    def selection_set(self) -> tuple[Field, ...]:
        self.take("{")
        out: list[Field] = []
        while self.peek() is not None and self.peek() != ("punct", "}"):
            out.append(self.field())
        self.take("}")
        if not out:
            raise GraphQLSyntaxError("empty selection set")
        return tuple(out)

    def field(self) -> Field:
        name = self.take(kind="name")
        args: dict[str, Any] = {}
        if self.peek() == ("punct", "("):
            self.take("(")
            while self.peek() != ("punct", ")"):
                key = self.take(kind="name")
                self.take(":")
                args[key] = self.value()
            self.take(")")
        sels: tuple[Field, ...] = ()
        if self.peek() == ("punct", "{"):
            sels = self.selection_set()
        return Field(name, args, sels)

    def value(self) -> Any:
        tok = self.peek()
        if tok is None:
            raise GraphQLSyntaxError("expected a value, got end of query")
        kind, text = tok
        if kind == "str":
            self.take()
            return bytes(text[1:-1], "utf-8").decode("unicode_escape")
        if kind == "num":
            self.take()
            return float(text) if "." in text else int(text)
        if kind == "name":
            self.take()
            return {"true": True, "false": False, "null": None}.get(text, text)
        if text == "[":
            self.take("[")
            items = []
            while self.peek() != ("punct", "]"):
                items.append(self.value())
            self.take("]")
            return items
        if text == "{":
            self.take("{")
            obj = {}
            while self.peek() != ("punct", "}"):
                key = self.take(kind="name")
                self.take(":")
                obj[key] = self.value()
            self.take("}")
            return obj
        raise GraphQLSyntaxError(f"unexpected {text}")


def parse(text: str) -> tuple[Field, ...]:
    return _Parser(text).document()


def project(value: Any, selections: tuple[Field, ...]) -> Any:
    """Keep only the selected fields of a record (recursively; lists element-wise). Fields absent from the
    record (nullable ones with no value) are left out."""
    if isinstance(value, list):
        return [project(v, selections) for v in value]
    if not isinstance(value, dict) or not selections:
        return value
    out: dict[str, Any] = {}
    for f in selections:
        if f.name in value:
            out[f.name] = project(value[f.name], f.selections)
    return out
