"""The format-free model every rule reads.

Parsers are the only code that knows HCL, YAML or JSON. They turn a file (or a
Terraform directory) into a :class:`Project`: key resources, key policies,
identity policies, aliases, grants, and suppressions, each value carrying the
:class:`Location` it was written at.

Values are symbolic where the source is:

* :class:`Known` -- a literal, or what a literal resolved to.  Containers are
  ``dict[str, Value]`` and ``list[Value]``, so a whole policy document is a
  tree of values, each with its own location.
* :class:`Unknown` -- something that cannot be resolved statically.  It never
  produces a finding on its own.  ``meaning`` says what is known *about* it
  (an account ID, a partition, another resource's ARN) so that policy
  semantics can still classify ``arn:${AWS::Partition}:iam::${AWS::AccountId}:root``.
* :class:`Interpolated` -- a string built from literal parts and unknown parts.
* :class:`Conditional` -- CloudFormation ``Fn::If`` or Terraform ``a ? b : c``
  whose condition is not decided by known values; every branch the
  template's conditions allow is checked (:func:`branches`).  A Terraform
  condition has no name: it is its expression as written, an
  :class:`Expression`, and messages quote it (:func:`describe_branch`).
"""

from __future__ import annotations

import enum
import itertools
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator

from kmslint.record import Record, field

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from typing import Any, Protocol, TypeAlias

    from kmslint.parsers.common import Budget

    class ConditionSpace(Protocol):
        """What a template's conditions allow (kmslint.parsers.cfn_conditions.Space)."""

        def feasible(self, choices: dict[str, bool]) -> bool: ...
        def pins(self, choices: dict[str, bool]) -> dict[str, str]: ...


# Location, the values and findings are made by the thousand, so they spell out their
# own __init__ (kmslint.record's shared one is generic); frozen, they set fields
# through object.__setattr__, as dataclasses does.
_set = object.__setattr__


class Location(Record, frozen=True, order=True):
    """A span in a file; lines and columns are 1-based, end is inclusive-ish
    (the column just after the last character, as editors expect)."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __init__(self, file: str, line: int, column: int, end_line: int, end_column: int) -> None:
        _set(self, "file", file)
        _set(self, "line", line)
        _set(self, "column", column)
        _set(self, "end_line", end_line)
        _set(self, "end_column", end_column)

    @classmethod
    def point(cls, file: str, line: int, column: int = 1) -> Location:
        return cls(file, line, column, line, column)

    def contains(self, other: Location) -> bool:
        """Is ``other`` inside this span (same file, from its start to its end)?"""
        return (
            self.file == other.file
            and (self.line, self.column) <= (other.line, other.column)
            and (other.end_line, other.end_column) <= (self.end_line, self.end_column)
        )


class Meaning(enum.Enum):
    """What is known about an unresolved value."""

    NOTHING = "nothing"
    ACCOUNT_ID = "account-id"  # ${AWS::AccountId}, data.aws_caller_identity.x.account_id
    PARTITION = "partition"  # ${AWS::Partition}, data.aws_partition.x.partition
    REGION = "region"
    RESOURCE_ARN = "resource-arn"  # aws_iam_role.x.arn, !GetAtt Role.Arn: one specific principal
    RESOURCE_ID = "resource-id"  # aws_kms_key.x.id / !Ref Key


class Known(Record, frozen=True):
    value: Scalar | dict[str, Value] | list[Value]
    loc: Location | None = field(default=None, compare=False)

    def __init__(self, value: Scalar | dict[str, Value] | list[Value], loc: Location | None = None) -> None:
        _set(self, "value", value)
        _set(self, "loc", loc)

    @property
    def is_scalar(self) -> bool:
        return not isinstance(self.value, dict | list)


class Unknown(Record, frozen=True):
    reason: str
    loc: Location | None = field(default=None, compare=False)
    meaning: Meaning = Meaning.NOTHING
    # The expression as written (``aws_iam_role.app.arn``, ``AWS::AccountId``),
    # so two references to the same thing compare equal.
    ref: str | None = None

    def __init__(
        self, reason: str, loc: Location | None = None, meaning: Meaning = Meaning.NOTHING, ref: str | None = None
    ) -> None:
        _set(self, "reason", reason)
        _set(self, "loc", loc)
        _set(self, "meaning", meaning)
        _set(self, "ref", ref)


class Interpolated(Record, frozen=True):
    """A string made of literal text and unknown parts, in order."""

    parts: tuple[str | Unknown, ...]
    loc: Location | None = field(default=None, compare=False)

    def __init__(self, parts: tuple[str | Unknown, ...], loc: Location | None = None) -> None:
        _set(self, "parts", parts)
        _set(self, "loc", loc)

    def literal_text(self, placeholder: str = "\x00") -> str:
        return "".join(p if isinstance(p, str) else placeholder for p in self.parts)


class Expression(str):
    """A condition given by its expression as written (Terraform ``var.env == "dev"``), not by a
    name (CloudFormation ``IsProd``).

    A ``str``, so it is a condition name everywhere one is (two ternaries on the same text take
    the same side in one resolution); its type tells :func:`describe_branch` to quote it as an
    expression, and :func:`branches` to enumerate only the combinations the value can tell apart.
    """

    __slots__ = ()


class Conditional(Record, frozen=True):
    """``Fn::If [condition, then, else]``, or Terraform ``condition ? then : else`` (its
    ``condition`` an :class:`Expression`).

    ``space`` answers which combinations of conditions the template allows
    where this value is written (None: every combination, the condition is a
    free boolean); it is not part of the value.  ``decides`` holds the places
    whose content the condition chooses when they are not inside ``loc``: a
    Terraform conditional chooses between values that may be written
    elsewhere (``var.x ? data.a.json : data.b.json``); empty for ``Fn::If``.
    """

    condition: str
    then: Value | None  # None: AWS::NoValue, the property is absent
    otherwise: Value | None
    loc: Location | None = field(default=None, compare=False)
    space: ConditionSpace | None = field(default=None, compare=False, repr=False)
    decides: tuple[Location, ...] = field(default=(), compare=False, repr=False)

    def __init__(
        self,
        condition: str,
        then: Value | None,
        otherwise: Value | None,
        loc: Location | None = None,
        space: ConditionSpace | None = None,
        decides: tuple[Location, ...] = (),
    ) -> None:
        _set(self, "condition", condition)
        _set(self, "then", then)
        _set(self, "otherwise", otherwise)
        _set(self, "loc", loc)
        _set(self, "space", space)
        _set(self, "decides", decides)


Scalar: TypeAlias = str | int | float | bool | None
Value: TypeAlias = Known | Unknown | Interpolated | Conditional

# One choice per Fn::If condition: (condition name or Expression, branch taken).
Branch: TypeAlias = tuple[tuple[str, bool], ...]

MAX_BRANCHES = 64


def loc_of(value: Value | None) -> Location | None:
    return None if value is None else value.loc


def scalar(value: Value | None) -> Scalar:
    """The Python scalar of a Known scalar, else None."""
    if isinstance(value, Known) and value.is_scalar:
        return value.value  # type: ignore[return-value]
    return None


def known_str(value: Value | None) -> str | None:
    v = scalar(value)
    return v if isinstance(v, str) else None


def as_bool(value: Value | None) -> bool | None:
    """A known boolean (``true``/``"true"``/``"True"``), else None."""
    v = scalar(value)
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    return None


def as_int(value: Value | None) -> int | None:
    v = scalar(value)
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str):
        try:
            return int(v.strip())
        except ValueError:
            return None
    return None


def as_list(value: Value | None) -> list[Value]:
    """A list value's items, a single value as a one-item list, nothing for None."""
    if value is None:
        return []
    if isinstance(value, Known) and isinstance(value.value, list):
        return list(value.value)
    return [value]


