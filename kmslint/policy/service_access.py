"""Does a key policy let an AWS service use the key for one resource?

:func:`missing_actions` answers it for a row of :mod:`kmslint.policy.service_use` and
what is known of the resource that uses the key (:class:`UsingResource`): the actions
the row needs that the policy surely does not allow the row's service principal, under
conditions that can match this resource.  Nothing the configuration leaves unknown
becomes a finding:

* a statement whose principal, action, resource or condition cannot be read *may*
  allow, and an action it may allow is never reported;
* a part of the resource's ARN (its Region, account, partition, name) that is unknown
  matches anything, so a condition on it can match; a known part that cannot match
  means the statement does not apply to this resource;
* a condition key the service is not documented to send, or this module does not
  read, may hold; a test on ``aws:SourceArn`` or ``aws:SourceAccount`` is never
  certain (a service may not send them), so it can keep an Allow from applying
  only as a positive test that cannot match;
* a Deny takes an action away only when it surely applies.

A key with no policy has the default key policy, which allows the account root and
no service: every action is missing.

The API: :func:`missing_actions` over every reading of a policy (``when`` keeps the
``Fn::If`` branches under which the resource names the key), :func:`missing_by_reading`
the same reading by reading, and :func:`missing_in` for one reading, which a check
that reads policies through the project's budget
(:func:`kmslint.rules._common.key_policy_readings`) calls itself.

Each statement's answer is one of four levels, ordered: :data:`NO` (it cannot apply),
:data:`MAYBE` (something in the policy is unknown), :data:`LIKELY` (it applies if the
resource's unknown parts are what the policy expects: counted as applying for an
Allow, as not certain for a Deny) and :data:`YES`.  The parts of a statement combine
by their minimum, the values of a condition by their maximum.
"""

from __future__ import annotations

import re
from functools import lru_cache

from kmslint.model import Branch, Interpolated, KeyPolicy, Known, Location, Meaning, Unknown, Value, known_str
from kmslint.policy.conditions import Condition
from kmslint.policy.document import PolicyDocument, Statement, documents, read_policy
from kmslint.policy.principals import PrincipalEntry
from kmslint.policy.resources import not_resource_reaches_all_keys, reaches_all_keys
from kmslint.policy.service_use import Requirement
from kmslint.record import Record

NO, MAYBE, LIKELY, YES = 0, 1, 2, 3


class UsingResource(Record, frozen=True):
    """What is known of the resource that uses the key; None for what is not known.

    ``name`` is the name of the resource that names the key (a log group's name, a
    trail's name), ``sender`` the name of the resource that sends to it (a bucket, a
    rule, an alarm, a topic) for rows with senders.  The sender is taken to be in the
    same partition, Region and account.
    """

    partition: str | None = None
    region: str | None = None
    account: str | None = None
    name: str | None = None
    sender: str | None = None


class _Segment:
    """An unknown part of an ARN that holds no ``:`` (a partition, a Region, an account)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "SEGMENT"


SEGMENT = _Segment()

# A string with unknown parts: literal text, None for a part that may be anything, and
# SEGMENT for one that may be anything without a colon.
Pieces = tuple[str | _Segment | None, ...]

_FIELD = re.compile(r"\{(partition|region|account|name|sender|unknown)\}")
_IN_SEGMENT = frozenset(("partition", "region", "account"))
# Past this many characters a pattern or ARN is not compared: it may match (no finding).
_MAX_COMPARED = 400


def arn_pieces(template: str, resource: UsingResource) -> Pieces:
    """A row's ARN template filled in with what is known of ``resource``."""
    out: list[str | _Segment | None] = []
    at = 0
    for m in _FIELD.finditer(template):
        out.append(template[at : m.start()])
        name = m.group(1)
        known = None if name == "unknown" else getattr(resource, name)
        out.append(known if known is not None else (SEGMENT if name in _IN_SEGMENT else None))
        at = m.end()
    out.append(template[at:])
    return _joined(out)


def _joined(pieces: list[str | _Segment | None]) -> Pieces:
    """Adjacent literal pieces as one, empty ones dropped."""
    out: list[str | _Segment | None] = []
    for p in pieces:
        if p == "":
            continue
        if isinstance(p, str) and out and isinstance(out[-1], str):
            out[-1] += p
        else:
            out.append(p)
    return tuple(out)


# --------------------------------------------------------------------------- matching

# Tokens: any run of characters, any one character, any run without a colon; a literal
# character is a str.
_STAR, _ANY, _SEG = 0, 1, 2
_RUNS = (_STAR, _SEG)


