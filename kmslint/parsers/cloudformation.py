"""CloudFormation and SAM templates, YAML or JSON, into the model.

The template is read in two layers:

* a *source* gives the raw tree with locations: YAML through
  :mod:`kmslint.parsers.yamlpos` (a composed node graph, converted to values
  only for the parts a rule can look at), JSON through
  :mod:`kmslint.parsers.jsonpos`.  A YAML short-form tag becomes the
  long form it stands for (``!Sub x`` is ``{"Fn::Sub": x}``), so both formats
  give the same raw values; an unknown tag (``!Rain::Embed``) is an
  :class:`~kmslint.model.Unknown`.  Of duplicate keys the last one wins, as
  in CloudFormation, and each later occurrence is recorded: the template is
  linted, and a key written twice inside a key policy (KMS013) or elsewhere in
  a key's or alias's definition (KMS015) is reported there.  A template that may hold ``Fn::ForEach`` loops
  (``AWS::LanguageExtensions``) is read through :class:`_LoopSource`, which
  expands them, within bounds, into the resources and values they stand for.
* a :class:`_Resolver` evaluates the intrinsic functions that can be
  evaluated statically (``Ref`` to parameters with a default and to pseudo
  parameters, ``Fn::Sub``, ``Fn::Join``, ``Fn::FindInMap`` with literal keys,
  ``Fn::Select``, ``Fn::Split``, ``Fn::GetAtt``, ``Fn::If``,
  ``Fn::ToJsonString``) into symbolic values; everything else is
  :class:`~kmslint.model.Unknown`.
* the ``Conditions`` section is read from its definitions, with the values the
  resolver gives (:mod:`kmslint.parsers.cfn_conditions`).  An ``Fn::If`` whose
  condition known values decide is read as the branch it takes; any other is a
  :class:`~kmslint.model.Conditional` that carries the condition space, so that
  only combinations the definitions allow are checked.  A resource whose
  ``Condition`` is decided false does not exist (nothing about it is read); one
  whose condition is undecided is read assuming it true (and what that forces a
  parameter to be), and the project records the condition for its findings to
  name.

A reference to a key (``!Ref Key``, ``!GetAtt Key.KeyId``, ``!GetAtt Key.Arn``,
``${Key}`` or ``${Key.Arn}``, an ARN built around one) links an alias, a replica
or a data store to that key, and to no other.  A policy written as JSON text
(a literal, ``Fn::Sub``, ``Fn::Join``) is read by
:mod:`kmslint.parsers.cfn_policy_text`, its unknown parts kept symbolic.  A
parameter without a default that says it is an account ID (by its name,
``Description`` or ``AllowedPattern``) means one.  SAM functions' and state
machines' ``Policies`` are read, inline documents and the policy templates that
grant KMS actions alike.  A template the CDK synthesized records each resource's
construct path (``aws:cdk:path``) for its findings' messages.

Nothing in the input is executed, and cfn-lint is never imported: its import
alone costs most of a second.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from kmslint.model import (
    Alias,
    Conditional,
    DuplicateIndex,
    DuplicateKey,
    IdentityPolicy,
    Interpolated,
    KeyKind,
    KeyPolicy,
    KeyResource,
    Known,
    Location,
    Meaning,
    MultiRegionUse,
    ParseError,
    Project,
    ProjectKind,
    Suppression,
    Unknown,
    UsageKind,
    Value,
    as_dict,
    as_int,
    as_list,
    known_str,
    pin,
    scalar,
)
from kmslint.parsers.common import DEFAULT_MAX_DEPTH, Budget, ParseFailure, ParseOptions, comment_suppressions
from kmslint.record import Record, replace

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from typing import Protocol

    from tree_sitter import Node as TSNode
    from yaml.nodes import CollectionNode, Node

    from kmslint.parsers.cfn_conditions import Space
    from kmslint.parsers.common import Budget
    from kmslint.parsers.jsonpos import JsonDocument
    from kmslint.parsers.yamlpos import YamlDocument

# --------------------------------------------------------------------------- entry point


def parse_template(path: Path, text: str, opts: ParseOptions, *, is_json: bool) -> Project | None:
    """Read one template.

    Returns ``None`` when the file parses but is not a CloudFormation or SAM
    template; raises :class:`ParseFailure` when it is not valid YAML/JSON or
    is over a limit.
    """
    _check_size(text, opts.max_file_bytes)
    file = opts.display(path)
    try:
        if is_json:
            return _parse_json(text, file, opts)
        return _parse_yaml(text, file, opts)
    except RecursionError:
        raise ParseFailure(f"nested deeper than kmslint follows (--max-depth is {opts.max_depth})") from None


def _check_size(text: str, limit: int) -> None:
    size = len(text)
    if size * 4 > limit:
        size = len(text.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise ParseFailure(f"file is {size} bytes, over the {limit}-byte limit (--max-file-bytes)")


def _parse_json(text: str, file: str, opts: ParseOptions) -> Project | None:
    from kmslint.parsers import jsonpos

    try:
        doc = jsonpos.parse_document(text, file, max_depth=opts.max_depth)
    except jsonpos.JSONSyntaxError as exc:
        raise ParseFailure(f"invalid JSON: {exc.message}", exc.line, exc.column) from None
    source: _Source = _JsonSource(doc, text.split("\n"))
    if _has_loops(text):
        source = _LoopSource(source, file)
    reader = _Reader(source, file, "kmslint" in text, opts.budget, _may_branch(text), opts.max_depth, CDK_PATH in text)
    return reader.read(_JsonNode(doc.data, doc.root, doc.fallback))


def _parse_yaml(text: str, file: str, opts: ParseOptions) -> Project | None:
    from kmslint.parsers import yamlpos

    docs = yamlpos.load(text, file, max_depth=opts.max_depth)
    loops = _has_loops(text)
    branching = _may_branch(text)
    for doc in docs:
        source: _Source = _LoopSource(_YamlSource(doc), file) if loops else _YamlSource(doc)
        reader = _Reader(source, file, "kmslint" in text, opts.budget, branching, opts.max_depth, CDK_PATH in text)
        project = reader.read(doc.root)
        if project is not None:
            if "kmslint" in text:
                project.suppressions.extend(_comment_suppressions(doc, file, project, reader.copies))
            return project
    return None


def _has_loops(text: str) -> bool:
    """Could the template hold an ``Fn::ForEach`` loop (its key escaped or not)?  Only then is
    it read through :class:`_LoopSource`, which costs a walk of every value read."""
    if "ForEach" in text:
        return True
    from kmslint.parsers import sniff

    return "\\" in text and "ForEach" in sniff.decoded(text)


def _may_branch(text: str) -> bool:
    """Could the template hold an ``Fn::If`` (``!If``, its key escaped or not)?  Only then are
    its conditions read for what its ``Fn::If`` may take (a resource's ``Condition`` is seen
    in the resource); reading them costs an import and a walk of the ``Conditions``."""
    if "Fn::If" in text or "!If" in text:
        return True
    from kmslint.parsers import sniff

    return "\\" in text and "Fn::If" in sniff.decoded(text)


def _comment_suppressions(
    doc: YamlDocument, file: str, project: Project, copies: dict[str, list[str]]
) -> list[Suppression]:
    """``# kmslint:ignore`` comments: only real comments, not ``#`` inside a string.

    Comments are found in YAML lines and handed over in editor lines (the two
    differ only where NEL, LS or PS characters break YAML lines).  ``copies``
    names, for a resource made by an ``Fn::ForEach``, every resource made from
    the same lines.
    """
    lines = doc.lines if doc.remap is None else doc.remap.editor_lines
    masked = list(lines)
    comment_lines: set[int] = set()
    for i, line in enumerate(doc.lines):
        if "kmslint" not in line:
            continue
        start = doc.comment_start(i + 1)
        if start is None:
            continue
        row, column = doc.point(i, start)
        comment_lines.add(row)
        masked[row - 1] = " " * (column - 1) + lines[row - 1][column - 1 :]
    if not comment_lines:
        return []
    spans = [(name, first, last) for name, (_f, first, last) in project.resource_spans.items()]
    found = comment_suppressions(masked, file, spans, comment_lines)
    if not copies:
        return found
    # The copies an Fn::ForEach makes of one resource share its lines: a comment there is each one's.
    return [replace(sup, resource=name) for sup in found for name in copies.get(sup.resource or "", [sup.resource])]


# --------------------------------------------------------------------------- sources


class _Entry:
    """One key of a mapping: its name, its value node, and (computed when first asked) where
    the key is and where key-and-value is."""

    __slots__ = ("_key_loc", "_loc", "_locate", "key", "name", "node")

    def __init__(self, name: str, key: object, node: object, locate: Callable[[object, object], Location]) -> None:
        self.name = name
        self.node = node
        self.key = key
        self._locate = locate
        self._key_loc: Location | None = None
        self._loc: Location | None = None

    @property
    def key_loc(self) -> Location:
        if self._key_loc is None:
            self._key_loc = self._locate(self.key, None)
        return self._key_loc

    @property
    def loc(self) -> Location:
        if self._loc is None:
            self._loc = self._locate(self.key, self.node)
        return self._loc


if TYPE_CHECKING:

    class _Source(Protocol):
        def items(self, node: object) -> list[_Entry] | None: ...
        def elements(self, node: object) -> list[object] | None: ...
        def text(self, node: object) -> str | None: ...
        def raw(self, node: object) -> Value: ...
        def loc(self, node: object) -> Location: ...
        def last_line(self, entry: _Entry) -> int: ...
        def duplicates(self) -> Sequence[DuplicateKey]: ...
        def lines(self) -> list[str] | None: ...


_FN_NAMES = (
    *("Sub", "GetAtt", "Join", "If", "Equals", "FindInMap", "ImportValue", "Select", "Split", "Base64"),
    *("And", "Or", "Not", "GetAZs", "Cidr", "Transform", "Length", "ToJsonString"),
)
# Short-form tag -> the long-form key it stands for.
SHORT_TAGS: dict[str, str] = {"!Ref": "Ref", "!Condition": "Condition", **{f"!{n}": f"Fn::{n}" for n in _FN_NAMES}}


class _YamlSource:
    """A composed YAML document; values are built only for the nodes asked for."""

    def __init__(self, doc: YamlDocument) -> None:
        from kmslint.parsers import yamlpos

        self.doc = doc
        self._file = doc.file
        self._remap = doc.remap
        self._y = yamlpos
        # Node classes as attributes: an import inside the recursive methods would run per node.
        from yaml import nodes

        self._scalar = nodes.ScalarNode
        self._mapping = nodes.MappingNode
        self._sequence = nodes.SequenceNode
        self._plain_tag = yamlpos.PLAIN_TAG
        self._str_tag = yamlpos.STR_TAG
        self._map_tag = yamlpos.MAP_TAG
        self._seq_tag = yamlpos.SEQ_TAG
        self._plain_value = yamlpos.plain_value
        # Merge keys are rare: look for them only in a document that has one.
        self._merges = any("<<" in line for line in doc.lines)

    def _pairs(self, node: Node) -> list[tuple[Node, Node]]:
        """A mapping's pairs with YAML merge keys (``<<: *base``) applied, in the order that
        lets the last of a key win: explicit keys win over merged ones, and of the mappings
        merged by one ``<<: [*a, *b]`` the earlier wins (as YAML and PyYAML say).  Neither is
        a key written twice."""
        pairs: list[tuple[Node, Node]] = node.value
        if not self._merges or not any(self._is_merge(k) for k, _ in pairs):
            return pairs
        merged: list[tuple[Node, Node]] = []
        explicit: list[tuple[Node, Node]] = []
        for k, v in pairs:
            if self._is_merge(k):
                sources = v.value[::-1] if isinstance(v, self._sequence) else [v]
                for src in sources:
                    if isinstance(src, self._mapping):
                        merged.extend(self._pairs(src))
            else:
                explicit.append((k, v))
        return merged + explicit

    def _is_merge(self, key: Node) -> bool:
        return key.tag == self._plain_tag and key.value == "<<"

    def items(self, node: object) -> list[_Entry] | None:
        if not isinstance(node, self._mapping) or node.tag != self._y.MAP_TAG:
            return None
        out: dict[str, _Entry] = {}
        for k, v in self._pairs(node):
            if isinstance(k, self._scalar):
                out[k.value] = _Entry(k.value, k, v, self._locate)
        return list(out.values())

    def elements(self, node: object) -> list[object] | None:
        """A sequence's items (nodes), None for anything else."""
        if not isinstance(node, self._sequence) or node.tag != self._seq_tag:
            return None
        return list(node.value)

    def _locate(self, key: object, value: object) -> Location:
        if value is None:
            return self.doc.loc(key)  # type: ignore[arg-type]
        return self.doc.span(key, value)  # type: ignore[arg-type]

    def text(self, node: object) -> str | None:
        if isinstance(node, self._scalar) and node.tag in (self._y.PLAIN_TAG, self._y.STR_TAG):
            return str(node.value)
        return None

    def loc(self, node: object) -> Location:
        return self.doc.loc(node)  # type: ignore[arg-type]

    def duplicates(self) -> Sequence[DuplicateKey]:
        """Every key the document writes twice (found when it was loaded)."""
        return self.doc.duplicates

    def lines(self) -> list[str] | None:
        """The file's lines, as locations count them (None where YAML counts line breaks that editors do not)."""
        return self.doc.lines if self._remap is None else None

    def last_line(self, entry: _Entry) -> int:
        """A resource's last line, counting comment lines that close its block (indented under it)."""
        key: Node = entry.key  # type: ignore[assignment]
        lines = self.doc.lines
        indent = key.start_mark.column
        last = self.doc.end(entry.node)[0]  # type: ignore[arg-type]  # 0-based, in YAML lines
        while last + 1 < len(lines):
            text = lines[last + 1]
            stripped = text.lstrip(" \t")
            if not stripped.startswith("#") or len(text) - len(stripped) <= indent:
                break
            last += 1
        return self.doc.point(last, 0)[0]

    def raw(self, node: object) -> Value:
        n: Node = node  # type: ignore[assignment]
        tag: str = n.tag
        if isinstance(n, self._scalar):
            if n.style in ("|", ">"):
                loc = self.doc.loc(n)
            else:
                start, end = n.start_mark, n.end_mark
                if self._remap is None:  # the common case, inlined: this runs for every scalar
                    loc = Location(self._file, start.line + 1, start.column + 1, end.line + 1, end.column + 1)
                else:
                    loc = self.doc.location(start.line, start.column, end.line, end.column)
            text: str = n.value
            if tag == self._plain_tag:
                return Known(self._plain_value(text), loc)
            if tag == self._str_tag or tag == "!":
                return Known(text, loc)
            if tag.startswith(self._y.STD_PREFIX):
                return Known(_std_scalar(tag[len(self._y.STD_PREFIX) :], text), loc)
            inner: Value = Known(text, self._inner_loc(n, loc))
        elif isinstance(n, self._mapping):
            mapping: dict[str, Value] = {}
            pairs = self._pairs(n)
            last: Value | None = None
            for k, v in pairs:
                if isinstance(k, self._scalar):
                    last = mapping[str(k.value)] = self.raw(v)
            loc = self._collection_loc(n, last if pairs is n.value else None)
            if tag == self._map_tag:
                return Known(mapping, loc)
            inner = Known(mapping, self._inner_loc(n, loc))
        elif isinstance(n, self._sequence):
            items = [self.raw(c) for c in n.value]
            loc = self._collection_loc(n, items[-1] if items else None)
            if tag == self._seq_tag:
                return Known(items, loc)
            inner = Known(items, self._inner_loc(n, loc))
        else:  # pragma: no cover - a composed node is one of the three
            return Unknown("a YAML node of an unknown kind", self.doc.loc(n))
        fn = SHORT_TAGS.get(tag)
        if fn is None:
            return Unknown(f"YAML tag {tag} is not a CloudFormation intrinsic function", loc)
        return Known({fn: inner}, loc)

    def _collection_loc(self, node: CollectionNode, last: Value | None) -> Location:
        """A collection's span; a block collection ends where its last item (already located) ends."""
        start = node.start_mark
        if node.flow_style or not node.value or last is None or last.loc is None:
            return self.doc.loc(node)
        child: Node = node.value[-1][1] if isinstance(node, self._mapping) else node.value[-1]
        if child.start_mark.index < start.index:  # an alias to an earlier anchor
            return self.doc.loc(node)
        line, column = self.doc.point(start.line, start.column)
        return Location(self._file, line, column, last.loc.end_line, last.loc.end_column)

    def _inner_loc(self, node: Node, loc: Location) -> Location:
        line, column = self.doc.point(*self.doc.after_properties(node))
        return Location(loc.file, line, column, loc.end_line, loc.end_column)


