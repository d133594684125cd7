"""Terraform files (HCL native syntax and the JSON syntax) as a small tree of blocks.

tree-sitter-hcl gives every node a byte span; this module turns a file into
:class:`Block` / :class:`Attr` objects that keep their source and location,
with expressions left unevaluated (:class:`Expr`).  The evaluator
(:mod:`kmslint.parsers.hcl_eval`) reads them.

The same classes cover ``.tf.json``: there an attribute's expression is a
located JSON value, and which keys are nested blocks is decided by whoever
asks (``block.children("statement")``), as Terraform decides it from the
provider schema.
"""

from __future__ import annotations

import bisect
from functools import lru_cache

from kmslint.model import Known, Location, Value
from kmslint.parsers.common import Budget, ColumnIndex, ParseFailure, grammar, parse_tree
from kmslint.record import Record, field

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from pathlib import Path

    from tree_sitter import Node, Parser, Query, Tree


@lru_cache(maxsize=1)
def hcl_parser() -> Parser:
    import tree_sitter

    return tree_sitter.Parser(grammar("tree_sitter_hcl"))


@lru_cache(maxsize=1)
def _comment_query() -> Query:
    import tree_sitter

    query: Query = tree_sitter.Query(grammar("tree_sitter_hcl"), "(comment) @c")  # stub: Self, Any before 3.11
    return query


@lru_cache(maxsize=1)
def _json_parser() -> Parser:
    import tree_sitter

    return tree_sitter.Parser(grammar("tree_sitter_json"))


@lru_cache(maxsize=1)
def _pair_query() -> Query:
    import tree_sitter

    query: Query = tree_sitter.Query(grammar("tree_sitter_json"), "(pair key: (_) @k)")  # stub: Self, Any before 3.11
    return query