def as_dict(value: Value | None) -> dict[str, Value] | None:
    if isinstance(value, Known) and isinstance(value.value, dict):
        return value.value
    return None


def has_conditional(value: Value | None) -> bool:
    if isinstance(value, Conditional):
        return True
    if isinstance(value, Known):
        if isinstance(value.value, dict):
            return any(has_conditional(v) for v in value.value.values())
        if isinstance(value.value, list):
            return any(has_conditional(v) for v in value.value)
    return False


def branches(value: Value | None) -> Iterator[tuple[Branch, Value | None]]:
    """Every resolution of the ``Fn::If`` inside ``value`` that the template allows.

    Yields ``(branch, plain)`` where ``plain`` holds no :class:`Conditional`
    (``None`` where a branch is ``AWS::NoValue``).  The same condition takes
    the same side everywhere in one resolution.  When the conditionals carry
    a condition space (CloudFormation), a combination that the template's
    condition definitions rule out is skipped, and a reference that a
    combination forces to one value (``Stage`` when ``IsProd`` is
    ``!Equals [!Ref Stage, prod]`` and is true) is that value in ``plain``.
    At most :data:`MAX_BRANCHES` combinations are given.
    """
    if not has_conditional(value):
        yield (), value
        return
    spaces: dict[int, ConditionSpace] = {}
    names = sorted(_condition_names(value, spaces))
    if any(isinstance(name, Expression) for name in names):
        yield from _decision_branches(value)
        return
    if not spaces:
        combos = itertools.product((True, False), repeat=len(names))
        for i, choice in enumerate(combos):
            if i >= MAX_BRANCHES:
                return
            env = dict(zip(names, choice, strict=True))
            yield tuple(sorted(env.items())), _resolve(value, env)
        return
    yield from _allowed_branches(value, names, list(spaces.values()))


# How many times one enumeration may ask the spaces; past it every combination is
# taken as possible (each question is bounded too, see kmslint.parsers.cfn_conditions).
MAX_BRANCH_QUESTIONS = 1024


def _allowed_branches(
    value: Value | None, names: list[str], spaces: list[ConditionSpace]
) -> Iterator[tuple[Branch, Value | None]]:
    """Depth first over the names, True before False (the order :func:`itertools.product`
    gives), cutting a prefix as soon as the spaces rule it out."""
    env: dict[str, bool] = {}
    choice = [-1] * len(names)
    asked = given = depth = 0
    while depth >= 0:
        choice[depth] += 1
        if choice[depth] > 1:
            choice[depth] = -1
            env.pop(names[depth], None)
            depth -= 1
            continue
        env[names[depth]] = choice[depth] == 0
        if asked < MAX_BRANCH_QUESTIONS:
            asked += 1
            if not all(space.feasible(env) for space in spaces):
                continue
        if depth < len(names) - 1:
            depth += 1
            continue
        pins: dict[str, str] = {}
        for space in spaces:
            pins.update(space.pins(env))
        yield tuple(env.items()), _resolve(value, env, pins)
        given += 1
        if given >= MAX_BRANCHES:
            return


def _decision_branches(value: Value | None) -> Iterator[tuple[Branch, Value | None]]:
    """The resolutions of Terraform conditionals, one per path through them: a condition is
    chosen only where the value still depends on it, outermost first.

    ``a ? x : (b ? y : z)`` has three resolutions, not four, and a chain of 200
    ternaries on distinct conditions gives its first :data:`MAX_BRANCHES` paths
    after as many walks, instead of 2**200 combinations of which the first 64
    would all take the outermost side.  A branch names its conditions in the
    order they were chosen.
    """
    given = walks = 0
    stack: list[tuple[tuple[str, bool], ...]] = [()]
    while stack and given < MAX_BRANCHES and walks < MAX_BRANCH_QUESTIONS:
        chosen = stack.pop()
        walks += 1
        env = dict(chosen)
        name = _first_open(value, env)
        if name is None:
            given += 1
            yield chosen, _resolve(value, env)
            continue
        # Pushed False first, so True is taken first (the order the other enumerations give).
        stack.append((*chosen, (name, False)))
        stack.append((*chosen, (name, True)))