def _std_scalar(kind: str, text: str) -> str | int | float | bool | None:
    """A scalar with an explicit standard tag (``!!int 5``)."""
    from kmslint.parsers.yamlpos import plain_value

    value = plain_value(text)
    if kind == "int":
        return value if isinstance(value, int) and not isinstance(value, bool) else text
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            return text
    if kind == "bool":
        return value if isinstance(value, bool) else text
    if kind == "null":
        return None
    return text


class _JsonNode:
    """A value of a JSON template as ``json.loads`` read it, its tree-sitter node (None
    where the two do not match), and its parent's span; located when first asked."""

    __slots__ = ("data", "node", "parent_loc")

    def __init__(self, data: object, node: TSNode | None, parent_loc: Location) -> None:
        self.data = data
        self.node = node
        self.parent_loc = parent_loc


class _JsonSource:
    """A JSON template, read lazily as the YAML one is: values are built (by
    :meth:`JsonDocument.build`) only for the parts of the template asked for."""

    def __init__(self, doc: JsonDocument, lines: list[str]) -> None:
        self.doc = doc
        self.file = doc.file
        self._lines = lines

    def items(self, node: object) -> list[_Entry] | None:
        assert isinstance(node, _JsonNode)
        data = node.data
        if not self.doc.is_object(data):
            return None
        where = self.loc(node)
        out: dict[str, _Entry] = {}
        for (name, value), child in zip(data, self.doc.member_nodes(data, node.node), strict=True):
            # Of duplicate keys the last one's value wins, as in CloudFormation (RULES.md).
            member = _JsonNode(value, child, where)
            out[name] = _Entry(name, member, member, self._locate)  # the key is found from the value
        if len(out) < len(data):
            self.doc.note_duplicates(data, node.node, where)
        return list(out.values())

    def duplicates(self) -> Sequence[DuplicateKey]:
        """The keys written twice in the objects read so far: each mapping the reader looks
        at (resources, their properties) and each value it builds (a key policy)."""
        return self.doc.duplicates

    def elements(self, node: object) -> list[object] | None:
        """An array's items (nodes), None for anything else."""
        assert isinstance(node, _JsonNode)
        data = node.data
        if not isinstance(data, list):
            return None
        where = self.loc(node)
        return [_JsonNode(v, c, where) for v, c in zip(data, self.doc.element_nodes(data, node.node), strict=True)]

    def _locate(self, key: object, value: object) -> Location:
        """A member's key (``value`` None), or its key and value: found back from the value's span."""
        vloc = self.loc(key)
        kloc = self._key_loc(vloc)
        if value is None:
            return kloc
        return Location(self.file, kloc.line, kloc.column, vloc.end_line, vloc.end_column)

    def text(self, node: object) -> str | None:
        assert isinstance(node, _JsonNode)
        return node.data if isinstance(node.data, str) else None

    def raw(self, node: object) -> Value:
        assert isinstance(node, _JsonNode)
        return self.doc.build(node.data, node.node, node.parent_loc)

    def loc(self, node: object) -> Location:
        assert isinstance(node, _JsonNode)
        return self.doc.value_loc(node.data, node.node, node.parent_loc)

    def last_line(self, entry: _Entry) -> int:
        return entry.loc.end_line

    def lines(self) -> list[str] | None:
        return self._lines

    def _key_loc(self, value_loc: Location) -> Location:
        """The key of a member, found back from its value: whitespace, ``:``, whitespace, ``"key"``."""
        row, col = value_loc.line - 1, value_loc.column - 2
        expect = ":"
        lines = self._lines
        while 0 <= row < len(lines):
            line = lines[row]
            while col >= 0 and line[col] in " \t\r":
                col -= 1
            if col < 0:
                row -= 1
                col = len(lines[row]) - 1 if row >= 0 else -1
                continue
            if line[col] != expect:
                break
            if expect == ":":
                expect = '"'
                col -= 1
                continue
            end = col + 1
            col -= 1
            while col >= 0:
                if line[col] == '"':
                    slashes = 0
                    while col - 1 - slashes >= 0 and line[col - 1 - slashes] == "\\":
                        slashes += 1
                    if slashes % 2 == 0:
                        return Location(self.file, row + 1, col + 1, row + 1, end + 1)
                col -= 1
            break
        return value_loc


# --------------------------------------------------------------------------- Fn::ForEach

FOREACH = "Fn::ForEach::"
# What a template's loops may produce in all (outputs: resources, properties, mapping keys;
# values: the nodes of their copies).  CloudFormation allows 500 resources in a stack; past
# either bound the rest is not expanded, and a KMS000 says so.
MAX_LOOP_OUTPUTS = 2_000
MAX_LOOP_VALUES = 200_000

_LOOP_SHAPE = "must be a list of an identifier, a collection and a mapping of outputs"
# Compiled when first used (``re`` caches them): a template without loops never needs them.
_PLACEHOLDER = r"([$&])\{([^{}]*)\}"
_NOT_ALNUM = r"[^0-9A-Za-z]+"


