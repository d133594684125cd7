"""KMS004 unjustified-multi-region: a multi-Region key with no reason or use for it."""

from __future__ import annotations

from collections.abc import Iterator

from kmslint.fixes import JUSTIFICATION_PLACEHOLDER, add_tag
from kmslint.model import KeyResource, Known, Project, Value, Violation, as_bool, as_dict, known_str
from kmslint.rules import RuleContext, check
from kmslint.rules._common import key_variants, with_branch


def is_placeholder(text: str) -> bool:
    """A justification still to be written: ``TODO: say why ...`` (the editor's quick fix
    inserts one), ``TODO``, ``FIXME``, ``TBD``.  It must not silence the rule for good."""
    return text.strip().upper().startswith(("TODO", "FIXME", "TBD"))


def _justified_by_tag(tags: Value | None, tag_key: str) -> bool:
    """A justification tag that says something (not a placeholder), or tags that cannot be
    read (they might hold one)."""
    if tags is None:
        return False
    mapping = as_dict(tags)
    if mapping is None:
        return not (isinstance(tags, Known) and tags.value is None)
    for name, value in mapping.items():
        if name == tag_key:
            text = known_str(value)
            return text is None or (bool(text.strip()) and not is_placeholder(text))
    return False


def _placeholder_tag(tags: Value | None, tag_key: str) -> bool:
    mapping = as_dict(tags) if tags is not None else None
    text = known_str(mapping[tag_key]) if mapping is not None and tag_key in mapping else None
    return text is not None and is_placeholder(text)


def _used_across_regions(key: KeyResource, used: set[str], replicas: dict[str, list[str]]) -> bool:
    """Does a global table or cluster use the key, or one of its replicas?"""
    return key.name in used or any(name in used for name in replicas.get(key.name, ()))


@check("KMS004")
def unjustified_multi_region(project: Project, ctx: RuleContext) -> Iterator[Violation]:
    tag_key = str(ctx.option("justification_tag"))
    # Indexed once, not searched once per key (a plan of 3,000 keys: 1.3 s).
    used = {use.key for use in project.multi_region_uses}
    replicas: dict[str, list[str]] = {}
    for k in project.keys:
        if k.primary is not None:
            replicas.setdefault(k.primary, []).append(k.name)
    for key in project.keys:
        if key.is_replica:
            continue
        for branch, values in key_variants(key, "multi_region", "tags"):
            if as_bool(values["multi_region"]) is not True:
                continue
            if _justified_by_tag(values["tags"], tag_key) or _used_across_regions(key, used, replicas):
                break
            why = (
                f"its `{tag_key}` tag is still a placeholder; write the reason there"
                if _placeholder_tag(values["tags"], tag_key)
                else f"create a single-Region key, or tag it `{tag_key}` with the reason"
            )
            yield Violation(
                key.where("multi_region"),
                key.name,
                with_branch(
                    "the key is multi-Region but nothing says why: no DynamoDB global table or Aurora global "
                    f"cluster here uses it; {why}",
                    branch,
                ),
                content=f"{key.name}:multi_region",
                fix=None
                if _placeholder_tag(values["tags"], tag_key)
                else add_tag(
                    key,
                    tag_key,
                    JUSTIFICATION_PLACEHOLDER,
                    f"Add the {tag_key} tag (then write the reason)",
                    beside="multi_region",
                ),
            )
            break
