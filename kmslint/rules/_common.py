"""Helpers shared by checks: policy readings, Fn::If branches, resource names."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

from kmslint.model import (
    Branch,
    KeyPolicy,
    KeyResource,
    KeyUse,
    Known,
    Location,
    Project,
    Value,
    Violation,
    branches,
    clip,
    describe_branch,
    has_conditional,
    to_plain,
)
from kmslint.parsers.common import BudgetExceeded
from kmslint.policy.document import PolicyDocument, Statement, documents
from kmslint.policy.principals import PrincipalClass, PrincipalEntry, classify


def key_policy_readings(project: Project) -> Iterator[tuple[KeyPolicy, PolicyDocument]]:
    """Every reading (one per ``Fn::If`` branch) of every key policy in the project.

    Keys sharing one policy value share its reading (paid for from the
    project's budget when first read).
    """
    budget = project.budget
    for policy in project.key_policies():
        try:
            readings = documents(policy, project.readings, budget)
            if budget is not None:
                budget.spend(len(readings))
        except BudgetExceeded as exc:
            exc.where = exc.where or policy.loc
            raise
        for doc in readings:
            yield policy, doc


# What a check finds in one reading of a policy: where, the message, the content that
# fingerprints it, and its subject, the same in every reading ("": the statement at that place).
Hit = tuple[Location, str, str, str]


def reading_hits(project: Project, key: object, find: Callable[[PolicyDocument], list[Hit]]) -> Iterator[Violation]:
    """The violations of a check whose findings depend on nothing but the policy reading.

    ``find`` looks at a reading once (its answer kept on the reading under
    ``key``, the check's ID plus whatever else the answer depends on); each
    policy that reads it gets those findings (the engine keeps one of each
    that several readings repeat).  Many keys given one policy value cost
    one look, not one each.
    """
    for policy, doc in key_policy_readings(project):
        hits: list[Hit] | None = doc.facts.get(key)
        if hits is None:
            hits = doc.facts[key] = find(doc)
        for loc, message, content, subject in hits:
            yield Violation(loc, policy.attached_by, message, content=content, subject=subject)


def with_branch(message: str, branch: Branch) -> str:
    """Append the ``Fn::If`` branch a finding depends on, if any."""
    when = describe_branch(branch)
    return f"{message} ({when})" if when else message


def key_variants(key: KeyResource, *attrs: str) -> Iterator[tuple[Branch, dict[str, Value | None]]]:
    """The key's attributes under every combination of their ``Fn::If`` branches that the
    template's conditions allow (:func:`kmslint.model.branches`).

    Yields ``(branch, {attr: value})`` with no :class:`~kmslint.model.Conditional` left;
    an attribute that is not set (or resolves to ``AWS::NoValue``) is ``None``.
    """
    present = {a: getattr(key, a) for a in attrs if getattr(key, a) is not None}
    if not any(has_conditional(v) for v in present.values()):  # the common case, without a walk
        yield (), {a: present.get(a) for a in attrs}
        return
    for branch, plain in branches(Known(dict(present))):
        values = plain.value if isinstance(plain, Known) and isinstance(plain.value, dict) else {}
        yield branch, {a: values.get(a) for a in attrs}


def principal_text(entry: PrincipalEntry) -> str:
    """How a message names a principal: ``*``, an ARN, ``service logs.amazonaws.com``, ``${ref}``."""
    text = to_plain(entry.value)
    shown = clip(text if isinstance(text, str) else json.dumps(text, separators=(",", ":"), default=str))
    if entry.ptype == "*":
        return "`*`"
    if entry.ptype.lower() == "service":
        return f"service `{shown}`"
    if entry.ptype.lower() not in ("aws", "*"):
        return f"{entry.ptype} `{shown}`"
    return f"`{shown}`"


def non_root_principals(st: Statement) -> list[PrincipalEntry]:
    """The statement's principals that are surely not an account root (unknown ones left out).

    A ``NotPrincipal`` statement applies to everyone not listed, so it is
    represented by one ``*`` entry.
    """
    if st.not_principal:
        return [PrincipalEntry("*", Known("*", st.loc), st.loc)]
    return [p for p in st.principals if classify(p) not in (PrincipalClass.ACCOUNT_ROOT, PrincipalClass.UNKNOWN)]


def full_access_principals(st: Statement) -> list[PrincipalEntry]:
    """KMS005's question: the non-root principals an Allow statement gives every KMS action."""
    if not st.is_allow or not st.covers_all_kms():
        return []
    return non_root_principals(st)


__all__ = [
    "Hit",
    "PolicyDocument",
    "full_access_principals",
    "key_policy_readings",
    "key_variants",
    "non_root_principals",
    "principal_text",
    "reading_hits",
    "with_branch",
]


def use_readings(use: KeyUse) -> Iterator[tuple[Branch, Value | None, Value | None]]:
    """A store's encryption switch and key on every ``Fn::If`` / conditional branch the configuration allows."""
    if not (has_conditional(use.switch) or has_conditional(use.key)):
        yield (), use.switch, use.key
        return
    present = {n: v for n, v in (("switch", use.switch), ("key", use.key)) if v is not None}
    for branch, plain in branches(Known(present)):
        values = plain.value if isinstance(plain, Known) and isinstance(plain.value, dict) else {}
        yield branch, values.get("switch"), values.get("key")