class _Bound:
    """A node of the template read inside ``Fn::ForEach`` loops: ``env`` maps each
    identifier to its collection item (None: the collection is not known statically)."""

    __slots__ = ("env", "node")

    def __init__(self, node: object, env: dict[str, str | None]) -> None:
        self.node = node
        self.env = env


def _unbind(node: object) -> tuple[object, dict[str, str | None]]:
    if isinstance(node, _Bound):
        return node.node, node.env
    return node, {}


def _fill(text: str, env: dict[str, str | None]) -> str:
    """``${Identifier}`` (the item) and ``&{Identifier}`` (its letters and digits) of known
    items substituted in a key; an unknown item's placeholder stays as written."""
    if "{" not in text:
        return text

    def item(m: re.Match[str]) -> str:
        value = env.get(m.group(2))
        if value is None:
            return m.group(0)
        return value if m.group(1) == "$" else re.sub(_NOT_ALNUM, "", value)

    return re.sub(_PLACEHOLDER, item, text)


def _size(value: Value) -> int:
    """How many values ``value`` holds, itself included."""
    count = 0
    stack = [value]
    while stack:
        v = stack.pop()
        count += 1
        if isinstance(v, Known):
            if isinstance(v.value, dict):
                stack.extend(v.value.values())
            elif isinstance(v.value, list):
                stack.extend(v.value)
    return count


def _unknown_item(name: str, loc: Location | None) -> Unknown:
    return Unknown(f"Fn::ForEach identifier {name}, whose collection cannot be resolved statically", loc, ref=name)


class _LoopSource:
    """A template source read through the ``AWS::LanguageExtensions`` transform's loops.

    ``"Fn::ForEach::Name": [Identifier, Collection, {OutputKey: OutputValue}]`` in a
    mapping (the ``Resources`` section, a resource's ``Properties``, a mapping inside a
    property) stands for one copy of its outputs per item of the collection, in which
    ``${Identifier}`` and ``&{Identifier}`` (the item without its non-alphanumeric
    characters) in keys and strings, and ``Ref: Identifier``, are the item (AWS
    documentation, "Fn::ForEach").  Loops nest.  The collection is a literal list, or
    what the resolver resolves to one (a list parameter's default, ``Fn::FindInMap``), or
    a list parameter's ``AllowedValues``; anything else is unknown, and the outputs are
    read once with the identifier unknown and the keys as written (``Key${Name}``), so
    what the body says is still checked.

    Values keep the locations of the loop body: a finding is reported where it is
    written.  Expansion is bounded (:data:`MAX_LOOP_OUTPUTS`, :data:`MAX_LOOP_VALUES`);
    past a bound nothing more is expanded and :attr:`errors` says which loop was not.
    """

    def __init__(self, inner: _Source, file: str) -> None:
        self.inner = inner
        self.file = file
        self.resolver: _Resolver | None = None  # set once the parameters and mappings are read
        self.errors: list[ParseError] = []
        self._outputs = 0
        self._values = 0
        self._full = False  # a bound was reached: no loop expands any further
        self._reported: set[ParseError] = set()

    # -- the source protocol

    def items(self, node: object) -> list[_Entry] | None:
        base, env = _unbind(node)
        entries = self.inner.items(base)
        if entries is None or (not env and not any(e.name.startswith(FOREACH) for e in entries)):
            return entries
        out: dict[str, _Entry] = {}
        for e in entries:
            if e.name.startswith(FOREACH):
                for output in self._expand_entry(e, env):
                    out[output.name] = output
            elif env:
                bound = _bound_entry(_fill(e.name, env), e, env)
                out[bound.name] = bound
            else:
                out[e.name] = e
        return list(out.values())

    def elements(self, node: object) -> list[object] | None:
        base, env = _unbind(node)
        found = self.inner.elements(base)
        return found if found is None or not env else [_Bound(n, env) for n in found]

    def text(self, node: object) -> str | None:
        base, env = _unbind(node)
        found = self.inner.text(base)
        return _fill(found, env) if found is not None and env else found

    def raw(self, node: object) -> Value:
        base, env = _unbind(node)
        return self._bind(self.inner.raw(base), env)

    def loc(self, node: object) -> Location:
        return self.inner.loc(_unbind(node)[0])

    def duplicates(self) -> Sequence[DuplicateKey]:
        return self.inner.duplicates()  # where they are written, shared by the copies a loop makes

    def last_line(self, entry: _Entry) -> int:
        return self.inner.last_line(_Entry(entry.name, entry.key, _unbind(entry.node)[0], entry._locate))

    def lines(self) -> list[str] | None:
        return self.inner.lines()

    # -- loops over entries (resources, properties)

    def _expand_entry(self, loop: _Entry, env: dict[str, str | None]) -> Iterator[_Entry]:
        if self._full:
            return  # past a bound: reported once, where it was reached
        args = self.inner.elements(_unbind(loop.node)[0])
        ident = self.inner.text(args[0]) if args is not None and len(args) == 3 else None
        if args is None or not ident:
            self._error(loop.key_loc, f"{loop.name} {_LOOP_SHAPE}")
            return
        output = args[2]
        body = self.inner.items(output)
        if body is None:
            self._error(loop.key_loc, f"the outputs of {loop.name} are not a mapping")
            return
        size = _size(self.inner.raw(output))
        direct = sum(not e.name.startswith(FOREACH) for e in body)  # a nested loop counts its own
        for item in self._collection(self.raw(_Bound(args[1], env)), env):
            if not self._charge(size, direct, loop.name, loop.key_loc):
                return
            yield from self.items(_Bound(output, {**env, ident: item})) or ()

    # -- values read inside loops

    def _bind(self, value: Value, env: dict[str, str | None]) -> Value:
        if not isinstance(value, Known):
            return value
        v = value.value
        if isinstance(v, str):
            return self._bind_text(value, v, env) if env else value
        if isinstance(v, list):
            return Known([self._bind(i, env) for i in v], value.loc)
        if isinstance(v, dict):
            return self._bind_mapping(v, env, value.loc)
        return value

    def _bind_text(self, value: Known, text: str, env: dict[str, str | None]) -> Value:
        """A string in a loop body: each placeholder of an identifier is its item (Unknown when
        the collection is not known), as the transform substitutes them."""
        if "{" not in text:
            return value
        parts: list[str | Value | None] = []
        pos = 0
        for m in re.finditer(_PLACEHOLDER, text):
            name = m.group(2)
            if name not in env:
                continue
            item = env[name]
            parts.append(text[pos : m.start()])
            if item is None:
                parts.append(_unknown_item(name, value.loc))
            else:
                parts.append(item if m.group(1) == "$" else re.sub(_NOT_ALNUM, "", item))
            pos = m.end()
        if not parts:
            return value
        parts.append(text[pos:])
        return _concat(parts, value.loc)

    def _bind_mapping(self, v: dict[str, Value], env: dict[str, str | None], loc: Location | None) -> Value:
        if env and len(v) == 1:
            name, arg = next(iter(v.items()))
            if name == "Ref" and isinstance(arg, Known) and isinstance(arg.value, str) and arg.value in env:
                chosen = env[arg.value]
                return Known(chosen, loc) if chosen is not None else _unknown_item(arg.value, loc)
            if name == "Fn::Sub":
                return self._bind_sub(arg, env, loc)
        out: dict[str, Value] = {}
        for key, item in v.items():
            if key.startswith(FOREACH):
                out.update(self._expand_value(key, item, env, loc))
            else:
                out[_fill(key, env) if env else key] = self._bind(item, env)
        return Known(out, loc)

    def _bind_sub(self, arg: Value, env: dict[str, str | None], loc: Location | None) -> Value:
        """``Fn::Sub`` in a loop body: an identifier in its template is the item; an unknown
        item becomes a variable of the ``Fn::Sub`` whose value is Unknown; a template left
        with nothing to substitute is its string (as the transform leaves it)."""
        variables: Value | None = None
        template: Value = arg
        if isinstance(arg, Known) and isinstance(arg.value, list) and len(arg.value) in (1, 2):
            template = arg.value[0]
            variables = self._bind(arg.value[1], env) if len(arg.value) == 2 else None
        if not isinstance(template, Known) or not isinstance(template.value, str):
            return Known({"Fn::Sub": self._bind(arg, env)}, loc)
        text = _fill(template.value, env)
        unknown = {m.group(2) for m in re.finditer(_PLACEHOLDER, text) if m.group(2) in env}
        if not unknown and variables is None:
            if "${" not in text:
                return Known(text, template.loc)
            return Known({"Fn::Sub": Known(text, template.loc)}, loc)
        given = as_dict(variables) if variables is not None else {}
        if given is None:  # variables that are not a mapping: Fn::Sub says what that means
            return Known({"Fn::Sub": Known([Known(text, template.loc), variables], arg.loc)}, loc)  # type: ignore[list-item]
        merged = {**{name: _unknown_item(name, loc) for name in unknown}, **given}
        return Known({"Fn::Sub": Known([Known(text, template.loc), Known(merged, loc)], arg.loc)}, loc)

    def _expand_value(self, key: str, arg: Value, env: dict[str, str | None], loc: Location | None) -> dict[str, Value]:
        """The members a loop inside a property value stands for."""
        if self._full:
            return {}  # past a bound: reported once, where it was reached
        where = arg.loc or loc or Location.point(self.file, 1)
        args = arg.value if isinstance(arg, Known) and isinstance(arg.value, list) else None
        ident = known_str(args[0]) if args is not None and len(args) == 3 else None
        output = args[2] if args is not None and len(args) == 3 else None
        if args is None or not ident or not isinstance(output, Known) or not isinstance(output.value, dict):
            self._error(where, f"{key} {_LOOP_SHAPE}")
            return {}
        size = _size(output)
        direct = sum(not k.startswith(FOREACH) for k in output.value)  # a nested loop counts its own
        out: dict[str, Value] = {}
        for item in self._collection(self._bind(args[1], env), env):
            if not self._charge(size, direct, key, where):
                break
            bound = self._bind(output, {**env, ident: item})
            out.update(as_dict(bound) or {})
        return out

    # -- collections and bounds

    def _collection(self, raw: Value, env: dict[str, str | None]) -> list[str | None]:
        """The items a loop runs over, in order, once each; None stands for the items of a
        collection that cannot be resolved statically."""
        resolver = self.resolver
        if resolver is None:
            return [None]
        choices = resolver.list_choices(raw)
        if choices is not None:
            return list(dict.fromkeys(choices))
        out: list[str | None] = []
        for value in _branch_values(resolver.resolve(raw)):
            if isinstance(value, Known) and isinstance(value.value, list):
                out.extend(_key_text(i) if isinstance(i, Known) and i.is_scalar else None for i in value.value)
            else:
                out.append(None)
        return list(dict.fromkeys(out))

    def _charge(self, values: int, outputs: int, loop: str, where: Location) -> bool:
        """Count what one more copy of a loop's outputs makes; past a bound, False: this loop
        and every loop after it stop, and one KMS000, on the loop that reached it, says so."""
        if self._full:
            return False
        self._values += values
        self._outputs += outputs
        if self._values > MAX_LOOP_VALUES or self._outputs > MAX_LOOP_OUTPUTS:
            self._full = True
            self._error(
                where,
                f"{loop}: the template's loops make more than {MAX_LOOP_OUTPUTS} outputs or {MAX_LOOP_VALUES} "
                "values; the rest of this loop and the loops after it are not checked "
                "(CloudFormation allows 500 resources in a stack)",
            )
        return not self._full

    def _error(self, where: Location, message: str) -> None:
        error = ParseError(self.file, where.line, where.column, message)
        if error not in self._reported:
            self._reported.add(error)
            self.errors.append(error)


