"""KMS001 default-key-policy: no key policy, or the default policy written out."""

from __future__ import annotations

from collections.abc import Iterator

from kmslint.model import Project, Violation, known_str
from kmslint.policy.document import Statement
from kmslint.policy.principals import PrincipalClass, classify
from kmslint.rules import RuleContext, check
from kmslint.rules._common import key_policy_readings, with_branch


@check("KMS001")
def default_key_policy(project: Project, ctx: RuleContext) -> Iterator[Violation]:
    for key in project.keys:
        if key.policy is None:
            yield Violation(
                key.loc,
                key.name,
                "the key has no key policy, so AWS attaches the default policy, which lets any IAM policy "
                "in the account grant use of this key; write a key policy that names its administrators and users",
                content=f"{key.name}:no-policy",
            )
    seen: set[tuple[str | None, int, int]] = set()
    for policy, doc in key_policy_readings(project):
        if not doc.statements_known:
            continue
        allows = doc.allow_statements
        if not allows or not all(_is_root_full_access(s) for s in allows):
            continue
        first = allows[0]
        mark = (policy.attached_by, first.loc.line, first.loc.column)
        if mark in seen:
            continue
        seen.add(mark)
        yield Violation(
            first.loc,
            policy.attached_by,
            with_branch(
                f"the key policy is the AWS default policy: {first.label()} gives the account root `kms:*`, "
                "delegating every decision to IAM; add statements that name who administers and who uses the key",
                doc.branch,
            ),
            content=first.content(),
        )


def _is_root_full_access(st: Statement) -> bool:
    """``Allow`` ``kms:*`` on ``*`` to account roots only, with no condition."""
    if st.not_principal or st.not_action or st.not_resource or st.has_condition:
        return False
    principals = st.principals
    if not principals or not all(classify(p) is PrincipalClass.ACCOUNT_ROOT for p in principals):
        return False
    if not st.covers_all_kms():
        return False
    resources = st.resources
    return st.resource is None or (bool(resources) and all(known_str(r) == "*" for r in resources))
