"""JSON with a location on every node.

``json.loads`` (C speed, exact error positions) decides whether the text is
valid JSON; tree-sitter-json then gives every object, array and scalar its
span.  Strings are decoded by ``json.loads`` of the token itself, so escapes
mean exactly what they mean to any JSON reader.
"""

from __future__ import annotations

import json
from functools import lru_cache

from kmslint.model import Known, Location, Value
from kmslint.parsers.common import ColumnIndex, ParseTimeout, grammar, parse_tree

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
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

    return tree_sitter.Parser(grammar("tree_sitter_json"))


def _pairs(pairs: list[tuple[str, object]]) -> _Pairs:
    return _Pairs(pairs)


class _Pairs(list[tuple[str, object]]):
    """An object as ``json.loads`` read it: its pairs in text order, duplicates kept."""


@lru_cache(maxsize=2)
def _load(text: str, max_depth: int) -> object:
    """``json.loads`` once per text: sniffing a file (check_syntax) and building
    its located tree (parse) share the result.  Raises JSONSyntaxError."""
    try:
        data = json.loads(text, object_pairs_hook=_pairs)
    except json.JSONDecodeError as exc:
        raise JSONSyntaxError(exc.msg, exc.lineno, exc.colno) from None
    except RecursionError:
        raise JSONSyntaxError(f"nesting deeper than {max_depth} levels", 1, 1) from None
    except ValueError as exc:  # a number past Python's int digit limit
        raise JSONSyntaxError(f"invalid number: {exc}".split(";")[0], 1, 1) from None
    if _depth(data, max_depth) > max_depth:
        raise JSONSyntaxError(f"nesting deeper than {max_depth} levels", 1, 1)
    return data


def check_syntax(text: str, max_depth: int = DEFAULT_MAX_DEPTH) -> object:
    """Parse with the standard library; raise :class:`JSONSyntaxError` with a position."""
    return _plain(_load(text, max_depth))


def _plain(data: object) -> object:
    if isinstance(data, _Pairs):
        return {k: _plain(v) for k, v in data}
    if isinstance(data, list):
        return [_plain(v) for v in data]
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
        if isinstance(item, _Pairs):
            stack.extend((v, d + 1) for _k, v in item)
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

    Values come from ``json.loads`` (the reference reading of JSON); spans
    come from tree-sitter-json, walked in step with them.  Where the two
    disagree (tree-sitter-json rejects some valid numbers such as ``1e+16``),
    the subtree takes its parent's span rather than a wrong one.
    ``line_offset`` and ``first_line_col_offset`` place text embedded in
    another file (a heredoc, a JSON string) at its real position.
    """
    data = _load(text, max_depth)
    source = text.encode("utf-8", "surrogatepass")
    try:
        tree = parse_tree(_parser(), source)
    except ParseTimeout as exc:
        raise JSONSyntaxError(exc.message, exc.line + line_offset, 1) from None
    node = next((c for c in tree.root_node.named_children if c.type not in ("comment", "ERROR")), None)
    builder = _Builder(source, file, line_offset, first_line_col_offset)
    fallback = builder.loc(tree.root_node)
    return builder.build(data, node, fallback)


class _Builder:
    def __init__(self, source: bytes, file: str, line_offset: int, col_offset: int) -> None:
        self.source = source
        self.file = file
        self.line_offset = line_offset
        self.col_offset = col_offset
        self.columns = ColumnIndex(source)

    def _col(self, row: int, byte_col: int, byte_offset: int) -> int:
        col = byte_col + 1 if self.columns.ascii else self.columns.chars(byte_offset - byte_col, byte_offset) + 1
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

    def build(self, data: object, node: Node | None, fallback: Location) -> Value:
        """Pair ``data`` with ``node``, depth-first and without recursion (deep
        input must not exhaust the stack)."""
        top: list[Value] = [Known(None, fallback)]
        # (value read by json.loads, its tree-sitter node or None, the parent's span,
        #  the container the result goes into, and its key or index there)
        stack: list[tuple[object, Node | None, Location, list[Value] | dict[str, Value], int | str]] = [
            (data, node, fallback, top, 0)
        ]
        while stack:
            item, n, parent_loc, into, slot = stack.pop()
            loc = self.loc(n) if n is not None else parent_loc
            value: Value
            if isinstance(item, _Pairs):
                obj: dict[str, Value] = {k: Known(None, loc) for k, _v in item}  # keys in text order
                pairs = [c for c in n.named_children if c.type == "pair"] if n is not None else []
                aligned = n is not None and n.type == "object" and len(pairs) == len(item)
                for i, (k, v) in enumerate(item):
                    child = pairs[i].child_by_field_name("value") if aligned else None
                    stack.append((v, child, loc, obj, k))
                value = Known(obj, loc)
            elif isinstance(item, list):
                items: list[Value] = [Known(None, loc)] * len(item)
                elems = [c for c in n.named_children if c.type != "comment"] if n is not None else []
                aligned = n is not None and n.type == "array" and len(elems) == len(item)
                for i, v in enumerate(item):
                    stack.append((v, elems[i] if aligned else None, loc, items, i))
                value = Known(items, loc)
            else:
                scalar_node = n is not None and n.type in ("string", "number", "true", "false", "null")
                value = Known(item, loc if scalar_node else parent_loc)  # type: ignore[arg-type]
            into[slot] = value  # type: ignore[index]
        return top[0]
