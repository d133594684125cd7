"""KMS006 no-separation-of-duties: one principal both administers and uses the key."""

from __future__ import annotations

from collections.abc import Iterator

from kmslint.model import Project, Violation
from kmslint.policy.actions import ADMIN_ACTIONS, CRYPTO_USE_ACTIONS
from kmslint.policy.document import PolicyDocument, Statement
from kmslint.policy.principals import PrincipalClass, PrincipalEntry, classify, is_reference
from kmslint.record import Record, field
from kmslint.rules import RuleContext, check
from kmslint.rules._common import Hit, full_access_principals, principal_text, reading_hits, with_branch

_NAMED = (PrincipalClass.SPECIFIC, PrincipalClass.SERVICE)


def _named(entry: PrincipalEntry) -> bool:
    """One principal named explicitly: a role, user, service or resource, or a reference whose
    value is unknown (a parameter, a variable: the same reference is the same principal)."""
    klass = classify(entry)
    return klass in _NAMED or (klass is PrincipalClass.UNKNOWN and is_reference(entry))


class _Grants(Record):
    entry: PrincipalEntry
    first: Statement
    admin: dict[str, Statement] = field(default_factory=dict)  # action -> first statement allowing it
    use: dict[str, Statement] = field(default_factory=dict)


def _short(actions: list[str], limit: int = 3) -> str:
    shown = ", ".join(f"`{a}`" for a in actions[:limit])
    return shown + (f" and {len(actions) - limit} more" if len(actions) > limit else "")


def _where(statements: dict[str, Statement]) -> str:
    labels = list(dict.fromkeys(st.label() for st in statements.values()))
    return " and ".join(labels)


@check("KMS006")
def no_separation_of_duties(project: Project, ctx: RuleContext) -> Iterator[Violation]:
    return reading_hits(project, "KMS006", _hits)


def _hits(doc: PolicyDocument) -> list[Hit]:
    full = {p.identity for st in doc.allow_statements for p in full_access_principals(st)}
    grants: dict[str, _Grants] = {}
    for st in doc.allow_statements:
        if st.not_principal:
            continue
        admin = st.covered(ADMIN_ACTIONS)
        use = st.covered(CRYPTO_USE_ACTIONS)
        if not admin and not use:
            continue
        for entry in st.principals:
            if not _named(entry) or entry.identity in full:
                continue
            g = grants.setdefault(entry.identity, _Grants(entry, st))
            for a in admin:
                g.admin.setdefault(a, st)
            for a in use:
                g.use.setdefault(a, st)
    out: list[Hit] = []
    for identity, g in grants.items():
        if not g.admin or not g.use:
            continue
        who = principal_text(g.entry)
        if is_reference(g.entry):
            who += " (one principal, whatever value it is given)"
        message = with_branch(
            f"{who} both administers this key ({_short(list(g.admin))} in "
            f"{_where(g.admin)}) and uses it ({_short(list(g.use))} in {_where(g.use)}); "
            "give key administration and cryptographic use to different principals",
            doc.branch,
        )
        out.append((g.first.loc, message, identity, identity))
    return out