def _tokens(pieces: Pieces, wildcards: bool) -> list[int | str]:
    out: list[int | str] = []
    for p in pieces:
        if p is None or isinstance(p, _Segment):
            token = _STAR if p is None else _SEG
            if not out or out[-1] != token:
                out.append(token)
            continue
        for ch in p:
            if wildcards and ch == "*":
                out.append(_STAR)
            elif wildcards and ch == "?":
                out.append(_ANY)
            else:
                out.append(ch)
    return out


@lru_cache(maxsize=4096)
def can_match(pattern: Pieces, subject: Pieces, wildcards: bool = True) -> bool:
    """Is there a string that ``pattern`` (IAM wildcards when ``wildcards``; an unknown
    part may be anything) and ``subject`` (an unknown part may be anything) both are?

    The product of the two patterns' automata, walked depth first: linear in the
    product of their lengths.  Too long to compare: True (may match).
    """
    p, s = _trimmed(_tokens(pattern, wildcards), _tokens(subject, False))
    if p is None or s is None:
        return False
    if not p and not s:
        return True
    if len(p) * len(s) > _MAX_COMPARED * _MAX_COMPARED // 4:
        return True
    seen = {(0, 0)}
    todo = [(0, 0)]
    while todo:
        i, j = todo.pop()
        if i == len(p) and j == len(s):
            return True
        for nxt in _steps(p, s, i, j):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


def _trimmed(p: list[int | str], s: list[int | str]) -> tuple[list[int | str], list[int | str]] | tuple[None, None]:
    """The two token lists without the literal head and tail they share; (None, None) when
    their literal heads or tails differ (they cannot match)."""
    start = 0
    while start < len(p) and start < len(s) and isinstance(p[start], str) and isinstance(s[start], str):
        if p[start] != s[start]:
            return None, None
        start += 1
    end = 0
    while end < len(p) - start and end < len(s) - start:
        a, b = p[len(p) - 1 - end], s[len(s) - 1 - end]
        if not (isinstance(a, str) and isinstance(b, str)):
            break
        if a != b:
            return None, None
        end += 1
    return p[start : len(p) - end], s[start : len(s) - end]


def _steps(p: list[int | str], s: list[int | str], i: int, j: int) -> list[tuple[int, int]]:
    """Where the product automaton goes from ``(i, j)``: a run left empty, or one character
    both sides can read."""
    a = p[i] if i < len(p) else None
    b = s[j] if j < len(s) else None
    out = []
    if a in _RUNS:
        out.append((i + 1, j))
    if b in _RUNS:
        out.append((i, j + 1))
    if a is None or b is None or not _agree(a, b):
        return out
    step = (i if a in _RUNS else i + 1, j if b in _RUNS else j + 1)
    if step != (i, j):
        out.append(step)
    return out


def _agree(a: int | str, b: int | str) -> bool:
    """Can one character be read by both tokens?"""
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    return not ((a == ":" and b == _SEG) or (b == ":" and a == _SEG))


def _level(pattern: Pieces, subject: Pieces, wildcards: bool) -> int:
    """How surely ``pattern`` matches ``subject``."""
    if not can_match(pattern, subject, wildcards):
        return NO
    if None in pattern:
        return MAYBE
    return LIKELY if any(not isinstance(p, str) for p in subject) else YES


def value_pieces(value: Value | None) -> Pieces | None:
    """A policy value as pieces (a number as its text); None for a value that is no string."""
    if isinstance(value, Known):
        v = value.value
        if isinstance(v, str):
            return (v,)
        if isinstance(v, int | float) and not isinstance(v, bool):
            return (str(v),)
        return None
    if isinstance(value, Interpolated):
        return _joined([p if isinstance(p, str) else None for p in value.parts])
    if isinstance(value, Unknown):
        return (None,)
    return None


# --------------------------------------------------------------------------- principals

_DOMAINS = ("amazonaws.com", "amazonaws.com.cn")


def _principal_forms(requirement: Requirement, resource: UsingResource) -> tuple[Pieces, ...]:
    """The texts the service principal is written as: its Regional form for this resource's
    Region (any Region when unknown), in each AWS domain."""
    assert requirement.principal is not None
    head, _, tail = requirement.principal.partition("{region}")
    base = requirement.principal.removesuffix(".amazonaws.com")
    out: list[Pieces] = []
    for domain in _DOMAINS:
        if tail:
            region = resource.region if resource.region is not None else SEGMENT
            out.append(_joined([head, region, tail.removesuffix("amazonaws.com") + domain]))
        else:
            out.append((f"{base}.{domain}",))
    return tuple(out)


def _global_forms(requirement: Requirement) -> tuple[str, ...]:
    """A Regional principal written without its Region (``logs.amazonaws.com``)."""
    assert requirement.principal is not None
    if "{region}" not in requirement.principal:
        return ()
    short = requirement.principal.replace("{region}.", "").removesuffix(".amazonaws.com")
    return tuple(f"{short}.{d}" for d in _DOMAINS)