def _bound_entry(name: str, entry: _Entry, env: dict[str, str | None]) -> _Entry:
    """``entry`` under loop bindings, named ``name``, located where it is written."""
    locate = entry._locate

    def unbound(key: object, value: object) -> Location:
        return locate(key, None if value is None else _unbind(value)[0])

    return _Entry(name, entry.key, _Bound(entry.node, env), unbound)


# --------------------------------------------------------------------------- resolving


_PSEUDO: dict[str, Meaning] = {
    "AWS::AccountId": Meaning.ACCOUNT_ID,
    "AWS::Partition": Meaning.PARTITION,
    "AWS::Region": Meaning.REGION,
    "AWS::StackName": Meaning.NOTHING,
    "AWS::StackId": Meaning.NOTHING,
    "AWS::URLSuffix": Meaning.NOTHING,
    "AWS::NotificationARNs": Meaning.NOTHING,
}
NO_VALUE = "AWS::NoValue"
_MAX_CONDITIONAL_PARTS = 4
# A name never holds a brace: stopping at "{" too keeps the scan linear ("${${${..." with no
# closing brace made `[^}]*` rescan the rest of the string from every "${": a 1 MB Fn::Sub
# string took minutes).
SUB_VAR = re.compile(r"\$\{([^{}]*)\}")


class _Param(Record, frozen=True):
    value: Value | None  # the default, when it is what a Ref gives
    why: str  # why a Ref cannot be resolved, when value is None
    # A list parameter without a default: the values its AllowedValues let it hold.
    choices: tuple[str, ...] = ()
    # A parameter that is not a list, without a default: its AllowedValues as text (the
    # values conditions may find it equal to, see kmslint.parsers.cfn_conditions).
    allowed: tuple[str, ...] = ()
    # What a Ref stands for when value is None: an account ID, by its name, Description or AllowedPattern.
    meaning: Meaning = Meaning.NOTHING


class _Resolver:
    """Evaluates intrinsic functions over raw values, as far as a template alone allows."""

    def __init__(
        self,
        params: dict[str, _Param],
        resources: dict[str, str],
        mappings: Callable[[], dict[str, Value]],
        budget: Budget | None = None,
        lines: list[str] | None = None,
        max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> None:
        self.params = params
        self.resources = resources
        self._mappings_thunk = mappings
        self._mappings: dict[str, Value] | None = None
        # The template's conditions as seen where values are being resolved (a resource's
        # own Condition assumed true); None: every Fn::If condition is a free boolean.
        self.space: Space | None = None
        self.budget = budget  # the unit's: what splitting long strings and reading policy text spends
        # Keys written twice in policy text are added here (the project's list, once there is one).
        self.duplicates: list[DuplicateKey] | None = None
        # The file's lines, to place each character of a policy written as text (None: cannot).
        self.lines = lines
        self.max_depth = max_depth

    @property
    def mappings(self) -> dict[str, Value]:
        if self._mappings is None:
            self._mappings = self._mappings_thunk()
        return self._mappings

    def resolve(self, value: Value | None) -> Value | None:
        """The value with intrinsics evaluated; None when it is ``AWS::NoValue`` (removed)."""
        if not isinstance(value, Known):
            return value
        v = value.value
        if isinstance(v, dict):
            if len(v) == 1:
                name = next(iter(v))
                if name == "Ref" or name.startswith("Fn::"):
                    return self._intrinsic(name, v[name], value.loc)
            out: dict[str, Value] = {}
            changed = False
            for k, item in v.items():
                r = self.resolve(item)
                if r is not None:
                    out[k] = r
                changed = changed or r is not item
            return Known(out, value.loc) if changed else value
        if isinstance(v, list):
            items = []
            changed = False
            for item in v:
                r = self.resolve(item)
                if r is not None:
                    items.append(r)
                changed = changed or r is not item
            return Known(items, value.loc) if changed else value
        return value

    def list_choices(self, value: Value) -> list[str] | None:
        """The AllowedValues of the list parameter ``value`` refers to (``Ref: P``) when
        ``P`` has no default, else None."""
        fields = as_dict(value)
        name = known_str(fields.get("Ref")) if fields is not None and len(fields) == 1 else None
        param = self.params.get(name) if name is not None else None
        if param is None or param.value is not None or not param.choices:
            return None
        return list(param.choices)

    def _intrinsic(self, name: str, arg: Value, loc: Location | None) -> Value | None:
        if name == "Ref":
            return self._ref(arg, loc)
        if name == "Fn::ToJsonString":
            # AWS::LanguageExtensions: the JSON text of a value.  A policy read from that text
            # is the value itself, so the value is what a rule looks at.
            return self.resolve(arg)
        if name == "Fn::GetAtt":
            return self._getatt(arg, loc)
        if name == "Fn::Sub":
            return self._sub(arg, loc)
        if name == "Fn::Join":
            return self._join(arg, loc)
        if name == "Fn::If":
            return self._if(arg, loc)
        if name == "Fn::FindInMap":
            return self._find_in_map(arg, loc)
        if name == "Fn::Select":
            return self._select(arg, loc)
        if name == "Fn::Split":
            return self._split(arg, loc)
        if name == "Fn::GetAZs":
            return Unknown("Fn::GetAZs: the Region's Availability Zones are known when the stack is deployed", loc)
        if name == "Fn::ImportValue":
            export = known_str(self.resolve(arg))
            ref = f"Fn::ImportValue:{export}" if export is not None else None
            return Unknown("Fn::ImportValue: an output of another stack", loc, ref=ref)
        return Unknown(f"{name} is not evaluated statically", loc)

    # -- Ref and Fn::GetAtt

    def _ref(self, arg: Value, loc: Location | None) -> Value | None:
        name = known_str(arg)
        if name is None:
            return Unknown("Ref of something that is not a name", loc)
        return self.ref_name(name, loc)

    def ref_name(self, name: str, loc: Location | None) -> Value | None:
        if name == NO_VALUE:
            return None
        meaning = _PSEUDO.get(name)
        if meaning is not None:
            return Unknown(f"pseudo parameter {name}", loc, meaning, ref=name)
        param = self.params.get(name)
        if param is not None:
            if param.value is None:
                return Unknown(param.why, loc, param.meaning, ref=name)
            return _relocate(param.value, loc)
        if name in self.resources:
            return Unknown(f"the ID of resource {name}", loc, Meaning.RESOURCE_ID, ref=name)
        return Unknown(f"Ref to {name}, which the template does not declare", loc, ref=name)

    def _getatt(self, arg: Value, loc: Location | None) -> Value:
        text = known_str(arg)
        if text is not None:
            resource, _, attr = text.partition(".")
        else:
            items = as_list(arg) if isinstance(arg, Known) and isinstance(arg.value, list) else []
            names = [known_str(self.resolve(i)) for i in items]
            if len(names) != 2 or names[0] is None or names[1] is None:
                return Unknown("Fn::GetAtt of names that are not literal", loc)
            resource, attr = names[0], names[1]
        return self.getatt_name(resource, attr, loc)

    def getatt_name(self, resource: str, attr: str, loc: Location | None) -> Value:
        ref = f"{resource}.{attr}"
        if attr.lower().endswith("arn"):
            return Unknown(f"the ARN of resource {resource}", loc, Meaning.RESOURCE_ARN, ref=ref)
        return Unknown(f"attribute {attr} of resource {resource}", loc, ref=ref)

    # -- strings

    def _sub(self, arg: Value, loc: Location | None) -> Value | None:
        found = self.sub_template(arg, loc)
        if isinstance(found, Unknown):
            return found
        template, variables = found
        text = str(template.value)
        parts: list[str | Value | None] = []
        pos = 0
        for m in SUB_VAR.finditer(text):
            parts.append(text[pos : m.start()])
            parts.append(self.sub_part(m, variables, loc))
            pos = m.end()
        parts.append(text[pos:])
        return _concat(parts, loc)

    def sub_template(self, arg: Value, loc: Location | None) -> tuple[Known, dict[str, Value]] | Unknown:
        """``Fn::Sub``'s template string (as written, located) and its variables."""
        if isinstance(arg, Known) and isinstance(arg.value, str):
            return arg, {}
        items = as_list(arg) if isinstance(arg, Known) and isinstance(arg.value, list) else []
        if not items or len(items) > 2:
            return Unknown("Fn::Sub with arguments that are not a string and variables", loc)
        template = items[0]
        if not isinstance(template, Known) or not isinstance(template.value, str):
            return Unknown("Fn::Sub of a string that is not literal", loc)
        if len(items) == 1:
            return template, {}
        variables = as_dict(items[1])
        if variables is None:
            return Unknown("Fn::Sub with variables that are not a mapping", loc)
        return template, variables

    def sub_part(self, m: re.Match[str], variables: dict[str, Value], loc: Location | None) -> str | Value:
        """What ``${...}`` (matched by ``m``) in an ``Fn::Sub`` template stands for."""
        name = m.group(1).strip()
        if name.startswith("!"):
            return "${" + m.group(1)[1:] + "}"  # ${!Literal} is the text ${Literal}
        if name in variables:
            part = self.resolve(variables[name])
        elif name in _PSEUDO or name == NO_VALUE or name in self.params or name in self.resources:
            part = self.ref_name(name, loc)
        elif "." in name:
            resource, _, attr = name.partition(".")
            part = self.getatt_name(resource, attr, loc)
        else:
            part = Unknown(f"${{{name}}}: not a parameter or resource of the template", loc, ref=name)
        return part if part is not None else Unknown(f"${{{name}}} has no value", loc, ref=name)

    def _join(self, arg: Value, loc: Location | None) -> Value | None:
        items = as_list(arg) if isinstance(arg, Known) and isinstance(arg.value, list) else []
        if len(items) != 2:
            return Unknown("Fn::Join with arguments that are not a delimiter and a list", loc)
        delimiter = scalar(self.resolve(items[0]))
        if not isinstance(delimiter, str):
            return Unknown("Fn::Join with a delimiter that is not literal", loc)
        values = self.resolve(items[1])
        if not isinstance(values, Known) or not isinstance(values.value, list):
            return Unknown("Fn::Join of a list that cannot be resolved", loc)
        parts: list[str | Value | None] = []
        for i, item in enumerate(values.value):
            if i:
                parts.append(delimiter)
            parts.append(item)
        return _concat(parts, loc)

    # -- policies written as JSON text

    def policy(self, raw: Value) -> Value | None:
        """A policy property (``KeyPolicy``, ``PolicyDocument``) resolved, and, when it is JSON
        text (a literal, an ``Fn::Sub``, an ``Fn::Join``), read into a located tree with its
        unknown parts kept symbolic (:mod:`kmslint.parsers.cfn_policy_text`)."""
        if isinstance(raw, Known) and isinstance(raw.value, dict) and len(raw.value) != 1:
            return self.resolve(raw)  # a policy written as a mapping, as most are: no text to read
        from kmslint.parsers import cfn_policy_text

        return cfn_policy_text.written_policy(self, raw)

    def read_resolved(self, value: Value | None) -> Value | None:
        """A resolved policy value that is JSON text read into a tree (see :meth:`policy`)."""
        if not _is_text(value):
            return value
        from kmslint.parsers import cfn_policy_text

        return cfn_policy_text.read_resolved(self, value)

    # -- lists: Fn::Select and Fn::Split

    def _select(self, arg: Value, loc: Location | None) -> Value | None:
        """``Fn::Select [index, list]``: the item, when the index and the list (or the part of a
        split string up to the item) are known; an index out of range is Unknown."""
        items = as_list(arg) if isinstance(arg, Known) and isinstance(arg.value, list) else []
        if len(items) != 2:
            return Unknown("Fn::Select with arguments that are not an index and a list", loc)
        index, source = self.resolve(items[0]), items[1]
        return _per_branch(index, loc, lambda i: self._select_at(i, source, loc))

    def _select_at(self, index: Value | None, source: Value, loc: Location | None) -> Value | None:
        i = as_int(index)
        if i is None or i < 0:
            return Unknown("Fn::Select with an index that is not a known number", loc)
        split = _single(source, "Fn::Split")
        if split is not None:  # read straight: a string known up to the item is enough
            return self._split_args(split, loc, lambda pieces, whole: _pick(pieces, whole, i, loc))
        values = self.resolve(source)

        def pick(value: Value | None) -> Value | None:
            if isinstance(value, Known) and isinstance(value.value, list):
                return _pick(value.value, True, i, loc)
            return Unknown("Fn::Select from a list that cannot be resolved statically", loc)

        return _per_branch(values, loc, pick)

    def _split(self, arg: Value, loc: Location | None) -> Value | None:
        """``Fn::Split [delimiter, string]``: the list of pieces, when the string is known (its
        unknown parts known not to hold the delimiter, as ``${AWS::AccountId}`` holds no ``:``)."""

        def as_value(pieces: list[Value], whole: bool) -> Value:
            if not whole:
                return Unknown("Fn::Split of a string whose unknown parts may hold the delimiter", loc)
            return Known(pieces, loc)

        return self._split_args(arg, loc, as_value)

    def _split_args(
        self, arg: Value, loc: Location | None, then: Callable[[list[Value], bool], Value | None]
    ) -> Value | None:
        """Split as ``Fn::Split`` does, and hand ``then`` the pieces and whether they are all
        there (False: the last piece runs into an unknown part that may hold the delimiter, and
        the pieces after it cannot be counted)."""
        items = as_list(arg) if isinstance(arg, Known) and isinstance(arg.value, list) else []
        delimiter = known_str(self.resolve(items[0])) if len(items) == 2 else None
        if not delimiter:
            return Unknown("Fn::Split with arguments that are not a literal delimiter and a string", loc)
        text = self.resolve(items[1])

        def split(value: Value | None) -> Value | None:
            found = self._pieces(delimiter, value, loc)
            if found is None:
                return Unknown("Fn::Split of a value that cannot be resolved to a string", loc)
            return then(*found)

        return _per_branch(text, loc, split)

    def _pieces(self, delimiter: str, value: Value | None, loc: Location | None) -> tuple[list[Value], bool] | None:
        if isinstance(value, Known):
            text = _key_text(value)
            parts: tuple[str | Unknown, ...] | None = (text,) if text is not None else None
        elif isinstance(value, Interpolated):
            parts = value.parts
        elif isinstance(value, Unknown):
            parts = (value,)
        else:
            parts = None
        if parts is None:
            return None
        parts = tuple(p for part in parts for p in _structure(part))
        budget = self.budget
        pieces: list[list[str | Value | None]] = [[]]
        for part in parts:
            if isinstance(part, Unknown):
                pieces[-1].append(part)
                if not _cannot_hold(part, delimiter):
                    return [_concat(p, loc) for p in pieces], False
                continue
            if budget is not None:
                budget.spend_bytes(len(part))
            if len(pieces) + part.count(delimiter) > MAX_SPLIT_PIECES:
                return None
            first, *rest = part.split(delimiter)
            pieces[-1].append(first)
            pieces.extend([chunk] for chunk in rest)
        if budget is not None:
            budget.spend(len(pieces))
        return [_concat(p, loc) for p in pieces], True

    # -- Fn::If and Fn::FindInMap

    def _if(self, arg: Value, loc: Location | None) -> Value | None:
        """A condition that known values decide picks its branch here (the other is never
        read); any other is a :class:`Conditional` carrying the space that relates it to the
        template's other conditions."""
        items = as_list(arg) if isinstance(arg, Known) and isinstance(arg.value, list) else []
        condition = known_str(items[0]) if len(items) == 3 else None
        if condition is None:
            return Unknown("Fn::If with arguments that are not a condition name and two values", loc)
        space = self.space
        side = space.decided(condition) if space is not None else None
        if side is not None:
            return self.resolve(items[1] if side else items[2])
        return Conditional(condition, self.resolve(items[1]), self.resolve(items[2]), loc, space)

    def _find_in_map(self, arg: Value, loc: Location | None) -> Value | None:
        items = as_list(arg) if isinstance(arg, Known) and isinstance(arg.value, list) else []
        if len(items) not in (3, 4):
            return Unknown("Fn::FindInMap with arguments that are not a map name and two keys", loc)
        keys = [_key_text(self.resolve(i)) for i in items[:3]]
        default: Value | None = None
        if len(items) == 4:
            options = as_dict(items[3])
            if options is not None and "DefaultValue" in options:
                default = options["DefaultValue"]
        mapping = as_dict(self.mappings.get(keys[0])) if keys[0] is not None else None
        if mapping is None or keys[2] is None:
            return self._map_default(default, "Fn::FindInMap of a map or key that is not literal", loc)
        if keys[1] is None:
            # Whatever the top-level key (a Region, say), one value for all of them is that value.
            found = [as_dict(v) for v in mapping.values()]
            values = [m.get(keys[2]) for m in found if m is not None]
            if values and len(values) == len(found) and all(v is not None for v in values):
                resolved = [self.resolve(v) for v in values]
                first = resolved[0]
                if isinstance(first, Known) and first.is_scalar and all(r == first for r in resolved):
                    return _relocate(first, loc)
            return self._map_default(default, "Fn::FindInMap with a key that is not literal", loc)
        second = as_dict(mapping.get(keys[1]))
        if second is None or keys[2] not in second:
            return self._map_default(default, f"Fn::FindInMap: {keys[0]} has no {keys[1]}/{keys[2]}", loc)
        return _relocate_opt(self.resolve(second[keys[2]]), loc)

    def _map_default(self, default: Value | None, why: str, loc: Location | None) -> Value | None:
        if default is not None:
            return _relocate_opt(self.resolve(default), loc)
        return Unknown(why, loc)


def _key_text(value: Value | None) -> str | None:
    v = scalar(value)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str | int | float):
        return str(v)
    return None


