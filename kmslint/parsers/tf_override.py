"""Terraform override files, merged into the blocks they override as Terraform merges them.

``override.tf``, ``*_override.tf`` (and their ``.tf.json`` forms) are read after
every other file of the directory, in lexical order.  Each of their blocks is
merged into the block of the same kind and name (Terraform's "Override Files"):

- a resource, data source, variable, output, module call or provider (by name
  and ``alias``): each top-level argument of the override replaces the
  original's; a nested block type the override writes (``dynamic`` ones count as
  their type) replaces every nested block of that type;
- ``locals``: each local value replaces the one of that name.

The merged block keeps the original's header (its name, its suppressions, where
a finding about the resource as a whole goes); what the override writes keeps
its own place, so a finding about an overridden argument is in the override file.

A block that overrides nothing is an error to Terraform; here it is read as an
ordinary block, so that nothing in the directory goes unchecked.  Where one of the
two blocks is JSON syntax and the other native syntax, arguments merge as above,
nested blocks of a native-syntax override do not reach a JSON original.
"""

from __future__ import annotations

from kmslint.parsers.hcl_syntax import Block, ParsedFile


def merge_overrides(files: list[ParsedFile], overrides: list[ParsedFile]) -> None:
    """Merge each override file's blocks into ``files``' blocks (in place), in file-name order."""
    index: dict[tuple[str, ...], tuple[ParsedFile, int]] = {}
    for pf in files:
        for i, b in enumerate(pf.blocks):
            key = _identity(b)
            if key is not None:
                index.setdefault(key, (pf, i))
    for ovr in sorted(overrides, key=lambda pf: pf.src.display):
        for b in ovr.blocks:
            if b.type == "locals":
                _merge_locals(files, b)
                continue
            key = _identity(b)
            target = index.get(key) if key is not None else None
            if target is None:
                files.append(ParsedFile(ovr.src, [b], set()))  # overrides nothing: read as written
                continue
            pf, i = target
            pf.blocks[i] = merged(pf.blocks[i], b)


def _identity(b: Block) -> tuple[str, ...] | None:
    """What an override block is matched by: its type and labels (a provider: and its alias)."""
    if b.type in ("resource", "data") and len(b.labels) >= 2:
        return (b.type, b.labels[0], b.labels[1])
    if b.type in ("variable", "output", "module") and b.labels:
        return (b.type, b.labels[0])
    if b.type == "provider" and b.labels:
        alias = b.attr("alias")
        text = alias.expr.src.text(alias.expr.node).strip().strip('"') if alias and alias.expr.node else ""
        return (b.type, b.labels[0], text)
    return None


def _nested_type(b: Block) -> str:
    return b.labels[0] if b.type == "dynamic" and b.labels else b.type


def merged(original: Block, override: Block) -> Block:
    """``original`` with ``override``'s arguments and nested block types in place of its own."""
    attrs = {**original.attrs, **override.attrs}
    replaced = {_nested_type(b) for b in override.blocks} | set(override.attrs if override.is_json else ())
    blocks = [b for b in original.blocks if _nested_type(b) not in replaced]
    blocks += override.blocks
    json_keys = {**original.json_keys, **override.json_keys} if original.is_json else original.json_keys
    return Block(
        original.type,
        original.labels,
        attrs,
        blocks,
        original.loc,
        original.header,
        original.src,
        is_json=original.is_json,
        json_keys=json_keys,
    )


def _merge_locals(files: list[ParsedFile], override: Block) -> None:
    """Each local of the override replaces the one of that name, wherever it is defined."""
    left = dict(override.attrs)
    for pf in files:
        for i, b in enumerate(pf.blocks):
            if b.type != "locals":
                continue
            mine = {name: attr for name, attr in left.items() if name in b.attrs}
            if mine:
                pf.blocks[i] = Block(
                    b.type, b.labels, {**b.attrs, **mine}, b.blocks, b.loc, b.header, b.src, b.is_json, b.json_keys
                )
                for name in mine:
                    del left[name]
    if left:  # locals defined nowhere else: read as written
        new = Block(override.type, override.labels, left, [], override.loc, override.header, override.src)
        files.append(ParsedFile(override.src, [new], set()))
