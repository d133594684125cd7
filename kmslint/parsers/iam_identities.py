"""Which IAM identities (roles, users, groups) an identity policy of a Terraform configuration is
attached to, for the access report (:mod:`kmslint.access`).

A policy written in the identity itself (``inline_policy``) is its own (``IdentityPolicy.own``).
Here: ``aws_iam_role_policy`` (``role``), ``aws_iam_user_policy`` (``user``) and
``aws_iam_group_policy`` (``group``), and the ``aws_iam_policy`` that an
``aws_iam_*_policy_attachment`` or ``aws_iam_policy_attachment`` attaches (``policy_arn``).
An identity is recorded only when every argument that names one refers to an identity resource
of the configuration: a name written out (``role = "ops"``), a variable, or a reference to
anything else leaves the policy's identities unknown (empty), never partly known.
"""

from __future__ import annotations

from kmslint.model import IdentityPolicy, Known, Project, as_list

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (see kmslint.record)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeAlias

    from kmslint.parsers.tf_model import ResourceView

    # kmslint.parsers.tf_model.split_ref: a reference's (module path, type, name), None if it names no resource.
    Split: TypeAlias = Callable[[str], tuple[str, str, str] | None]

IDENTITY_TYPES = frozenset(("aws_iam_role", "aws_iam_user", "aws_iam_group"))
# Resource type -> the arguments naming the identities its policy is for.
_INLINE = {"aws_iam_role_policy": ("role",), "aws_iam_user_policy": ("user",), "aws_iam_group_policy": ("group",)}
_ATTACHMENTS = {
    "aws_iam_role_policy_attachment": ("role",),
    "aws_iam_user_policy_attachment": ("user",),
    "aws_iam_group_policy_attachment": ("group",),
    "aws_iam_policy_attachment": ("roles", "users", "groups"),
}
TYPES = frozenset((*_INLINE, *_ATTACHMENTS))


def _name(split: tuple[str, str, str]) -> str:
    path, rtype, name = split
    return f"{path}.{rtype}.{name}" if path else f"{rtype}.{name}"


def _identities(v: ResourceView, names: tuple[str, ...], split_ref: Split) -> set[str] | None:
    """The identity resources the arguments name; None when one of them names something else."""
    out: set[str] = set()
    for name in names:
        value = v.attr(name)
        if value is None:
            continue
        refs = v.refs(name)
        items = as_list(value)
        if any(isinstance(i, Known) for i in items) or len(refs) < len(items):
            return None  # a name written out, or an item that refers to nothing
        for ref in refs:
            split = split_ref(ref)
            if split is None or split[1] not in IDENTITY_TYPES:
                return None
            out.add(_name(split))
    return out


def terraform_identities(views: list[ResourceView], project: Project, split_ref: Split) -> None:
    """Set ``identities`` on the configuration's identity policies that these views attach."""
    found: dict[str, set[str] | None] = {}

    def note(address: str, ids: set[str] | None) -> None:
        held = found.get(address, set())
        found[address] = None if held is None or ids is None else held | ids

    for v in views:
        if v.rtype in _INLINE:
            note(v.address, _identities(v, _INLINE[v.rtype], split_ref))
        elif v.rtype in _ATTACHMENTS:
            ids = _identities(v, _ATTACHMENTS[v.rtype], split_ref)
            for split in {split_ref(r) for r in v.refs("policy_arn")}:
                if split is not None:
                    note(_name(split), ids)
    by_name: dict[str, list[IdentityPolicy]] = {}
    for p in project.identity_policies:
        by_name.setdefault(str(p.name), []).append(p)
    for address, ids in found.items():
        for p in by_name.get(address, []):
            p.identities = tuple(sorted(ids)) if ids else ()
