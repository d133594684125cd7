"""Helpers shared by checks: policy readings, Fn::If branches, resource names."""

from __future__ import annotations

from collections.abc import Iterator

from kmslint.model import Branch, KeyPolicy, KeyResource, Known, Project, Value, branches, describe_branch
from kmslint.policy.document import PolicyDocument, documents


def key_policy_readings(project: Project) -> Iterator[tuple[KeyPolicy, PolicyDocument]]:
    """Every reading (one per ``Fn::If`` branch) of every key policy in the project."""
    for policy in project.key_policies():
        for doc in documents(policy):
            yield policy, doc


def with_branch(message: str, branch: Branch) -> str:
    """Append the ``Fn::If`` branch a finding depends on, if any."""
    when = describe_branch(branch)
    return f"{message} ({when})" if when else message


def key_variants(key: KeyResource, *attrs: str) -> Iterator[tuple[Branch, dict[str, Value | None]]]:
    """The key's attributes under every combination of their ``Fn::If`` branches.

    Yields ``(branch, {attr: value})`` with no :class:`~kmslint.model.Conditional` left;
    an attribute that is not set (or resolves to ``AWS::NoValue``) is ``None``.
    """
    present = {a: getattr(key, a) for a in attrs if getattr(key, a) is not None}
    for branch, plain in branches(Known(dict(present))):
        values = plain.value if isinstance(plain, Known) and isinstance(plain.value, dict) else {}
        yield branch, {a: values.get(a) for a in attrs}


__all__ = ["PolicyDocument", "key_policy_readings", "key_variants", "with_branch"]
