"""KMS001 default-key-policy: no key policy, or the default policy written out (with, or without,
extra statements that give the same account root what it already has)."""

from __future__ import annotations

from collections.abc import Iterator

from kmslint.model import Conditional, Project, Violation, known_str
from kmslint.parsers.common import BudgetExceeded
from kmslint.policy.document import PolicyDocument, Statement, documents
from kmslint.policy.principals import PrincipalClass, classify, root_account
from kmslint.rules import RuleContext, check
from kmslint.rules._common import Hit, reading_hits, with_branch

_NO_POLICY = (
    "the key has no key policy, so AWS attaches the default policy, which lets any IAM policy "
    "in the account grant use of this key; write a key policy that names its administrators and users"
)


@check("KMS001")
def default_key_policy(project: Project, ctx: RuleContext) -> Iterator[Violation]:
    for key in project.keys:
        if key.policy is None:
            yield Violation(key.loc, key.name, _NO_POLICY, content=f"{key.name}:no-policy")
    yield from _absent_on_a_branch(project)
    yield from reading_hits(project, "KMS001", _hits)


def _absent_on_a_branch(project: Project) -> Iterator[Violation]:
    """A key's own policy absent on some branch (``AWS::NoValue``, or a Terraform ``null``
    side): there the key has the default policy.  Reported at the policy argument, naming the
    first such branch.  Only a conditional at the top of the policy can leave it absent; its
    readings are the ones every rule shares."""
    for key in project.keys:
        policy = key.policy
        if policy is None or policy.attached_by != key.name or not isinstance(policy.document, Conditional):
            continue
        try:
            readings = documents(policy, project.readings, project.budget)
        except BudgetExceeded as exc:
            exc.where = exc.where or policy.loc
            raise
        for doc in readings:
            if doc.value is None and doc.branch:
                message = with_branch(_NO_POLICY, doc.branch)
                yield Violation(policy.loc, key.name, message, content=f"{key.name}:no-policy-on-a-branch")
                break


def _hits(doc: PolicyDocument) -> list[Hit]:
    """The default policy written out (RULES.md): an Allow gives an account root ``kms:*`` on
    ``*``, and every Allow names only that same account's root, with no condition.

    Extra statements for the same root (CDK's ``grantEncryptDecrypt(AccountRootPrincipal)``
    adds one for ``kms:Decrypt``, ``kms:Encrypt``, ...) give it nothing ``kms:*`` did not; a
    statement for another account's root, even one written as an unknown expression, is
    cross-account access, not the default policy.
    """
    if not doc.statements_known:
        return []
    allows = doc.allow_statements
    # Cheapest first: most policies name a role or a service, and stop here.
    if not allows or not all(_roots_only(s) for s in allows):
        return []
    full = next((s for s in allows if _is_root_full_access(s)), None)
    if full is None:
        return []
    accounts = {root_account(p) for s in allows for p in s.principals}
    if len(accounts) != 1 or None in accounts:  # roots of two accounts, or of one not known to be the same
        return []
    extra = len(allows) - 1
    also = (
        f", and the {'other statement gives' if extra == 1 else f'{extra} other statements give'} the same root "
        "only what `kms:*` already does"
        if extra
        else ""
    )
    message = with_branch(
        f"the key policy is the AWS default policy: {full.label()} gives the account root `kms:*`{also}, "
        "delegating every decision to IAM; add statements that name who administers and who uses the key",
        doc.branch,
    )
    return [(full.loc, message, full.content(), "")]


def _roots_only(st: Statement) -> bool:
    """An Allow whose principals are all account roots, with no condition (and no NotPrincipal)."""
    if st.not_principal or st.has_condition:
        return False
    principals = st.principals
    return bool(principals) and all(classify(p) is PrincipalClass.ACCOUNT_ROOT for p in principals)


def _is_root_full_access(st: Statement) -> bool:
    """``kms:*`` on ``*``, for an Allow already found to name account roots only (:func:`_roots_only`)."""
    if st.not_action or st.not_resource:
        return False
    if not st.covers_all_kms():
        return False
    resources = st.resources
    return st.resource is None or (bool(resources) and all(known_str(r) == "*" for r in resources))
