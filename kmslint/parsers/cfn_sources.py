"""Where a CloudFormation template's raw values come from, with their locations.

A *source* gives the template's tree: YAML through :mod:`kmslint.parsers.yamlpos`
(a composed node graph, converted to values only for the parts a rule can look
at; a short-form tag becomes the long form it stands for), JSON through
:mod:`kmslint.parsers.jsonpos`.  Of duplicate keys the last one wins, as in
CloudFormation, and each later occurrence is recorded.  A template that may hold
``Fn::ForEach`` loops (``AWS::LanguageExtensions``) is read through
:class:`LoopSource`, which expands them, within bounds, into the resources and
values they stand for.  :mod:`kmslint.parsers.cloudformation` reads the template
through one of these.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

from kmslint.model import (
    DuplicateKey,
    Known,
    Location,
    ParseError,
    Unknown,
    Value,
    as_dict,
    known_str,
)
from kmslint.parsers.cfn_intrinsics import branch_values, concat, key_text

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from typing import Protocol

    from tree_sitter import Node as TSNode
    from yaml.nodes import CollectionNode, Node

    from kmslint.parsers.cfn_intrinsics import Resolver
    from kmslint.parsers.jsonpos import JsonDocument
    from kmslint.parsers.yamlpos import YamlDocument


class Entry:
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

    class Source(Protocol):
        def items(self, node: object) -> list[Entry] | None: ...
        def elements(self, node: object) -> list[object] | None: ...
        def text(self, node: object) -> str | None: ...
        def raw(self, node: object) -> Value: ...
        def loc(self, node: object) -> Location: ...
        def last_line(self, entry: Entry) -> int: ...
        def duplicates(self) -> Sequence[DuplicateKey]: ...
        def lines(self) -> list[str] | None: ...


_FN_NAMES = (
    *("Sub", "GetAtt", "Join", "If", "Equals", "FindInMap", "ImportValue", "Select", "Split", "Base64"),
    *("And", "Or", "Not", "GetAZs", "Cidr", "Transform", "Length", "ToJsonString"),
)
# Short-form tag -> the long-form key it stands for.
SHORT_TAGS: dict[str, str] = {"!Ref": "Ref", "!Condition": "Condition", **{f"!{n}": f"Fn::{n}" for n in _FN_NAMES}}


class YamlSource:
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

    def items(self, node: object) -> list[Entry] | None:
        if not isinstance(node, self._mapping) or node.tag != self._y.MAP_TAG:
            return None
        out: dict[str, Entry] = {}
        for k, v in self._pairs(node):
            if isinstance(k, self._scalar):
                out[k.value] = Entry(k.value, k, v, self._locate)
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

    def last_line(self, entry: Entry) -> int:
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


class JsonNode:
    """A value of a JSON template as ``json.loads`` read it, its tree-sitter node (None
    where the two do not match), and its parent's span; located when first asked."""

    __slots__ = ("data", "node", "parent_loc")

    def __init__(self, data: object, node: TSNode | None, parent_loc: Location) -> None:
        self.data = data
        self.node = node
        self.parent_loc = parent_loc