class Src:
    """The bytes of one source text and how its positions map to locations.

    ``row_offset`` shifts every line (a template read by ``templatefile()``
    is parsed inside a synthetic heredoc one line down); ``fixed``, when
    set, is the location of everything in it (a ``${}`` template inside a
    ``.tf.json`` string, whose escapes make exact columns meaningless).
    """

    __slots__ = ("_columns", "_starts", "data", "display", "fixed", "path", "row_offset")

    def __init__(
        self,
        display: str,
        data: bytes,
        path: Path | None = None,
        row_offset: int = 0,
        fixed: Location | None = None,
    ) -> None:
        self.display = display
        self.data = data
        self.path = path
        self.row_offset = row_offset
        self.fixed = fixed
        self._starts: list[int] | None = None
        self._columns = ColumnIndex(data)

    def line_starts(self) -> list[int]:
        if self._starts is None:
            starts = [0]
            data = self.data
            i = data.find(b"\n")
            while i != -1:
                starts.append(i + 1)
                i = data.find(b"\n", i + 1)
            self._starts = starts
        return self._starts

    def row_of(self, byte: int) -> int:
        return bisect.bisect_right(self.line_starts(), byte) - 1

    def col(self, row: int, byte_col: int) -> int:
        """1-based character column of a byte column on a 0-based row."""
        if self._columns.ascii:  # bytes are characters: the common case, on a hot path
            return byte_col + 1
        starts = self.line_starts()
        if row >= len(starts):
            return byte_col + 1
        start = starts[row]
        return self._columns.chars(start, start + byte_col) + 1

    def span(self, start: tuple[int, int], end: tuple[int, int]) -> Location:
        if self.fixed is not None:
            return self.fixed
        sr, sc = start
        er, ec = end
        return Location(
            self.display,
            sr + 1 + self.row_offset,
            self.col(sr, sc),
            er + 1 + self.row_offset,
            self.col(er, ec),
        )

    def loc(self, node: Node) -> Location:
        if self.fixed is not None:
            return self.fixed
        sr, sc = node.start_point
        er, ec = node.end_point
        if self._columns.ascii:  # span() inlined: one Location per attribute and block of every file
            first = self.row_offset + 1
            return Location(self.display, sr + first, sc + 1, er + first, ec + 1)
        return self.span((sr, sc), (er, ec))

    def text(self, node: Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")


class Expr(Record, eq=False):
    """An unevaluated expression: a tree-sitter node (HCL) or a located JSON value."""

    src: Src
    node: Node | None = None
    json: Value | None = None

    # One per attribute and block of every file: a plain __init__ (kmslint.record's is generic).
    def __init__(self, src: Src, node: Node | None = None, json: Value | None = None) -> None:
        self.src = src
        self.node = node
        self.json = json


# Attributes and blocks are made for every one of every file, and most (the buckets,
# roles and networks around the keys) are never reported: their locations are
# computed from the syntax node when first read.


class Attr:
    """``name = value``; ``loc`` spans the whole of it."""

    __slots__ = ("_loc", "_node", "expr", "name")

    def __init__(self, name: str, expr: Expr, loc: Location | Node) -> None:
        self.name = name
        self.expr = expr
        self._loc: Location | None = loc if isinstance(loc, Location) else None
        self._node: Node | None = None if isinstance(loc, Location) else loc

    @property
    def loc(self) -> Location:
        if self._loc is None:
            assert self._node is not None
            self._loc = self.expr.src.loc(self._node)
        return self._loc


class Block:
    """A block: its type, labels, attributes and nested blocks; ``loc`` spans header to
    closing brace, ``header`` the ``resource "aws_kms_key" "x" {`` line."""

    __slots__ = (
        *("_header", "_header_end", "_loc", "_node"),
        *("attrs", "blocks", "is_json", "json_keys", "labels", "src", "type"),
    )

    def __init__(
        self,
        type: str,
        labels: list[str],
        attrs: dict[str, Attr],
        blocks: list[Block],
        loc: Location | Node,
        header: Location | tuple[int, int],
        src: Src,
        is_json: bool = False,
        json_keys: dict[tuple[int, int], Location] | None = None,
    ) -> None:
        """``loc`` a Location, or the block's node; ``header`` a Location, or where it ends in that node."""
        self.type = type
        self.labels = labels
        self.attrs = attrs
        self.blocks = blocks
        self.src = src
        self.is_json = is_json
        self.json_keys = {} if json_keys is None else json_keys
        self._loc: Location | None = loc if isinstance(loc, Location) else None
        self._node: Node | None = None if isinstance(loc, Location) else loc
        self._header: Location | None = header if isinstance(header, Location) else None
        self._header_end: tuple[int, int] | None = None if isinstance(header, Location) else header

    @property
    def loc(self) -> Location:
        if self._loc is None:
            assert self._node is not None
            self._loc = self.src.loc(self._node)
        return self._loc

    @property
    def header(self) -> Location:
        if self._header is None:
            assert self._node is not None
            assert self._header_end is not None
            self._header = self.src.span(tuple(self._node.start_point), self._header_end)  # type: ignore[arg-type]
        return self._header

    def attr(self, name: str) -> Attr | None:
        return self.attrs.get(name)

    def children(self, btype: str) -> list[Block]:
        """Nested blocks of one type (not ``dynamic`` ones)."""
        if not self.is_json:
            return [b for b in self.blocks if b.type == btype]
        a = self.attrs.get(btype)
        if a is None or a.expr.json is None:
            return []
        return json_blocks(a.expr.json, btype, [], self.src, self.json_keys, a.loc)

    def dynamic(self, btype: str) -> list[Block]:
        """``dynamic "btype" { for_each ... content { } }`` blocks."""
        if not self.is_json:
            return [b for b in self.blocks if b.type == "dynamic" and b.labels[:1] == [btype]]
        a = self.attrs.get("dynamic")
        if a is None or not isinstance(a.expr.json, Known) or not isinstance(a.expr.json.value, dict):
            return []
        inner = a.expr.json.value.get(btype)
        if inner is None:
            return []
        return json_blocks(inner, "dynamic", [btype], self.src, self.json_keys, a.loc)


def json_blocks(
    value: Value,
    btype: str,
    labels: list[str],
    src: Src,
    keys: dict[tuple[int, int], Location],
    fallback: Location,
) -> list[Block]:
    """Blocks written in JSON syntax: an object, or an array of objects."""
    items = value.value if isinstance(value, Known) and isinstance(value.value, list) else [value]
    out: list[Block] = []
    for item in items:
        if isinstance(item, Known) and isinstance(item.value, dict):
            out.append(json_block(item, btype, labels, src, keys, fallback))
    return out


def json_block(
    obj: Known,
    btype: str,
    labels: list[str],
    src: Src,
    keys: dict[tuple[int, int], Location],
    fallback: Location,
    header_key: Location | None = None,
) -> Block:
    assert isinstance(obj.value, dict)
    loc = obj.loc or fallback
    attrs: dict[str, Attr] = {}
    for name, v in obj.value.items():
        if name == "//":
            continue
        vloc = v.loc or loc
        key = keys.get((vloc.line, vloc.column))
        aloc = Location(vloc.file, key.line, key.column, vloc.end_line, vloc.end_column) if key is not None else vloc
        attrs[name] = Attr(name, Expr(src, json=v), aloc)
    start = header_key or loc
    whole = Location(loc.file, start.line, start.column, loc.end_line, loc.end_column)
    header = Location(loc.file, start.line, start.column, loc.line, loc.column + 1)
    return Block(btype, labels, attrs, [], whole, header, src, is_json=True, json_keys=keys)


class ParsedFile(Record, eq=False):
    src: Src
    blocks: list[Block]
    comment_lines: set[int]
    # Top-level attributes (``.tfvars`` files).
    attrs: dict[str, Attr] = field(default_factory=dict)
    # ``.tf.json``: line -> text of a ``"//"`` comment member on it.
    comment_text: dict[int, str] = field(default_factory=dict)
    tree: object = None  # keeps the tree-sitter tree (and so its nodes) alive


# --------------------------------------------------------------------------- HCL native syntax


def first_error(root: Node) -> Node | None:
    """The first ERROR or MISSING node in document order (iterative walk)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            return node
        if node.has_error:
            stack.extend(reversed(node.children))
    return None


def hcl_tree(data: bytes, budget: Budget | None = None) -> Tree:
    """tree-sitter-hcl's tree of ``data``, read as Terraform reads it.

    Where the grammar is stricter than Terraform (``1e3``; see
    :mod:`kmslint.parsers.hcl_lenient`), the tree is that of a same-length
    rewrite of the text: every node keeps its offsets, and whoever reads a
    node's text reads it from ``data``.
    """
    tree = parse_tree(hcl_parser(), data, budget)
    if tree.root_node.has_error:
        from kmslint.parsers.hcl_lenient import rewrite

        fixed = rewrite(data, budget)
        if fixed is not None:
            tree = parse_tree(hcl_parser(), fixed, budget)
    return tree


def parse_hcl(src: Src, max_depth: int, budget: Budget | None = None) -> ParsedFile:
    """Parse HCL native syntax; raise :class:`ParseFailure` on a syntax error."""
    tree = hcl_tree(src.data, budget)
    root = tree.root_node
    if root.has_error:
        from kmslint.parsers.wording import hcl_problem, hcl_where

        bad = first_error(root) or root
        row, col = hcl_where(bad).start_point
        raise ParseFailure(f"invalid HCL: {hcl_problem(bad, src)}", row + 1, src.col(row, col))
    # Comments matter only as suppressions (kmslint:ignore); most files have none.
    comment_lines: set[int] = set()
    for node in _comment_query_captures(root) if b"kmslint" in src.data else ():
        for row in range(node.start_point[0], node.end_point[0] + 1):
            comment_lines.add(row + 1 + src.row_offset)
    body = next((c for c in root.named_children if c.type == "body"), None)
    blocks: list[Block] = []
    attrs: dict[str, Attr] = {}
    if body is not None:
        attrs, blocks = _body(body, src, max_depth)
    return ParsedFile(src, blocks, comment_lines, attrs=attrs, tree=tree)


def _comment_query_captures(root: Node) -> list[Node]:
    import tree_sitter

    caps = tree_sitter.QueryCursor(_comment_query()).captures(root)
    return list(caps.get("c", []))


def _body(body: Node, src: Src, max_depth: int) -> tuple[dict[str, Attr], list[Block]]:
    """Attributes and blocks of a body, nested blocks built without recursion."""
    top_attrs: dict[str, Attr] = {}
    top_blocks: list[Block] = []
    # (body node, attrs dict to fill, blocks list to fill, depth)
    work: list[tuple[Node, dict[str, Attr], list[Block], int]] = [(body, top_attrs, top_blocks, 0)]
    while work:
        node, attrs, blocks, depth = work.pop()
        if depth > max_depth:
            row, col = node.start_point
            raise ParseFailure(f"blocks nested deeper than {max_depth} levels", row + 1, src.col(row, col))
        for child in node.named_children:
            if child.type == "attribute":
                ident = child.named_children[0]
                expr = child.child_by_field_name("val") or child.named_children[-1]
                name = src.text(ident)
                attrs[name] = Attr(name, Expr(src, node=expr), child)
            elif child.type == "block":
                block, inner = _block_shell(child, src)
                blocks.append(block)
                if inner is not None:
                    work.append((inner, block.attrs, block.blocks, depth + 1))
    return top_attrs, top_blocks


def _block_shell(node: Node, src: Src) -> tuple[Block, Node | None]:
    btype = ""
    labels: list[str] = []
    inner: Node | None = None
    header_end = node.end_point
    for child in node.children:
        t = child.type
        if t == "identifier" and not btype:
            btype = src.text(child)
        elif t == "string_lit":
            labels.append(_string_lit_text(child, src))
        elif t == "identifier":
            labels.append(src.text(child))
        elif t == "block_start":
            header_end = child.end_point
        elif t == "body":
            inner = child
    block = Block(btype, labels, {}, [], node, tuple(header_end), src)  # type: ignore[arg-type]
    return block, inner


def _string_lit_text(node: Node, src: Src) -> str:
    start = node.start_byte
    end = node.end_byte
    raw = src.data[start:end].decode("utf-8", "replace")
    if raw.startswith('"'):
        raw = raw[1:]
    if raw.endswith('"'):
        raw = raw[:-1]
    return unescape_quoted(raw)


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def unescape_quoted(raw: str) -> str:
    """HCL quoted-string escapes, plus ``$${`` and ``%%{``."""
    if "\\" not in raw and "$${" not in raw and "%%{" not in raw:
        return raw
    out: list[str] = []
    i = 0
    n = len(raw)
    while i < n:
        ch = raw[i]
        if ch == "\\" and i + 1 < n:
            nxt = raw[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if nxt in "uU":
                width = 4 if nxt == "u" else 8
                digits = raw[i + 2 : i + 2 + width]
                if len(digits) == width and all(c in "0123456789abcdefABCDEF" for c in digits):
                    code = int(digits, 16)
                    # As Go encodes a rune: a surrogate (\ud800, even in a pair: HCL reads each
                    # escape alone) or a code past Unicode is U+FFFD, never a lone surrogate.
                    out.append(chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd")
                    i += 2 + width
                    continue
            out.append(ch)
            i += 1
            continue
        if raw.startswith("$${", i) or raw.startswith("%%{", i):
            out.append(ch + "{")
            i += 3
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def unescape_template_markers(raw: str) -> str:
    """Heredoc literal text: only ``$${`` and ``%%{`` are escapes."""
    if "$${" not in raw and "%%{" not in raw:
        return raw
    return raw.replace("$${", "${").replace("%%{", "%{")


# --------------------------------------------------------------------------- JSON syntax


def parse_tf_json(src: Src, max_depth: int, budget: Budget | None = None) -> ParsedFile:
    """Parse the Terraform JSON syntax into the same blocks."""
    from kmslint.parsers import jsonpos

    if budget is not None:
        budget.measure_memory_from_here(len(src.data))  # json.loads comes before the parse
    text = src.data.decode("utf-8", "surrogatepass")
    try:
        value = jsonpos.parse(text, src.display, max_depth=max_depth, budget=budget)
    except jsonpos.JSONSyntaxError as exc:
        raise ParseFailure(f"invalid JSON: {exc.message}", exc.line, exc.column) from None
    keys = json_key_locations(src, budget)
    comment_text = {loc.line: text for loc, text in _json_comment_keys(value)}
    blocks: list[Block] = []
    if not isinstance(value, Known) or not isinstance(value.value, dict):
        raise ParseFailure("a Terraform JSON file must hold an object", 1, 1)
    for section, content in value.value.items():
        for top in _as_items(content):
            if not isinstance(top, Known) or not isinstance(top.value, dict):
                continue
            if section in ("resource", "data"):
                for rtype, per_type in top.value.items():
                    for named in _as_items(per_type):
                        if not isinstance(named, Known) or not isinstance(named.value, dict):
                            continue
                        for name, body in named.value.items():
                            blocks.extend(_json_labelled(section, [rtype, name], body, src, keys))
            elif section in ("variable", "output", "module", "provider"):
                for name, body in top.value.items():
                    blocks.extend(_json_labelled(section, [name], body, src, keys))
            elif section == "locals":
                loc = top.loc or Location.point(src.display, 1)
                blocks.append(json_block(top, "locals", [], src, keys, loc))
    return ParsedFile(src, blocks, set(comment_text), comment_text=comment_text)


def _as_items(value: Value) -> list[Value]:
    if isinstance(value, Known) and isinstance(value.value, list):
        return list(value.value)
    return [value]


def _json_labelled(
    section: str, labels: list[str], body: Value, src: Src, keys: dict[tuple[int, int], Location]
) -> list[Block]:
    out: list[Block] = []
    for item in _as_items(body):
        if isinstance(item, Known) and isinstance(item.value, dict) and item.loc is not None:
            key = keys.get((item.loc.line, item.loc.column))
            out.append(json_block(item, section, labels, src, keys, item.loc, header_key=key))
    return out


def json_key_locations(src: Src, budget: Budget | None = None) -> dict[tuple[int, int], Location]:
    """(line, column) of each object member's value -> the location of its key."""
    import tree_sitter

    tree = parse_tree(_json_parser(), src.data, budget)
    out: dict[tuple[int, int], Location] = {}
    caps = tree_sitter.QueryCursor(_pair_query()).captures(tree.root_node)
    for key in caps.get("k", []):
        pair = key.parent
        if pair is None:
            continue
        val = pair.child_by_field_name("value")
        if val is None:
            continue
        vloc = src.loc(val)
        out[(vloc.line, vloc.column)] = src.loc(key)
    return out


def _json_comment_keys(value: Value) -> list[tuple[Location, str]]:
    """``"//": "..."`` comment members (Terraform JSON comments): where and what."""
    out: list[tuple[Location, str]] = []
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, Known):
            if isinstance(v.value, dict):
                for k, item in v.value.items():
                    if k == "//" and isinstance(item, Known) and item.loc is not None and isinstance(item.value, str):
                        out.append((item.loc, item.value))
                    stack.append(item)
            elif isinstance(v.value, list):
                stack.extend(v.value)
    return out
