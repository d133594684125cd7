"""KMS023 kms-activity-not-logged: the configuration's trails, together, leave AWS KMS
management events (read or write) out.

What each trail logs of KMS's management events is worked out from its selectors,
as CloudTrail applies them (an event is logged when one selector takes it):

* no selector: every management event, read and write;
* basic selectors: those that include management events (the default), each for
  its ``read_write_type`` (``All`` by default) unless its excluded event sources
  list ``kms.amazonaws.com``;
* advanced selectors: those whose field selectors all match a KMS management
  event (``eventCategory`` ``Management``, ``readOnly`` ``true`` for a read
  event and ``false`` for a write event, ``eventSource`` ``kms.amazonaws.com``).
  A field that CloudTrail does not filter management events on makes the answer
  unknown.

Decrypt, Encrypt and GenerateDataKey are read events; PutKeyPolicy,
ScheduleKeyDeletion and DisableKey are write events.  A trail that surely logs
management events and surely leaves one kind of KMS event out is reported, at
each setting that leaves it out, unless another trail of the configuration may
log that kind over at least the same scope (all Regions for a multi-Region
trail, every account for an organization trail; single-Region trails of one
configuration are taken to be in one Region).  Anything unknown is taken the way
that gives no finding: a trail whose switch, selectors or scope is unknown may
make up for the others, and a trail is reported only when it is surely on
(Terraform's ``enable_logging`` defaults to true; CloudFormation's ``IsLogging`` is
required) and surely logs management events.  A trail switched off logs nothing
and makes up for nothing; a trail that logs no management event at all (data
events only) is not about KMS's management events.  No trail in the configuration
gives no finding: the trail may be elsewhere (an organization trail, another
stack).  An ``Fn::If`` or a ternary on a setting, or an ``Fn::If`` that puts
selectors in or leaves them out, is read branch by branch, across all trails at
once, and a finding names the conditions it holds under.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from kmslint.model import (
    AdvancedEventSelector,
    Branch,
    EventSelector,
    FieldSelector,
    Known,
    Location,
    Project,
    Trail,
    Value,
    Violation,
    as_bool,
    branches,
    clip,
    has_conditional,
    instance_index,
    known_str,
    scalar,
)
from kmslint.rules import RuleContext, check
from kmslint.rules._common import with_branch

READ = "read"
WRITE = "write"
KINDS = (READ, WRITE)
KMS_SOURCE = "kms.amazonaws.com"

# Three-valued answers: True, False, or None (cannot be told statically).
Tri = bool | None
# The value a setting takes in one reading of the configuration's Fn::If / ternaries.
Get = Callable[[Value | None], Value | None]


def _and(values: list[Tri]) -> Tri:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def _or(values: list[Tri]) -> Tri:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


class _Cause:
    """A setting that leaves KMS events of some kinds out, and how a message names it."""

    def __init__(self, loc: Location, kind: str, text: str, fix: str) -> None:
        self.loc = loc
        self.kind = kind
        self.text = text
        self.fix = fix
        self.drops: set[str] = set()


class _Reading:
    """What one trail logs of KMS management events, in one reading."""

    def __init__(self, trail: Trail, get: Get) -> None:
        self.trail = trail
        self.logging = _logging(trail, get)
        self.multi_region = _flag(get(trail.multi_region))
        self.organization = _flag(get(trail.organization))
        self.causes: dict[tuple[int, int, str], _Cause] = {}
        self.management, self.covers = self._coverage(get)

    def _coverage(self, get: Get) -> tuple[Tri, dict[str, Tri]]:
        trail = self.trail
        basic = [s for s in trail.event_selectors if _present(s.present, get)]
        advanced = [s for s in trail.advanced_event_selectors if _present(s.present, get)]
        if trail.selectors_unknown or (basic and advanced):
            return None, dict.fromkeys(KINDS)  # unknown, or what CloudTrail refuses
        if advanced:
            return self._advanced(advanced, get)
        if basic:
            return self._basic(basic, get)
        return True, dict.fromkeys(KINDS, True)

    # -- basic selectors

    def _basic(self, selectors: list[EventSelector], get: Get) -> tuple[Tri, dict[str, Tri]]:
        management: list[Tri] = []
        covers: dict[str, list[Tri]] = {kind: [] for kind in KINDS}
        for sel in selectors:
            included = _included(get(sel.include_management_events))
            management.append(included)
            rw = _read_write(get(sel.read_write_type))
            excluded, excluded_at = _excluded(get(sel.exclude_management_event_sources))
            for kind in KINDS:
                rw_ok: Tri = None if rw is None else rw in ("All", "ReadOnly" if kind == READ else "WriteOnly")
                covers[kind].append(_and([included, rw_ok, None if excluded is None else not excluded]))
                if included is not True:
                    continue
                if rw_ok is False:
                    self._cause(sel.attr_locs.get("read_write_type", sel.loc), "read_write_type", kind, str(rw))
                if excluded is True:
                    at = _at(excluded_at, sel.attr_locs.get("exclude_management_event_sources", sel.loc))
                    self._cause(at, "exclude", kind, "")
        return _or(management), {kind: _or(covers[kind]) for kind in KINDS}

    # -- advanced selectors

    def _advanced(self, selectors: list[AdvancedEventSelector], get: Get) -> tuple[Tri, dict[str, Tri]]:
        management: list[Tri] = []
        covers: dict[str, list[Tri]] = {kind: [] for kind in KINDS}
        for sel in selectors:
            fields = [fs for fs in sel.field_selectors if _present(fs.present, get)]
            if sel.unknown or not fields:
                management.append(None)
                for kind in KINDS:
                    covers[kind].append(None)
                continue
            category = [_match(fs, "Management", get)[0] for fs in fields if _field(fs, get) == "eventCategory"]
            is_management = _and(category) if category else None
            management.append(is_management)
            for kind in KINDS:
                event = {"eventCategory": "Management", "readOnly": "true" if kind == READ else "false"}
                event["eventSource"] = KMS_SOURCE
                answers: list[Tri] = []
                for fs in fields:
                    name = _field(fs, get)
                    if name is None or name not in event:
                        answers.append(None)  # a field CloudTrail does not filter management events on
                        continue
                    ok, at = _match(fs, event[name], get)
                    answers.append(ok)
                    if ok is False and is_management is True and name != "eventCategory":
                        detail = _describe(self.trail, fs, name, get)
                        self._cause(at or fs.loc, "field", kind, detail)
                covers[kind].append(_and(answers))
        return _or(management), {kind: _or(covers[kind]) for kind in KINDS}

    def _cause(self, loc: Location, kind: str, drops: str, detail: str) -> None:
        key = (loc.line, loc.column, loc.file)
        cause = self.causes.get(key)
        if cause is None:
            cause = self.causes[key] = _cause_text(self.trail, loc, kind, detail)
        cause.drops.add(drops)


def _cause_text(trail: Trail, loc: Location, kind: str, detail: str) -> _Cause:
    if kind == "exclude":
        name = trail.spelled("exclude_management_event_sources")
        return _Cause(loc, kind, f'{name} lists "{KMS_SOURCE}"', f'remove "{KMS_SOURCE}" from {name}')
    if kind == "read_write_type":
        only = "write" if detail == "WriteOnly" else "read"
        return _Cause(
            loc,
            kind,
            f"{trail.setting('read_write_type', detail)} logs only {only} events",
            f"set {trail.setting('read_write_type', 'All')}",
        )
    return _Cause(
        loc,
        kind,
        f"{detail} in {trail.spelled('advanced_event_selectors')}",
        "change that field selector, or add an advanced event selector for them",
    )


def _describe(trail: Trail, fs: FieldSelector, name: str, get: Get) -> str:
    """``field selector on eventSource (not_equals "kms.amazonaws.com")``."""
    field_word = trail.spelled("field_selectors").rstrip("s")
    ops = []
    for op, value in fs.operators.items():
        texts = [_text(item) for item in _items(get(value)) or []]
        shown = ", ".join(f'"{clip(t)}"' for t in texts if t is not None)
        ops.append(f"{trail.spelled(op)} {shown or '...'}")
    return f"{field_word} on {name} ({'; '.join(ops)})"


# --------------------------------------------------------------------------- values


def _logging(trail: Trail, get: Get) -> Tri:
    """Is the trail on?  Terraform's ``enable_logging`` defaults to true; CloudFormation's
    ``IsLogging`` is required (a template without it does not deploy: unknown)."""
    value = get(trail.logging)
    if value is None:
        return True if trail.syntax == "terraform" else None
    return as_bool(value)


def _present(condition: Value | None, get: Get) -> bool:
    """Is a selector in its list in this reading (an Fn::If may leave it out)?"""
    return condition is None or as_bool(get(condition)) is not False


def _flag(value: Value | None) -> Tri:
    """A flag that defaults to false: not set is False, unknown is None."""
    return False if value is None else as_bool(value)


def _included(value: Value | None) -> Tri:
    return True if value is None else as_bool(value)


def _read_write(value: Value | None) -> str | None:
    if value is None:
        return "All"
    text = known_str(value)
    return {"all": "All", "readonly": "ReadOnly", "writeonly": "WriteOnly"}.get(text.lower()) if text else None


def _excluded(value: Value | None) -> tuple[Tri, Location | None]:
    """Does a list of event sources hold ``kms.amazonaws.com`` (and where)?"""
    if value is None:
        return False, None
    items = _items(value)
    if items is None:
        return None, None
    unknown = False
    for item in items:
        text = _text(item)
        if text is None:
            unknown = True
        elif text.strip().lower() == KMS_SOURCE:
            return True, item.loc
    return (None if unknown else False), None


def _at(entry: Location | None, attribute: Location) -> Location:
    """Where a finding about one entry of a list goes: the entry, when it is written within the
    attribute's value as the attribute's place says (the attribute itself, or the caller's
    literal when a module's caller passed it); else the attribute (a variable's default counts
    as written at the attribute that uses it, as RULES.md says)."""
    return entry if entry is not None and attribute.contains(entry) else attribute


def _items(value: Value | None) -> list[Value] | None:
    """A known list's items, a known scalar as one item; None when unknown."""
    if isinstance(value, Known):
        if isinstance(value.value, list):
            return list(value.value)
        if value.is_scalar and value.value is not None:
            return [value]
    return None


