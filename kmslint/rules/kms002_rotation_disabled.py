"""KMS002 rotation-disabled: a symmetric encryption key without automatic rotation."""

from __future__ import annotations

from collections.abc import Iterator

from kmslint.fixes import turn_on
from kmslint.model import KeyKind, Project, Violation, as_bool, known_str
from kmslint.policy.keyspec import rotatable
from kmslint.rules import RuleContext, check
from kmslint.rules._common import key_variants, with_branch

_ATTRS = ("key_spec", "key_usage", "origin", "custom_key_store", "rotation")


@check("KMS002")
def rotation_disabled(project: Project, ctx: RuleContext) -> Iterator[Violation]:
    for key in project.keys:
        if key.kind is not KeyKind.KEY:
            continue  # replicas follow their primary; imported material cannot rotate
        for branch, values in key_variants(key, *_ATTRS):
            if rotatable(values) is not True:
                continue
            rotation = values["rotation"]
            if rotation is not None and as_bool(rotation) is not False:
                continue  # enabled, or unknown
            where = key.where("rotation") if rotation is not None else key.loc
            state = "disabled" if rotation is not None else "not enabled"
            yield Violation(
                where,
                key.name,
                with_branch(
                    f"automatic rotation is {state} for this symmetric encryption key; "
                    f"set {key.setting('rotation', 'true')}",
                    branch,
                ),
                content=f"{key.name}:rotation={known_str(rotation) if rotation is not None else 'unset'}",
                # Not under a condition: the other branch may be a key that cannot rotate.
                fix=None if branch else turn_on(key, "rotation", "Enable automatic key rotation"),
            )
            break  # one finding per key, naming the first branch that violates
