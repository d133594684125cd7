"""KMS007 destructive-admin-without-mfa: deleting, disabling or re-policying the key without MFA.

Only principals that are neither a service nor an account root count (RULES.md): the
account-root statement hands the decision to IAM, where MFA is required of people."""

from __future__ import annotations

from collections.abc import Iterator

from kmslint.model import Project, Violation, known_str
from kmslint.policy.actions import DESTRUCTIVE_ACTIONS
from kmslint.policy.conditions import denies_without_mfa, requires_mfa
from kmslint.policy.document import PolicyDocument, Statement
from kmslint.policy.principals import PrincipalClass, classify
from kmslint.rules import RuleContext, check
from kmslint.rules._common import Hit, principal_text, reading_hits, with_branch

# Principals this check leaves alone: a service signs no MFA; an account root delegates to the
# account's IAM policies, which is where an MFA condition belongs (on the root statement it
# would lock every IAM principal, and so the account, out of the key); an unknown one proves nothing.
_NOT_PEOPLE = (PrincipalClass.SERVICE, PrincipalClass.ACCOUNT_ROOT, PrincipalClass.UNKNOWN)


def _mfa_required(st: Statement) -> bool:
    """The statement only applies with MFA, or its conditions cannot be read."""
    conds, known = st.conditions
    return not known or any(requires_mfa(c) for c in conds)


def _denied_without_mfa(doc: PolicyDocument, action: str) -> bool:
    """A Deny for everyone on ``action`` when the caller has no MFA protects it for every Allow."""
    for st in doc.statements:
        if known_str(st.effect) != "Deny" or st.not_principal or st.covers(action) is not True:
            continue
        if not any(classify(p) is PrincipalClass.WILDCARD for p in st.principals):
            continue
        conds, conds_known = st.conditions
        if not conds_known or any(denies_without_mfa(c) for c in conds):
            return True
    return False


@check("KMS007")
def destructive_admin_without_mfa(project: Project, ctx: RuleContext) -> Iterator[Violation]:
    return reading_hits(project, "KMS007", _hits)


def _hits(doc: PolicyDocument) -> list[Hit]:
    out: list[Hit] = []
    for st in doc.allow_statements:
        actions = [a for a in st.covered(DESTRUCTIVE_ACTIONS) if not _denied_without_mfa(doc, a)]
        if not actions or _mfa_required(st):
            continue
        if st.not_principal:
            who = "everyone not listed in NotPrincipal"
        else:
            people = [p for p in st.principals if classify(p) not in _NOT_PEOPLE]
            if not people:
                continue
            who = ", ".join(dict.fromkeys(principal_text(p) for p in people))
        listed = ", ".join(f"`{a}`" for a in actions)
        message = with_branch(
            f"{st.label()} lets {who} call {listed} without multi-factor authentication; add "
            '`"Bool": {"aws:MultiFactorAuthPresent": "true"}` to the statement, or a Deny of these '
            "actions when `aws:MultiFactorAuthPresent` is false",
            doc.branch_at(st.loc),
        )
        out.append((st.loc, message, st.content(), ""))
    return out
