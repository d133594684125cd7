"""Named settings a Terraform configuration writes with their values (KMS024), from its views.

Three resource types hold settings a rule asks "is this a secret written in plain
text?" about:

* ``aws_lambda_function``: each entry of ``environment { variables = {...} }``;
* ``aws_ecs_task_definition``: each ``{name, value}`` of a container definition's
  ``environment``, when ``container_definitions`` is known (``jsonencode([...])``, a
  JSON heredoc or a file read by ``file()`` are trees with locations; JSON text, as a
  plan holds it, is read here and located at the text);
* ``aws_ssm_parameter`` of ``type = "String"``: its ``name`` and ``value`` (also
  ``insecure_value`` and ``value_wo``).

A setting's value is what evaluation gives (a literal, a variable's default, a caller's
argument); a plan gives the values of every expression, so there a value counts only when
the configuration writes the argument without a reference (a literal, or functions of
literals) other than a module's variables whose calls pass reference-free arguments (or
leave the variable's default); not at all when the plan has no ``configuration``.  A root
variable, a local, a resource or a module output makes the whole argument an
:class:`Unknown` in a plan (its value may come from outside the configuration, and the plan
does not say which of a map's entries it fills), though the ``.tf`` files may tell.

A setting is located at its name: the key of a map entry (found in the syntax of the file
the map is written in, HCL or JSON; the value's place when it cannot be found), the
``name`` of an ECS environment entry, the ``name`` argument of a parameter.
"""

from __future__ import annotations

import json
import re

from kmslint.model import Conditional, Interpolated, Known, Location, PlainSetting, Unknown, Value, known_str, to_plain
from kmslint.record import Record

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (see kmslint.record)
if TYPE_CHECKING:
    from collections.abc import Callable

    from tree_sitter import Node

    from kmslint.parsers.common import ParseOptions
    from kmslint.parsers.hcl_syntax import Src
    from kmslint.parsers.tf_model import Arguments, ResourceView

LAMBDA = "aws_lambda_function"
ECS_TASK = "aws_ecs_task_definition"
SSM_PARAMETER = "aws_ssm_parameter"

SSM_VALUE_ATTRS = ("value", "insecure_value", "value_wo")
# JSON text of container definitions read here at most (a task definition is limited to 64 KiB).
MAX_DEFINITIONS_TEXT = 1 << 20
MAX_SETTINGS = 10_000  # per configuration: a generated file of a million variables is not read whole


def plain_settings(views: list[ResourceView], name_of: Callable[[ResourceView], str]) -> list[PlainSetting]:
    """The settings of every Lambda function, ECS task definition and SSM parameter among ``views``."""
    keys = _KeyIndex(views)
    out: list[PlainSetting] = []
    for v in views:
        if len(out) >= MAX_SETTINGS:
            break
        if v.rtype == LAMBDA:
            out.extend(_lambda(v, name_of(v), keys))
        elif v.rtype == ECS_TASK:
            out.extend(_ecs(v, name_of(v)))
        elif v.rtype == SSM_PARAMETER:
            out.extend(_ssm(v, name_of(v)))
    return out


def _written(args: Arguments, name: str) -> Value | None:
    """The argument's value when the configuration writes it without references, else an
    Unknown (a plan's values come from anywhere: only a reference-free expression is written)."""
    value = args.attr(name)
    if value is None:
        return None
    if getattr(args, "config", False) is None:
        return Unknown("the plan has no configuration to tell a literal from a variable", value.loc)
    if not all(_MODULE_VARIABLE.match(ref) for ref in args.refs(name)):
        return Unknown("a value computed from references", value.loc)
    return value


# A module's variable, from the root (``module.a["x"].module.b.var.env``): followed through the
# call, it leads to the caller's references (each checked too) or to none, a literal argument.
_MODULE_VARIABLE = re.compile(r'(?:module\.[A-Za-z0-9_-]+(?:\[(?:"(?:[^"\\]|\\.)*"|[0-9]+)\])?\.)+var\.')


# Every name KMS024 calls a secret's holds one of these (tests/test_plaintext_secret.py checks):
# a cheap test before the costly search for where the name is written.
MAY_NAME_A_SECRET = re.compile(r"pass|secret|token|cred|pwd|key")