def _first_open(value: Value | None, env: dict[str, bool]) -> str | None:
    """The first condition (depth first, in order) that ``value`` still depends on under ``env``."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, Conditional):
            if v.condition not in env:
                return v.condition
            stack.append(v.then if env[v.condition] else v.otherwise)
        elif isinstance(v, Known):
            if isinstance(v.value, dict):
                stack.extend(reversed(v.value.values()))
            elif isinstance(v.value, list):
                stack.extend(reversed(v.value))
    return None


def _condition_names(value: Value | None, spaces: dict[int, ConditionSpace] | None = None) -> set[str]:
    """The conditions of the ``Fn::If`` in ``value``; their spaces are gathered in ``spaces``."""
    out: set[str] = set()
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, Conditional):
            out.add(v.condition)
            if spaces is not None and v.space is not None:
                spaces.setdefault(id(v.space), v.space)
            stack.extend((v.then, v.otherwise))
        elif isinstance(v, Known):
            if isinstance(v.value, dict):
                stack.extend(v.value.values())
            elif isinstance(v.value, list):
                stack.extend(v.value)
    return out


def _resolve(value: Value | None, env: dict[str, bool], pins: dict[str, str] | None = None) -> Value | None:
    if isinstance(value, Conditional):
        chosen = value.then if env.get(value.condition, True) else value.otherwise
        return _resolve(chosen, env, pins)
    if isinstance(value, Known):
        if isinstance(value.value, dict):
            d: dict[str, Value] = {}
            for k, v in value.value.items():
                r = _resolve(v, env, pins)
                if r is not None:
                    d[k] = r
            return Known(d, value.loc)
        if isinstance(value.value, list):
            items = [r for r in (_resolve(v, env, pins) for v in value.value) if r is not None]
            return Known(items, value.loc)
    if pins and isinstance(value, Unknown | Interpolated):
        return pin(value, pins)
    return value


def pin(value: Value, pins: dict[str, str]) -> Value:
    """``value`` with each unknown whose reference ``pins`` names replaced by its value
    (an :class:`Interpolated` whose every unknown part is pinned becomes a known string)."""
    if not pins:
        return value
    if isinstance(value, Unknown):
        text = pins.get(value.ref) if value.ref is not None else None
        return value if text is None else Known(text, value.loc)
    if isinstance(value, Interpolated):
        parts: list[str | Unknown] = []
        changed = False
        for part in value.parts:
            text = pins.get(part.ref) if isinstance(part, Unknown) and part.ref is not None else None
            changed = changed or text is not None
            piece = part if text is None else text
            if isinstance(piece, str) and parts and isinstance(parts[-1], str):
                parts[-1] += piece
            else:
                parts.append(piece)
        if not changed:
            return value
        if len(parts) == 1 and isinstance(parts[0], str):
            return Known(parts[0], value.loc)
        return Interpolated(tuple(parts), value.loc)
    if isinstance(value, Known):
        if isinstance(value.value, dict):
            return Known({k: pin(v, pins) for k, v in value.value.items()}, value.loc)
        if isinstance(value.value, list):
            return Known([pin(v, pins) for v in value.value], value.loc)
        return value
    then = pin(value.then, pins) if value.then is not None else None
    otherwise = pin(value.otherwise, pins) if value.otherwise is not None else None
    return Conditional(value.condition, then, otherwise, value.loc, value.space, value.decides)


def describe_branch(branch: Branch) -> str:
    """``when condition IsProd is true`` (CloudFormation), ``when `var.env == "dev"``` and
    ``when `var.env == "dev"` is false`` (Terraform, the condition quoted as written); empty
    for no branch."""
    if not branch:
        return ""
    parts = [_describe_choice(name, side) for name, side in branch]
    return "when " + " and ".join(parts)


def _describe_choice(name: str, side: bool) -> str:
    if isinstance(name, Expression):
        quoted = f"`{clip(name)}`"
        return quoted if side else f"{quoted} is false"
    return f"condition {name} is {'true' if side else 'false'}"


# A message quotes names and values from the input (a Sid, a principal); a quote longer than
# this is shortened, so a 600 KB principal gives a finding line, not 600 KB of output per key.
QUOTE_LIMIT = 200
# And a whole message, whatever it quotes, is kept under this (a safety net: ours are ~300).
MESSAGE_LIMIT = 2000


def clip(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` as a message quotes it: whole when short, else its start, an ellipsis, and how much was left out."""
    if len(text) <= limit:
        return text
    keep = max(limit - 40, 1)
    return f"{text[:keep]}... ({len(text) - keep} more characters)"


def to_plain(value: Value | None) -> object:
    """A JSON-like Python object for display and fingerprints (unknowns as ``${...}``)."""
    if value is None:
        return None
    if isinstance(value, Known):
        if isinstance(value.value, dict):
            return {k: to_plain(v) for k, v in value.value.items()}
        if isinstance(value.value, list):
            return [to_plain(v) for v in value.value]
        return value.value
    if isinstance(value, Unknown):
        return "${" + (value.ref or value.reason) + "}"
    if isinstance(value, Interpolated):
        return "".join(p if isinstance(p, str) else "${" + (p.ref or p.reason) + "}" for p in value.parts)
    return {"Fn::If": [value.condition, to_plain(value.then), to_plain(value.otherwise)]}


# --------------------------------------------------------------------------- resources


class DuplicateKey(Record, frozen=True):
    """A mapping key written again in the same mapping (YAML or JSON).

    The template or policy is read with the key's last value, as
    CloudFormation and ``json.loads`` read it (RULES.md, "Where a finding is
    reported"); the earlier value is silently lost, which is worth a finding
    only where it changes a key or its policy (KMS013, KMS015).
    """

    name: str
    loc: Location  # the later occurrence of the key: where it is reported
    first: Location  # the first occurrence, whose value is lost


class DuplicateIndex:
    """Keys written twice, in file order, to find those inside a span by bisection: a file
    built to be costly holds a thousand of them and thousands of resources to look in."""

    def __init__(self, found: Iterable[DuplicateKey]) -> None:
        self.found = sorted(found, key=_start)
        self.starts = [_start(d) for d in self.found]

    def inside(self, span: Location) -> list[DuplicateKey]:
        lo = bisect_left(self.starts, (span.file, span.line, span.column))
        hi = bisect_right(self.starts, (span.file, span.end_line, span.end_column))
        return [d for d in self.found[lo:hi] if span.contains(d.loc)]


