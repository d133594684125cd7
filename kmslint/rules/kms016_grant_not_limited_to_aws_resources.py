"""KMS016 grant-not-limited-to-aws-resources: grants may be created for anyone, not only AWS services.

A statement is limited by ``kms:GrantIsForAWSResource`` = true, or by a positive test on
``kms:ViaService`` (RULES.md: the grant can then only be made through the named services)."""

from __future__ import annotations

from collections.abc import Iterator

from kmslint.model import Interpolated, Known, Project, Value, Violation, branches
from kmslint.policy.conditions import constrains_via_service, limits_grants_to_aws_resources
from kmslint.policy.document import PolicyDocument, Statement
from kmslint.rules import RuleContext, check
from kmslint.rules._common import Hit, non_root_principals, principal_text, reading_hits, with_branch


def _limited(st: Statement) -> bool:
    conds, known = st.conditions
    return not known or any(limits_grants_to_aws_resources(c) or constrains_via_service(c) for c in conds)


def _hits(doc: PolicyDocument) -> list[Hit]:
    out: list[Hit] = []
    for st in doc.allow_statements:
        if st.covers("kms:CreateGrant") is not True or _limited(st):
            continue
        who = non_root_principals(st)
        if not who:
            continue
        names = (
            "everyone not listed in NotPrincipal"
            if st.not_principal
            else ", ".join(dict.fromkeys(principal_text(p) for p in who))
        )
        message = with_branch(
            f"{st.label()} lets {names} call `kms:CreateGrant` for any grantee, passing its own access "
            'on to principals this policy never names; add `"Bool": {"kms:GrantIsForAWSResource": '
            '"true"}` so grants can only be made for AWS services that use the key (or a '
            "`kms:ViaService` condition naming them)",
            doc.branch_at(st.loc),
        )
        out.append((st.loc, message, st.content(), ""))
    return out


def _has_wildcard(value: Value | None) -> bool:
    if isinstance(value, Known):
        return isinstance(value.value, str) and "*" in value.value
    if isinstance(value, Interpolated):
        return "*" in value.literal_text("")
    return False


@check("KMS016")
def grant_not_limited_to_aws_resources(project: Project, ctx: RuleContext) -> Iterator[Violation]:
    yield from reading_hits(project, "KMS016", _hits)
    for grant in project.grants:
        for branch, value in branches(grant.grantee):
            if not _has_wildcard(value):
                continue
            yield Violation(
                grant.attr_locs.get("grantee") or grant.loc,
                grant.name,
                with_branch(
                    "the grant's grantee principal contains `*`; AWS grants name one principal, so give the ARN "
                    "of the role or service that needs the key",
                    branch,
                ),
                content=f"{grant.name}:grantee",
            )
            break
