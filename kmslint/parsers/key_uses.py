"""The model of key use (:class:`kmslint.model.KeyUse`): which data stores a configuration
declares, how each is encrypted, and which key it names.

One walk of the table in :mod:`kmslint.policy.datastores` for each syntax:
Terraform (``.tf`` and plan JSON alike, through the resource views of
:mod:`kmslint.parsers.tf_model`) and CloudFormation/SAM (through the template
reader of :mod:`kmslint.parsers.cloudformation`).  Nothing here is per service.

A key is resolved to a key of the configuration by the resolution the rest of
the model uses (a reference to the key or to an alias of it, in any module), or
by a literal alias name (``alias/app``, or an alias ARN) of an alias declared
here.  A literal key ID or ARN names no key declared here (their IDs are made
when they are created), and so resolves to none.
"""

from __future__ import annotations

from collections.abc import Callable

from kmslint.model import (
    Alias,
    Conditional,
    KeyUse,
    Known,
    Location,
    Unknown,
    Value,
    as_bool,
    known_str,
)
from kmslint.policy.datastores import (
    CFN,
    EBS_DEFAULT_KEY_TYPE,
    EBS_DEFAULT_TYPE,
    S3_SSE_TYPE,
    TF,
    Store,
    rows,
    unset_state,
    unsupported,
)

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (see kmslint.record)
if TYPE_CHECKING:
    from kmslint.parsers.cfn_sources import Entry
    from kmslint.parsers.cloudformation import _Reader, _Resource
    from kmslint.parsers.tf_model import Arguments, Builder, ResourceView


def alias_names(aliases: list[Alias]) -> dict[str, str]:
    """Alias name (``alias/app``) -> the key it points at, for the aliases that point at one key."""
    out: dict[str, str] = {}
    for a in aliases:
        text = known_str(a.alias_name)
        if text and a.target:
            out.setdefault(text, a.target)
    return out


def by_alias_name(value: Value | None, names: dict[str, str]) -> str | None:
    """The key a literal alias name or alias ARN names, among ``names``."""
    text = known_str(value)
    if not text:
        return None
    if text.startswith("arn:"):
        text = text.partition(":alias/")[2]
        text = f"alias/{text}" if text else ""
    return names.get(text)


def _spelled(part: str, name: str) -> str:
    """A setting's name as the resource writes it, from the resource (``root_block_device.encrypted``)."""
    return f"{part}.{name}" if part else name


# --------------------------------------------------------------------------- Terraform


def terraform_uses(builder: Builder, views: list[ResourceView]) -> list[KeyUse]:
    """The key uses of a Terraform configuration's resource views."""
    uses: list[KeyUse] = []
    account_default: Value | None = None
    account_key: Value | None = None
    names: dict[str, str] | None = None
    separate: set[str] | None = set()  # buckets a separate encryption configuration names (None: any)
    for v in views:
        bucket = builder._resource_ref(v.refs("bucket"), "aws_s3_bucket") if v.rtype == S3_SSE_TYPE else None
        if v.rtype == S3_SSE_TYPE and separate is not None:
            separate = None if bucket is None else separate | {str(builder._name(bucket))}
        if v.rtype == EBS_DEFAULT_TYPE:
            enabled = v.attr("enabled")
            account_default = Known(True, v.header) if enabled is None else enabled
            continue
        if v.rtype == EBS_DEFAULT_KEY_TYPE:
            account_key = v.attr("key_arn") or Known(None, v.header)
            continue
        found = rows(TF, v.rtype)
        if not found:
            continue
        if names is None:
            names = alias_names(builder.project.aliases)
        tags, _where = (bucket if bucket is not None else v).tags()  # a separate configuration: its bucket's
        for row in found:
            for args, label in _tf_parts(v, row):
                use = _tf_use(builder, v, row, args, label, names)
                use.tags = tags
                uses.append(use)
    _leave_to_separate(uses, separate)
    if account_default is not None or account_key is not None:
        for use in uses:
            if use.kind == "ebs":
                use.account_default = account_default
                use.account_key = account_key
    return uses