def _start(d: DuplicateKey) -> tuple[str, int, int]:
    return d.loc.file, d.loc.line, d.loc.column


class KeyKind(enum.Enum):
    KEY = "key"  # aws_kms_key, AWS::KMS::Key
    EXTERNAL = "external"  # aws_kms_external_key (imported material)
    REPLICA = "replica"  # aws_kms_replica_key, AWS::KMS::ReplicaKey
    REPLICA_EXTERNAL = "replica-external"  # aws_kms_replica_external_key


class KeyPolicy(Record, eq=False):
    """A key policy as written: a value tree (or a JSON string) and where it is.

    ``attached_by`` is the resource the finding goes on: the key when the
    policy is its own argument, an ``aws_kms_key_policy`` when that attaches
    it, ``None`` for a raw policy file.
    """

    document: Value
    loc: Location  # the policy attribute / property (or the whole file)
    attached_by: str | None
    key: KeyResource | None = None
    # `bypass_policy_lockout_safety_check` on the resource that attaches the
    # policy (Terraform's aws_kms_key_policy), and where it is written.
    bypass_lockout_check: Value | None = None
    bypass_loc: Location | None = None
    # Readings of the document (kmslint.policy.document.documents), cached.
    readings: list[Any] | None = field(default=None, repr=False, compare=False)


# How the model's key attributes (and the alias resource) are spelled where keys are written, so that a
# message names the attribute the user wrote (or would write) and not both.
ATTRIBUTE_NAMES: dict[str, dict[str, str]] = {
    "terraform": {
        "rotation": "enable_key_rotation",
        "rotation_period": "rotation_period_in_days",
        "deletion_window": "deletion_window_in_days",
        "bypass_lockout_check": "bypass_policy_lockout_safety_check",
        "multi_region": "multi_region",
        "key_spec": "customer_master_key_spec",
        "key_usage": "key_usage",
        "tags": "tags",
        "alias": "aws_kms_alias",
    },
    "cloudformation": {
        "rotation": "EnableKeyRotation",
        "rotation_period": "RotationPeriodInDays",
        "deletion_window": "PendingWindowInDays",
        "bypass_lockout_check": "BypassPolicyLockoutSafetyCheck",
        "multi_region": "MultiRegion",
        "key_spec": "KeySpec",
        "key_usage": "KeyUsage",
        "tags": "Tags",
        "alias": "AWS::KMS::Alias",
    },
}


class KeyResource(Record, eq=False):
    """A customer managed key declared in IaC.

    Attribute values are ``None`` when the attribute is not set at all.
    ``attr_locs`` holds the span of every attribute that is set, keyed by the
    model's attribute name (``rotation``, ``multi_region``, ...).
    """

    name: str  # aws_kms_key.x, module.a.aws_kms_key.x, or a logical ID
    kind: KeyKind
    loc: Location  # the resource header / logical ID
    syntax: str = "terraform"  # or "cloudformation": how its attributes are spelled (ATTRIBUTE_NAMES)
    key_spec: Value | None = None
    key_usage: Value | None = None
    origin: Value | None = None  # AWS_KMS, EXTERNAL, AWS_CLOUDHSM, EXTERNAL_KEY_STORE (see kmslint.policy.keyspec)
    custom_key_store: Value | None = None
    rotation: Value | None = None
    rotation_period: Value | None = None
    multi_region: Value | None = None
    deletion_window: Value | None = None
    bypass_lockout_check: Value | None = None
    enabled: Value | None = None
    tags: Value | None = None  # a dict value, or Unknown
    # None only when no policy is attached at all; a policy set to something
    # that cannot be resolved is a KeyPolicy whose document is Unknown.
    policy: KeyPolicy | None = None
    primary: str | None = None  # replica keys: the name of their primary key, when resolved
    account: Value | None = None  # the key's account, when the configuration states it
    attr_locs: dict[str, Location] = field(default_factory=dict)
    # Keys written twice in the resource's definition, outside its key policy and its
    # metadata: only the last value of each counts (KMS015).
    duplicate_keys: tuple[DuplicateKey, ...] = ()
    # Where quick fixes edit it (kmslint.fixes), None where its text is not one to edit in place
    # (plan JSON, .tf.json, a CloudFormation loop):  ``body`` is where its attributes are written
    # (a Terraform block from ``{`` to ``}``; CloudFormation's Properties mapping, None without
    # one), ``definition`` the whole resource (the block; the mapping under the logical ID).
    body: Location | None = None
    definition: Location | None = None
    # The attributes written in its body, as spelled there, whatever they resolve to in this
    # reading (null, AWS::NoValue, one branch of a condition): a fix never writes one twice.
    written: frozenset[str] = frozenset()

    @property
    def is_replica(self) -> bool:
        return self.kind in (KeyKind.REPLICA, KeyKind.REPLICA_EXTERNAL)

    def where(self, attr: str) -> Location:
        return self.attr_locs.get(attr, self.loc)

    def spelled(self, attr: str) -> str:
        """The name of the model's attribute ``attr`` in this key's syntax (``enable_key_rotation``)."""
        return ATTRIBUTE_NAMES[self.syntax][attr]

    def setting(self, attr: str, value: str) -> str:
        """``attr`` set to ``value`` as this key's syntax writes it (``EnableKeyRotation: true``)."""
        return f"{self.spelled(attr)} = {value}" if self.syntax == "terraform" else f"{self.spelled(attr)}: {value}"


class IdentityPolicy(Record, eq=False):
    """An IAM identity policy (not a trust policy) that some identity uses."""

    name: str  # resource that carries it
    document: Value
    loc: Location
    readings: list[Any] | None = field(default=None, repr=False, compare=False)
    # Written inside the role, user or group it is for (an inline policy): ``name`` is its identity.
    own: bool = False
    # The roles, users and groups it is attached to, when the configuration says which (all of them).
    identities: tuple[str, ...] = ()


