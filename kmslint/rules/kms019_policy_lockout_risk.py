"""KMS019 policy-lockout-risk: no principal may change the key policy any more."""

from __future__ import annotations

from collections.abc import Iterator

from kmslint.model import Location, Project, Violation, known_str
from kmslint.policy.document import PolicyDocument
from kmslint.policy.principals import PrincipalClass, classify
from kmslint.rules import RuleContext, check
from kmslint.rules._common import Hit, reading_hits, with_branch

_ACTION = "kms:PutKeyPolicy"


def lockout(doc: PolicyDocument) -> tuple[str, Location] | None:
    """Why no principal may call ``kms:PutKeyPolicy`` under this policy, or None.

    Needs every statement readable: an Allow whose actions cannot be read
    might allow it.  An Allow statement counts when it names a principal
    (any principal, even an unresolved one, or NotPrincipal).  An
    unconditional Deny of the action to ``*`` overrides every Allow.
    """
    if not doc.statements_known:
        return None
    allowed = False
    for st in doc.statements:
        covered = st.covers(_ACTION)
        if known_str(st.effect) == "Deny":
            if (
                covered is True
                and not st.not_principal
                and not st.has_condition
                and any(classify(p) is PrincipalClass.WILDCARD for p in st.principals)
            ):
                return (
                    f"{st.label()} denies `{_ACTION}` to everyone with no condition, so nobody can ever change "
                    "this key policy again; narrow the Deny with a condition or exclude the key administrators",
                    st.loc,
                )
            continue
        if covered is None:
            return None
        if covered and st.principal is not None:
            allowed = True
    if allowed:
        return None
    return (
        f"no statement of this key policy allows `{_ACTION}` to any principal: AWS rejects it unless the "
        "lockout safety check is bypassed, and then nobody can ever manage the key; allow "
        "`kms:PutKeyPolicy` to the key administrators (or `kms:*` to the account root)",
        doc.loc,
    )


@check("KMS019")
def policy_lockout_risk(project: Project, ctx: RuleContext) -> Iterator[Violation]:
    return reading_hits(project, "KMS019", _hits)


def _hits(doc: PolicyDocument) -> list[Hit]:
    found = lockout(doc)
    if found is None:
        return []
    message, loc = found
    return [(loc, with_branch(message, doc.branch), message, "")]
