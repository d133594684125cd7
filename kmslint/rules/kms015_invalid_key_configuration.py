"""KMS015 invalid-key-configuration: key settings AWS rejects at deploy time."""

from __future__ import annotations

from collections.abc import Iterator

from kmslint.model import (
    Alias,
    Branch,
    DuplicateKey,
    Interpolated,
    KeyKind,
    KeyResource,
    Known,
    Location,
    Project,
    Value,
    Violation,
    as_bool,
    as_int,
    branches,
    clip,
    known_str,
)
from kmslint.policy.keyspec import (
    DEFAULT_SPEC,
    DEFAULT_USAGE,
    DELETION_DAYS,
    IMPORTED_KINDS,
    KNOWN_USAGES,
    ROTATION_DAYS,
    VALID_USAGES,
    rotatable,
    spec_and_usage,
)
from kmslint.rules import RuleContext, check
from kmslint.rules._common import key_variants, with_branch

_ATTRS = ("key_spec", "key_usage", "origin", "custom_key_store", "rotation", "rotation_period", "deletion_window")


def _rotation_problem(key: KeyResource, values: dict[str, Value | None]) -> tuple[str, Location] | None:
    if as_bool(values["rotation"]) is not True or key.kind is KeyKind.REPLICA:
        return None
    if key.kind not in IMPORTED_KINDS and rotatable(values) is not False:
        return None
    return (
        "automatic rotation is enabled on a key AWS cannot rotate (only symmetric encryption keys with "
        f"AWS-generated material outside custom key stores can); remove {key.spelled('rotation')}, "
        "and rotate manually by moving an alias to a new key",
        key.where("rotation"),
    )


def _usage_problem(key: KeyResource, values: dict[str, Value | None]) -> tuple[str, Location] | None:
    spec_value, usage_value = values["key_spec"], values["key_usage"]
    spec, usage = spec_and_usage(values)
    if spec is None or usage is None or spec not in VALID_USAGES or usage not in KNOWN_USAGES:
        return None
    allowed = VALID_USAGES[spec]
    if usage in allowed:
        return None
    spec_said = spec if spec_value is not None else f"{DEFAULT_SPEC} (the default)"
    usage_said = usage if usage_value is not None else f"{DEFAULT_USAGE} (the default)"
    choices = " or ".join(sorted(allowed))
    where = key.where("key_usage") if usage_value is not None else key.where("key_spec")
    return f"key spec {spec_said} cannot be used with key usage {usage_said}; set the key usage to {choices}", where


def _range_problem(
    key: KeyResource, value: Value | None, bounds: tuple[int, int], attr: str
) -> tuple[str, Location] | None:
    days = as_int(value)
    if days is None or bounds[0] <= days <= bounds[1]:
        return None
    return f"{key.spelled(attr)} is {days} days; AWS accepts {bounds[0]} to {bounds[1]}", key.where(attr)


def _key_problems(key: KeyResource) -> Iterator[tuple[Branch, str, Location]]:
    """Each kind of problem once per key, under the first ``Fn::If`` branch that has it."""
    # Kept: one finding per kind, not per value (a period of 50 days under one branch and 3000
    # under the other is one problem); the engine drops only repeats of the same message.
    seen: set[str] = set()
    for branch, values in key_variants(key, *_ATTRS):
        usage = _usage_problem(key, values)
        found = {
            # A spec/usage mismatch is the cause; rotation failing on it is not reported again.
            "rotation": None if usage is not None else _rotation_problem(key, values),
            "usage": usage,
            "period": _range_problem(key, values["rotation_period"], ROTATION_DAYS, "rotation_period"),
            "window": _range_problem(key, values["deletion_window"], DELETION_DAYS, "deletion_window"),
        }
        for kind, problem in found.items():
            if problem is None or kind in seen:
                continue
            seen.add(kind)
            yield branch, problem[0], problem[1]


def _literal_prefix(value: Value | None) -> tuple[str, bool] | None:
    """The leading literal text of a name and whether that is the whole name."""
    if isinstance(value, Known) and isinstance(value.value, str):
        return value.value, True
    if isinstance(value, Interpolated):
        prefix = ""
        for part in value.parts:
            if not isinstance(part, str):
                return prefix, False
            prefix += part
        return prefix, True
    return None


def alias_name_problem(value: Value | None) -> str | None:
    """Why AWS rejects this alias name, or None (also when it cannot be told)."""
    found = _literal_prefix(value)
    if found is None:
        return None
    prefix, whole = found
    if prefix.startswith("alias/aws/"):
        return "starts with `alias/aws/`, which AWS reserves for AWS managed keys"
    if prefix.startswith("alias/"):
        return None
    if not whole and "alias/aws/".startswith(prefix):
        return None  # the unknown rest decides
    return "does not start with `alias/`"


def _alias_loc(alias: Alias) -> Location:
    return alias.attr_locs.get("alias_name") or alias.attr_locs.get("name") or alias.loc


def _written_twice(owner: str, duplicates: tuple[DuplicateKey, ...]) -> Iterator[Violation]:
    """A setting written twice in a key's or alias's definition: CloudFormation keeps the last."""
    for d in duplicates:
        where = f"line {d.first.line}" if d.first.line != d.loc.line else f"column {d.first.column}"
        yield Violation(
            d.loc,
            owner,
            f"`{clip(d.name)}` is written twice in one mapping of this resource (first at {where}); "
            "CloudFormation keeps only the last value and drops the earlier one without a word (cfn-lint and "
            "some deploy tools reject the template); keep one",
            content=f"{owner}:written twice:{d.name}",
        )


@check("KMS015")
def invalid_key_configuration(project: Project, ctx: RuleContext) -> Iterator[Violation]:
    for key in project.keys:
        for branch, message, loc in _key_problems(key):
            yield Violation(loc, key.name, with_branch(message, branch), content=f"{key.name}:{message}")
        if key.duplicate_keys:
            yield from _written_twice(key.name, key.duplicate_keys)
    for alias in project.aliases:
        if alias.duplicate_keys:
            yield from _written_twice(alias.name, alias.duplicate_keys)
    for alias in project.aliases:
        for branch, value in branches(alias.alias_name):
            problem = alias_name_problem(value)
            if problem is None:
                continue
            shown = known_str(value)
            name = f"alias name `{shown}`" if shown is not None else "the alias name"
            yield Violation(
                _alias_loc(alias),
                alias.name,
                with_branch(f"{name} {problem}; AWS rejects it. Name it `alias/<your-name>`", branch),
                content=f"{alias.name}:{shown}",
            )
            break
