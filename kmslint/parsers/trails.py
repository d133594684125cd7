"""CloudTrail trails into the model (:class:`~kmslint.model.Trail`), for KMS023.

Terraform ``aws_cloudtrail`` (from ``.tf`` or plan JSON, through a resource view:
:mod:`kmslint.parsers.tf_model`) and CloudFormation ``AWS::CloudTrail::Trail``
(through the template reader's resolved properties) give the same record: the
trail's on/off switch, its multi-Region and organization flags, and its basic or
advanced event selectors, each value located where it is written.

Selectors are read as far as their structure is known.  A ``dynamic`` block over
an unknown collection, or a property that is not a list of mappings (an
intrinsic that cannot be resolved), makes what the trail logs unknown
(``selectors_unknown``): it then gives no finding and may make up for any other
trail.  An ``Fn::If`` on one setting inside a selector stays a
:class:`~kmslint.model.Conditional`, and one that chooses between lists, or puts
an item in or leaves it out, gives each side's selectors with the condition they
are there under (``present``): the rule reads both branch by branch.
"""

from __future__ import annotations

from kmslint.model import (
    TRAIL_ATTRIBUTE_NAMES,
    AdvancedEventSelector,
    Conditional,
    EventSelector,
    FieldSelector,
    Known,
    Location,
    Trail,
    Value,
)

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (see kmslint.record)
if TYPE_CHECKING:
    from collections.abc import Callable

    from kmslint.parsers.tf_model import Arguments, ResourceView

    Provided = Callable[[Value | None], Value | None]

TF_TYPE = "aws_cloudtrail"
CFN_TYPE = "AWS::CloudTrail::Trail"

# The trail's own settings: Terraform argument, CloudFormation property, model field.
_FLAGS = (
    ("enable_logging", "IsLogging", "logging"),
    ("is_multi_region_trail", "IsMultiRegionTrail", "multi_region"),
    ("is_organization_trail", "IsOrganizationTrail", "organization"),
)
_BASIC = ("include_management_events", "read_write_type", "exclude_management_event_sources")
OPERATORS = ("equals", "not_equals", "starts_with", "not_starts_with", "ends_with", "not_ends_with")

# How a template names a selector's members (model name -> property).
_CFN_NAMES = TRAIL_ATTRIBUTE_NAMES["cloudformation"]


# --------------------------------------------------------------------------- Terraform


def tf_trail(v: ResourceView, name: str, provided: Provided) -> Trail:
    """An ``aws_cloudtrail`` instance, named as findings name it (``name``).  ``provided`` is
    what the provider reads an argument as: None when it is not set (``null``, ``""``), each
    side of a conditional likewise (kmslint.parsers.tf_model.absent and absent_sides, handed
    in by the builder: tf_model imports this module)."""
    trail = Trail(name, v.header, "terraform")
    for tf_name, _cfn, attr in _FLAGS:
        value = provided(v.attr(tf_name))
        if value is None:
            continue
        setattr(trail, attr, value)
        trail.attr_locs[attr] = v.attr_loc(tf_name) or v.header
    basic = v.nested("event_selector")
    advanced = v.nested("advanced_event_selector")
    # None: dynamic blocks over an unknown collection (or blocks known only after apply).
    trail.selectors_unknown = basic is None or advanced is None
    trail.event_selectors = [_tf_basic(blk, v.header, provided) for blk in basic or []]
    trail.advanced_event_selectors = [_tf_advanced(blk, v.header, provided) for blk in advanced or []]
    return trail


def _tf_basic(blk: Arguments, fallback: Location, provided: Provided) -> EventSelector:
    selector = EventSelector(fallback)
    for attr in _BASIC:
        value = provided(blk.attr(attr))
        if value is None:
            continue
        setattr(selector, attr, value)
        selector.attr_locs[attr] = blk.attr_loc(attr) or _loc(value, fallback)
    selector.loc = next(iter(selector.attr_locs.values()), fallback)
    return selector


def _tf_advanced(blk: Arguments, fallback: Location, provided: Provided) -> AdvancedEventSelector:
    selector = AdvancedEventSelector(fallback)
    fields = blk.nested("field_selector")
    if fields is None:
        selector.unknown = True
    else:
        selector.field_selectors = [_tf_field_selector(fs, fallback, provided) for fs in fields]
    if selector.field_selectors:
        selector.loc = selector.field_selectors[0].loc
    return selector


def _tf_field_selector(blk: Arguments, fallback: Location, provided: Provided) -> FieldSelector:
    fs = FieldSelector(fallback)
    field_value = blk.attr("field")
    if field_value is not None:
        fs.event_field = field_value
        fs.attr_locs["field"] = blk.attr_loc("field") or _loc(field_value, fallback)
    for op in OPERATORS:
        value = provided(blk.attr(op))
        if value is None or _empty(value):
            continue
        fs.operators[op] = value
        fs.attr_locs[op] = blk.attr_loc(op) or _loc(value, fallback)
    fs.loc = next(iter(fs.attr_locs.values()), fallback)
    return fs


# --------------------------------------------------------------------------- CloudFormation