# An Fn::Split makes no more pieces than this (a 1 MB string of delimiters would make a million).
MAX_SPLIT_PIECES = 4096
_DIGITS = "0123456789"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
# The characters a pseudo parameter's value is made of (AWS documentation, "Pseudo parameters
# reference"; stack names are letters, digits and hyphens): a delimiter that none of them
# holds cannot occur inside the value, so splitting around it is exact.
_PSEUDO_CHARS: dict[str, frozenset[str]] = {
    "AWS::AccountId": frozenset(_DIGITS),
    "AWS::Partition": frozenset(_LOWER + "-"),
    "AWS::Region": frozenset(_LOWER + _DIGITS + "-"),
    "AWS::StackName": frozenset(_LOWER + _LOWER.upper() + _DIGITS + "-"),
    "AWS::URLSuffix": frozenset(_LOWER + "."),
    "AWS::StackId#uuid": frozenset("0123456789abcdef-"),
}


def _structure(part: str | Unknown) -> tuple[str | Unknown, ...]:
    """A part of a string as what it is made of: ``AWS::StackId`` is
    ``arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/${AWS::StackName}/<uuid>``,
    so ``!Select [4, !Split [":", !Ref AWS::StackId]]`` is the stack's account."""
    if not isinstance(part, Unknown) or part.ref != "AWS::StackId":
        return (part,)
    loc = part.loc

    def pseudo(name: str) -> Unknown:
        return Unknown(f"pseudo parameter {name}", loc, _PSEUDO.get(name, Meaning.NOTHING), ref=name)

    uuid = Unknown("the unique ID in the stack's ID", loc, ref="AWS::StackId#uuid")
    return (
        *("arn:", pseudo("AWS::Partition"), ":cloudformation:", pseudo("AWS::Region"), ":"),
        *(pseudo("AWS::AccountId"), ":stack/", pseudo("AWS::StackName"), "/", uuid),
    )


def _is_text(value: Value | None) -> bool:
    """Is a resolved policy a string (JSON text to read), on some ``Fn::If`` branch?"""
    if isinstance(value, Conditional):
        return _is_text(value.then) or _is_text(value.otherwise)
    return isinstance(value, Interpolated) or (isinstance(value, Known) and isinstance(value.value, str))


def _pseudo(ref: str) -> bool:
    """Is ``ref`` a pseudo parameter (``AWS::Region``) or a part of one?"""
    return ref.startswith("AWS::")


def _cannot_hold(part: Unknown, delimiter: str) -> bool:
    """Can the unknown value not contain ``delimiter``, nor any of its characters?"""
    chars = _PSEUDO_CHARS.get(part.ref or "")
    return chars is not None and not any(c in chars for c in delimiter)


def _pick(items: list[Value], whole: bool, index: int, loc: Location | None) -> Value | None:
    """Item ``index`` of a list (``whole``: the list is complete, else its last item is not
    known to end where it seems to and nothing from it on can be picked)."""
    known = len(items) if whole else len(items) - 1
    if index < known:
        item = items[index]
        return item if item.loc is not None else _relocate(item, loc)
    if whole:
        return Unknown(f"Fn::Select index {index} is out of range for a list of {len(items)}", loc)
    return Unknown("Fn::Select of a piece of a string that cannot be resolved statically", loc)