def _leave_to_separate(uses: list[KeyUse], separate: set[str] | None) -> None:
    """A bucket that writes no encryption of its own, named by (or maybe the bucket of: None) a
    separate ``aws_s3_bucket_server_side_encryption_configuration``, is encrypted as that says."""
    if separate is not None and not separate:
        return
    for use in uses:
        written = use.switch is not None or use.key is not None or use.inherits is not None
        if use.rtype == "aws_s3_bucket" and not written and (separate is None or str(use.name) in separate):
            use.inherits = S3_SSE_TYPE


def _tf_parts(v: ResourceView, row: Store) -> list[tuple[Arguments | None, str]]:
    """The parts of the resource that hold a row's settings, each with its label
    (``root_block_device``, ``block_device_mappings[1].ebs``); for a settings part the resource
    does not write, one part with nothing set (None)."""
    current: list[tuple[Arguments, str]] = [(v, "")]
    for step in row.part:
        following: list[tuple[Arguments, str]] = []
        for args, label in current:
            blocks = args.nested(step)
            if blocks is None or (not blocks and _written_as_argument(args.attr(step))):
                return []  # dynamic blocks over an unknown collection, or an argument: nothing can be told
            for i, block in enumerate(blocks):
                name = f"{label}.{step}" if label else step
                following.append((block, f"{name}[{i}]" if len(blocks) > 1 else name))
        current = following
    if not current and not row.each:
        return [(None, ".".join(row.part))]
    return [(args, label) for args, label in current]


def _written_as_argument(value: Value | None) -> bool:
    """Is a block's name set as an argument (``encrypt_at_rest = {...}``, or a value the plan could
    not hand over as blocks)?  An empty list is no block at all."""
    return value is not None and not (isinstance(value, Known) and value.value in (None, []))


def _tf_setting(args: Arguments | None, path: str | None) -> tuple[Arguments | None, str | None]:
    """The arguments that hold a setting and its last name (``provider.key_arn``: the provider block)."""
    if args is None or path is None:
        return None, None
    *blocks, name = path.split(".")
    for step in blocks:
        found = args.nested(step)
        if not found:
            return None, None
        args = found[0]
    return args, name


def _new_use(row: Store, name: str, rtype: str, syntax: str, loc: Location, label: str) -> KeyUse:
    """A store of ``row`` as one resource declares it, its settings still to be read."""
    return KeyUse(
        name=name,
        rtype=rtype,
        syntax=syntax,
        loc=loc,
        kind=row.kind,
        part=label if row.each else "",  # a store of its own (a block device), else settings of the resource
        states=dict(row.states),
        unnamed=row.unnamed,
        fix=row.fix,
        key_overrides=row.key_overrides,
        doc=row.doc,
    )


def _tf_use(
    builder: Builder, v: ResourceView, row: Store, args: Arguments | None, label: str, names: dict[str, str]
) -> KeyUse:
    use = _new_use(row, builder._name(v), v.rtype, TF, v.header, label)
    holder, name = _tf_setting(args, row.switch)
    if row.switch is not None:
        use.switch_attr = _spelled(label, row.switch)
    if holder is not None and name is not None:
        use.switch = holder.attr(name)
        if not _tf_set(use.switch):
            use.switch = None  # null, "": the provider's default
        use.switch_loc = holder.attr_loc(name) if use.switch is not None else None
    if row.key is not None:
        use.key_attr = _spelled(label, row.key)
    holder, name = _tf_setting(args, row.key)
    if holder is not None and name is not None:
        use.key = holder.attr(name)
        if not _tf_set(use.key):
            use.key = None
        if use.key is not None:
            use.key_loc = holder.attr_loc(name)
            use.key_resource = builder._key_ref(v, holder.refs(name))[0] or by_alias_name(use.key, names)
    for setting in row.inherits:
        for place in (args, v) if args is not v else (v,):
            if place is not None and (_tf_set(place.attr(setting)) or place.nested(setting)):
                use.inherits = setting
                break
        if use.inherits is not None:
            break
    if use.inherits is None and row.unsupported:
        values = []
        for setting, _patterns in row.unsupported:
            holder, name = _tf_setting(v, setting)
            values.append(known_str(holder.attr(name)) if holder is not None and name is not None else None)
        use.inherits = unsupported(row, values)
    decider = v.attr(row.unset_by[0]) if row.unset_by is not None else None
    use.unset = unset_state(row, None if decider is None else (known_str(decider) or object()))
    return use


