"""KMS014 cross-account-without-condition: another account may use the key, with nothing narrowing it."""

from __future__ import annotations

from collections.abc import Iterator

from kmslint.model import KeyPolicy, Project, Violation, known_str
from kmslint.policy.actions import CRYPTOGRAPHIC_OPERATIONS, GRANT_ACTIONS
from kmslint.policy.conditions import constrains_identity, constrains_via_service
from kmslint.policy.document import PolicyDocument, Statement
from kmslint.policy.principals import account_of
from kmslint.rules import RuleContext, check
from kmslint.rules._common import Hit, key_policy_readings, principal_text, with_branch

_ACTIONS = (*CRYPTOGRAPHIC_OPERATIONS, *GRANT_ACTIONS)


def key_account(policy: KeyPolicy, ctx: RuleContext) -> str | None:
    """The 12-digit account the key lives in: stated by the configuration, else ``--account-id``."""
    if policy.key is not None:
        stated = known_str(policy.key.account)
        if stated is not None and stated.strip():
            return stated.strip()
    return ctx.account_id


def _narrowed(st: Statement) -> bool:
    conds, known = st.conditions
    return not known or any(constrains_identity(c) or constrains_via_service(c) for c in conds)


@check("KMS014")
def cross_account_without_condition(project: Project, ctx: RuleContext) -> Iterator[Violation]:
    for policy, doc in key_policy_readings(project):
        home = key_account(policy, ctx)
        if home is None:
            continue
        hits: list[Hit] | None = doc.facts.get(("KMS014", home))  # keys of one account share the answer
        if hits is None:
            hits = doc.facts[("KMS014", home)] = _hits(doc, home)
        for loc, message, content, subject in hits:
            yield Violation(loc, policy.attached_by, message, content=content, subject=subject)


def _hits(doc: PolicyDocument, home: str) -> list[Hit]:
    out: list[Hit] = []
    for st in doc.allow_statements:
        if st.not_principal:
            continue
        foreign = [p for p in st.principals if (acct := account_of(p)) is not None and acct != home]
        if not foreign:
            continue
        actions = st.covered(_ACTIONS)
        if not actions or _narrowed(st):
            continue
        accounts = ", ".join(dict.fromkeys(str(account_of(p)) for p in foreign))
        names = ", ".join(dict.fromkeys(principal_text(p) for p in foreign))
        shown = ", ".join(f"`{a}`" for a in actions[:3]) + (" and more" if len(actions) > 3 else "")
        message = with_branch(
            f"{st.label()} lets {names} in account {accounts} (not this key's account {home}) call {shown} "
            "with no condition; add one such as `kms:ViaService` (use only through a named AWS service) "
            "or `aws:PrincipalOrgID` / `aws:PrincipalArn` so the access stays as narrow as intended",
            doc.branch_at(st.loc),
        )
        out.append((st.loc, message, st.content(), ""))
    return out
