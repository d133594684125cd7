"""Terraform plans and states rendered as JSON (``terraform show -json``)."""

from __future__ import annotations

from kmslint.parsers.formats.terraform import (
    IDENTITY_POLICY,
    INLINE_POLICY,
    KEY_USE,
    KMS,
    RULE_MARKERS,
    SETTINGS,
    TRAIL,
)
from kmslint.parsers.registry import Format
from kmslint.parsers.sniff import Sign

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from kmslint.model import Project
    from kmslint.parsers.common import ParseOptions
    from kmslint.parsers.registry import Content

_KEYS = ("planned_values", "resource_changes", "terraform_version")


def claims(content: Content, opts: ParseOptions) -> bool:
    from kmslint.parsers import terraform_plan

    top = content.top
    if top is None or not any(k in top for k in _KEYS):
        return False
    return terraform_plan.looks_like_plan(content.data(opts.max_depth))


def read(content: Content, opts: ParseOptions) -> Project | None:
    from kmslint.parsers import terraform_plan

    return terraform_plan.parse_plan(content.path, content.text, opts)


FORMATS = (
    Format(
        name="Terraform plan",
        reading="json",
        suffixes=(".json",),
        order=20,
        markers=(KMS, IDENTITY_POLICY, INLINE_POLICY, *SETTINGS, *KEY_USE, TRAIL),
        rule_markers=RULE_MARKERS,
        signs=tuple(Sign(k, "json-key") for k in _KEYS),
        claims=claims,
        read=read,
    ),
)
