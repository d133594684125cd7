"""KMS012 identity-policy-decrypt-all-keys: an IAM policy that can decrypt with every key."""

from __future__ import annotations

from collections.abc import Iterator

from kmslint.model import Project, Violation, to_plain
from kmslint.policy.conditions import narrows_keys
from kmslint.policy.document import Statement, documents
from kmslint.policy.resources import not_resource_reaches_all_keys, reaches_all_keys
from kmslint.rules import RuleContext, check
from kmslint.rules._common import with_branch

_DECRYPTING = ("kms:Decrypt", "kms:ReEncryptFrom")


def _all_keys(st: Statement) -> bool:
    if st.resource is None:
        return False  # no Resource: AWS rejects the policy; not this rule's to judge
    if st.not_resource:
        return not_resource_reaches_all_keys(st.resources) is True
    return any(reaches_all_keys(r) is True for r in st.resources)


def _all_keys_text(st: Statement) -> str:
    for r in st.resources:
        if reaches_all_keys(r) is True:
            return str(to_plain(r))
    return "*"


def _keys_narrowed(st: Statement) -> bool:
    conds, known = st.conditions
    return not known or any(narrows_keys(c) for c in conds)


@check("KMS012")
def identity_policy_decrypt_all_keys(project: Project, ctx: RuleContext) -> Iterator[Violation]:
    for policy in project.identity_policies:
        for doc in documents(policy, project.readings, project.budget):
            for st in doc.allow_statements:
                actions = st.covered(_DECRYPTING)
                if not actions or not _all_keys(st) or _keys_narrowed(st):
                    continue
                listed = " and ".join(f"`{a}`" for a in actions)
                where = "every KMS key" if st.not_resource else f"every KMS key (Resource `{_all_keys_text(st)}`)"
                yield Violation(
                    st.loc,
                    policy.name,
                    with_branch(
                        f"{st.label()} allows {listed} on {where}, so whoever holds this policy can decrypt "
                        "anything encrypted under any key whose policy trusts IAM; list the key ARNs in Resource, "
                        "or add a condition such as `kms:ViaService` or `aws:ResourceTag/...`",
                        doc.branch_at(st.loc),
                    ),
                    content=st.content(),
                    subject="",  # the statement at its place, whatever the reading
                )