class Alias(Record, eq=False):
    name: str  # resource name
    alias_name: Value | None
    target: str | None  # the key's resource name, when the reference resolves to one key
    loc: Location
    attr_locs: dict[str, Location] = field(default_factory=dict)
    # As for KeyResource: keys its definition writes twice (KMS015).
    duplicate_keys: tuple[DuplicateKey, ...] = ()
    # Every key of the configuration the alias may point at (on any Fn::If branch), empty
    # when its target is understood to be no key declared here (a literal key ID); None
    # when the parser did not work it out (then ``target``, when set, is the one).
    targets: frozenset[str] | None = None
    # Its target cannot be told (a parameter without a default): it may be any key.
    any_key: bool = False

    def possible_targets(self) -> frozenset[str] | None:
        """The keys this alias may point at; None: any key."""
        if self.any_key:
            return None
        if self.targets is not None:
            return self.targets
        return frozenset((self.target,)) if self.target is not None else None


class Grant(Record, eq=False):
    name: str
    grantee: Value | None
    key: str | None
    loc: Location
    attr_locs: dict[str, Location] = field(default_factory=dict)
    # The operations it allows, as written (``["Decrypt", "Encrypt"]``); None: not set.
    operations: Value | None = None
    # The constraints it sets (``encryption_context_equals``, ``encryption_context_subset``).
    constraints: tuple[str, ...] = ()


class EventSelector(Record, eq=False):
    """A trail's basic event selector (``event_selector``, an ``EventSelectors`` item).

    A value is None when it is not set: management events are then included
    (``include_management_events``), read and write (``read_write_type``
    ``All``), no event source excluded.
    """

    loc: Location
    include_management_events: Value | None = None
    read_write_type: Value | None = None
    exclude_management_event_sources: Value | None = None  # a list of event sources
    attr_locs: dict[str, Location] = field(default_factory=dict)
    # None: always in its list; else whether an Fn::If puts it there (a Conditional of known booleans).
    present: Value | None = None


class FieldSelector(Record, eq=False):
    """One field selector of an advanced event selector: the event record field it tests
    (``field``, ``Field``: ``eventCategory``, ``readOnly``, ``eventSource``, ...) and its
    operators (``equals``, ``not_equals``, ``starts_with``, ``not_starts_with``,
    ``ends_with``, ``not_ends_with``), each a list of values; ``attr_locs`` is keyed
    ``field`` and by operator."""

    loc: Location
    event_field: Value | None = None
    operators: dict[str, Value] = field(default_factory=dict)
    attr_locs: dict[str, Location] = field(default_factory=dict)
    present: Value | None = None  # as EventSelector.present


class AdvancedEventSelector(Record, eq=False):
    """An advanced event selector: an event is logged when every field selector matches it."""

    loc: Location
    field_selectors: list[FieldSelector] = field(default_factory=list)
    unknown: bool = False  # some of its field selectors cannot be told
    present: Value | None = None  # as EventSelector.present


# How a trail's settings are spelled where trails are written, for messages.
TRAIL_ATTRIBUTE_NAMES = {
    "terraform": {
        "logging": "enable_logging",
        "event_selectors": "event_selector",
        "include_management_events": "include_management_events",
        "read_write_type": "read_write_type",
        "exclude_management_event_sources": "exclude_management_event_sources",
        "advanced_event_selectors": "advanced_event_selector",
        "field_selectors": "field_selector",
        "field": "field",
        "equals": "equals",
        "not_equals": "not_equals",
        "starts_with": "starts_with",
        "not_starts_with": "not_starts_with",
        "ends_with": "ends_with",
        "not_ends_with": "not_ends_with",
    },
    "cloudformation": {
        "logging": "IsLogging",
        "event_selectors": "EventSelectors",
        "include_management_events": "IncludeManagementEvents",
        "read_write_type": "ReadWriteType",
        "exclude_management_event_sources": "ExcludeManagementEventSources",
        "advanced_event_selectors": "AdvancedEventSelectors",
        "field_selectors": "FieldSelectors",
        "field": "Field",
        "equals": "Equals",
        "not_equals": "NotEquals",
        "starts_with": "StartsWith",
        "not_starts_with": "NotStartsWith",
        "ends_with": "EndsWith",
        "not_ends_with": "NotEndsWith",
    },
}


class Trail(Record, eq=False):
    """A CloudTrail trail (``aws_cloudtrail``, ``AWS::CloudTrail::Trail``) and what it logs.

    With no selector at all a trail logs every management event, read and
    write; it cannot have both basic and advanced selectors.
    """

    name: str
    loc: Location  # the resource header / logical ID
    syntax: str = "terraform"  # or "cloudformation" (TRAIL_ATTRIBUTE_NAMES)
    logging: Value | None = None  # enable_logging / IsLogging; None: not set
    multi_region: Value | None = None
    organization: Value | None = None
    event_selectors: list[EventSelector] = field(default_factory=list)
    advanced_event_selectors: list[AdvancedEventSelector] = field(default_factory=list)
    # Some selectors cannot be told (dynamic blocks over an unknown collection, a property
    # that cannot be resolved or is not a list of mappings): what it logs is unknown.  A
    # selector an Fn::If puts in or leaves out is there, with its ``present`` condition.
    selectors_unknown: bool = False
    attr_locs: dict[str, Location] = field(default_factory=dict)

    def spelled(self, attr: str) -> str:
        """The name of the model's setting ``attr`` in this trail's syntax (``ReadWriteType``)."""
        return TRAIL_ATTRIBUTE_NAMES[self.syntax][attr]

    def setting(self, attr: str, value: str) -> str:
        """``attr`` set to ``value`` as this trail's syntax writes it (``read_write_type = "All"``)."""
        if self.syntax == "terraform":
            return f'{self.spelled(attr)} = "{value}"'
        return f"{self.spelled(attr)}: {value}"


class UsageKind(enum.Enum):
    GLOBAL_TABLE = "dynamodb-global-table"
    GLOBAL_CLUSTER = "rds-global-cluster"


class MultiRegionUse(Record, frozen=True):
    """A resource that needs one key in several Regions uses ``key``."""

    key: str
    by: str
    kind: UsageKind