def _single(value: Value, name: str) -> Value | None:
    """The argument of ``{name: argument}`` (an intrinsic as written), else None."""
    fields = as_dict(value)
    if fields is not None and len(fields) == 1 and name in fields:
        return fields[name]
    return None


def _per_branch(value: Value | None, loc: Location | None, fn: Callable[[Value | None], Value | None]) -> Value | None:
    """``fn`` of a value, taken into each ``Fn::If`` branch (a conditional gives a conditional,
    a copy of it: whatever else it carries about its condition is kept)."""
    if isinstance(value, Conditional):
        then, otherwise = _per_branch(value.then, loc, fn), _per_branch(value.otherwise, loc, fn)
        return replace(value, then=then, otherwise=otherwise, loc=loc)
    return fn(value)


def _concat(parts: list[str | Value | None], loc: Location | None) -> Value:
    """Join literal text and values into a Known string, an Unknown, an Interpolated or a Conditional."""
    for i, part in enumerate(parts):
        if isinstance(part, Conditional):
            if sum(isinstance(p, Conditional) for p in parts) > _MAX_CONDITIONAL_PARTS:
                return Unknown("a string built from too many Fn::If", loc)
            then = _concat([*parts[:i], _or_empty(part.then, loc), *parts[i + 1 :]], loc)
            otherwise = _concat([*parts[:i], _or_empty(part.otherwise, loc), *parts[i + 1 :]], loc)
            return Conditional(part.condition, then, otherwise, loc, part.space)
    out: list[str | Unknown] = []
    for part in parts:
        pieces: tuple[str | Unknown, ...]
        if part is None:
            pieces = (Unknown("AWS::NoValue in a string", loc),)
        elif isinstance(part, str):
            pieces = (part,)
        elif isinstance(part, Known):
            v = part.value
            if isinstance(v, bool):
                pieces = ("true" if v else "false",)
            elif isinstance(v, str | int | float):
                pieces = (str(v),)
            else:
                pieces = (Unknown("a list, mapping or null where a string is expected", loc),)
        elif isinstance(part, Unknown):
            pieces = (part,)
        elif isinstance(part, Interpolated):
            pieces = part.parts
        else:  # pragma: no cover - conditionals were distributed above
            pieces = (Unknown("a conditional value", loc),)
        for piece in pieces:
            if isinstance(piece, str) and out and isinstance(out[-1], str):
                out[-1] += piece
            elif piece != "":
                out.append(piece)
    if not out:
        return Known("", loc)
    if len(out) == 1:
        only = out[0]
        if isinstance(only, str):
            return Known(only, loc)
        return Unknown(only.reason, loc, only.meaning, only.ref)
    return Interpolated(tuple(out), loc)


def _or_empty(value: Value | None, loc: Location | None) -> Value:
    return value if value is not None else Unknown("AWS::NoValue in a string", loc)


def _relocate_opt(value: Value | None, loc: Location | None) -> Value | None:
    return None if value is None else _relocate(value, loc)


def _relocate(value: Value, loc: Location | None) -> Value:
    """The same value, every node placed at ``loc`` (where a parameter or mapping is used)."""
    if loc is None:
        return value
    if isinstance(value, Known):
        v = value.value
        if isinstance(v, dict):
            return Known({k: _relocate(i, loc) for k, i in v.items()}, loc)
        if isinstance(v, list):
            return Known([_relocate(i, loc) for i in v], loc)
        return Known(v, loc)
    if isinstance(value, Unknown):
        return Unknown(value.reason, loc, value.meaning, value.ref)
    if isinstance(value, Interpolated):
        return Interpolated(value.parts, loc)
    then, otherwise = _relocate_opt(value.then, loc), _relocate_opt(value.otherwise, loc)
    return Conditional(value.condition, then, otherwise, loc, value.space)


# --------------------------------------------------------------------------- the template

_KEY_TYPES = {"AWS::KMS::Key": KeyKind.KEY, "AWS::KMS::ReplicaKey": KeyKind.REPLICA}
_KEY_PROPERTIES = {
    "KeySpec": "key_spec",
    "KeyUsage": "key_usage",
    "Origin": "origin",
    "EnableKeyRotation": "rotation",
    "RotationPeriodInDays": "rotation_period",
    "MultiRegion": "multi_region",
    "PendingWindowInDays": "deletion_window",
    "BypassPolicyLockoutSafetyCheck": "bypass_lockout_check",
    "Enabled": "enabled",
}
_POLICY_DOCUMENT_TYPES = frozenset(
    (
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::RolePolicy",
        "AWS::IAM::UserPolicy",
        "AWS::IAM::GroupPolicy",
    )
)
_INLINE_POLICY_TYPES = frozenset(("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"))
_SAM_FUNCTION = "AWS::Serverless::Function"
_SAM_STATE_MACHINE = "AWS::Serverless::StateMachine"
_SAM_POLICY_TYPES = frozenset((_SAM_FUNCTION, _SAM_STATE_MACHINE))
# SAM policy templates that grant KMS actions, and the actions each grants on
# arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/${KeyId} (aws/serverless-application-model,
# samtranslator/policy_templates_data/policy_templates.json, version 0.0.1 as of November 2024).
_SAM_KMS_TEMPLATES: dict[str, tuple[str, ...]] = {
    "KMSDecryptPolicy": ("kms:Decrypt",),
    "KMSEncryptPolicy": ("kms:Encrypt",),
    "KMSEncryptPolicy_v2": (
        *("kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"),
        *("kms:GenerateDataKeyPair", "kms:GenerateDataKeyPairWithoutPlaintext"),
    ),
}
_SAM_TRANSFORM = "AWS::Serverless"
_LOOP_TRANSFORM = "AWS::LanguageExtensions"
STACK_ACCOUNT = "AWS::AccountId"
CDK_PATH = "aws:cdk:path"


class _Resource(Record):
    name: str
    type: str
    entry: _Entry
    fields: dict[str, _Entry]
    # The Properties entries, read when first needed; unreadable: Properties is not a mapping.
    props: dict[str, _Entry] | None = None
    props_unreadable: bool = False
    # The conditions as its properties see them (its own Condition, if any, assumed true),
    # and what that Condition forces parameters to be (see _Reader._exists).
    view: Space | None = None
    pins: dict[str, str] | None = None

    def __init__(self, name: str, type: str, entry: _Entry, fields: dict[str, _Entry]) -> None:
        self.name = name
        self.type = type
        self.entry = entry
        self.fields = fields
        self.props = None
        self.props_unreadable = False
        self.view = None
        self.pins = None


