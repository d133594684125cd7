"""CloudFormation's intrinsic functions, evaluated as far as a template alone allows.

:class:`Resolver` evaluates ``Ref`` to parameters with a default and to pseudo
parameters, ``Fn::Sub``, ``Fn::Join``, ``Fn::FindInMap`` with literal keys,
``Fn::Select``, ``Fn::Split``, ``Fn::GetAtt``, ``Fn::If`` and
``Fn::ToJsonString`` into symbolic values; everything else is
:class:`~kmslint.model.Unknown`.  A policy written as JSON text is handed to
:mod:`kmslint.parsers.cfn_policy_text` (imported when one is met).
:mod:`kmslint.parsers.cloudformation` builds one resolver per template from its
parameters (:class:`Param`), resources and mappings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from kmslint.model import (
    Conditional,
    DuplicateKey,
    Interpolated,
    Known,
    Location,
    Meaning,
    Unknown,
    Value,
    as_dict,
    as_int,
    as_list,
    known_str,
    scalar,
)
from kmslint.parsers.common import DEFAULT_MAX_DEPTH, Budget
from kmslint.record import Record, replace

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from kmslint.parsers.cfn_conditions import Space
    from kmslint.parsers.common import Budget


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


class Param(Record, frozen=True):
    value: Value | None  # the default, when it is what a Ref gives
    why: str  # why a Ref cannot be resolved, when value is None
    # A list parameter without a default: the values its AllowedValues let it hold.
    choices: tuple[str, ...] = ()
    # A parameter that is not a list, without a default: its AllowedValues as text (the
    # values conditions may find it equal to, see kmslint.parsers.cfn_conditions).
    allowed: tuple[str, ...] = ()
    # What a Ref stands for when value is None: an account ID, by its name, Description or AllowedPattern.
    meaning: Meaning = Meaning.NOTHING


class Resolver:
    """Evaluates intrinsic functions over raw values, as far as a template alone allows."""

    def __init__(
        self,
        params: dict[str, Param],
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
        for m in self.sub_variables(text):
            parts.append(text[pos : m.start()])
            parts.append(self.sub_part(m, variables, loc))
            pos = m.end()
        parts.append(text[pos:])
        return concat(parts, loc)

    def sub_variables(self, text: str) -> Iterator[re.Match[str]]:
        """The ``${...}`` of an ``Fn::Sub`` template string, in order."""
        return SUB_VAR.finditer(text)

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
        return concat(parts, loc)

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
        if not is_text(value):
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
            text = key_text(value)
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
                    return [concat(p, loc) for p in pieces], False
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
        return [concat(p, loc) for p in pieces], True

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
        keys = [key_text(self.resolve(i)) for i in items[:3]]
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


def key_text(value: Value | None) -> str | None:
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


def is_text(value: Value | None) -> bool:
    """Is a resolved policy a string (JSON text to read), on some ``Fn::If`` branch?"""
    if isinstance(value, Conditional):
        return is_text(value.then) or is_text(value.otherwise)
    return isinstance(value, Interpolated) or (isinstance(value, Known) and isinstance(value.value, str))


def is_pseudo(ref: str) -> bool:
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


def concat(parts: list[str | Value | None], loc: Location | None) -> Value:
    """Join literal text and values into a Known string, an Unknown, an Interpolated or a Conditional."""
    for i, part in enumerate(parts):
        if isinstance(part, Conditional):
            if sum(isinstance(p, Conditional) for p in parts) > _MAX_CONDITIONAL_PARTS:
                return Unknown("a string built from too many Fn::If", loc)
            then = concat([*parts[:i], _or_empty(part.then, loc), *parts[i + 1 :]], loc)
            otherwise = concat([*parts[:i], _or_empty(part.otherwise, loc), *parts[i + 1 :]], loc)
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


def branch_values(value: Value | None) -> list[Value]:
    """Every non-conditional value a value can take."""
    if value is None:
        return []
    if isinstance(value, Conditional):
        return branch_values(value.then) + branch_values(value.otherwise)
    return [value]
