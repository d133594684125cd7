"""KMS005 full-access-to-non-root: every KMS action on the key to someone other than an account root."""

from __future__ import annotations

from collections.abc import Iterator

from kmslint.model import Project, Violation
from kmslint.rules import RuleContext, check
from kmslint.rules._common import Once, full_access_principals, key_policy_readings, principal_text, with_branch


@check("KMS005")
def full_access_to_non_root(project: Project, ctx: RuleContext) -> Iterator[Violation]:
    once = Once()
    for policy, doc in key_policy_readings(project):
        for st in doc.allow_statements:
            who = full_access_principals(st)
            if not who or not once.first(policy.attached_by, st.loc):
                continue
            names = ", ".join(dict.fromkeys(principal_text(p) for p in who))
            whom = "everyone not listed in NotPrincipal" if st.not_principal else names
            yield Violation(
                st.loc,
                policy.attached_by,
                with_branch(
                    f"{st.label()} gives {whom} every KMS action on this key, including changing its policy "
                    "and scheduling its deletion"
                    + ("; its condition does not change that" if st.has_condition else "")
                    + ". List only the actions each principal needs, and keep `kms:*` for the account root",
                    doc.branch_at(st.loc),
                ),
                content=st.content(),
            )
