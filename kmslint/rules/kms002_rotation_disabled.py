"""KMS002 rotation-disabled: a symmetric encryption key without automatic rotation."""

from __future__ import annotations

from collections.abc import Iterator

from kmslint.model import KeyKind, Project, Value, Violation, as_bool, known_str
from kmslint.rules import RuleContext, check
from kmslint.rules._common import key_variants, with_branch

_ATTRS = ("key_spec", "key_usage", "origin", "custom_key_store", "rotation")


def rotatable(values: dict[str, Value | None]) -> bool | None:
    """Can AWS rotate this key automatically?  None when a setting is unknown.

    Symmetric encryption keys (spec ``SYMMETRIC_DEFAULT`` or unset, usage
    ``ENCRYPT_DECRYPT`` or unset) with AWS-generated material (origin
    ``AWS_KMS`` or unset) outside custom key stores can; nothing else can.
    """
    expected = {"key_spec": "SYMMETRIC_DEFAULT", "key_usage": "ENCRYPT_DECRYPT", "origin": "AWS_KMS"}
    for attr, wanted in expected.items():
        value = values.get(attr)
        if value is None:
            continue
        text = known_str(value)
        if text is None:
            return None
        if text != wanted:
            return False
    store = values.get("custom_key_store")
    if store is not None:
        text = known_str(store)
        if text is None:
            return None  # an unresolved store ID may be empty or not
        if text.strip():
            return False
    return True


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
                    "set enable_key_rotation = true (EnableKeyRotation: true in CloudFormation)",
                    branch,
                ),
                content=f"{key.name}:rotation={known_str(rotation) if rotation is not None else 'unset'}",
            )
            break  # one finding per key, naming the first branch that violates