def cfn_trail(name: str, loc: Location, prop: Callable[[str], tuple[Value, Location] | None]) -> Trail:
    """An ``AWS::CloudTrail::Trail``: ``prop`` gives a resolved property and where it is
    written (None when it is not set)."""
    trail = Trail(name, loc, "cloudformation")
    for _tf, cfn_name, attr in _FLAGS:
        found = prop(cfn_name)
        if found is not None:
            setattr(trail, attr, found[0])
            trail.attr_locs[attr] = found[1]
    basic = prop("EventSelectors")
    if basic is not None:
        trail.attr_locs["event_selectors"] = basic[1]
        selectors = _basic_selectors(basic[0], basic[1])
        if selectors is None:
            trail.selectors_unknown = True
        else:
            trail.event_selectors = selectors
    advanced = prop("AdvancedEventSelectors")
    if advanced is not None:
        trail.attr_locs["advanced_event_selectors"] = advanced[1]
        chosen = _advanced_selectors(advanced[0], advanced[1])
        if chosen is None:
            trail.selectors_unknown = True
        else:
            trail.advanced_event_selectors = chosen
    return trail


def _basic_selectors(value: Value, where: Location) -> list[EventSelector] | None:
    """``EventSelectors`` items; None when they cannot be told apart."""
    items = _mappings(value)
    if items is None:
        return None
    out = []
    for item, members, present in items:
        selector = EventSelector(_loc(item, where), present=present)
        for attr in _BASIC:
            member = members.get(_CFN_NAMES[attr])
            if member is None or _no_value(member):
                continue
            setattr(selector, attr, member)
            selector.attr_locs[attr] = _loc(member, selector.loc)
        out.append(selector)
    return out


def _advanced_selectors(value: Value, where: Location) -> list[AdvancedEventSelector] | None:
    items = _mappings(value)
    if items is None:
        return None
    out = []
    for item, members, present in items:
        selector = AdvancedEventSelector(_loc(item, where), present=present)
        member = members.get(_CFN_NAMES["field_selectors"])
        found = _field_selectors(member, selector.loc) if member is not None else []
        if found is None:
            selector.unknown = True
        else:
            selector.field_selectors = found
        out.append(selector)
    return out


# --------------------------------------------------------------------------- values


def _field_selectors(value: Value | None, where: Location) -> list[FieldSelector] | None:
    """A template's ``FieldSelectors``; None when they cannot be told apart."""
    if value is None:
        return []
    items = _mappings(value)
    if items is None:
        return None
    out = []
    for item, members, present in items:
        fs = FieldSelector(_loc(item, where), present=present)
        field_value = members.get(_CFN_NAMES["field"])
        if field_value is not None and not _no_value(field_value):
            fs.event_field = field_value
            fs.attr_locs["field"] = _loc(field_value, fs.loc)
        for op in OPERATORS:
            member = members.get(_CFN_NAMES[op])
            if member is None or _no_value(member) or _empty(member):
                continue
            fs.operators[op] = member
            fs.attr_locs[op] = _loc(member, fs.loc)
        out.append(fs)
    return out


Item = tuple[Value, dict[str, Value], Value | None]


def _mappings(value: Value, when: Value | None = None) -> list[Item] | None:
    """The items of a known list, each a known mapping, with their members and the condition
    they are in the list under (None: always); None when the value is anything else (unknown,
    a list of something else).  An ``Fn::If`` choosing between lists, or between an item and
    ``AWS::NoValue``, gives the items of each side, each under its side's condition."""
    if isinstance(value, Conditional):
        return _sides(value, when, lambda side, guard: _mappings(side, guard))
    if not isinstance(value, Known) or not isinstance(value.value, list):
        return None
    out: list[Item] = []
    for item in value.value:
        found = _mapping(item, when)
        if found is None:
            return None
        out.extend(found)
    return out


def _mapping(item: Value, when: Value | None) -> list[Item] | None:
    if isinstance(item, Conditional):
        return _sides(item, when, _mapping)
    if not isinstance(item, Known) or not isinstance(item.value, dict):
        return None
    return [(item, item.value, when)]


def _sides(
    value: Conditional, when: Value | None, read: Callable[[Value, Value | None], list[Item] | None]
) -> list[Item] | None:
    out: list[Item] = []
    for side, chosen in ((True, value.then), (False, value.otherwise)):
        if chosen is None:
            continue  # AWS::NoValue: nothing on this side
        yes: Value = when if when is not None else Known(True, value.loc)
        no: Value = Known(False, value.loc)
        guard = Conditional(value.condition, yes if side else no, no if side else yes, value.loc, value.space)
        found = read(chosen, guard)
        if found is None:
            return None
        out.extend(found)
    return out


def _no_value(value: Value) -> bool:
    """A ``null`` (YAML ``~`` or ``null``, JSON ``null``): not set."""
    return isinstance(value, Known) and value.value is None


def _empty(value: Value) -> bool:
    """An operator with no values (plan JSON writes unset operators as ``[]``)."""
    return isinstance(value, Known) and (value.value is None or value.value == [])


def _loc(value: Value, fallback: Location) -> Location:
    return value.loc if value.loc is not None else fallback


__all__ = ["CFN_TYPE", "OPERATORS", "TF_TYPE", "cfn_trail", "tf_trail"]
