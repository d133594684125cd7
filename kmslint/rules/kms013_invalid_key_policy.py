"""KMS013 invalid-key-policy: a key policy AWS rejects, or that does not mean what it says."""

from __future__ import annotations

import json
from collections.abc import Iterator

from kmslint.model import (
    DuplicateIndex,
    DuplicateKey,
    Interpolated,
    KeyPolicy,
    Known,
    Location,
    Project,
    Unknown,
    Value,
    Violation,
    as_dict,
    clip,
    known_str,
    to_plain,
)
from kmslint.policy.actions import is_unknown_kms_action
from kmslint.policy.conditions import is_known_operator
from kmslint.policy.document import PolicyDocument, Statement
from kmslint.rules import RuleContext, check
from kmslint.rules._common import key_policy_readings, with_branch

POLICY_VERSION = "2012-10-17"
MAX_POLICY_BYTES = 32 * 1024
# Principal types a key policy takes (compared case-insensitively, as the other elements are);
# the bare "*" is read as its own type.  "AWSAccount" (KMS rejects it), "Federated" and
# "CanonicalUser" (no caller of KMS is one) are not among them.
PRINCIPAL_TYPES = frozenset(("aws", "service", "*"))
_AS_USUALLY_WRITTEN = frozenset(("AWS", "Service", "*"))  # to ask lower() of nothing else
_REPEATED = (
    "only its last value is read, so the earlier one is silently dropped and the policy does not say "
    "what it seems to; keep one"
)


def _plain_known(value: Value | None) -> object:
    """The document as JSON data with unknown parts left empty: a lower bound of its size."""
    if isinstance(value, Known):
        if isinstance(value.value, dict):
            return {k: _plain_known(v) for k, v in value.value.items()}
        if isinstance(value.value, list):
            return [_plain_known(v) for v in value.value]
        return value.value
    if isinstance(value, Interpolated):
        return "".join(p for p in value.parts if isinstance(p, str))
    return ""


def _size(policy: KeyPolicy, doc: PolicyDocument) -> int:
    text = known_str(policy.document)
    if text is not None:
        return len(text.encode("utf-8", "surrogatepass"))
    if doc.known_size is None:  # a reading shared by many keys is measured once
        dumped = json.dumps(_plain_known(doc.value), separators=(",", ":"), ensure_ascii=False)
        doc.known_size = len(dumped.encode("utf-8", "surrogatepass"))
    return doc.known_size


def _not_star(value: Value) -> bool:
    """Surely something other than ``*`` (unknown parts alone prove nothing)."""
    if isinstance(value, Known):
        return not (isinstance(value.value, str) and value.value.strip() == "*")
    if isinstance(value, Interpolated):
        return value.literal_text("").strip() not in ("", "*")
    return False


def _statement_problems(st: Statement) -> Iterator[tuple[str, Location]]:
    missing = []
    if st.effect is None:
        missing.append("`Effect`")
    if st.principal is None:
        missing.append("`Principal`")
    if st.action is None:
        missing.append("`Action`")
    if st.resource is None:
        missing.append('`Resource` (write `"Resource": "*"`)')
    if missing:
        said = missing[0] if len(missing) == 1 else ", ".join(missing[:-1]) + " and no " + missing[-1]
        yield f"{st.label()} has no {said}; AWS rejects such a key policy", st.loc
    effect = known_str(st.effect)
    if effect is not None and effect.strip().lower() not in ("allow", "deny"):
        yield f'{st.label()} has `Effect` "{effect}"; write "Allow" or "Deny"', st.effect.loc or st.loc  # type: ignore[union-attr]
    if st.resource is not None:
        if st.not_resource:
            yield (
                f'{st.label()} uses `NotResource`; in a key policy write `"Resource": "*"`, which means this key',
                st.resource.loc or st.loc,
            )
        else:
            for r in st.resources:
                if _not_star(r):
                    yield (
                        f"{st.label()} has `Resource` `{to_plain(r)}`; in a key policy the resource is always this "
                        'key, written `"Resource": "*"`',
                        r.loc or st.loc,
                    )
                    break
    for a in st.actions:
        text = known_str(a)
        if text is not None and is_unknown_kms_action(text):
            yield (
                f"{st.label()} names `{text.strip()}`, which is not a KMS action, so it matches nothing; "
                "fix the spelling (see the AWS KMS actions list)",
                a.loc or st.loc,
            )
    for entry in st.principals:  # a plain loop: this runs for every statement of every policy
        if entry.ptype not in _AS_USUALLY_WRITTEN:
            yield from _principal_type_problems(st)
            break
    ops = as_dict(st.condition)
    if ops is not None:
        for operator, tests in ops.items():
            if not is_known_operator(operator):
                yield (
                    f"{st.label()} uses the condition operator `{operator}`, which IAM does not know; "
                    "use one such as StringEquals, ArnLike, Bool or their IfExists forms",
                    tests.loc or st.loc,
                )