def _service_level(value: Value, requirement: Requirement, resource: UsingResource) -> int:
    pieces = value_pieces(value)
    if pieces is None:
        return MAYBE  # a mapping or list where a name belongs: AWS would not take it
    if len(pieces) == 1 and isinstance(pieces[0], str):
        text = pieces[0].strip().lower()
        if text in _global_forms(requirement):
            return LIKELY  # whether AWS maps it to the Regional principal is not documented here
        pieces = (text,)
    best = max(_level(pieces, form, True) for form in _principal_forms(requirement, resource))
    if best == YES and any(isinstance(p, str) and ("*" in p or "?" in p) for p in pieces):
        return LIKELY  # a pattern: IAM does not expand wildcards in Service names
    return best


def _entry_level(entry: PrincipalEntry, requirement: Requirement, resource: UsingResource) -> int:
    kind = entry.ptype.lower()
    if kind == "*":
        return YES
    if kind == "service":
        return _service_level(entry.value, requirement, resource)
    if kind == "aws":
        return _aws_level(entry.value)
    return NO if isinstance(entry.value, Known) else MAYBE


def _aws_level(value: Value) -> int:
    """An ``AWS`` principal covers a service principal only as ``*``; one that is written
    with unknown parts may be ``*`` only when nothing of it is literal."""
    text = known_str(value)
    if text is not None:
        return LIKELY if text.strip() == "*" else NO  # everyone; whether it names services is not said
    if isinstance(value, Unknown):
        return NO if value.meaning is not Meaning.NOTHING else MAYBE
    if isinstance(value, Interpolated):
        return MAYBE if not value.literal_text("").strip() else NO
    return NO if isinstance(value, Known) else MAYBE


def _principal_level(st: Statement, requirement: Requirement, resource: UsingResource) -> int:
    if st.principal is None:
        return MAYBE
    entries = st.principals
    listed = max((_entry_level(e, requirement, resource) for e in entries), default=NO)
    return _negated(listed) if st.not_principal else listed


def _negated(level: int) -> int:
    return {NO: YES, YES: NO}.get(level, level)


# --------------------------------------------------------------------------- the rest


_KEY_ARN: Pieces = ("arn:", SEGMENT, ":kms:", SEGMENT, ":", SEGMENT, ":key/", None)


def _resource_level(st: Statement) -> int:
    if st.resource is None:
        return MAYBE
    if st.not_resource:
        return YES if not_resource_reaches_all_keys(st.resources) else MAYBE
    best = NO
    for value in st.resources:
        reach = reaches_all_keys(value)
        if reach:
            return YES
        pieces = value_pieces(value)
        if reach is None or pieces is None:
            best = max(best, MAYBE)
        elif can_match(pieces, _KEY_ARN):
            best = max(best, LIKELY)  # a key's ARN: perhaps this key's
    return best


_POSITIVE = frozenset(("stringequals", "stringlike", "arnequals", "arnlike", "stringequalsignorecase"))
_NEGATED = frozenset(("stringnotequals", "stringnotlike", "arnnotequals", "arnnotlike", "stringnotequalsignorecase"))
_LITERAL = frozenset(("stringequals", "stringnotequals", "stringequalsignorecase", "stringnotequalsignorecase"))


_SOURCE_KEYS = frozenset(("aws:sourcearn", "aws:sourceaccount"))


def _subject(key: str, requirement: Requirement, resource: UsingResource) -> Pieces | None:
    """What the service sends as condition key ``key`` for this resource; None: not known to be sent."""
    if requirement.context_key and requirement.context_arn and key == requirement.context_key.lower():
        return arn_pieces(requirement.context_arn, resource)
    if key == "aws:sourcearn" and requirement.source_arn:
        return arn_pieces(requirement.source_arn, resource)
    if key == "aws:sourceaccount" and requirement.source_account:
        return (resource.account if resource.account is not None else SEGMENT,)
    return None