class PlainSetting(Record, eq=False):
    """A named setting whose value is written in the configuration (KMS024): a Lambda
    function's environment variable, an ECS container's ``environment`` entry, an SSM
    parameter of type ``String``.

    ``value`` is a literal the configuration writes (an :class:`Unknown` where it is not one);
    findings name ``name`` and never quote ``value``.  ``loc`` is where the name is written
    (the value's place when the name's is not known).
    """

    resource: str  # as findings name resources: module path + TYPE.NAME, or a logical ID
    rtype: str  # aws_lambda_function, AWS::ECS::TaskDefinition, ...
    syntax: str  # "terraform" or "cloudformation"
    kind: str  # "lambda-environment", "ecs-environment" or "ssm-parameter"
    name: str
    value: Value
    loc: Location
    value_loc: Location | None = None
    container: str | None = None  # ECS: the container definition's name, when known


# What a data store's encryption is on one reading of its settings (KeyUse.state).
ENCRYPTION_OFF = "off"  # stored in plain text
ENCRYPTION_KMS = "kms"  # encrypted with the KMS key the resource names
ENCRYPTION_AWS_MANAGED = "aws-managed"  # encrypted with the service's AWS managed key (alias/aws/<service>)
ENCRYPTION_AWS_OWNED = "aws-owned"  # encrypted with a key AWS owns (SSE-S3, SSE-SQS, DynamoDB's default)
ENCRYPTION_UNKNOWN = "unknown"  # cannot be told statically (a value unknown, a volume from a snapshot)


class KeyUse(Record, eq=False):
    """One data store or delivery that can be encrypted with a KMS key (RULES.md, "Keys in use"),
    as one resource (or one of its block devices) declares it.

    Built from the table in :mod:`kmslint.policy.datastores` by
    :mod:`kmslint.parsers.key_uses`.  Values are as written (None: not set);
    what they mean is :meth:`state`, from the row's ``states`` (a written
    value, lower-cased -> one of the ``ENCRYPTION_*`` states) and ``unset``.
    """

    name: str  # as findings name resources: module path + TYPE.NAME, or the logical ID
    rtype: str  # aws_ebs_volume, AWS::EC2::Volume
    syntax: str  # "terraform" or "cloudformation"
    loc: Location  # the resource header / logical ID
    kind: str  # the store kind of its row: "ebs", "sqs", ...
    part: str = ""  # which of its stores, as written: "root_block_device", "BlockDeviceMappings[1].Ebs"; "" for itself
    switch: Value | None = None  # the encryption switch as written (encrypted, SqsManagedSseEnabled, ...)
    switch_loc: Location | None = None
    switch_attr: str | None = None  # its name in the resource's syntax (None: the type has no switch)
    key: Value | None = None  # what names the key as written
    key_loc: Location | None = None  # where it is named: where a rule about the key's use reports
    key_attr: str | None = None  # its name in the resource's syntax
    key_resource: str | None = None  # the key of this configuration it resolves to (by reference, ARN, ID, alias)
    # Written value (lower-cased text) -> ENCRYPTION_* state; a value not listed is unknown.
    states: dict[str, str] = field(default_factory=dict)
    unset: str = ENCRYPTION_UNKNOWN  # the state when the switch is not set and no key is named
    unnamed: str = ENCRYPTION_AWS_MANAGED  # whose key encrypts it when it is on and names none
    fix: str = ""  # what to write to turn encryption on, in the resource's syntax
    # A setting that makes the store copy its encryption from elsewhere (a snapshot, a source
    # database) or otherwise makes the state unknown, as written: the state is then unknown.
    inherits: str | None = None
    # EBS: the configuration's account-level encryption by default (aws_ebs_encryption_by_default
    # ``enabled``), None when it declares none.
    account_default: Value | None = None
    # SQS: a key named turns SSE-KMS on even where the switch (SSE-SQS) is written off.
    key_overrides: bool = False
    tags: Value | None = None  # a dict value, or Unknown
    doc: str = ""  # the documentation page its row comes from
    # EBS: the account's default EBS key as the configuration sets it (aws_ebs_default_kms_key
    # ``key_arn``), None when it sets none: the key of an encrypted volume that names none.
    account_key: Value | None = None

    def state(self, switch: Value | None, key: Value | None) -> str:
        """The encryption on one reading (no ``Fn::If`` left) of the switch and the key."""
        if self.inherits is not None:
            return ENCRYPTION_UNKNOWN
        named = not (key is None or (isinstance(key, Known) and key.value in (None, "")))
        switched: str | None = None
        if not (switch is None or (isinstance(switch, Known) and switch.value in (None, ""))):
            v = scalar(switch)
            if not isinstance(v, str | bool):
                return ENCRYPTION_UNKNOWN  # unknown, built from unknown parts, or not a flag at all
            switched = self.states.get(str(v).lower(), ENCRYPTION_UNKNOWN)
        if switched == ENCRYPTION_UNKNOWN:
            return ENCRYPTION_UNKNOWN
        if switched not in (None, ENCRYPTION_KMS) and not (self.key_overrides and named):
            return switched  # written off, or to a key AWS holds (a key named alongside is ignored or refused)
        if not named:
            return self.unset if switched is None else self.unnamed
        if not isinstance(key, Known | Interpolated):
            return ENCRYPTION_KMS  # some key is named, which one is not known statically
        text = key.literal_text() if isinstance(key, Interpolated) else known_str(key)
        if text is None:
            return ENCRYPTION_UNKNOWN  # not a key's name at all
        return ENCRYPTION_AWS_MANAGED if _names_aws_managed(text) else ENCRYPTION_KMS

    def aws_managed_alias(self) -> bool:
        """Does it name an AWS managed key by its alias (``alias/aws/ebs``, an ARN ending so)?"""
        key = self.key
        text = key.literal_text() if isinstance(key, Interpolated) else known_str(key)
        return text is not None and _names_aws_managed(text)


def _names_aws_managed(text: str) -> bool:
    """Is a key's name an AWS managed key's alias (``alias/aws/ebs``, or an alias ARN ending so)?"""
    return text.startswith("alias/aws/") or ":alias/aws/" in text