def _text(value: Value) -> str | None:
    v = scalar(value)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str | int | float):
        return str(v)
    return None


def _field(fs: FieldSelector, get: Get) -> str | None:
    return known_str(get(fs.event_field))


def _match(fs: FieldSelector, wanted: str, get: Get) -> tuple[Tri, Location | None]:
    """Does the event's field value ``wanted`` pass every operator of the field selector?
    When it surely does not, also where it is turned away."""
    if not fs.operators:
        return None, None
    answers: list[Tri] = []
    for op, value in fs.operators.items():
        items = _items(get(value))
        if items is None:
            answers.append(None)
            continue
        ok, at = _operator(op, wanted, items)
        if ok is False:
            return False, _at(at, fs.attr_locs.get(op, fs.loc))
        answers.append(ok)
    return _and(answers), None


_TESTS: dict[str, Callable[[str, str], bool]] = {
    "equals": lambda value, text: value == text,
    "starts_with": lambda value, text: value.startswith(text),
    "ends_with": lambda value, text: value.endswith(text),
}


def _operator(op: str, wanted: str, items: list[Value]) -> tuple[Tri, Location | None]:
    negated = op.startswith("not_")
    test = _TESTS.get(op[4:] if negated else op)
    if test is None:
        return None, None
    unknown = False
    for item in items:
        text = _text(item)
        if text is None:
            unknown = True
        elif test(wanted, text):
            # A positive operator is satisfied by one match; a negated one is failed by it, there.
            return (False, item.loc) if negated else (True, None)
    if unknown:
        return None, None
    return (True, None) if negated else (False, None)


