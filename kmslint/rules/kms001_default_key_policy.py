"""KMS001 default-key-policy: no key policy, or the default policy written out."""

from __future__ import annotations

from collections.abc import Iterator

from kmslint.model import Project, Violation, known_str
from kmslint.policy.document import PolicyDocument, Statement
from kmslint.policy.principals import PrincipalClass, classify
from kmslint.rules import RuleContext, check
from kmslint.rules._common import Hit, reading_hits, with_branch


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
    yield from reading_hits(project, "KMS001", _hits)


def _hits(doc: PolicyDocument) -> list[Hit]:
    """The default policy written out: every Allow gives an account root everything."""
    if not doc.statements_known:
        return []
    allows = doc.allow_statements
    if not allows or not all(_is_root_full_access(s) for s in allows):
        return []
    first = allows[0]
    message = with_branch(
        f"the key policy is the AWS default policy: {first.label()} gives the account root `kms:*`, "
        "delegating every decision to IAM; add statements that name who administers and who uses the key",
        doc.branch,
    )
    return [(first.loc, message, first.content(), ())]


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
