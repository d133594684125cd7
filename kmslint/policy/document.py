"""A key or identity policy document, read from a symbolic value tree.

Every parser hands policies over as a :class:`~kmslint.model.Value` tree (or
a JSON string); this module is the one place that knows the IAM grammar.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from kmslint.model import (
    Branch,
    Conditional,
    DuplicateKey,
    IdentityPolicy,
    KeyPolicy,
    Known,
    Location,
    Unknown,
    Value,
    as_dict,
    as_list,
    branches,
    clip,
    known_str,
    to_plain,
)
from kmslint.policy import actions as act
from kmslint.policy.conditions import Condition, has_identity_constraint, parse_conditions
from kmslint.policy.principals import PrincipalEntry, principal_entries
from kmslint.record import Record, field

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from typing import Any

    from kmslint.parsers.common import Budget


def _get(mapping: dict[str, Value], name: str) -> tuple[str, Value] | None:
    """IAM element names are case-sensitive, but the provider and AWS accept
    any case; look the name up exactly first, then case-insensitively."""
    if name in mapping:
        return name, mapping[name]
    lower = name.lower()
    for k, v in mapping.items():
        if k.lower() == lower:
            return k, v
    return None


# Where covers_all_kms() keeps its answer among a statement's answers (no action is named so).
_EVERY_KMS_ACTION = "kms:(every action)"


class _ActionFacts:
    """A statement's Action (or NotAction) as read once, and the questions answered about it."""

    __slots__ = ("answers", "covered", "kms", "source", "texts", "unknown")

    def __init__(self, source: Value | None, values: list[Value]) -> None:
        self.source = source  # the value read: a statement whose Action changes reads it again
        texts = [known_str(v) for v in values]
        self.texts = tuple(t for t in texts if t is not None)
        self.unknown = None in texts
        self.answers: dict[str, bool | None] = {}
        self.covered: dict[tuple[str, ...], list[str]] = {}
        self.kms: frozenset[str] | None = None  # the KMS actions the texts cover


