"""JSON with a location on every node.

``json.loads`` (C speed, exact error positions) decides whether the text is
valid JSON; tree-sitter-json then gives every object, array and scalar its
span.  Strings are decoded by ``json.loads`` of the token itself, so escapes
mean exactly what they mean to any JSON reader.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING

from kmslint.model import Known, Location, Value

if TYPE_CHECKING:
    from tree_sitter import Node, Parser

DEFAULT_MAX_DEPTH = 200


class JSONSyntaxError(Exception):
    """Invalid JSON, with a 1-based line and column."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@lru_cache(maxsize=1)
def _parser() -> Parser:
    import tree_sitter
    import tree_sitter_json

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_json.language()))


def check_syntax(text: str, max_depth: int = DEFAULT_MAX_DEPTH) -> object:
    """Parse with the standard library; raise :class:`JSONSyntaxError` with a position."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JSONSyntaxError(exc.msg, exc.lineno, exc.colno) from None
    except RecursionError:
        raise JSONSyntaxError(f"nesting deeper than {max_depth} levels", 1, 1) from None
    depth = _depth(data, max_depth)
    if depth > max_depth:
        raise JSONSyntaxError(f"nesting deeper than {max_depth} levels", 1, 1)
    return data


def _depth(data: object, limit: int) -> int:
    """Nesting depth, iteratively, stopping early past ``limit``."""
    stack: list[tuple[object, int]] = [(data, 1)]
    deepest = 0
    while stack:
        item, d = stack.pop()
        if d > deepest:
            deepest = d
            if deepest > limit:
                return deepest
        if isinstance(item, dict):
            stack.extend((v, d + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, d + 1) for v in item)
    return deepest


def parse(
    text: str,
    file: str,
    *,
    line_offset: int = 0,
    first_line_col_offset: int = 0,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Value:
    """Parse JSON text into a located value tree.

    ``line_offset`` and ``first_line_col_offset`` place text embedded in
    another file (a heredoc, a JSON string) at its real position.
    """
    check_syntax(text, max_depth)
    source = text.encode("utf-8", "surrogatepass")
    tree = _parser().parse(source)
    root = tree.root_node
    node = next((c for c in root.named_children if c.type != "comment"), None)
    if node is None:  # pragma: no cover - json.loads accepted it, so there is a value
        raise JSONSyntaxError("empty document", 1, 1)
    return _Builder(source, file, line_offset, first_line_col_offset).build(node)


class _Builder:
    def __init__(self, source: bytes, file: str, line_offset: int, col_offset: int) -> None:
        self.source = source
        self.file = file
        self.line_offset = line_offset
        self.col_offset = col_offset

    def _col(self, row: int, byte_col: int, byte_offset: int) -> int:
        line_start = byte_offset - byte_col
        prefix = self.source[line_start:byte_offset]
        col = (len(prefix.decode("utf-8", "replace")) if not prefix.isascii() else byte_col) + 1
        return col + (self.col_offset if row == 0 else 0)

    def loc(self, node: Node) -> Location:
        sr, sc = node.start_point
        er, ec = node.end_point
        return Location(
            self.file,
            sr + 1 + self.line_offset,
            self._col(sr, sc, node.start_byte),
            er + 1 + self.line_offset,
            self._col(er, ec, node.end_byte),
        )

    def build(self, root: Node) -> Value:
        # Iterative post-order walk: deep documents must not exhaust the C stack.
        results: dict[int, Value] = {}
        stack: list[tuple[Node, bool]] = [(root, False)]
        while stack:
            node, done = stack.pop()
            kind = node.type
            if kind in ("object", "array") and not done:
                stack.append((node, True))
                for child in node.named_children:
                    if child.type == "pair":
                        val = child.child_by_field_name("value")
                        if val is not None:
                            stack.append((val, False))
                    elif child.type != "comment":
                        stack.append((child, False))
                continue
            results[node.id] = self._value(node, results)
        return results[root.id]

    def _value(self, node: Node, done: dict[int, Value]) -> Value:
        kind = node.type
        loc = self.loc(node)
        if kind == "object":
            obj: dict[str, Value] = {}
            for pair in node.named_children:
                if pair.type != "pair":
                    continue
                key = pair.child_by_field_name("key")
                val = pair.child_by_field_name("value")
                if key is None or val is None:
                    continue
                obj[self._string(key)] = done.pop(val.id)
            return Known(obj, loc)
        if kind == "array":
            return Known([done.pop(c.id) for c in node.named_children if c.type != "comment"], loc)
        if kind == "string":
            return Known(self._string(node), loc)
        if kind == "number":
            return Known(json.loads(node.text or b"0"), loc)
        if kind == "true":
            return Known(True, loc)
        if kind == "false":
            return Known(False, loc)
        return Known(None, loc)

    @staticmethod
    def _string(node: Node) -> str:
        raw = (node.text or b'""').decode("utf-8", "surrogatepass")
        try:
            value = json.loads(raw)
        except ValueError:
            return raw.strip('"')
        return value if isinstance(value, str) else str(value)