def _tf_set(value: Value | None) -> bool:
    """Is an argument set to something (not ``null`` nor ``""``, as the provider reads them)?"""
    return not (value is None or (isinstance(value, Known) and value.value in (None, "")))


# --------------------------------------------------------------------------- CloudFormation


# SAM resource types whose properties the template's ``Globals`` section may give.
_SAM_GLOBALS = {"AWS::Serverless::Function": "Function", "AWS::Serverless::SimpleTable": "SimpleTable"}


class _Template:
    """The template reader, and the ``Globals`` a SAM resource takes a property from when it does
    not write it."""

    def __init__(self, reader: _Reader, globals_entry: Entry | None) -> None:
        self.reader = reader
        self.src = reader.src
        self.globals: dict[str, dict[str, Entry]] = {}
        for section in (reader.src.items(globals_entry.node) or []) if globals_entry is not None else []:
            self.globals[section.name] = {e.name: e for e in reader.src.items(section.node) or []}

    def prop(self, r: _Resource, name: str) -> tuple[Value, Location, object | None] | None:
        """A property's resolved value, where it is written and its node; from ``Globals`` when a
        SAM resource does not write it."""
        found = self.reader._prop(r, name)
        if found is not None:
            entry = self.reader._props(r).get(name)
            return found[0], found[1], entry.node if entry is not None else None
        section = _SAM_GLOBALS.get(r.type)
        entry = self.globals.get(section, {}).get(name) if section is not None else None
        if entry is None:
            return None
        value = self.reader.resolver.resolve(self.src.raw(entry.node))
        return (value, entry.loc, entry.node) if value is not None else None


def cloudformation_uses(
    reader: _Reader,
    resources: list[_Resource],
    aliases: list[Alias],
    tag_map: Callable[[Value, Location], Value],
    globals_entry: Entry | None = None,
) -> list[KeyUse]:
    """The key uses of a template's resources (those that exist); ``tag_map`` reads ``[{Key, Value}]``
    tags, ``globals_entry`` is the template's ``Globals`` section."""
    t = _Template(reader, globals_entry)
    uses: list[KeyUse] = []
    by_name: dict[str, str] | None = None
    for r in resources:
        found = rows(CFN, r.type)
        if not found:
            continue
        if by_name is None:
            by_name = {**alias_names(aliases), **{a.name: a.target for a in aliases if a.target}}
        tags = _cfn_tags(t, r, tag_map)
        for row in found:
            for part, raw, label in _cfn_parts(t, r, row):
                use = _cfn_use(t, r, row, part, raw, label, by_name)
                use.tags = tags
                uses.append(use)
    return uses


def _cfn_tags(t: _Template, r: _Resource, tag_map: Callable[[Value, Location], Value]) -> Value | None:
    found = t.prop(r, "Tags")
    if found is None:
        return None
    value, loc, _node = found
    if isinstance(value, Known) and isinstance(value.value, dict):
        return value  # SAM and SSM write tags as a mapping
    return tag_map(value, loc)


# A part: its properties (None: not written), its node as written (None: not followed), its label.
_Part = tuple[dict[str, Value] | None, object | None, str]


def _cfn_parts(t: _Template, r: _Resource, row: Store) -> list[_Part]:
    """The parts of the resource that hold a row's settings (resolved mappings), each with the
    node it is written as (to place its settings by their keys) and its label."""
    if not row.part:
        return [(None, None, "")]
    first = t.prop(r, row.part[0])
    if first is None:
        return [] if row.each else [(None, None, ".".join(row.part))]
    current: list[tuple[Value, object | None, str]] = [(first[0], first[2], row.part[0])]
    for step in (*row.part[1:], None):
        following: list[tuple[Value, object | None, str]] = []
        for value, raw, label in current:
            if isinstance(value, Known) and isinstance(value.value, list):
                elements = t.src.elements(raw) if raw is not None else None
                if elements is not None and len(elements) != len(value.value):
                    elements = None  # an item left out (AWS::NoValue) or made by an intrinsic
                for i, item in enumerate(value.value):
                    following.append((item, elements[i] if elements else None, f"{label}[{i}]"))
            else:
                following.append((value, raw, label))
        current = following
        if step is None:
            break
        following = []
        for value, raw, label in current:
            if not (isinstance(value, Known) and isinstance(value.value, dict)):
                return []  # a part that cannot be read statically (an Fn::If around it, a parameter)
            member = value.value.get(step)
            if member is None:
                continue
            following.append((member, _raw_member(t, raw, step), f"{label}.{step}"))
        current = following
    out: list[_Part] = []
    for value, raw, label in current:
        if not (isinstance(value, Known) and isinstance(value.value, dict)):
            return []
        out.append((value.value, raw, label))
    if not out and not row.each:
        return [(None, None, ".".join(row.part))]
    return out


