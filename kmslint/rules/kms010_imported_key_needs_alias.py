"""KMS010 imported-key-needs-alias: imported key material that no alias points at."""

from __future__ import annotations

from collections.abc import Iterator

from kmslint.model import Branch, KeyResource, Project, Violation
from kmslint.policy.keyspec import IMPORTED_KINDS, is_imported
from kmslint.rules import RuleContext, check
from kmslint.rules._common import key_variants, with_branch


def _imported(key: KeyResource) -> Iterator[tuple[Branch, bool]]:
    if key.kind in IMPORTED_KINDS:
        yield (), True
        return
    for branch, values in key_variants(key, "origin"):
        yield branch, is_imported(key.kind, values["origin"])


def _without_alias(project: Project, key: KeyResource, branch: Branch, aliases: set[str]) -> Branch | None:
    """The branch extended with the conditions under which none of ``aliases`` (the key's,
    each created only under its own CloudFormation ``Condition``) exists; None when the
    template's conditions never leave the key there without one."""
    conditions = project.resource_conditions
    gone = dict(branch)
    for alias in aliases:
        if gone.setdefault(conditions[alias], False) is not False:
            return None  # on this branch the alias exists
    own = conditions.get(key.name)
    choices = dict(gone)
    if own is not None and choices.setdefault(own, True) is not True:
        return None  # the key exists only when an alias of it does
    if project.condition_space is not None and not project.condition_space.feasible(choices):
        return None
    return tuple(sorted(gone.items()))


@check("KMS010")
def imported_key_needs_alias(project: Project, ctx: RuleContext) -> Iterator[Violation]:
    conditional: dict[str, set[str]] = {}  # key -> its aliases that exist only under a condition
    targeted: set[str] = set()
    for alias in project.aliases:
        keys = alias.possible_targets()
        if keys is None:
            return  # an alias whose target cannot be told may point at any key here
        if alias.name in project.resource_conditions:
            for key_name in keys:
                conditional.setdefault(key_name, set()).add(alias.name)
        else:
            targeted |= keys
    for key in project.keys:
        if key.name in targeted:
            continue
        for branch, imported in _imported(key):
            if not imported:
                continue
            if key.name in conditional:
                found = _without_alias(project, key, branch, conditional[key.name])
                if found is None:
                    continue
                branch = found
            yield Violation(
                key.where("origin"),
                key.name,
                with_branch(
                    "this key holds imported key material, which AWS cannot rotate automatically, and no alias "
                    f"in this configuration points at it; create an alias ({key.spelled('alias')}) and "
                    "have applications use it, so that rotating means moving the alias to a new key",
                    branch,
                ),
                content=f"{key.name}:imported-without-alias",
            )
            break