class _Reader:
    """Reads one template document into a :class:`Project`."""

    def __init__(
        self,
        source: _Source,
        file: str,
        suppressible: bool = True,
        budget: Budget | None = None,
        branching: bool = True,
        max_depth: int = DEFAULT_MAX_DEPTH,
        cdk: bool = False,
    ) -> None:
        self.src = source
        self.file = file
        self.budget = budget
        # The text may hold an Fn::If (see _may_branch): its conditions are read for it.
        self.branching = branching
        self.max_depth = max_depth
        # Construct paths (``aws:cdk:path`` metadata) are looked for only in a template that has one.
        self.cdk = cdk
        # Resource name -> the names of every resource an Fn::ForEach made from the same body.
        self.copies: dict[str, list[str]] = {}
        # Suppressions (a `kmslint` Metadata key, `kmslint:ignore` comments) and the
        # resource spans that comments are matched by need the word in the text.
        self.suppressible = suppressible

    def read(self, root: object) -> Project | None:
        try:
            return self._read(root)
        finally:
            if isinstance(self.src, _LoopSource):
                self.src.resolver = None  # (source -> resolver -> mappings closure -> source)

    def _read(self, root: object) -> Project | None:
        top_items = self.src.items(root)
        if top_items is None:
            return None
        top = {e.name: e for e in top_items}
        self.types: dict[str, str] = {}
        loops = self.src if isinstance(self.src, _LoopSource) else None
        if loops is not None:
            # A loop's collection may be a parameter or a mapping: resolvable before the resources are known.
            self.resolver = loops.resolver = self._resolver(top)
        resources = self._resources(top.get("Resources"))
        if not self._is_template(top, resources):
            return None
        self.resources = {r.name: r for r in resources}
        self.types.update((r.name, r.type) for r in resources)
        if loops is None:
            self.resolver = self._resolver(top)
        project = Project(kind=ProjectKind.CLOUDFORMATION, root=self.file, files=[self.file])
        self.resolver.duplicates = project.duplicate_keys
        project.condition_space = space = self._space(top.get("Conditions"), resources)
        # A resource whose Condition known values make false does not exist: nothing about it is checked.
        existing = [r for r in resources if self._exists(r, space, project)]
        project.resource_count = len(existing)
        for r in resources if self.suppressible else ():
            project.resource_spans[r.name] = (self.file, r.entry.key_loc.line, self.src.last_line(r.entry))
            project.suppressions.extend(self._metadata_suppressions(r))
        for r in existing if self.cdk else ():
            path = self._construct_path(r)
            if path:
                project.constructs[r.name] = path
        for r in existing:
            if r.type in _KEY_TYPES:
                project.keys.append(self._key(r))
        for r in existing:
            if r.type == "AWS::KMS::Alias":
                project.aliases.append(self._alias(r))
            elif r.type in _POLICY_DOCUMENT_TYPES or r.type in _INLINE_POLICY_TYPES or r.type in _SAM_POLICY_TYPES:
                project.identity_policies.extend(self._identity_policies(r))
        project.multi_region_uses.extend(self._multi_region_uses(existing, project.aliases))
        twice = self.src.duplicates()
        if twice:  # rare: a template that writes a key twice
            project.duplicate_keys.extend(twice)
            index = DuplicateIndex(twice)
            for key in project.keys:
                key.duplicate_keys = self._settings_duplicates(self.resources[key.name], index)
            for alias in project.aliases:
                alias.duplicate_keys = self._settings_duplicates(self.resources[alias.name], index)
        if loops is not None:
            project.errors.extend(loops.errors)
        return project

    def _settings_duplicates(self, r: _Resource, index: DuplicateIndex) -> tuple[DuplicateKey, ...]:
        """The keys written twice in a resource's definition (its value: a logical ID written
        twice is the Resources section's), except in its ``Metadata`` (not a setting) and in
        its key policy's value (whose duplicates are the policy's, KMS013)."""
        inside = index.inside(self.src.loc(r.entry.node))
        if not inside:
            return ()
        outside: list[Location] = []
        meta = r.fields.get("Metadata")
        if meta is not None:
            outside.append(meta.loc)
        policy = self._props(r).get("KeyPolicy") if r.type in _KEY_TYPES else None
        if policy is not None:
            outside.append(self.src.loc(policy.node))
        return tuple(d for d in inside if not any(o.contains(d.loc) for o in outside))

    def _resolver(self, top: dict[str, _Entry]) -> _Resolver:
        # The mappings are read when first needed, by a closure over the source and not
        # over this reader (reader -> resolver -> closure -> reader is a cycle, which would
        # keep every template's nodes until the garbage collector ran).
        src, mappings = self.src, top.get("Mappings")
        params = self._parameters(top.get("Parameters"))
        lines = src.lines()
        return _Resolver(params, self.types, lambda: _mappings(src, mappings), self.budget, lines, self.max_depth)

    # -- conditions

    def _space(self, entry: _Entry | None, resources: list[_Resource]) -> Space | None:
        """The template's conditions, read from their definitions with the values every
        property sees (kmslint.parsers.cfn_conditions); None when nothing in the template
        is conditional."""
        if not (self.branching and entry is not None) and not any("Condition" in r.fields for r in resources):
            return None
        from kmslint.parsers import cfn_conditions

        items = (self.src.items(entry.node) if entry is not None else None) or []
        definitions = {e.name: self.src.raw(e.node) for e in items}
        params = self.resolver.params

        def allowed(ref: str) -> tuple[str, ...] | None:
            param = params.get(ref)
            return param.allowed or None if param is not None else None

        return cfn_conditions.build(definitions, self.resolver.resolve, allowed, self.budget)

    def _exists(self, r: _Resource, space: Space | None, project: Project) -> bool:
        """Does the resource exist?  False when its ``Condition`` is decided false.  When its
        condition is undecided, its properties are read assuming it true, and the project
        records the condition for its findings to name."""
        r.view = space
        entry = r.fields.get("Condition")
        if entry is None or space is None:
            return True
        name = known_str(self.resolver.resolve(self.src.raw(entry.node)))
        if name is None:
            return True  # a name that cannot be read: as if it had none
        side = space.decided(name)
        if side is not None:
            return side
        r.view = space.assuming(name)
        r.pins = r.view.pins({})
        project.resource_conditions[r.name] = name
        return True

    # -- structure

    def _resources(self, entry: _Entry | None) -> list[_Resource]:
        if entry is None:
            return []
        items = self.src.items(entry.node)
        if items is None:
            return []
        out = []
        bodies: dict[int, list[str]] = {}
        for e in items:
            if isinstance(e.node, _Bound):
                self.copies[e.name] = bodies.setdefault(id(e.node.node), [])
                self.copies[e.name].append(e.name)
            fields = {f.name: f for f in self.src.items(e.node) or []}
            type_entry = fields.get("Type")
            rtype = (self.src.text(type_entry.node) if type_entry else None) or ""
            out.append(_Resource(e.name, rtype, e, fields))
        return out

    def _props(self, r: _Resource) -> dict[str, _Entry]:
        if r.props is None:
            r.props = {}
            entry = r.fields.get("Properties")
            if entry is not None:
                items = self.src.items(entry.node)
                if items is None:
                    r.props_unreadable = not _is_null(self.src, entry.node)
                else:
                    r.props = {p.name: p for p in items}
                    # A loop over an unknown collection names properties nobody knows: any may be set.
                    r.props_unreadable = isinstance(self.src, _LoopSource) and any(
                        re.search(_PLACEHOLDER, name) for name in r.props
                    )
        return r.props

    def _is_template(self, top: dict[str, _Entry], resources: list[_Resource]) -> bool:
        if "AWSTemplateFormatVersion" in top:
            return True
        if any(r.type.startswith("AWS::") for r in resources):
            return True
        transform = top.get("Transform")
        if transform is None:
            return False
        names = [known_str(v) for v in as_list(self.src.raw(transform.node))]
        return any(n is not None and (n.startswith(_SAM_TRANSFORM) or n == _LOOP_TRANSFORM) for n in names)

    def _parameters(self, entry: _Entry | None) -> dict[str, _Param]:
        out: dict[str, _Param] = {}
        if entry is None:
            return out
        for p in self.src.items(entry.node) or []:
            fields = {f.name: f for f in self.src.items(p.node) or []}
            ptype = self.src.text(fields["Type"].node) if "Type" in fields else None
            default = self.src.raw(fields["Default"].node) if "Default" in fields else None
            allowed = self.src.raw(fields["AllowedValues"].node) if "AllowedValues" in fields else None
            param = _param(p.name, ptype or "String", default, allowed)
            if param.value is None and _is_account_id(p.name, *(self._field_text(fields, f) for f in _ACCOUNT_HINTS)):
                param = replace(param, meaning=Meaning.ACCOUNT_ID)
            out[p.name] = param
        return out

    def _field_text(self, fields: dict[str, _Entry], name: str) -> str:
        """A field's text, empty when it is not set or not a string."""
        entry = fields.get(name)
        return (self.src.text(entry.node) or "") if entry is not None else ""

    # -- properties

    def _prop(self, r: _Resource, name: str, *, policy: bool = False) -> tuple[Value, Location] | None:
        """A resolved property and its span; None when it is not set (or is AWS::NoValue).
        A ``policy`` written as JSON text is read into a tree."""
        entry = self._props(r).get(name)
        if entry is None:
            if r.props_unreadable:
                props_loc = r.fields["Properties"].loc
                return Unknown("Properties cannot be resolved statically", props_loc), props_loc
            return None
        self.resolver.space = r.view
        raw = self.src.raw(entry.node)
        value = self.resolver.policy(raw) if policy else self.resolver.resolve(raw)
        if value is None:
            return None
        if r.pins:
            value = pin(value, r.pins)
        return value, entry.loc

    def _key(self, r: _Resource) -> KeyResource:
        key = KeyResource(name=r.name, kind=_KEY_TYPES[r.type], loc=r.entry.key_loc)
        key.account = pin(Unknown("the stack's account", None, Meaning.ACCOUNT_ID, ref=STACK_ACCOUNT), r.pins or {})
        for prop, attr in _KEY_PROPERTIES.items():
            found = self._prop(r, prop)
            if found is not None:
                setattr(key, attr, found[0])
                key.attr_locs[attr] = found[1]
        tags = self._prop(r, "Tags")
        if tags is not None:
            key.tags = _tags(tags[0], tags[1])
            key.attr_locs["tags"] = tags[1]
        policy = self._prop(r, "KeyPolicy", policy=True)
        if policy is not None:
            key.policy = KeyPolicy(document=policy[0], loc=policy[1], attached_by=r.name, key=key)
            key.attr_locs["policy"] = policy[1]
        if key.kind is KeyKind.REPLICA:
            primary = self._prop(r, "PrimaryKeyArn")
            if primary is not None:
                key.attr_locs["primary"] = primary[1]
                keys, _understood = self._key_refs(primary[0])
                if len(keys) == 1:
                    key.primary = next(iter(keys))
        return key

    def _key_of(self, ref: str) -> str | None:
        """The key a reference names: ``Key`` (``!Ref``, ``${Key}``), ``Key.Arn`` or ``Key.KeyId``
        (``!GetAtt``, ``${Key.Arn}``), the key's two attributes; else None."""
        name, _, attr = ref.partition(".")
        if self.types.get(name) not in _KEY_TYPES or attr not in ("", "Arn", "KeyId"):
            return None
        return name

    def _key_refs(self, value: Value | None, aliases: dict[str, str] | None = None) -> tuple[set[str], bool]:
        """The keys (logical IDs) a key reference may resolve to, on any ``Fn::If`` branch, and
        whether the reference is understood.

        A reference to a key (or, given ``aliases``, to an alias of one, by reference, name or
        ARN) names it; a literal key ID or ARN names no key of the template (its ID is not
        known before the stack creates it).  Not understood: a part that may be anything (a
        parameter without a default, an imported value, an attribute of another resource), in
        a value that names no key of the template: it may be any key.
        """
        if value is None:
            return set(), True  # AWS::NoValue: no key
        if isinstance(value, Conditional):
            then, then_ok = self._key_refs(value.then, aliases)
            other, other_ok = self._key_refs(value.otherwise, aliases)
            return then | other, then_ok and other_ok
        keys: set[str] = set()
        understood = True
        parts: tuple[object, ...] = value.parts if isinstance(value, Interpolated) else (value,)
        for part in parts:
            if not isinstance(part, Unknown):
                continue
            ref = part.ref or ""
            name = self._key_of(ref)
            if name is None and aliases and part.meaning is Meaning.RESOURCE_ID:
                name = aliases.get(ref)
            if name is not None:
                keys.add(name)
            elif part.meaning in (Meaning.NOTHING, Meaning.RESOURCE_ID, Meaning.RESOURCE_ARN) and not _pseudo(ref):
                understood = False
        text = known_str(value)
        if text is not None and aliases:
            name = text.rpartition(":")[2] if text.startswith("arn:") else text
            if name in aliases:
                keys.add(aliases[name])
        return keys, understood or bool(keys)

    def _alias(self, r: _Resource) -> Alias:
        name = self._prop(r, "AliasName")
        target = self._prop(r, "TargetKeyId")
        keys, understood = self._key_refs(target[0]) if target else (set(), True)
        alias = Alias(
            name=r.name,
            alias_name=name[0] if name else None,
            target=next(iter(keys)) if len(keys) == 1 else None,
            loc=r.entry.key_loc,
            targets=frozenset(keys),
            any_key=not understood,
        )
        if name:
            alias.attr_locs["alias_name"] = name[1]
        if target:
            alias.attr_locs["target"] = target[1]
        return alias

    def _identity_policies(self, r: _Resource) -> list[IdentityPolicy]:
        if r.type in _POLICY_DOCUMENT_TYPES:
            doc = self._prop(r, "PolicyDocument", policy=True)
            return [IdentityPolicy(r.name, doc[0], doc[1])] if doc else []
        if r.type in _SAM_POLICY_TYPES:
            return self._sam_policies(r)
        policies = self._prop(r, "Policies")
        if policies is None:
            return []
        items = _items(policies[0])
        written: list[Value | None] | None = None  # read only for a policy written as text
        out = []
        for i, item in enumerate(items):
            document = _map_value(item, lambda v: _member(v, "PolicyDocument"))
            if _is_text(document):
                if written is None:
                    written = self._written_items(r, "Policies", len(items))
                document = self._inline_policy_text(item, written[i])
            if document is not None:
                out.append(IdentityPolicy(r.name, document, document.loc or item.loc or policies[1]))
        return out

    def _written_items(self, r: _Resource, name: str, count: int) -> list[Value | None]:
        """The items of a list property as written, one per resolved item (Nones where the
        two cannot be paired: an item removed by ``AWS::NoValue``, a list from an intrinsic)."""
        entry = self._props(r).get(name)
        raw = self.src.raw(entry.node) if entry is not None else None
        if isinstance(raw, Known) and isinstance(raw.value, list) and len(raw.value) == count:
            return list(raw.value)
        return [None] * count

    def _inline_policy_text(self, item: Value, raw: Value | None) -> Value | None:
        """The ``PolicyDocument`` of an inline policy item written as JSON text, read into a tree:
        from how it is written when it can be (then placed character by character)."""
        written = _member(raw, "PolicyDocument")
        if written is not None and isinstance(item, Known):
            return self.resolver.policy(written)
        return _map_value(item, lambda v: self.resolver.read_resolved(_member(v, "PolicyDocument")))

    def _sam_policies(self, r: _Resource) -> list[IdentityPolicy]:
        """``Policies`` of a SAM function or state machine: inline documents, and the policy
        templates that grant KMS actions as the statement SAM makes of them (managed policy
        names and other templates are not read).

        SAM ignores ``Policies`` when the resource names its own ``Role``.
        """
        policies = self._prop(r, "Policies")
        if policies is None or self._prop(r, "Role") is not None:
            return []
        out = []
        for item in _items(policies[0]):
            inline = _map_value(item, lambda v: _inline_document(v) or self._sam_template(v))
            if inline is not None:
                out.append(IdentityPolicy(r.name, inline, inline.loc or policies[1]))
        return out

    def _sam_template(self, item: Value) -> Value | None:
        """The policy a SAM policy template item that grants KMS actions stands for
        (``KMSDecryptPolicy: {KeyId: ...}``: ``kms:Decrypt`` on that key of the stack's
        account and Region), located at the item; None for any other item."""
        fields = as_dict(item)
        if fields is None or len(fields) != 1:
            return None
        name, params = next(iter(fields.items()))
        actions = _SAM_KMS_TEMPLATES.get(name)
        if actions is None:
            return None
        loc = item.loc
        key_id = _member(params, "KeyId")
        if key_id is None:
            key_id = Unknown(f"{name} without a KeyId", loc)
        pseudo = [self.resolver.ref_name(p, loc) for p in ("AWS::Partition", "AWS::Region", "AWS::AccountId")]
        resource = _concat(["arn:", pseudo[0], ":kms:", pseudo[1], ":", pseudo[2], ":key/", key_id], key_id.loc or loc)
        statement = {
            "Sid": Known(name, loc),  # SAM writes none; a message names the statement by its template
            "Effect": Known("Allow", loc),
            "Action": Known([Known(a, loc) for a in actions], loc),
            "Resource": resource,
        }
        return Known({"Statement": Known([Known(statement, loc)], loc)}, loc)

    def _multi_region_uses(self, resources: list[_Resource], aliases: list[Alias]) -> list[MultiRegionUse]:
        by_alias_name = {t: a.target for a in aliases if a.target and (t := known_str(a.alias_name))}
        by_alias_id = {a.name: a.target for a in aliases if a.target}
        by_name = {**by_alias_name, **by_alias_id}
        out: list[MultiRegionUse] = []
        global_members: set[str] = set()
        for r in resources:
            if r.type == "AWS::RDS::GlobalCluster":
                source = self._prop(r, "SourceDBClusterIdentifier")
                if source is not None:
                    global_members.update(n for n in _refs(source[0]) if self.types.get(n) == "AWS::RDS::DBCluster")
        for r in resources:
            if r.type == "AWS::DynamoDB::GlobalTable":
                replicas = self._prop(r, "Replicas")
                for replica in _items(replicas[0]) if replicas else []:
                    for plain in _branch_values(replica):
                        sse = _member(plain, "SSESpecification")
                        for key in self._key_refs(_member(sse, "KMSMasterKeyId"), by_name)[0]:
                            out.append(MultiRegionUse(key, r.name, UsageKind.GLOBAL_TABLE))
            elif r.type == "AWS::RDS::DBCluster":
                member = r.name in global_members or self._prop(r, "GlobalClusterIdentifier") is not None
                kms = self._prop(r, "KmsKeyId")
                if member and kms is not None:
                    for key in self._key_refs(kms[0], by_name)[0]:
                        out.append(MultiRegionUse(key, r.name, UsageKind.GLOBAL_CLUSTER))
        return sorted(set(out), key=lambda u: (u.key, u.by))

    # -- suppressions

    def _construct_path(self, r: _Resource) -> str | None:
        """``Metadata: {aws:cdk:path: MyStack/DataKey/Resource}`` as a CDK user names the
        construct (``MyStack/DataKey``: ``Resource`` is the CDK's name for the L1 resource
        inside every construct); None without one."""
        meta = r.fields.get("Metadata")
        entry = next((e for e in self.src.items(meta.node) or [] if e.name == CDK_PATH), None) if meta else None
        path = self.src.text(entry.node) if entry is not None else None
        if not path:
            return None
        return path[: -len("/Resource")] if path.endswith("/Resource") else path

    def _metadata_suppressions(self, r: _Resource) -> list[Suppression]:
        """``Metadata: {kmslint: {ignore: [{id: KMS004, reason: ...}]}}`` on a resource."""
        meta = r.fields.get("Metadata")
        if meta is None:
            return []
        ours = next((e for e in self.src.items(meta.node) or [] if e.name == "kmslint"), None)
        if ours is None:
            return []
        config = self.src.raw(ours.node)
        ignore = as_dict(config)
        entries = as_list(ignore.get("ignore")) if ignore is not None else []
        out = []
        for entry in entries:
            fields = as_dict(entry)
            if fields is None:
                ids_value: Value | None = entry
                reason = ""
            else:
                ids_value = fields.get("id", fields.get("ids"))
                reason = _text(fields.get("reason"))
            ids = _rule_ids(ids_value)
            if ids:
                loc = entry.loc or ours.loc
                out.append(Suppression(r.name, ids, reason, loc, self.file))
        return out