def _raw_member(t: _Template, raw: object | None, name: str) -> object | None:
    if raw is None:
        return None
    for entry in t.src.items(raw) or ():
        if entry.name == name:
            return entry.node
    return None


def _cfn_setting(
    t: _Template, r: _Resource, part: dict[str, Value] | None, raw: object | None, path: str | None
) -> tuple[Value | None, Location | None]:
    """A setting's value and where it is written (its key), inside a part or, for a row without
    one, among the resource's properties."""
    if path is None:
        return None, None
    steps = path.split(".")
    if part is None and raw is None:
        found = t.prop(r, steps[0])
        if found is None or (isinstance(found[0], Known) and found[0].value is None):
            return None, None
        value: Value | None = found[0]
        loc: Location | None = found[1]
        node = found[2]
        steps = steps[1:]
    else:
        value, loc, node = Known(part or {}), None, raw
    for step in steps:
        items = value.value if isinstance(value, Known) and isinstance(value.value, dict) else None
        if items is None:
            return Unknown("a setting that cannot be read statically", loc), loc
        value = items.get(step)
        if value is None or (isinstance(value, Known) and value.value is None):
            return None, None
        loc = value.loc
        entry_loc = None
        if node is not None:
            for entry in t.src.items(node) or ():
                if entry.name == step:
                    entry_loc, node = entry.loc, entry.node
                    break
            else:
                node = None
        loc = entry_loc or loc
    return value, loc


def _cfn_use(
    t: _Template,
    r: _Resource,
    row: Store,
    part: dict[str, Value] | None,
    raw: object | None,
    label: str,
    by_name: dict[str, str],
) -> KeyUse:
    use = _new_use(row, r.name, r.type, CFN, r.entry.key_loc, label)
    if part is None and row.part:
        raw = None  # a settings part not written: every setting unset
    in_part = part is not None or bool(row.part)
    if row.switch is not None:
        use.switch_attr = _spelled(label, row.switch)
        if in_part:
            use.switch, use.switch_loc = _cfn_setting(t, r, part or {}, raw, row.switch)
        else:
            use.switch, use.switch_loc = _cfn_setting(t, r, None, None, row.switch)
    if row.key is not None:
        use.key_attr = _spelled(label, row.key)
        if in_part:
            use.key, use.key_loc = _cfn_setting(t, r, part or {}, raw, row.key)
        else:
            use.key, use.key_loc = _cfn_setting(t, r, None, None, row.key)
        if use.key is not None:
            keys, _understood = t.reader._key_refs(use.key, by_name)
            use.key_resource = next(iter(keys)) if len(keys) == 1 else None
    for setting in row.inherits:
        value = (part or {}).get(setting) if in_part else None
        if value is None:
            found = t.prop(r, setting)
            value = found[0] if found is not None else None
        if value is not None and not (isinstance(value, Known) and value.value in (None, "")):
            use.inherits = setting
            break
    if use.inherits is None and row.unsupported:
        found_values = [known_str(_cfn_setting(t, r, None, None, setting)[0]) for setting, _p in row.unsupported]
        use.inherits = unsupported(row, found_values)
    decider: object = None
    if row.unset_by is not None:
        found = t.prop(r, row.unset_by[0])
        decider = None if found is None else (known_str(found[0]) or object())
    use.unset = unset_state(row, decider)
    return use


def state_of_default(value: Value | None) -> bool | None:
    """Is an account's EBS encryption by default on (True), off (False), or unknown (None)?"""
    if isinstance(value, Conditional):
        return None
    return as_bool(value)


__all__ = ["alias_names", "by_alias_name", "cloudformation_uses", "state_of_default", "terraform_uses"]