def _lambda(v: ResourceView, resource: str, keys: _KeyIndex) -> list[PlainSetting]:
    out: list[PlainSetting] = []
    for env in v.blocks("environment"):
        variables = _written(env, "variables")
        where = env.attr_loc("variables") or v.header
        for value in _sides(variables):
            if not (isinstance(value, Known) and isinstance(value.value, dict)):
                continue
            for name, item in value.value.items():
                # Only a literal under a name that may be a secret's can be reported: the others are
                # not worth finding the key of (that walks the file's syntax tree).
                literal = isinstance(item, Known) and isinstance(item.value, str) and item.value != ""
                literal = literal and MAY_NAME_A_SECRET.search(name.lower()) is not None
                loc = (keys.locate(env, value, name, item) if literal else None) or item.loc or where
                out.append(
                    PlainSetting(resource, v.rtype, "terraform", "lambda-environment", name, item, loc, item.loc)
                )
    return out


def _ecs(v: ResourceView, resource: str) -> list[PlainSetting]:
    out: list[PlainSetting] = []
    where = v.attr_loc("container_definitions") or v.header
    for value in _sides(_written(v, "container_definitions")):
        for container in _items(_json_tree(value)):
            fields = _fields(container)
            container_name = known_str(fields.get("name"))
            for entry in _items(fields.get("environment")):
                entry_fields = _fields(entry)
                name = known_str(entry_fields.get("name"))
                if name is None:
                    continue
                item = entry_fields.get("value")
                if item is None:
                    item = Known(None, entry.loc)
                loc = entry_fields["name"].loc or entry.loc or where
                out.append(
                    PlainSetting(
                        resource, v.rtype, "terraform", "ecs-environment", name, item, loc, item.loc, container_name
                    )
                )
    return out


def _ssm(v: ResourceView, resource: str) -> list[PlainSetting]:
    if known_str(v.attr("type")) != "String":
        return []
    name = _name_text(v.attr("name"))
    if name is None:
        return []
    loc = v.attr_loc("name") or v.header
    out: list[PlainSetting] = []
    for attr in SSM_VALUE_ATTRS:
        value = _written(v, attr)
        if value is not None:
            out.append(PlainSetting(resource, v.rtype, "terraform", "ssm-parameter", name, value, loc, value.loc))
    return out


# ---------------------------------------------------------------------- values


def _sides(value: Value | None) -> list[Value]:
    """The values a conditional may take (each side of ``a ? b : c``, nested ones too)."""
    out: list[Value] = []
    stack = [value]
    while stack and len(out) < 64:
        v = stack.pop()
        if isinstance(v, Conditional):
            stack.extend((v.otherwise, v.then))
        elif v is not None:
            out.append(v)
    return out


def _name_text(value: Value | None) -> str | None:
    """A name as the configuration writes it: its text, ``${...}`` for the parts not known."""
    if isinstance(value, Known) and isinstance(value.value, str):
        return value.value
    if isinstance(value, Interpolated):
        text = to_plain(value)
        return text if isinstance(text, str) else None
    return None


def _json_tree(value: Value) -> Value:
    """Container definitions as a tree: JSON text is read (located at the text), a tree is itself."""
    if isinstance(value, Known) and isinstance(value.value, str):
        text = value.value
        if len(text) > MAX_DEFINITIONS_TEXT:
            return Unknown("container definitions too large to read", value.loc)
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            return Unknown("container definitions that are not JSON", value.loc)
        return _located(data, value.loc)
    return value


def _located(data: object, loc: Location | None) -> Value:
    if isinstance(data, dict):
        return Known({str(k): _located(v, loc) for k, v in data.items()}, loc)
    if isinstance(data, list):
        return Known([_located(v, loc) for v in data], loc)
    if data is None or isinstance(data, str | int | float | bool):
        return Known(data, loc)
    return Unknown("an unsupported JSON value", loc)


def _items(value: Value | None) -> list[Value]:
    if isinstance(value, Known) and isinstance(value.value, list):
        return [item for item in value.value if item is not None]
    return []


def _fields(value: Value | None) -> dict[str, Value]:
    """A JSON object's members by lower-cased name (the ECS API reads ``Name`` as ``name``)."""
    if isinstance(value, Known) and isinstance(value.value, dict):
        return {str(k).lower(): item for k, item in value.value.items()}
    return {}


# ---------------------------------------------------------------------- where a map's keys are


class _Keys(Record, eq=False):
    """The keys of the HCL objects of one file: by the place of the object and the key's
    name, and by the place of the value written after the key."""

    by_object: dict[tuple[int, int], dict[str, Location]]
    by_value: dict[tuple[int, int], tuple[str, Location]]