class Sender(Record, frozen=True):
    """A resource of the configuration that makes an AWS service send to another one (an S3
    event notification to a queue, an EventBridge target, an alarm's action, an SNS subscription,
    a flow log writing to a bucket): the service then calls KMS with the receiver's key."""

    name: str  # as findings name resources
    rtype: str  # aws_s3_bucket_notification, AWS::Events::Rule, ...
    loc: Location  # where it names the receiver
    # The name AWS knows the sending resource by (a bucket's, a rule's, an alarm's, a topic's), as
    # its service's ARN carries it; None when the configuration does not say it.
    aws_name: str | None = None


class ServiceUse(Record, eq=False):
    """A resource that names a key where the AWS service behind it may call KMS as its own
    service principal (KMS020; the rows of :mod:`kmslint.policy.service_use`), with what the
    service's calls carry: the resource's own name and the partition, Region and account it is
    in (None where the configuration does not say), and what sends to it.

    ``use`` is its :class:`KeyUse` (one of ``Project.key_uses`` for a data store; one of its
    own for a delivery that is no data store, such as a trail).
    """

    use: KeyUse
    # The key of the configuration it names: ``use.key_resource``, or the one key every side of a
    # Terraform conditional names (``var.on ? aws_kms_key.k.arn : null``).
    key_resource: str | None = None
    # The instance of that key it names, where several share the name (count, for_each) and the
    # configuration says which; None: any of them.
    key: KeyResource | None = field(default=None, repr=False)
    aws_name: str | None = None  # a log group's name, a trail's name: literal text only
    partition: str | None = None
    region: str | None = None
    account: str | None = None
    senders: list[Sender] = field(default_factory=list)
    # AWS Config: does the recorder use the service-linked role (True), a role of the user's
    # (False), or cannot it be told (None)?  None for every other use.
    service_linked: bool | None = None


class Suppression(Record, frozen=True):
    """``kmslint:ignore`` for some rules on one resource, with its reason."""

    resource: str | None
    rule_ids: tuple[str, ...]  # IDs or slugs as written, upper-cased IDs
    reason: str  # empty: no reason given
    loc: Location
    file: str


class NotFollowed(Record, frozen=True):
    """A module call whose source is not on disk (OUTPUT.md, ``summary.not_followed``)."""

    file: str
    line: int
    module: str  # the call's path: "kms", "a.b" for a call inside module a
    source: str
    # The file of the root configuration's call it is reached through (itself at the root):
    # reported when that file is (as findings in a module's files are).
    anchor: str = field(default="", compare=False)


class ParseError(Record, frozen=True):
    """A file that cannot be read or parsed (KMS000)."""

    file: str
    line: int
    column: int
    message: str


class ProjectKind(enum.Enum):
    TERRAFORM = "terraform"
    TERRAFORM_PLAN = "terraform-plan"
    CLOUDFORMATION = "cloudformation"
    POLICY = "policy"


class Project(Record, eq=False):
    """One configuration: a Terraform directory, a plan, a template, a policy file."""

    kind: ProjectKind
    root: str
    files: list[str] = field(default_factory=list)
    keys: list[KeyResource] = field(default_factory=list)
    # Key policies with no key resource around them (raw policy files).
    standalone_policies: list[KeyPolicy] = field(default_factory=list)
    identity_policies: list[IdentityPolicy] = field(default_factory=list)
    aliases: list[Alias] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)
    multi_region_uses: list[MultiRegionUse] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)
    # Resource name -> (file, first line, last line), for inline suppressions; a template
    # records them only when it has the word ``kmslint`` (else no suppression can be in it).
    resource_spans: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    # Resource name -> the AWS CDK construct path it was synthesized from (``MyStack/DataKey``),
    # named in its findings' messages; empty for anything the CDK did not write.
    constructs: dict[str, str] = field(default_factory=dict)
    errors: list[ParseError] = field(default_factory=list)
    # Mapping keys written twice in its files, wherever the parsers met them (the last value
    # is the one read).  Rules decide which matter: those inside a key policy (KMS013).
    duplicate_keys: list[DuplicateKey] = field(default_factory=list)
    resource_count: int = 0
    # Terraform: some resource is one of several count/for_each instances (names are
    # InstanceNames), so the engine merges the findings instances share.
    has_instances: bool = False
    # (directory, path) of every file()/templatefile() the evaluation tried, read or not (findings cache pins).
    files_tried: list[tuple[str, str]] = field(default_factory=list)
    # What checking it may still spend: its unit's budget, shared with the parsers.
    budget: Budget | None = field(default=None, repr=False, compare=False)
    # Readings of its policy documents by the document's identity (the document kept
    # alongside, so the identity stays its own): keys sharing one policy value share
    # one reading (kmslint.policy.document.documents).
    readings: dict[int, tuple[Value, list[Any]]] = field(default_factory=dict, repr=False, compare=False)
    # The KMS000 of a budget that ran out loading or checking it (also in ``errors``).
    gave_up: ParseError | None = None
    # CloudFormation: resource name -> the condition it exists under, when known values do
    # not decide it (its findings name it, see :func:`note_existence`).
    resource_conditions: dict[str, str] = field(default_factory=dict)
    # Terraform: module calls whose source is not on disk (OUTPUT.md, summary.not_followed).
    not_followed: list[NotFollowed] = field(default_factory=list)
    # Terraform: the directories (resolved) it evaluates as modules of its own calls.
    called: set[str] = field(default_factory=set)
    # CloudFormation: what the template's conditions allow, when it has any.
    condition_space: ConditionSpace | None = field(default=None, repr=False, compare=False)
    # Named settings written with their values (Lambda and ECS environments, SSM parameters): KMS024.
    plain_settings: list[PlainSetting] = field(default_factory=list)
    # The data stores and deliveries that can be encrypted with a KMS key, and the key each names.
    key_uses: list[KeyUse] = field(default_factory=list)
    # CloudTrail trails (KMS023).
    trails: list[Trail] = field(default_factory=list)
    # Resources whose key an AWS service uses as its own principal, and what sends to them (KMS020).
    service_uses: list[ServiceUse] = field(default_factory=list)

    def key_policies(self) -> Iterator[KeyPolicy]:
        for key in self.keys:
            if key.policy is not None:
                yield key.policy
        yield from self.standalone_policies


