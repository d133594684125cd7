"""JSON with a location on every node.

``json.loads`` (C speed, exact error positions) decides whether the text is
valid JSON; tree-sitter-json then gives every object, array and scalar its
span.  Strings are decoded by ``json.loads`` of the token itself, so escapes
mean exactly what they mean to any JSON reader.

Of a key written twice in one object the last value is read, as
``json.loads``, Go and CloudFormation read it; each later occurrence met
while building located values is recorded (:attr:`JsonDocument.duplicates`)
for the rules that care (a key written twice inside a key policy is KMS013).
"""

from __future__ import annotations

import json
from functools import lru_cache

from kmslint.model import DuplicateKey, Known, Location, Value
from kmslint.parsers.common import (
    MAX_DUPLICATE_KEYS,
    Budget,
    ColumnIndex,
    ParseTimeout,
    as_go_reads_json,
    grammar,
    int_max_str_digits,
    parse_tree,
)

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import TypeGuard

    from tree_sitter import Node, Parser

DEFAULT_MAX_DEPTH = 200


class JSONSyntaxError(Exception):
    """Invalid JSON, with a 1-based line and column; ``limit``: valid JSON past a parse limit."""

    def __init__(self, message: str, line: int, column: int, *, limit: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.limit = limit


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
        data = _loads(text)
    except json.JSONDecodeError as exc:
        from kmslint.parsers.wording import json_problem, same_on_every_python

        exc = same_on_every_python(exc)
        raise JSONSyntaxError(json_problem(exc), exc.lineno, exc.colno) from None
    except RecursionError:
        raise JSONSyntaxError(f"nesting deeper than {max_depth} levels", 1, 1, limit=True) from None
    if _depth(data, max_depth) > max_depth:
        raise JSONSyntaxError(f"nesting deeper than {max_depth} levels", 1, 1, limit=True)
    return as_go_reads_json(text, data)


# Python refuses to turn longer digit strings into an int (ValueError), and the conversion
# is quadratic in their length.
_MAX_INT_CHARS = min(4300, int_max_str_digits() or 4300)


def _int_or_text(digits: str) -> int | str:
    """A JSON integer, or the text it is written as when it has more than 4,300 digits (no AWS
    setting takes such a number; the YAML reader keeps it as text too)."""
    return int(digits) if len(digits) <= _MAX_INT_CHARS else digits


def _loads(text: str) -> object:
    """``json.loads``, objects as :class:`_Pairs`; an integer of more than 4,300 digits stays text."""
    if not int_max_str_digits():  # no limit set: Python would spend quadratic time on it
        return json.loads(text, object_pairs_hook=_pairs, parse_int=_int_or_text)
    try:
        return json.loads(text, object_pairs_hook=_pairs)  # the common case, integers read in C
    except json.JSONDecodeError:
        raise
    except ValueError:  # past Python's digit limit: read again, keeping such numbers as text
        return json.loads(text, object_pairs_hook=_pairs, parse_int=_int_or_text)


def check_syntax(text: str, max_depth: int = DEFAULT_MAX_DEPTH) -> object:
    """Parse with the standard library; raise :class:`JSONSyntaxError` with a position."""
    return _plain(_load(text, max_depth))


def members(text: str, max_depth: int = DEFAULT_MAX_DEPTH) -> dict[str, object] | None:
    """The top-level members of a JSON object (None for other JSON), their values as read,
    without turning the whole document into dicts as :func:`check_syntax` does: enough to
    tell a CloudFormation template, whose resources are most of it, at a glance.  Raises
    :class:`JSONSyntaxError` as :func:`check_syntax` does."""
    return object_members(_load(text, max_depth))


def object_members(data: object) -> dict[str, object] | None:
    """The members of an object as read by :func:`members` (the last of duplicate keys wins,
    as in ``json.loads``), one level deep; None when ``data`` is not an object."""
    return dict(data) if isinstance(data, _Pairs) else None


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
    budget: Budget | None = None,
    duplicates: list[DuplicateKey] | None = None,
) -> Value:
    """Parse JSON text into a located value tree.

    Values come from ``json.loads`` (the reference reading of JSON); spans
    come from tree-sitter-json, walked in step with them.  Where the two
    disagree (tree-sitter-json rejects some valid numbers such as ``1e+16``),
    the subtree takes its parent's span rather than a wrong one.
    ``line_offset`` and ``first_line_col_offset`` place text embedded in
    another file (a heredoc, a JSON string) at its real position.  ``budget``,
    when given, pays for the parse and two steps per value built.  Keys the
    text writes twice are added to ``duplicates``, when given.
    """
    doc = parse_document(
        text,
        file,
        line_offset=line_offset,
        first_line_col_offset=first_line_col_offset,
        max_depth=max_depth,
        budget=budget,
    )
    value = doc.build(doc.data, doc.root, doc.fallback, budget)
    if duplicates is not None:
        duplicates.extend(doc.duplicates)
    return value