class JsonSource:
    """A JSON template, read lazily as the YAML one is: values are built (by
    :meth:`JsonDocument.build`) only for the parts of the template asked for."""

    def __init__(self, doc: JsonDocument, lines: list[str]) -> None:
        self.doc = doc
        self.file = doc.file
        self._lines = lines

    def items(self, node: object) -> list[Entry] | None:
        assert isinstance(node, JsonNode)
        data = node.data
        if not self.doc.is_object(data):
            return None
        where = self.loc(node)
        out: dict[str, Entry] = {}
        for (name, value), child in zip(data, self.doc.member_nodes(data, node.node), strict=True):
            # Of duplicate keys the last one's value wins, as in CloudFormation (RULES.md).
            member = JsonNode(value, child, where)
            out[name] = Entry(name, member, member, self._locate)  # the key is found from the value
        if len(out) < len(data):
            self.doc.note_duplicates(data, node.node, where)
        return list(out.values())

    def duplicates(self) -> Sequence[DuplicateKey]:
        """The keys written twice in the objects read so far: each mapping the reader looks
        at (resources, their properties) and each value it builds (a key policy)."""
        return self.doc.duplicates

    def elements(self, node: object) -> list[object] | None:
        """An array's items (nodes), None for anything else."""
        assert isinstance(node, JsonNode)
        data = node.data
        if not isinstance(data, list):
            return None
        where = self.loc(node)
        return [JsonNode(v, c, where) for v, c in zip(data, self.doc.element_nodes(data, node.node), strict=True)]

    def _locate(self, key: object, value: object) -> Location:
        """A member's key (``value`` None), or its key and value: found back from the value's span."""
        vloc = self.loc(key)
        kloc = self._key_loc(vloc)
        if value is None:
            return kloc
        return Location(self.file, kloc.line, kloc.column, vloc.end_line, vloc.end_column)

    def text(self, node: object) -> str | None:
        assert isinstance(node, JsonNode)
        return node.data if isinstance(node.data, str) else None

    def raw(self, node: object) -> Value:
        assert isinstance(node, JsonNode)
        return self.doc.build(node.data, node.node, node.parent_loc)

    def loc(self, node: object) -> Location:
        assert isinstance(node, JsonNode)
        return self.doc.value_loc(node.data, node.node, node.parent_loc)

    def last_line(self, entry: Entry) -> int:
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
PLACEHOLDER = r"([$&])\{([^{}]*)\}"
_NOT_ALNUM = r"[^0-9A-Za-z]+"


class Bound:
    """A node of the template read inside ``Fn::ForEach`` loops: ``env`` maps each
    identifier to its collection item (None: the collection is not known statically)."""

    __slots__ = ("env", "node")

    def __init__(self, node: object, env: dict[str, str | None]) -> None:
        self.node = node
        self.env = env


def _unbind(node: object) -> tuple[object, dict[str, str | None]]:
    if isinstance(node, Bound):
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

    return re.sub(PLACEHOLDER, item, text)


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


class LoopSource:
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

    def __init__(self, inner: Source, file: str) -> None:
        self.inner = inner
        self.file = file
        self.resolver: Resolver | None = None  # set once the parameters and mappings are read
        self.errors: list[ParseError] = []
        self._outputs = 0
        self._values = 0
        self._full = False  # a bound was reached: no loop expands any further
        self._reported: set[ParseError] = set()

    # -- the source protocol

    def items(self, node: object) -> list[Entry] | None:
        base, env = _unbind(node)
        entries = self.inner.items(base)
        if entries is None or (not env and not any(e.name.startswith(FOREACH) for e in entries)):
            return entries
        out: dict[str, Entry] = {}
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
        return found if found is None or not env else [Bound(n, env) for n in found]

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

    def last_line(self, entry: Entry) -> int:
        return self.inner.last_line(Entry(entry.name, entry.key, _unbind(entry.node)[0], entry._locate))

    def lines(self) -> list[str] | None:
        return self.inner.lines()

    # -- loops over entries (resources, properties)

    def _expand_entry(self, loop: Entry, env: dict[str, str | None]) -> Iterator[Entry]:
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
        for item in self._collection(self.raw(Bound(args[1], env)), env):
            if not self._charge(size, direct, loop.name, loop.key_loc):
                return
            yield from self.items(Bound(output, {**env, ident: item})) or ()

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
        for m in re.finditer(PLACEHOLDER, text):
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
        return concat(parts, value.loc)

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
        unknown = {m.group(2) for m in re.finditer(PLACEHOLDER, text) if m.group(2) in env}
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
        for value in branch_values(resolver.resolve(raw)):
            if isinstance(value, Known) and isinstance(value.value, list):
                out.extend(key_text(i) if isinstance(i, Known) and i.is_scalar else None for i in value.value)
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


def _bound_entry(name: str, entry: Entry, env: dict[str, str | None]) -> Entry:
    """``entry`` under loop bindings, named ``name``, located where it is written."""
    locate = entry._locate

    def unbound(key: object, value: object) -> Location:
        return locate(key, None if value is None else _unbind(value)[0])

    return Entry(name, entry.key, Bound(entry.node, env), unbound)