class Statement(Record):
    index: int
    raw: Value
    loc: Location
    sid: Value | None = None
    effect: Value | None = None
    principal: Value | None = None
    not_principal: bool = False
    action: Value | None = None
    not_action: bool = False
    resource: Value | None = None
    not_resource: bool = False
    condition: Value | None = None
    # What covers() has read and answered: it is asked about every KMS action, by several rules.
    _action_texts: _ActionFacts | None = field(default=None, init=False, repr=False, compare=False)
    # (effect read, whether it is Allow), as for the others.
    _allow: tuple[Value | None, bool] | None = field(default=None, init=False, repr=False, compare=False)

    # (value read, what it reads as), as for _action_texts: every rule asks.
    _principals: tuple[Value | None, list[PrincipalEntry]] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    _conditions: tuple[Value | None, tuple[list[Condition], bool]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __init__(self, index: int, raw: Value, loc: Location) -> None:
        """A statement with nothing read yet: the reader sets the other fields."""
        self.index = index
        self.raw = raw
        self.loc = loc
        self.sid = self.effect = self.principal = self.action = self.resource = self.condition = None
        self.not_principal = self.not_action = self.not_resource = False
        self._action_texts = self._principals = self._conditions = self._allow = None

    @property
    def sid_text(self) -> str | None:
        return known_str(self.sid)

    @property
    def is_allow(self) -> bool:
        memo = self._allow
        if memo is None or memo[0] is not self.effect:
            memo = self._allow = (self.effect, known_str(self.effect) == "Allow")
        return memo[1]

    @property
    def has_principal(self) -> bool:
        return self.principal is not None

    @property
    def principals(self) -> list[PrincipalEntry]:
        """The principals of Principal/NotPrincipal (read once; do not change the list)."""
        memo = self._principals
        if memo is None or memo[0] is not self.principal:
            memo = self._principals = (self.principal, principal_entries(self.principal))
        return memo[1]

    @property
    def actions(self) -> list[Value]:
        return as_list(self.action)

    @property
    def resources(self) -> list[Value]:
        return as_list(self.resource)

    @property
    def conditions(self) -> tuple[list[Condition], bool]:
        """The Condition block's conditions, and whether all are known (read once)."""
        memo = self._conditions
        if memo is None or memo[0] is not self.condition:
            memo = self._conditions = (self.condition, parse_conditions(self.condition))
        return memo[1]

    @property
    def has_condition(self) -> bool:
        conds, known = self.conditions
        return bool(conds) or not known

    @property
    def identity_constrained(self) -> bool:
        conds, known = self.conditions
        return has_identity_constraint(conds, known)

    def label(self) -> str:
        """How a message names this statement: its Sid, or its position."""
        sid = self.sid_text
        return f"statement `{clip(sid)}`" if sid else f"statement {self.index + 1}"

    def covers(self, action: str) -> bool | None:
        """Does the statement's Action/NotAction cover ``action``?  None: cannot tell."""
        if self.action is None:
            return None
        facts = self._facts()
        answers = facts.answers
        if action in answers:
            return answers[action]
        if action in act.KMS_ACTION_SET:  # what the rules ask: every KMS action the texts name, once
            if facts.kms is None:
                facts.kms = frozenset().union(*(act.expand(t) for t in facts.texts))
            hit = action in facts.kms
        else:
            hit = any(act.matches(t, action) for t in facts.texts)
        answer: bool | None
        if self.not_action:
            answer = False if hit else (None if facts.unknown else True)
        else:
            answer = True if hit else (None if facts.unknown else False)
        answers[action] = answer
        return answer

    def _facts(self) -> _ActionFacts:
        facts = self._action_texts
        if facts is None or facts.source is not self.action:
            facts = self._action_texts = _ActionFacts(self.action, self.actions)
        return facts

    def covered(self, actions: Iterable[str]) -> list[str]:
        """Those of ``actions`` that this statement's Action/NotAction surely covers, in order
        (kept for the next rule that asks: do not change the list)."""
        if self.action is None:
            return []
        asked = tuple(actions)  # the same object when a tuple: the rules ask with constants
        lists = self._facts().covered
        if asked not in lists:
            lists[asked] = [a for a in asked if self.covers(a) is True]
        return lists[asked]

    def covers_any(self, actions: Iterable[str]) -> bool | None:
        """Does the statement cover one of ``actions``?  None: cannot tell."""
        answers = [self.covers(a) for a in actions]
        if any(a is True for a in answers):
            return True
        return None if any(a is None for a in answers) else False

    def covers_all_kms(self) -> bool:
        """Is every KMS action allowed (``kms:*``, ``*``, or a set covering them all)?"""
        if self.action is None:
            return False
        if self.covers(act.KMS_ACTIONS[0]) is not True:
            return False
        facts = self._facts()
        answers = facts.answers
        if _EVERY_KMS_ACTION not in answers:
            every = not self.not_action and any(t.strip().casefold() in ("*", "kms:*") for t in facts.texts)
            answers[_EVERY_KMS_ACTION] = every or all(self.covers(a) is True for a in act.KMS_ACTIONS)
        return answers[_EVERY_KMS_ACTION] is True

    def content(self) -> str:
        return json.dumps(to_plain(self.raw), sort_keys=True, default=str)


class PolicyDocument(Record):
    """One reading of a policy (one ``Fn::If`` branch)."""

    value: Value | None
    loc: Location
    branch: Branch = ()
    statements: list[Statement] = field(default_factory=list)
    # The document or its statement list cannot be resolved: judge nothing.
    unknown: bool = False
    # Why AWS would reject it / it does not mean what it says (KMS013).
    problems: list[tuple[str, Location]] = field(default_factory=list)
    version: Value | None = None
    # Every Fn::If of the policy as written: (condition, where it is).
    conditionals: tuple[tuple[str, Location | None], ...] = ()
    # Keys that a policy given as JSON text writes twice in one object (the last value is
    # read), with the line and column of the later one in the text: the text is one value of
    # the template, so the rule reports them at the text.  Keys written twice in a located
    # document are the parsers' (Project.duplicate_keys).
    repeated_keys: tuple[tuple[str, int, int], ...] = ()
    # Its size as JSON with unknown parts left out (KMS013), once measured: keys that
    # share the reading need it once.
    known_size: int | None = field(default=None, init=False, repr=False, compare=False)
    # allow_statements, once the reading is complete (rules ask for each key sharing it).
    _allows: list[Statement] | None = field(default=None, init=False, repr=False, compare=False)
    # What each check found in this reading, by a key of the check's choosing (see
    # kmslint.rules._common.reading_hits): keys sharing the reading share the answer.
    facts: dict[object, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def branch_at(self, loc: Location) -> Branch:
        """The part of :attr:`branch` that decides what is written at ``loc``.

        A statement's finding names only the conditions whose ``Fn::If`` is
        inside that statement or around it, not every condition the policy uses.
        """
        names = {name for name, where in self.conditionals if where is None or _overlaps(where, loc)}
        return tuple((name, side) for name, side in self.branch if name in names)

    @property
    def allow_statements(self) -> list[Statement]:
        """The Allow statements (kept once asked for: do not change the list)."""
        if self._allows is None:
            self._allows = [s for s in self.statements if s.is_allow]
        return self._allows

    @property
    def statements_known(self) -> bool:
        """Every statement's effect is known, so "no statement allows X" can be said (worked out once)."""
        known = self.facts.get("statements_known")
        if known is None:
            known = self.facts["statements_known"] = not self.unknown and all(
                known_str(s.effect) in ("Allow", "Deny") for s in self.statements
            )
        return bool(known)


def read_policy(value: Value | None, loc: Location, budget: Budget | None = None) -> list[PolicyDocument]:
    """All readings of a policy value, one per ``Fn::If`` combination the template's conditions
    allow (:func:`kmslint.model.branches`)."""
    repeated: list[str] = []
    decoded = _decode_json_string(value, loc, budget, repeated)
    if isinstance(decoded, _Invalid):
        doc = PolicyDocument(None, loc, unknown=True)
        doc.problems.append((decoded.message, loc))
        return [doc]
    docs = []
    for branch, plain in branches(decoded):
        doc = _read_one(plain, loc, branch)
        if budget is not None:
            budget.spend(1 + 4 * len(doc.statements))
        docs.append(doc)
    if repeated and isinstance(value, Known) and isinstance(value.value, str):
        where = _repeats_in_text(value.value, repeated, budget)
        for doc in docs:
            doc.repeated_keys = where
    if len(docs) > 1 or (docs and docs[0].branch):
        found = tuple(_conditionals(decoded))
        for doc in docs:
            doc.conditionals = found
    return docs


def _conditionals(value: Value | None) -> list[tuple[str, Location | None]]:
    """Each conditional's condition and the places it decides.

    An ``Fn::If`` decides what is written inside it.  A Terraform conditional
    chooses between values that may be written elsewhere
    (``var.x ? data.a.json : data.b.json``): it also decides what is inside
    each place its :attr:`~kmslint.model.Conditional.decides` names.
    """
    out: list[tuple[str, Location | None]] = []
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, Conditional):
            out.append((v.condition, v.loc))
            out.extend((v.condition, where) for where in v.decides)
            stack.extend((v.then, v.otherwise))
        elif isinstance(v, Known) and isinstance(v.value, dict):
            stack.extend(v.value.values())
        elif isinstance(v, Known) and isinstance(v.value, list):
            stack.extend(v.value)
    return out


def _overlaps(a: Location, b: Location) -> bool:
    """Does one span contain the other (same file)?"""
    if a.file != b.file:
        return False
    a_start, a_end = (a.line, a.column), (a.end_line, a.end_column)
    b_start, b_end = (b.line, b.column), (b.end_line, b.end_column)
    return (a_start <= b_start and b_end <= a_end) or (b_start <= a_start and a_end <= b_end)


class _Invalid(Record, frozen=True):
    message: str


def _decode_json_string(
    value: Value | None, loc: Location, budget: Budget | None = None, repeated: list[str] | None = None
) -> Value | _Invalid | None:
    """A policy given as a JSON string (CloudFormation, a Terraform string) becomes a tree.

    Of a key the text writes twice in one object the last value is read, as by
    ``json.loads`` and AWS; its name is added to ``repeated``.
    """
    if isinstance(value, Known) and isinstance(value.value, str):
        if budget is not None:
            budget.spend(len(value.value) >> 2)
        try:
            from kmslint.parsers.common import as_go_reads_json

            data = as_go_reads_json(value.value, _loads_noting_repeats(value.value, repeated))
        except (ValueError, RecursionError) as exc:
            return _Invalid(f"the policy is not valid JSON ({exc})")
        return _from_plain(data, value.loc or loc)
    return value


def _loads_noting_repeats(text: str, repeated: list[str] | None) -> object:
    """``json.loads(text)``, adding each key written again in its object to ``repeated``."""
    if repeated is None:
        return json.loads(text)
    from kmslint.parsers.common import MAX_DUPLICATE_KEYS

    def pairs(members: list[tuple[str, object]]) -> dict[str, object]:
        obj = dict(members)
        if len(obj) < len(members):  # rare: only then is each key looked at
            seen: set[str] = set()
            for name, _value in members:
                if name in seen and len(repeated) < MAX_DUPLICATE_KEYS:
                    repeated.append(name)
                seen.add(name)
        return obj

    return json.loads(text, object_pairs_hook=pairs)


def _repeats_in_text(text: str, names: list[str], budget: Budget | None) -> tuple[tuple[str, int, int], ...]:
    """Where in ``text`` (1-based line and column) each key written again is, to say so in a
    message; read again with positions only for the rare text that has such keys."""
    from kmslint.parsers import jsonpos

    found: list[DuplicateKey] = []
    try:
        jsonpos.parse(text, "", budget=budget, duplicates=found)
    except jsonpos.JSONSyntaxError:  # past a parse limit: json.loads read it, tree-sitter did not
        return tuple((name, 0, 0) for name in names)
    return tuple((d.name, d.loc.line, d.loc.column) for d in found)


def _from_plain(data: object, loc: Location) -> Value:
    if isinstance(data, dict):
        return Known({str(k): _from_plain(v, loc) for k, v in data.items()}, loc)
    if isinstance(data, list):
        return Known([_from_plain(v, loc) for v in data], loc)
    if isinstance(data, str | int | float | bool) or data is None:
        return Known(data, loc)
    return Unknown("unsupported JSON value", loc)


def _read_one(value: Value | None, loc: Location, branch: Branch) -> PolicyDocument:
    doc = PolicyDocument(value, (value.loc if value is not None and value.loc else loc), branch)
    if value is None or not isinstance(value, Known):
        doc.unknown = True
        return doc
    top = as_dict(value)
    if top is None:
        doc.unknown = True
        doc.problems.append(("the policy is not a JSON object", doc.loc))
        return doc
    version = _get(top, "Version")
    doc.version = version[1] if version else None
    found = _get(top, "Statement")
    if found is None:
        doc.unknown = True
        doc.problems.append(("the policy has no `Statement`", doc.loc))
        return doc
    stmts_value = found[1]
    if not isinstance(stmts_value, Known):
        doc.unknown = True
        return doc
    items = as_list(stmts_value)
    for i, item in enumerate(items):
        if not isinstance(item, Known) or as_dict(item) is None:
            doc.unknown = True
            if isinstance(item, Known):
                doc.problems.append((f"statement {i + 1} is not a JSON object", item.loc or doc.loc))
            continue
        doc.statements.append(_statement(i, item, doc.loc))
    return doc


def _statement(index: int, value: Known, fallback: Location) -> Statement:
    mapping = as_dict(value) or {}
    st = Statement(index, value, value.loc or fallback)
    for attr, name in (("sid", "Sid"), ("effect", "Effect"), ("condition", "Condition")):
        hit = _get(mapping, name)
        if hit:
            setattr(st, attr, hit[1])
    for attr, pos, neg in (
        ("principal", "Principal", "NotPrincipal"),
        ("action", "Action", "NotAction"),
        ("resource", "Resource", "NotResource"),
    ):
        hit = _get(mapping, pos)
        if hit is None:
            hit = _get(mapping, neg)
            if hit is not None:
                setattr(st, "not_" + attr, True)
        if hit is not None:
            setattr(st, attr, hit[1])
    return st


def documents(
    policy: KeyPolicy | IdentityPolicy,
    shared: dict[int, tuple[Value, list[Any]]] | None = None,
    budget: Budget | None = None,
) -> list[PolicyDocument]:
    """The readings of a model policy, computed once and kept on it.

    ``shared`` (a project's :attr:`~kmslint.model.Project.readings`) holds the
    readings of every document read so far by its identity: many keys given
    one ``local.policy`` hold the same value, and read it once between them.
    A reading depends on nothing but its value and where that is written, so
    only located values are shared.  ``budget`` pays for what is read.
    """
    if policy.readings is None:
        document = policy.document
        key = id(document)
        hit = shared.get(key) if shared is not None and document.loc is not None else None
        if hit is not None and hit[0] is document:
            policy.readings = hit[1]
        else:
            policy.readings = read_policy(document, policy.loc, budget)
            if shared is not None and document.loc is not None:
                shared[key] = (document, policy.readings)
    return policy.readings