def parse_document(
    text: str,
    file: str,
    *,
    line_offset: int = 0,
    first_line_col_offset: int = 0,
    max_depth: int = DEFAULT_MAX_DEPTH,
    budget: Budget | None = None,
) -> JsonDocument:
    """Parse JSON text, and locate its values only when asked (:meth:`JsonDocument.build`).

    A CloudFormation template is mostly resources kmslint never reads: building
    the located tree of a whole template cost ~4x what parsing it did.
    """
    data = _load(text, max_depth)
    source = text.encode("utf-8", "surrogatepass")
    try:
        tree = parse_tree(_parser(), source, budget)
    except ParseTimeout as exc:
        raise JSONSyntaxError(exc.message, exc.line + line_offset, 1, limit=True) from None
    node = next((c for c in tree.root_node.named_children if c.type not in ("comment", "ERROR")), None)
    doc = JsonDocument(source, file, line_offset, first_line_col_offset, data)
    doc.root = node
    doc.fallback = doc.loc(tree.root_node)
    return doc


class JsonDocument:
    """JSON text as ``json.loads`` read it (``data``, objects as :class:`_Pairs`) with its
    tree-sitter tree (``root``): a value and its node, walked in step, give located values."""

    def __init__(self, source: bytes, file: str, line_offset: int, col_offset: int, data: object) -> None:
        self.source = source
        self.file = file
        self.line_offset = line_offset
        self.col_offset = col_offset
        self.columns = ColumnIndex(source)
        self.data = data
        self.root: Node | None = None
        self.fallback = Location.point(file, 1 + line_offset)
        # Each key written again in its object, at its later occurrence, for the objects
        # located so far (see note_duplicates); _noted: those objects, by identity.
        self.duplicates: list[DuplicateKey] = []
        self._noted: set[int] = set()

    @staticmethod
    def is_object(item: object) -> TypeGuard[_Pairs]:
        return isinstance(item, _Pairs)

    @staticmethod
    def member_nodes(item: _Pairs, n: Node | None) -> list[Node | None]:
        """The value node of each member of an object, or Nones where the tree does not match."""
        pairs = [c for c in n.named_children if c.type == "pair"] if n is not None else []
        if n is None or n.type != "object" or len(pairs) != len(item):
            return [None] * len(item)
        return [p.child_by_field_name("value") for p in pairs]

    @staticmethod
    def key_nodes(item: _Pairs, n: Node | None) -> list[Node | None]:
        """The key node of each member of an object, or Nones where the tree does not match."""
        pairs = [c for c in n.named_children if c.type == "pair"] if n is not None else []
        if n is None or n.type != "object" or len(pairs) != len(item):
            return [None] * len(item)
        return [p.child_by_field_name("key") for p in pairs]

    def note_duplicates(self, item: _Pairs, n: Node | None, where: Location) -> None:
        """Record the keys that object ``item`` (at node ``n``, span ``where``) writes again.

        Called only for an object known to have some (its members outnumber its
        distinct keys), and recorded once however often the object is read.  The
        values that later ones override are never read, so keys written twice
        inside them are looked for here (the YAML reader finds every such key too).
        """
        if not self._record(item, n, where):
            return
        last = {name: i for i, (name, _value) in enumerate(item)}
        members = zip(item, self.member_nodes(item, n), strict=True)
        stack = [(v, c, where) for i, ((name, v), c) in enumerate(members) if last[name] != i]
        while stack:  # the overridden values, depth first
            value, node, parent_loc = stack.pop()
            loc = self.value_loc(value, node, parent_loc)
            if isinstance(value, _Pairs):
                if len({k for k, _v in value}) < len(value):
                    self._record(value, node, loc)
                stack.extend((v, c, loc) for (_k, v), c in zip(value, self.member_nodes(value, node), strict=True))
            elif isinstance(value, list):
                stack.extend((v, c, loc) for v, c in zip(value, self.element_nodes(value, node), strict=True))

    def _record(self, item: _Pairs, n: Node | None, where: Location) -> bool:
        """Record each key ``item`` writes again, at its later occurrence (a key whose node does
        not match is placed at the object); False when the object was recorded before."""
        if id(item) in self._noted:
            return False
        self._noted.add(id(item))
        first: dict[str, Location] = {}
        for (name, _value), key in zip(item, self.key_nodes(item, n), strict=True):
            here = self.loc(key) if key is not None else where
            if name not in first:
                first[name] = here
            elif len(self.duplicates) < MAX_DUPLICATE_KEYS:
                self.duplicates.append(DuplicateKey(name, here, first[name]))
        return True

    @staticmethod
    def element_nodes(item: list[object], n: Node | None) -> list[Node | None]:
        """The node of each element of an array, or Nones where the tree does not match."""
        elems = [c for c in n.named_children if c.type != "comment"] if n is not None else []
        if n is None or n.type != "array" or len(elems) != len(item):
            return [None] * len(item)
        return list(elems)

    def value_loc(self, item: object, n: Node | None, parent_loc: Location) -> Location:
        """Where the value built from ``item`` and ``n`` is (a scalar whose node does not
        match takes its parent's span)."""
        if n is None:
            return parent_loc
        if isinstance(item, _Pairs | list) or n.type in _SCALAR_NODES:
            return self.loc(n)
        return parent_loc

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

    def build(self, data: object, node: Node | None, fallback: Location, budget: Budget | None = None) -> Value:
        """Pair ``data`` with ``node``, depth-first and without recursion (deep
        input must not exhaust the stack)."""
        top: list[Value] = [Known(None, fallback)]
        # (value read by json.loads, its tree-sitter node or None, the parent's span,
        #  the container the result goes into, and its key or index there)
        stack: list[tuple[object, Node | None, Location, list[Value] | dict[str, Value], int | str]] = [
            (data, node, fallback, top, 0)
        ]
        while stack:
            if budget is not None:
                budget.spend(2)  # a value, its location and its node: ~4 us
            item, n, parent_loc, into, slot = stack.pop()
            loc = self.loc(n) if n is not None else parent_loc
            value: Value
            if isinstance(item, _Pairs):
                # Keys in text order; of duplicate keys the last one's value wins, as in
                # json.loads and CloudFormation (members are taken back last first, so with
                # duplicates they are pushed last first).
                obj: dict[str, Value] = {k: Known(None, loc) for k, _v in item}
                members: Iterable[tuple[tuple[str, object], Node | None]]
                members = zip(item, self.member_nodes(item, n), strict=True)
                if len(obj) < len(item):
                    self.note_duplicates(item, n, loc)
                    members = reversed(list(members))
                for (k, v), child in members:
                    stack.append((v, child, loc, obj, k))
                value = Known(obj, loc)
            elif isinstance(item, list):
                items: list[Value] = [Known(None, loc)] * len(item)
                for i, (v, child) in enumerate(zip(item, self.element_nodes(item, n), strict=True)):
                    stack.append((v, child, loc, items, i))
                value = Known(items, loc)
            else:
                scalar_node = n is not None and n.type in _SCALAR_NODES
                value = Known(item, loc if scalar_node else parent_loc)  # type: ignore[arg-type]
            into[slot] = value  # type: ignore[index]
        return top[0]


_SCALAR_NODES = frozenset(("string", "number", "true", "false", "null"))