def _principal_type_problems(st: Statement) -> Iterator[tuple[str, Location]]:
    """Each principal type other than ``AWS`` and ``Service``, once, at its first value."""
    told: set[str] = set()
    for entry in st.principals:
        ptype = entry.ptype
        if ptype.lower() in PRINCIPAL_TYPES or ptype in told:
            continue
        told.add(ptype)
        yield (
            f"{st.label()} names a principal of type `{clip(ptype)}`; a key policy takes only `AWS` "
            "(accounts, roles, users) and `Service` principals, so AWS rejects it or it matches no caller; "
            "name the principal under `AWS` or `Service`",
            entry.loc or st.loc,
        )


def _problems(doc: PolicyDocument) -> Iterator[tuple[str, Location]]:
    for message, loc in doc.problems:
        yield message + "; AWS rejects it", loc
    for name, line, column in doc.repeated_keys:
        at = f" (again at line {line}, column {column} of the text)" if line else ""
        yield f"the key policy text writes `{clip(name)}` twice in one object{at}; {_REPEATED}", doc.loc
    if doc.value is None or as_dict(doc.value) is None:
        return
    version = doc.version
    if version is None:
        yield (
            "the key policy has no `Version`, so it means the old 2008-10-17 language; "
            f'add "Version": "{POLICY_VERSION}"',
            doc.loc,
        )
    elif not isinstance(version, Unknown | Interpolated):
        text = known_str(version)
        if text is None or text.strip() != POLICY_VERSION:
            shown = text if text is not None else json.dumps(_plain_known(version))
            yield f'the key policy `Version` is "{shown}"; write "Version": "{POLICY_VERSION}"', version.loc or doc.loc
    sids: set[str] = set()
    for st in doc.statements:
        yield from _statement_problems(st)
        sid = st.sid_text
        if sid:
            if sid in sids:
                yield (
                    f"{st.label()} repeats a `Sid` used by an earlier statement; give each statement its own Sid",
                    (st.sid.loc if st.sid is not None else None) or st.loc,
                )
            sids.add(sid)


def _repeats_in(repeats: DuplicateIndex, policy: KeyPolicy, doc: PolicyDocument) -> Iterator[tuple[DuplicateKey, str]]:
    """The keys written twice inside the policy as written (inside the reading's document, or
    the policy value it came from: an ``Fn::If`` around it, a YAML alias to it), with messages."""
    spans = {v.loc for v in (doc.value, policy.document) if v is not None and v.loc is not None}
    for span in spans:
        for d in repeats.inside(span):
            where = f"line {d.first.line}" if d.first.line != d.loc.line else f"column {d.first.column}"
            yield (
                d,
                f"`{clip(d.name)}` is written twice in one mapping of the key policy (first at {where}); {_REPEATED}",
            )


@check("KMS013")
def invalid_key_policy(project: Project, ctx: RuleContext) -> Iterator[Violation]:
    repeats = DuplicateIndex(project.duplicate_keys) if project.duplicate_keys else None
    for policy, docs in _by_policy(key_policy_readings(project)):
        problems = [_reading_problems(policy, doc) for doc in docs]
        # A problem every reading has (a missing Version beside an Fn::If statement) does not
        # depend on the branch, so its message names none.
        everywhere = set.intersection(*map(set, problems)) if len(problems) > 1 else set()
        for doc, found in zip(docs, problems, strict=True):
            if repeats is not None:
                for d, message in _repeats_in(repeats, policy, doc):
                    yield Violation(d.loc, policy.attached_by, message, content=f"written twice: {d.name}")
            for message, loc in found:
                shown = message if (message, loc) in everywhere else with_branch(message, doc.branch)
                yield Violation(loc, policy.attached_by, shown, content=message, subject=message)


def _by_policy(
    readings: Iterator[tuple[KeyPolicy, PolicyDocument]],
) -> Iterator[tuple[KeyPolicy, list[PolicyDocument]]]:
    """The readings of each policy together (they come one policy after another)."""
    current: KeyPolicy | None = None
    docs: list[PolicyDocument] = []
    for policy, doc in readings:
        if policy is not current:
            if current is not None:
                yield current, docs
            current, docs = policy, []
        docs.append(doc)
    if current is not None:
        yield current, docs


def _reading_problems(policy: KeyPolicy, doc: PolicyDocument) -> list[tuple[str, Location]]:
    """What is wrong with one reading of ``policy``: what the reading says (worked out once for
    every key sharing it), and its size."""
    found: list[tuple[str, Location]] | None = doc.facts.get("KMS013")
    if found is None:
        found = doc.facts["KMS013"] = list(_problems(doc))
    size = _size(policy, doc) if doc.value is not None and as_dict(doc.value) is not None else 0
    if size > MAX_POLICY_BYTES:
        too_big = f"the key policy is {size} bytes, over the 32 KB AWS accepts; split the grants or use grants"
        found = [*found, (too_big, doc.loc)]
    return found