def _condition_level(cond: Condition, requirement: Requirement, resource: UsingResource) -> int:
    subject = _subject(cond.key.lower(), requirement, resource)
    op = cond.base_operator.lower()
    if subject is None or cond.set_qualifier is not None or not cond.values:
        return MAYBE
    if op not in _POSITIVE and op not in _NEGATED:
        return MAYBE
    if op.endswith("ignorecase"):
        subject = _lowered(subject)
    best = NO
    for value in cond.values:
        pieces = value_pieces(value)
        if pieces is None:
            best = max(best, MAYBE)
            continue
        if op.endswith("ignorecase"):
            pieces = _lowered(pieces)
        best = max(best, _level(pieces, subject, op not in _LITERAL))
    level = best if op in _POSITIVE else _negated(best)
    if cond.key.lower() in _SOURCE_KEYS:
        # Whether the service sends the key with its KMS calls is not documented for every
        # row; were it absent, a positive test would fail and a negated one hold.  So a
        # test on it is never certain, and a negated one that fails may yet hold.
        # (...IfExists holds where the key is absent, as a negated test does.)
        level = min(level, LIKELY) if (op in _POSITIVE and not cond.if_exists) or level != NO else MAYBE
    return level


def _lowered(pieces: Pieces) -> Pieces:
    return tuple(p.lower() if isinstance(p, str) else p for p in pieces)


def _conditions_level(st: Statement, requirement: Requirement, resource: UsingResource) -> int:
    conds, known = st.conditions
    if not known:
        return MAYBE
    return min((_condition_level(c, requirement, resource) for c in conds), default=YES)


def _action_level(st: Statement, action: str) -> int:
    answer = st.covers(action)
    return MAYBE if answer is None else (YES if answer else NO)


def _statement_level(st: Statement, requirement: Requirement, resource: UsingResource) -> int:
    """How surely the statement applies to the service's calls for this resource (actions apart)."""
    level = _principal_level(st, requirement, resource)
    if level == NO:
        return NO
    level = min(level, _resource_level(st))
    if level == NO:
        return NO
    return min(level, _conditions_level(st, requirement, resource))


def missing_in(doc: PolicyDocument, requirement: Requirement, resource: UsingResource) -> tuple[str, ...] | None:
    """:func:`missing_actions` for one reading of a policy (one ``Fn::If`` branch)."""
    if requirement.principal is None:
        return ()
    if doc.unknown:
        return None
    allows: list[tuple[Statement, int]] = []
    denies: list[tuple[Statement, int]] = []
    for st in doc.statements:
        effect = known_str(st.effect)
        level = _statement_level(st, requirement, resource)
        if effect not in ("Allow", "Deny"):
            level = min(level, MAYBE)  # an effect not known: it may allow, it may deny
        if level == NO:
            continue
        if effect != "Deny":
            allows.append((st, level))
        if effect != "Allow":
            denies.append((st, level))
    missing: list[str] = []
    undecided = False
    for action in requirement.actions:
        allowed = max((min(lv, _action_level(st, action)) for st, lv in allows), default=NO)
        denied = max((min(lv, _action_level(st, action)) for st, lv in denies), default=NO)
        if denied == YES or allowed == NO:
            missing.append(action)
        elif allowed == MAYBE or denied != NO:
            undecided = True
    if missing:
        return tuple(missing)
    return None if undecided else ()


def missing_by_reading(
    policy: KeyPolicy | Value | None, requirement: Requirement, resource: UsingResource, when: Branch = ()
) -> list[tuple[Branch, tuple[str, ...] | None]]:
    """:func:`missing_in` for each reading of the policy, with the ``Fn::If`` branch it is.

    ``when`` is the branch under which the resource names the key (a Terraform
    ``var.x ? aws_kms_key.k.arn : null``): a reading that takes another side of one of its
    conditions is not one the resource ever meets, and is left out.
    """
    if policy is None:
        return [((), requirement.actions)]  # the default key policy: no service is allowed anything
    if isinstance(policy, KeyPolicy):
        docs = documents(policy)
    else:
        docs = read_policy(policy, policy.loc or Location("", 0, 0, 0, 0))
    sides = dict(when)
    return [
        (doc.branch, missing_in(doc, requirement, resource))
        for doc in docs
        if all(sides.get(name, side) == side for name, side in doc.branch)
    ]


def missing_actions(
    policy: KeyPolicy | Value | None, requirement: Requirement, resource: UsingResource, when: Branch = ()
) -> tuple[str, ...] | None:
    """The actions of ``requirement`` that the key policy surely does not allow its service
    principal for ``resource``, in the row's order; ``()`` when every one is allowed, None
    when it cannot be told (then there is no finding).

    ``policy`` is the key's policy (a :class:`~kmslint.model.KeyPolicy`, or its document
    as a value or JSON text), None for a key with none (the default policy).  Over the
    readings of a policy with ``Fn::If`` branches (those ``when`` allows, see
    :func:`missing_by_reading`), an action missing in one of them is missing.
    """
    answers = [missing for _branch, missing in missing_by_reading(policy, requirement, resource, when)]
    found = {a for missing in answers if missing for a in missing}
    if found:
        return tuple(a for a in requirement.actions if a in found)
    return () if answers and all(missing == () for missing in answers) else None
