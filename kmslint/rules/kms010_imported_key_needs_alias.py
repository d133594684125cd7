"""KMS010 imported-key-needs-alias: imported key material that no alias points at."""

from __future__ import annotations

from collections.abc import Iterator

from kmslint.model import KeyKind, KeyResource, Project, Violation, known_str
from kmslint.rules import RuleContext, check
from kmslint.rules._common import key_variants, with_branch


def _imported(key: KeyResource) -> Iterator[tuple[tuple[tuple[str, bool], ...], bool]]:
    if key.kind in (KeyKind.EXTERNAL, KeyKind.REPLICA_EXTERNAL):
        yield (), True
        return
    for branch, values in key_variants(key, "origin"):
        yield branch, known_str(values["origin"]) == "EXTERNAL"


@check("KMS010")
def imported_key_needs_alias(project: Project, ctx: RuleContext) -> Iterator[Violation]:
    targeted: set[str] = set()
    for alias in project.aliases:
        keys = alias.possible_targets()
        if keys is None:
            return  # an alias whose target cannot be told may point at any key here
        targeted |= keys
    for key in project.keys:
        if key.name in targeted:
            continue
        for branch, imported in _imported(key):
            if not imported:
                continue
            yield Violation(
                key.where("origin"),
                key.name,
                with_branch(
                    "this key holds imported key material, which AWS cannot rotate automatically, and no alias "
                    "in this configuration points at it; create an alias (aws_kms_alias / AWS::KMS::Alias) and "
                    "have applications use it, so that rotating means moving the alias to a new key",
                    branch,
                ),
                content=f"{key.name}:imported-without-alias",
            )
            break