# --------------------------------------------------------------------------- readings


def _settings(trail: Trail) -> Iterator[Value | None]:
    yield trail.logging
    yield trail.multi_region
    yield trail.organization
    for sel in trail.event_selectors:
        yield sel.present
        yield sel.include_management_events
        yield sel.read_write_type
        yield sel.exclude_management_event_sources
    for adv in trail.advanced_event_selectors:
        yield adv.present
        for fs in adv.field_selectors:
            yield fs.present
            yield fs.event_field
            yield from fs.operators.values()


def _readings(trails: list[Trail]) -> Iterator[tuple[Branch, Get]]:
    """Every reading of the trails' settings: one, or one per combination of the conditions
    they depend on (the same condition takes the same side in every trail)."""
    conditional = [v for t in trails for v in _settings(t) if v is not None and has_conditional(v)]
    if not conditional:
        yield (), lambda value: value
        return
    index = {id(v): str(i) for i, v in enumerate(conditional)}
    for branch, plain in branches(Known({str(i): v for i, v in enumerate(conditional)})):
        chosen = plain.value if isinstance(plain, Known) and isinstance(plain.value, dict) else {}

        def get(value: Value | None, chosen: dict[str, Value] = chosen) -> Value | None:
            key = index.get(id(value)) if value is not None else None
            return value if key is None else chosen.get(key)

        yield branch, get


