"""KMS005 full-access-to-non-root: every KMS action on the key to someone other than an account root."""

from __future__ import annotations

from collections.abc import Iterator

from kmslint.model import Project, Violation
from kmslint.policy.document import PolicyDocument
from kmslint.rules import RuleContext, check
from kmslint.rules._common import Hit, full_access_principals, principal_text, reading_hits, with_branch


@check("KMS005")
def full_access_to_non_root(project: Project, ctx: RuleContext) -> Iterator[Violation]:
    return reading_hits(project, "KMS005", _hits)


def _hits(doc: PolicyDocument) -> list[Hit]:
    out: list[Hit] = []
    for st in doc.allow_statements:
        who = full_access_principals(st)
        if not who:
            continue
        names = ", ".join(dict.fromkeys(principal_text(p) for p in who))
        whom = "everyone not listed in NotPrincipal" if st.not_principal else names
        message = with_branch(
            f"{st.label()} gives {whom} every KMS action on this key, including changing its policy "
            "and scheduling its deletion"
            + ("; its condition does not change that" if st.has_condition else "")
            + ". List only the actions each principal needs, and keep `kms:*` for the account root",
            doc.branch_at(st.loc),
        )
        out.append((st.loc, message, st.content(), ""))
    return out
