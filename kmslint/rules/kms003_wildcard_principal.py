"""KMS003 wildcard-principal: Allow to `*` without a condition pinning the caller."""

from __future__ import annotations

from collections.abc import Iterator

from kmslint.model import Project, Violation
from kmslint.policy.document import PolicyDocument
from kmslint.policy.principals import PrincipalClass, classify
from kmslint.rules import RuleContext, check
from kmslint.rules._common import Hit, reading_hits, with_branch


@check("KMS003")
def wildcard_principal(project: Project, ctx: RuleContext) -> Iterator[Violation]:
    return reading_hits(project, "KMS003", _hits)


def _hits(doc: PolicyDocument) -> list[Hit]:
    out: list[Hit] = []
    for st in doc.allow_statements:
        if st.not_principal:
            what = "uses NotPrincipal, which allows everyone not listed"
        elif any(classify(p) is PrincipalClass.WILDCARD for p in st.principals):
            what = "allows `*` to use this key"
        else:
            continue
        if st.identity_constrained:
            continue
        message = with_branch(
            f"{st.label()} {what}; restrict it with a condition such as StringEquals on "
            "aws:PrincipalOrgID or kms:CallerAccount, or name the principals",
            doc.branch_at(st.loc),
        )
        out.append((st.loc, message, st.content(), ""))
    return out