# --------------------------------------------------------------------------- findings


class Severity(enum.IntEnum):
    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.strip().upper()]


SEVERITY_NAMES = tuple(s.label for s in Severity)  # info, low, medium, high, critical: what --fail-on accepts


class InstanceName(str):
    """A Terraform resource's name, which remembers the ``count``/``for_each`` instance it names.

    Names never carry an index (RULES.md, "Where a finding is reported"), so two
    instances of one resource share their name; ``index`` (``["a"]``, ``[0]``, "" for
    none, as ``instance_key``) tells them apart.  It travels with the name from the model objects through
    the rules, which pass a resource's name on unchanged, to the :class:`Violation`,
    where the engine reads it to report a finding once for every instance it holds for.
    """

    instance_key: str

    def __new__(cls, name: str, instance_key: str = "") -> InstanceName:
        self = super().__new__(cls, name)
        self.instance_key = instance_key
        return self

    def __reduce__(self) -> tuple[type[InstanceName], tuple[str, str]]:
        return (InstanceName, (str(self), self.instance_key))


def instance_index(name: str | None) -> str:
    """The instance index a resource name carries ("" for none, or a plain name)."""
    return name.instance_key if isinstance(name, InstanceName) else ""


class Change(Record, frozen=True):
    """One edit of a resource that a quick fix makes, placed by the parser's spans and written
    into text by :func:`kmslint.fixes.render` (which declines what it cannot do safely).

    ``op`` is ``replace`` (``at`` is a value; ``value`` takes its place), ``remove`` (``at`` is an
    entry, name and value, inside the mapping or block ``within``) or ``insert`` (an entry
    ``name``: ``value`` goes into the mapping, block or list ``at``; after the entry ``beside`` when
    given, else first; ``name`` None: a list item).  ``value`` is plain data (bool, str, dict,
    list) that the renderer writes in the resource's ``syntax``.
    """

    op: str
    syntax: str  # "terraform" or "cloudformation" (YAML or JSON, told apart by the text)
    at: Location
    name: str | None = None
    value: Any = None
    within: Location | None = None
    beside: Location | None = None


class QuickFix(Record, frozen=True):
    """A fix a check offers with its finding: a title for the editor and the changes it makes."""

    title: str
    changes: tuple[Change, ...]


class Violation(Record, frozen=True):
    """What a check reports: the engine turns it into a :class:`Finding`."""

    loc: Location
    resource: str | None
    message: str
    # Normalised content of the offending node, for baseline fingerprints.
    content: str = ""
    # What it is about at its place, the same in every Fn::If reading (kmslint.engine.drop_repeats);
    # None: its message says it.
    subject: str | None = None
    fix: QuickFix | None = None

    def __init__(
        self,
        loc: Location,
        resource: str | None,
        message: str,
        content: str = "",
        subject: str | None = None,
        fix: QuickFix | None = None,
    ) -> None:
        _set(self, "loc", loc)
        _set(self, "resource", resource)
        _set(self, "message", message)
        _set(self, "content", content)
        _set(self, "subject", subject)
        _set(self, "fix", fix)


def note_existence(violation: Violation, conditions: dict[str, str]) -> Violation:
    """The violation, its message naming the condition its resource exists under, if any
    (RULES.md, "Conditional value": a resource with a ``Condition`` has findings that name it)."""
    name = conditions.get(violation.resource) if violation.resource else None
    if name is None:
        return violation
    message = f"{violation.message} ({clip(violation.resource or '')} exists only when condition {clip(name)} is true)"
    return Violation(violation.loc, violation.resource, message, violation.content, fix=violation.fix)


# The rule of a file that could not be read or parsed: reported whatever the selection says,
# fails the run at any --fail-on, never recorded in a baseline (RULES.md).
PARSE_ERROR = "KMS000"

# What suppressed a finding (Finding.suppression_kind): a comment or template Metadata in the
# source, a per-path ignore in the configuration, or an entry of the baseline file.
SUPPRESSED_IN_SOURCE = "source"
SUPPRESSED_BY_CONFIG = "config"
SUPPRESSED_BY_BASELINE = "baseline"
SUPPRESSION_KINDS = frozenset({SUPPRESSED_IN_SOURCE, SUPPRESSED_BY_CONFIG, SUPPRESSED_BY_BASELINE})


class Finding(Record, frozen=True, order=True):
    """One result; frozen and totally ordered by (file, line, column, rule ID, ...)."""

    file: str
    line: int
    column: int
    rule_id: str
    resource: str  # "" for a raw policy file (JSON null)
    message: str
    end_line: int
    end_column: int
    slug: str = field(compare=False)  # the rule's slug (JSON "rule")
    severity: Severity = field(compare=False)
    suppressed: bool = field(default=False, compare=False)
    suppression_reason: str | None = field(default=None, compare=False)
    content: str = field(default="", compare=False)
    suppression_kind: str | None = field(default=None, compare=False)  # one of SUPPRESSION_KINDS when suppressed
    # The editor's quick fix (kmslint.lsp); in-process only: not in any output, not stored by the cache.
    fix: QuickFix | None = field(default=None, compare=False, repr=False)

    def __init__(
        self,
        file: str,
        line: int,
        column: int,
        rule_id: str,
        resource: str,
        message: str,
        end_line: int,
        end_column: int,
        slug: str,
        severity: Severity,
        suppressed: bool = False,
        suppression_reason: str | None = None,
        content: str = "",
        suppression_kind: str | None = None,
        fix: QuickFix | None = None,
    ) -> None:
        _set(self, "file", file)
        _set(self, "line", line)
        _set(self, "column", column)
        _set(self, "rule_id", rule_id)
        _set(self, "resource", resource)
        _set(self, "message", message)
        _set(self, "end_line", end_line)
        _set(self, "end_column", end_column)
        _set(self, "slug", slug)
        _set(self, "severity", severity)
        _set(self, "suppressed", suppressed)
        _set(self, "suppression_reason", suppression_reason)
        _set(self, "content", content)
        _set(self, "suppression_kind", suppression_kind)
        _set(self, "fix", fix)

    @property
    def resource_name(self) -> str | None:
        return self.resource or None