# --------------------------------------------------------------------------- the check


_EVENTS = {
    READ: "read events (such as Decrypt, Encrypt and GenerateDataKey)",
    WRITE: "write events (such as PutKeyPolicy, ScheduleKeyDeletion and DisableKey)",
}


_LOST = {
    frozenset({READ}): "who used which key",
    frozenset({WRITE}): "who changed a key or its policy",
    frozenset(KINDS): "who used or changed a key",
}


def _makes_up(other: _Reading, kind: str, dropping: _Reading) -> bool:
    """May ``other`` log the KMS events of ``kind`` that ``dropping`` leaves out, over its scope?"""
    if other.logging is False or other.management is False or other.covers[kind] is False:
        return False
    if dropping.multi_region is True and other.multi_region is False:
        return False
    return not (dropping.organization is True and other.organization is False)


@check("KMS023")
def kms_activity_not_logged(project: Project, ctx: RuleContext) -> Iterator[Violation]:
    trails = project.trails
    if not trails:
        return
    seen: set[tuple[str, int, int, str, str]] = set()
    for branch, get in _readings(trails):
        readings = [_Reading(t, get) for t in trails]
        for reading in readings:
            if reading.logging is not True or reading.management is not True:
                continue
            others = [o for o in readings if o is not reading]
            missing = {
                kind
                for kind in KINDS
                if reading.covers[kind] is False and not any(_makes_up(o, kind, reading) for o in others)
            }
            if not missing:
                continue
            for cause in reading.causes.values():
                drops = cause.drops & missing
                if not drops:
                    continue
                name = reading.trail.name
                key = (cause.loc.file, cause.loc.line, cause.loc.column, name, instance_index(name))
                if key in seen:
                    continue
                seen.add(key)
                yield _violation(reading.trail, cause, drops, bool(others), branch)


def _violation(trail: Trail, cause: _Cause, drops: set[str], others: bool, branch: Branch) -> Violation:
    what = " and ".join(_EVENTS[kind] for kind in KINDS if kind in drops)
    nobody = (
        "nor by any other trail of this configuration over the same Regions and accounts"
        if others
        else "(the configuration's only trail)"
    )
    message = (
        f"{cause.text}, so AWS KMS management {what} are not logged by this trail {nobody}: "
        f"{_LOST[frozenset(drops)]} goes unrecorded; {cause.fix}, or log them with another trail"
    )
    return Violation(
        cause.loc,
        trail.name,
        with_branch(message, branch),
        content=f"{trail.name}:kms-not-logged:{cause.kind}:{','.join(sorted(drops))}",
    )