# What a parameter says about itself, besides its name: whether it stands for an account ID.
_ACCOUNT_HINTS = ("Description", "AllowedPattern")


def _is_account_id(name: str, description: str, pattern: str) -> bool:
    from kmslint.policy.principals import names_account_id

    return names_account_id(name, description, pattern)


def _mappings(source: _Source, entry: _Entry | None) -> dict[str, Value]:
    if entry is None:
        return {}
    return as_dict(source.raw(entry.node)) or {}


def _is_null(source: _Source, node: object) -> bool:
    raw = source.raw(node)
    return isinstance(raw, Known) and raw.value is None


def _param(name: str, ptype: str, default: Value | None, allowed: Value | None = None) -> _Param:
    """What ``Ref`` to a parameter gives: its default, when it is a literal of the right shape
    (and, for a list parameter without one, the values its AllowedValues allow)."""
    if ptype.startswith("AWS::SSM::Parameter::"):
        return _Param(None, f"parameter {name} is read from SSM when the stack is deployed")
    is_list = ptype == "CommaDelimitedList" or ptype.startswith("List<")
    if default is None or (isinstance(default, Known) and default.value is None):
        choices: list[str] = []
        for item in as_list(allowed) if is_list else []:
            text = _key_text(item) if isinstance(item, Known) and item.is_scalar else None
            choices.extend(part.strip() for part in (text or "").split(",") if part.strip())
        return _Param(
            None,
            f"parameter {name} has no default",
            tuple(dict.fromkeys(choices)),
            () if is_list else _allowed_texts(allowed),
        )
    if isinstance(default, Known) and default.is_scalar:
        v = default.value
        if is_list and isinstance(v, str):
            return _Param(Known([Known(s, default.loc) for s in v.split(",")], default.loc), "")
        return _Param(default, "")
    if (
        isinstance(default, Known)
        and isinstance(default.value, list)
        and all(isinstance(i, Known) and i.is_scalar for i in default.value)
    ):
        return _Param(default, "")
    return _Param(None, f"parameter {name} has a default that is not a literal")


def _allowed_texts(allowed: Value | None) -> tuple[str, ...]:
    """A parameter's AllowedValues as the strings ``Fn::Equals`` compares; none at all when
    one of them is not a literal scalar (the parameter is then free)."""
    texts = [_key_text(item) if isinstance(item, Known) and item.is_scalar else None for item in as_list(allowed)]
    if any(t is None for t in texts):
        return ()
    return tuple(dict.fromkeys(t for t in texts if t is not None))


def _tags(value: Value, loc: Location) -> Value:
    """CloudFormation ``[{Key, Value}]`` tags as a mapping value keyed by tag key."""
    if not isinstance(value, Known) or not isinstance(value.value, list):
        return Unknown("tags that cannot be resolved statically", loc)
    out: dict[str, Value] = {}
    for item in value.value:
        fields = as_dict(item)
        if fields is None:
            return Unknown("tags that cannot be resolved statically", loc)
        name = known_str(fields.get("Key"))
        if name is None:
            return Unknown("a tag whose key cannot be resolved statically", loc)
        out[name] = fields.get("Value") or Known("", item.loc)
    return Known(out, loc)


def _items(value: Value) -> list[Value]:
    """A list's items, a single value as itself."""
    if isinstance(value, Known) and isinstance(value.value, list):
        return list(value.value)
    return [value]


def _member(value: Value | None, name: str) -> Value | None:
    fields = as_dict(value)
    return fields.get(name) if fields is not None else None


def _map_value(value: Value | None, fn: Callable[[Value], Value | None]) -> Value | None:
    """``fn`` applied under ``Fn::If`` branches: a conditional item gives a conditional result."""
    if value is None:
        return None
    if isinstance(value, Conditional):
        then = _map_value(value.then, fn)
        otherwise = _map_value(value.otherwise, fn)
        if then is None and otherwise is None:
            return None
        return Conditional(value.condition, then, otherwise, value.loc, value.space)
    return fn(value)


def _branch_values(value: Value | None) -> list[Value]:
    """Every non-conditional value a value can take."""
    if value is None:
        return []
    if isinstance(value, Conditional):
        return _branch_values(value.then) + _branch_values(value.otherwise)
    return [value]


def _inline_document(value: Value) -> Value | None:
    """A SAM policy item that is an inline document (a mapping with ``Statement``)."""
    fields = as_dict(value)
    if fields is not None and "Statement" in fields:
        return value
    return None


def _refs(value: Value) -> set[str]:
    out: set[str] = set()
    for v in _branch_values(value):
        if isinstance(v, Unknown) and v.ref and v.meaning in (Meaning.RESOURCE_ID, Meaning.RESOURCE_ARN):
            out.add(v.ref.partition(".")[0] if v.meaning is Meaning.RESOURCE_ARN else v.ref)
    return out


def _text(value: Value | None) -> str:
    v = scalar(value)
    return "" if v is None or isinstance(v, bool) else str(v).strip()


def _rule_ids(value: Value | None) -> tuple[str, ...]:
    texts: list[str] = []
    for item in as_list(value):
        v = scalar(item)
        if isinstance(v, str):
            texts.extend(t for t in re.split(r"[\s,]+", v) if t)
    return tuple(t.upper() if t.upper().startswith("KMS") else t.lower() for t in texts)