class _KeyIndex:
    """Where the key of a map entry is written: before its value (a JSON member, an HCL
    object element), or in the map's own syntax by name (a map whose values come from
    elsewhere, ``{ TOKEN = local.token }``).  A file is indexed when first asked (most
    configurations have no setting to locate): from the syntax tree of a view's block in
    it, else read again through the parse options (a caller's file, which holds no view);
    a file that cannot be read leaves the value's own place."""

    def __init__(self, views: list[ResourceView]) -> None:
        self._blocks: dict[str, object] = {}
        self._opts: ParseOptions | None = None
        for v in views:
            block = getattr(v, "block", None)  # .tf and .tf.json views: the resource's block
            src = getattr(block, "src", None)
            if src is not None:
                self._blocks.setdefault(src.display, block)
                self._opts = self._opts or getattr(getattr(v, "ev", None), "opts", None)
        self._files: dict[str, _Keys | None] = {}

    def locate(self, args: Arguments, mapping: Known, name: str, item: Value) -> Location | None:
        value_loc = item.loc
        plan_keys = getattr(args, "keys", None)  # a plan: its members' keys by their values' places
        if isinstance(plan_keys, dict):
            found = plan_keys.get((value_loc.line, value_loc.column)) if value_loc is not None else None
            return found if isinstance(found, Location) else None
        if value_loc is not None:
            keys = self._keys(value_loc.file)
            written = keys.by_value.get((value_loc.line, value_loc.column)) if keys is not None else None
            if written is not None and written[0] == name:  # the name too: a file read again may differ
                return written[1]
        loc = mapping.loc
        keys = self._keys(loc.file) if loc is not None else None
        if keys is None or loc is None:
            return None
        return keys.by_object.get((loc.line, loc.column), {}).get(name)

    def _keys(self, file: str) -> _Keys | None:
        if file not in self._files:
            self._files[file] = self._index(file)
        return self._files[file]

    def _index(self, file: str) -> _Keys | None:
        block = self._blocks.get(file)
        if block is not None and getattr(block, "is_json", False):
            json_keys = getattr(block, "json_keys", None)
            json_src = getattr(block, "src", None)
            return _json_keys(json_src, json_keys) if isinstance(json_keys, dict) and json_src is not None else None
        src = getattr(block, "src", None)
        node = getattr(block, "_node", None)
        if block is None and self._opts is not None and file.endswith(".tf"):
            src, node = self._parse(file, self._opts)
        if src is None or node is None or getattr(src, "fixed", None) is not None:
            return None
        while node.parent is not None:
            node = node.parent
        return _hcl_keys(src, node)

    @staticmethod
    def _parse(file: str, opts: ParseOptions) -> tuple[Src | None, Node | None]:
        """A file of the configuration that holds no view (a module's caller), parsed again."""
        from pathlib import Path

        from kmslint.parsers.common import ParseFailure
        from kmslint.parsers.hcl_syntax import Src, parse_hcl

        path = next((p for p, shown in opts.display_names.items() if shown == file), Path(file))
        try:
            text = opts.read_text(path)
            parsed = parse_hcl(Src(file, text.encode("utf-8", "surrogatepass"), path), opts.max_depth)
        except (OSError, ParseFailure, UnicodeError):
            return None, None
        tree = parsed.tree
        root = getattr(tree, "root_node", None)
        return (parsed.src, root) if root is not None else (None, None)


def _hcl_keys(src: Src, root: Node) -> _Keys:
    keys = _Keys({}, {})
    stack = [root]
    while stack:
        n = stack.pop()
        if n.type == "object":
            named: dict[str, Location] = {}
            for elem in n.named_children:
                key = elem.child_by_field_name("key") if elem.type == "object_elem" else None
                val = elem.child_by_field_name("val") if key is not None else None
                if key is None or val is None:
                    continue
                kloc = src.loc(key)
                vloc = src.loc(val)
                text = src.text(key).strip()
                if len(text) >= 2 and text[0] == text[-1] == '"':
                    text = text[1:-1]
                keys.by_value[(vloc.line, vloc.column)] = (text, kloc)
                named.setdefault(text, kloc)
            start = src.loc(n)
            keys.by_object[(start.line, start.column)] = named
        stack.extend(n.named_children)
    return keys


def _json_keys(src: Src, json_keys: dict[tuple[int, int], Location]) -> _Keys:
    """A ``.tf.json`` file's members: each key's name read back from the file's text."""
    keys = _Keys({}, {})
    lines = src.data.decode("utf-8", "replace").split("\n")
    for place, kloc in json_keys.items():
        line = lines[kloc.line - 1] if 0 < kloc.line <= len(lines) else ""
        text = line[kloc.column - 1 : kloc.end_column - 1] if kloc.line == kloc.end_line else ""
        try:
            name = json.loads(text) if text else None
        except ValueError:
            name = None
        if isinstance(name, str):
            keys.by_value[place] = (name, kloc)
    return keys
