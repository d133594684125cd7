"""KMS017 key-disabled: a key declared disabled."""

from __future__ import annotations

from collections.abc import Iterator

from kmslint.model import Project, Violation, as_bool
from kmslint.rules import RuleContext, check
from kmslint.rules._common import key_variants, with_branch


@check("KMS017")
def key_disabled(project: Project, ctx: RuleContext) -> Iterator[Violation]:
    for key in project.keys:
        for branch, values in key_variants(key, "enabled"):
            if as_bool(values["enabled"]) is not False:
                continue
            yield Violation(
                key.where("enabled"),
                key.name,
                with_branch(
                    "the key is disabled, so nothing can encrypt or decrypt with it (data under it cannot be "
                    "read) while it still costs a monthly fee; enable it, or schedule its deletion if it is "
                    "no longer needed",
                    branch,
                ),
                content=f"{key.name}:disabled",
            )
            break
