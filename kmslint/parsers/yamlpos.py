"""YAML with a location on every node, loaded safely.

PyYAML's ``compose`` (libyaml's ``CSafeLoader`` when available, the pure
Python ``SafeLoader`` otherwise) builds a node graph that keeps every tag and
every mark, and constructs nothing: no Python object is ever built from a
tag, so the input cannot execute anything.

On top of that this module adds what a linter needs and PyYAML does not do:

* a mapping key written twice is not an error: the last value is the one
  read (as CloudFormation reads a template), and each later occurrence is
  recorded (:attr:`YamlDocument.duplicates`) for the rules that care (a key
  written twice inside a key policy is KMS013); merge keys (``<<``) may
  repeat, and an explicit key overriding a merged one is what YAML intends,
  not a duplicate;
* alias expansion is bounded (a "billion laughs" document is refused instead
  of being expanded, through merge keys too), recursive aliases are refused,
  and so is nesting deeper than the configured limit;
* an anchor defined a second time is accepted, as YAML says (an alias means
  the latest node with its anchor), where PyYAML refuses the document;
* an integer too long for Python to convert stays text instead of raising;
* plain scalars are typed lazily (YAML 1.1 booleans, decimal integers and
  floats, null; everything else, dates included, stays a string), so the
  nodes nobody looks at cost nothing;
* 1-based :class:`~kmslint.model.Location` spans whose end is the end of the
  node's last character (PyYAML ends a block collection, or a block scalar,
  where the next token starts, possibly lines later);
* which ``#`` on a line really starts a comment (not one inside a quoted or
  block scalar).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator

import yaml
from yaml.events import AliasEvent
from yaml.nodes import CollectionNode, MappingNode, Node, ScalarNode, SequenceNode

from kmslint.model import DuplicateKey, Location
from kmslint.parsers.common import MAX_DUPLICATE_KEYS, ParseFailure, int_max_str_digits
from kmslint.record import Record, field

# Plain scalars get this tag; :func:`plain_value` types them when asked.
PLAIN_TAG = "!kmslint/plain"
STR_TAG = "tag:yaml.org,2002:str"
SEQ_TAG = "tag:yaml.org,2002:seq"
MAP_TAG = "tag:yaml.org,2002:map"
STD_PREFIX = "tag:yaml.org,2002:"

DEFAULT_MAX_ALIAS_NODES = 100_000

# The line breaks YAML 1.1 (and libyaml's marks) count; editors count only the first three.
_LINE_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")
_EDITOR_BREAK = re.compile(r"\r\n|[\r\n]")
_YAML_ONLY_BREAKS = ("\x85", "\u2028", "\u2029")

# YAML 1.1 booleans as PyYAML resolves them (not y/n).
_BOOL = {
    **dict.fromkeys(("yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
}
_NULL = frozenset(("", "~", "null", "Null", "NULL"))
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
# Python refuses to turn longer digit strings into an int (ValueError), and the conversion
# is quadratic in their length; such a number stays the text it is written as.
_MAX_INT_CHARS = min(4300, int_max_str_digits() or 4300)
_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def split_lines(text: str) -> list[str]:
    """The lines of ``text`` as YAML numbers them (``\\r\\n``, ``\\r``, NEL, LS and PS break lines)."""
    if "\r" in text or "\x85" in text or "\u2028" in text or "\u2029" in text:
        return _LINE_BREAK.split(text)
    return text.split("\n")


def plain_value(text: str) -> str | int | float | bool | None:
    """The value of a plain (unquoted) scalar.

    YAML 1.1 booleans (``true``, ``yes``, ``on``, ...) and nulls are typed as
    PyYAML types them; integers only in plain decimal form and floats only in
    plain dotted form.  Every other form -- octal ``0755``, hex, ``1_000``,
    sexagesimal ``1:30``, ``.inf``, and dates such as ``2012-10-17`` -- stays
    the string it is written as, which is what an IAM policy or an account ID
    written without quotes means.  So does an integer of more than 4,300
    digits (Python will not convert it, and no AWS setting takes it); a float
    too large for a double is ``inf``.
    """
    if text in _NULL:
        return None
    flag = _BOOL.get(text)
    if flag is not None:
        return flag
    first = text[0]
    if first.isdigit() or first in "-+.":
        if _DECIMAL.fullmatch(text):
            return int(text) if len(text) <= _MAX_INT_CHARS else text
        if _FLOAT.fullmatch(text):
            return float(text)
    return text


def _make_loader(base: type) -> type:
    class _Loader(base):  # type: ignore[misc]
        """A safe loader whose resolver only separates plain scalars from the rest."""

        def resolve(self, kind: type, value: object, implicit: tuple[bool, bool]) -> str:
            if kind is ScalarNode:
                return PLAIN_TAG if implicit[0] else STR_TAG
            return SEQ_TAG if kind is SequenceNode else MAP_TAG

    return _Loader


_FAST_LOADER: type = _make_loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader))
_PURE_LOADER: type = _make_loader(yaml.SafeLoader)


class _RedefiningLoader(_PURE_LOADER):  # type: ignore[misc]
    """The pure loader, letting a document define an anchor again.

    YAML says an alias refers to the most recent node with its anchor, so
    anchors need not be unique; PyYAML (and libyaml's binding) refuse a
    second one.  Used only for a file they refused for that reason.
    """

    def compose_node(self, parent: Node | None, index: object) -> Node:
        if not self.check_event(AliasEvent):
            anchor = self.peek_event().anchor
            if anchor is not None:
                self.anchors.pop(anchor, None)
        node: Node = super().compose_node(parent, index)
        return node


_REDEFINING_LOADER: type = _RedefiningLoader


class _Remap(Record):
    """YAML positions to editor positions, for text where NEL, LS or PS break YAML lines."""

    yaml_starts: list[int]  # character offset where each YAML line starts
    editor_starts: list[int]  # ... and each line as editors count them
    editor_lines: list[str]

    @classmethod
    def of(cls, text: str) -> _Remap | None:
        if not any(ch in text for ch in _YAML_ONLY_BREAKS):
            return None
        return cls(
            [0, *(m.end() for m in _LINE_BREAK.finditer(text))],
            [0, *(m.end() for m in _EDITOR_BREAK.finditer(text))],
            _EDITOR_BREAK.split(text),
        )

    def point(self, line: int, column: int) -> tuple[int, int]:
        offset = self.yaml_starts[min(line, len(self.yaml_starts) - 1)] + column
        row = bisect_right(self.editor_starts, offset)
        return row, offset - self.editor_starts[row - 1] + 1


class YamlDocument(Record):
    """One composed YAML document of a file, with the file's lines for locations.

    Marks and :attr:`lines` count lines as YAML does; :meth:`location` and
    :meth:`point` give the 1-based positions an editor shows (they differ
    only in text where NEL, LS or PS characters break YAML lines).
    """

    file: str
    root: Node
    lines: list[str]
    # Nodes reached through an alias are shared; their marks are the anchor's.
    has_aliases: bool = False
    remap: _Remap | None = None
    # Each key written again in its mapping, at its later occurrence (the last value is read).
    duplicates: tuple[DuplicateKey, ...] = ()
    _scalar_spans: list[tuple[tuple[int, int], tuple[int, int]]] | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ locations

    def point(self, line: int, column: int) -> tuple[int, int]:
        """The 1-based editor (line, column) of 0-based YAML (line, column)."""
        if self.remap is None:
            return line + 1, column + 1
        return self.remap.point(line, column)

    def location(self, line: int, column: int, end_line: int, end_column: int) -> Location:
        """A location from 0-based YAML positions."""
        if self.remap is None:
            return Location(self.file, line + 1, column + 1, end_line + 1, end_column + 1)
        start, end = self.remap.point(line, column), self.remap.point(end_line, end_column)
        return Location(self.file, start[0], start[1], end[0], end[1])

    def loc(self, node: Node) -> Location:
        """The node's span: from its first character (its tag or anchor, if any) to just past its last."""
        s = node.start_mark
        end_line, end_col = self.end(node)
        return self.location(s.line, s.column, end_line, end_col)

    def span(self, start: Node, end: Node) -> Location:
        """From ``start``'s first character to ``end``'s last (a key and its value)."""
        s = start.start_mark
        end_line, end_col = self.end(end)
        return self.location(s.line, s.column, end_line, end_col)

    def end(self, node: Node) -> tuple[int, int]:
        """0-based (line, column) just past the node's last character."""
        cur = node
        for _ in range(10_000):  # bounded: depth is limited when the document is loaded
            if isinstance(cur, ScalarNode):
                if cur.style in ("|", ">"):
                    return self._block_scalar_end(cur)
                return cur.end_mark.line, cur.end_mark.column
            if not isinstance(cur, CollectionNode) or cur.flow_style or not cur.value:
                return cur.end_mark.line, cur.end_mark.column
            last = cur.value[-1]
            child: Node = last[1] if isinstance(cur, MappingNode) else last
            if child.start_mark.index < cur.start_mark.index:
                # An alias to an earlier anchor: its marks are elsewhere.
                if isinstance(cur, MappingNode):
                    key: Node = last[0]
                    return key.end_mark.line, key.end_mark.column
                return self._trim_back(cur.end_mark.line, cur.end_mark.column, cur.start_mark.line)
            cur = child
        return node.end_mark.line, node.end_mark.column  # pragma: no cover - depth is bounded

    def _block_scalar_end(self, node: ScalarNode) -> tuple[int, int]:
        return self._trim_back(node.end_mark.line, node.end_mark.column, node.start_mark.line)

    def _trim_back(self, line: int, column: int, floor: int) -> tuple[int, int]:
        """Back from (line, column) over whitespace and empty lines, not above ``floor``."""
        if column > 0 and line < len(self.lines) and self.lines[line][:column].strip():
            return line, len(self.lines[line][:column].rstrip())
        line -= 1
        while line > floor and line < len(self.lines) and not self.lines[line].strip():
            line -= 1
        if 0 <= line < len(self.lines):
            return line, len(self.lines[line].rstrip())
        return line, 0  # pragma: no cover - marks are inside the text

    def after_properties(self, node: Node) -> tuple[int, int]:
        """0-based (line, column) of a node's content, after its tag and anchor (``!Ref X`` -> ``X``)."""
        line, col = node.start_mark.line, node.start_mark.column
        for _ in range(4):  # a tag and an anchor, in either order
            if line >= len(self.lines):
                break
            text = self.lines[line]
            if col >= len(text) or text[col] not in "!&":
                break
            while col < len(text) and not text[col].isspace():
                col += 1
            while True:
                text = self.lines[line]
                while col < len(text) and text[col] in " \t":
                    col += 1
                if col < len(text) or line + 1 >= len(self.lines) or line + 1 > node.end_mark.line:
                    break
                line, col = line + 1, 0
        return line, col

    # ------------------------------------------------------------------ comments

    def comment_start(self, line_no: int) -> int | None:
        """0-based column where a real comment starts on 1-based line ``line_no``, else None.

        A ``#`` starts a comment at the start of a line or after whitespace,
        outside every scalar (a quoted string or a block scalar may hold ``#``).
        """
        if line_no < 1 or line_no > len(self.lines):
            return None
        text = self.lines[line_no - 1]
        row = line_no - 1
        spans: list[tuple[tuple[int, int], tuple[int, int]]] | None = None
        pos = text.find("#")
        while pos >= 0:
            if pos == 0 or text[pos - 1] in " \t":
                if spans is None:
                    spans = [s for s in self._spans() if s[0][0] <= row <= s[1][0]]
                point = (row, pos)
                if not any(start <= point < end for start, end in spans):
                    return pos
            pos = text.find("#", pos + 1)
        return None

    def _spans(self) -> list[tuple[tuple[int, int], tuple[int, int]]]:
        """(start, end) of every scalar's text, 0-based; a block scalar's starts on its first content line."""
        if self._scalar_spans is None:
            spans = []
            for node in iter_nodes(self.root):
                if isinstance(node, ScalarNode):
                    if node.style in ("|", ">"):
                        start = (node.start_mark.line + 1, 0)
                        end = self._block_scalar_end(node)
                    else:
                        start = (node.start_mark.line, node.start_mark.column)
                        end = (node.end_mark.line, node.end_mark.column)
                    spans.append((start, end))
            self._scalar_spans = spans
        return self._scalar_spans


def iter_nodes(root: Node) -> Iterator[Node]:
    """Every distinct node of a (checked, so acyclic and bounded) graph, once."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        if isinstance(node, MappingNode):
            for k, v in node.value:
                stack.append(k)
                stack.append(v)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)


def load(
    text: str,
    file: str,
    *,
    max_depth: int,
    max_alias_nodes: int = DEFAULT_MAX_ALIAS_NODES,
    pure: bool = False,
) -> list[YamlDocument]:
    """Compose every document of ``text``; raise :class:`ParseFailure` on invalid or unsafe YAML."""
    try:
        roots = _compose(text, _PURE_LOADER if pure else _FAST_LOADER, max_depth)
    except _DuplicateAnchor:
        # Valid YAML (an alias means the latest node with its anchor) that PyYAML refuses.
        roots = _compose(text, _REDEFINING_LOADER, max_depth)
    lines = split_lines(text)
    remap = _Remap.of(text)
    docs = []
    may_alias = "&" in text  # no anchor, no alias
    for root in roots:
        twice: list[tuple[ScalarNode, ScalarNode]] = []
        has_aliases = check(
            root, max_depth=max_depth, max_alias_nodes=max_alias_nodes, may_alias=may_alias, duplicates=twice
        )
        doc = YamlDocument(file, root, lines, has_aliases, remap)
        if twice:
            doc.duplicates = tuple(DuplicateKey(str(b.value), doc.loc(b), doc.loc(a)) for a, b in twice)
        docs.append(doc)
    return docs


class _DuplicateAnchor(Exception):
    """PyYAML refused an anchor defined a second time."""


def _compose(text: str, loader: type, max_depth: int) -> list[Node]:
    try:
        return [r for r in yaml.compose_all(text, Loader=loader) if r is not None]
    except yaml.MarkedYAMLError as exc:
        if (exc.context or "").startswith("found duplicate anchor") and loader is not _REDEFINING_LOADER:
            raise _DuplicateAnchor from None
        from kmslint.parsers.wording import yaml_problem

        mark = exc.problem_mark or exc.context_mark
        problem = yaml_problem(exc, text)
        if mark is None:
            raise ParseFailure(f"invalid YAML: {problem}") from None
        raise ParseFailure(f"invalid YAML: {problem}", mark.line + 1, mark.column + 1) from None
    except yaml.YAMLError as exc:
        line, column = _reader_position(text, exc)
        raise ParseFailure(f"invalid YAML: {exc}", line, column) from None
    except RecursionError:
        raise ParseFailure(f"invalid YAML: nesting deeper than {max_depth} levels") from None


def _reader_position(text: str, exc: yaml.YAMLError) -> tuple[int, int]:
    position = getattr(exc, "position", None)
    if isinstance(position, int) and 0 <= position <= len(text):
        before = text[:position]
        lines = split_lines(before)
        return len(lines), len(lines[-1]) + 1
    return 1, 1


def check(
    root: Node,
    *,
    max_depth: int,
    max_alias_nodes: int,
    may_alias: bool = True,
    duplicates: list[tuple[ScalarNode, ScalarNode]] | None = None,
) -> bool:
    """Refuse deep nesting and alias bombs; return whether aliases were seen.

    Each distinct node is visited once.  A node met again was reached through
    an alias: the size of its subtree is added to a budget of nodes visited
    through aliases, and the document is refused past ``max_alias_nodes``.
    A node met again while it is still open is a recursive alias.  Keys
    written twice in one mapping are added to ``duplicates`` as (first,
    later) key nodes, once each however many aliases share the mapping.
    """
    found: list[tuple[ScalarNode, ScalarNode]] = [] if duplicates is None else duplicates
    if not may_alias:
        _check_tree(root, max_depth, found)
        return False
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    open_nodes: set[int] = set()
    through_aliases = 0
    seen_alias = False
    stack: list[tuple[Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, closing = stack.pop()
        nid = id(node)
        if closing:
            open_nodes.discard(nid)
            children = _children(node)
            size[nid] = 1 + sum(size[id(c)] for c in children)
            height[nid] = 1 + max((height[id(c)] for c in children), default=0)
            continue
        if nid in size:
            seen_alias = True
            through_aliases += size[nid]
            if through_aliases > max_alias_nodes:
                raise _fail(f"aliases expand to more than {max_alias_nodes} nodes", node)
            if depth - 1 + height[nid] > max_depth:
                raise _fail(f"nesting deeper than {max_depth} levels", node)
            continue
        if nid in open_nodes:
            raise _fail("recursive alias: a node contains itself", node)
        if depth > max_depth:
            raise _fail(f"nesting deeper than {max_depth} levels", node)
        if isinstance(node, ScalarNode):
            size[nid] = 1
            height[nid] = 1
            continue
        if isinstance(node, MappingNode):
            _check_keys(node, found)
        open_nodes.add(nid)
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in _children(node))
    return seen_alias


def _check_tree(root: Node, max_depth: int, found: list[tuple[ScalarNode, ScalarNode]]) -> None:
    """:func:`check` for a document without anchors: a plain tree."""
    stack: list[tuple[Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, ScalarNode):
            continue
        if depth >= max_depth and node.value:
            raise _fail(f"nesting deeper than {max_depth} levels", node)
        if isinstance(node, MappingNode):
            _check_keys(node, found)
            for k, v in node.value:
                if not isinstance(k, ScalarNode):
                    stack.append((k, depth + 1))
                if not isinstance(v, ScalarNode):
                    stack.append((v, depth + 1))
        else:
            stack.extend((c, depth + 1) for c in node.value if not isinstance(c, ScalarNode))


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def _check_keys(node: MappingNode, found: list[tuple[ScalarNode, ScalarNode]]) -> None:
    """Add each key of ``node`` written again (after its first occurrence) to ``found``."""
    pairs = node.value
    if len(pairs) < 2:
        return
    try:
        if len({k.value for k, _ in pairs}) == len(pairs):
            return  # the common case, decided without a Python loop
    except TypeError:
        pass  # a collection as a key: check one by one
    first: dict[str, ScalarNode] = {}
    for key, _value in pairs:
        if not isinstance(key, ScalarNode):
            continue
        text = key.value
        if text == "<<" and key.tag == PLAIN_TAG:
            continue  # a merge key may repeat: each merges its mappings in turn
        earlier = first.setdefault(text, key)
        if earlier is not key and len(found) < MAX_DUPLICATE_KEYS:
            found.append((earlier, key))


def _fail(message: str, node: Node) -> ParseFailure:
    mark = node.start_mark
    return ParseFailure(f"invalid YAML: {message}", mark.line + 1, mark.column + 1)
