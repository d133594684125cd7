"""Raw key-policy JSON files: a policy, or a map of named policies, with no key resource around it.

Which JSON files are key policies is RULES.md's "Key-policy file": a
*policy-shaped* file (a ``Statement`` every entry of which names a
``Principal`` or ``NotPrincipal``) found on its own is one only when its
Allow statements' actions are all ``kms:`` actions or ``*`` and at least one
of them names a ``kms:`` action.  So a VPC endpoint policy, an SCP, an RCP
or an S3 bucket policy (``"Action": "*"``, or another service's actions) is
not mistaken for one, nor is a Deny-only policy.  A file the configuration
lists (``key-policy-files``) is one whatever its actions; a file a key reads
with ``file()`` is judged there, on the key.
"""

from __future__ import annotations

from pathlib import Path

from kmslint.model import KeyPolicy, Known, Location, Project, ProjectKind
from kmslint.parsers import jsonpos
from kmslint.parsers.common import ParseOptions

# Action names quoted in a reason for not reading a file, at most.
_QUOTED_ACTIONS = 3


def _statements(data: object) -> list[object] | None:
    """The statements of a policy-shaped document, else None."""
    if not isinstance(data, dict) or "Statement" not in data:
        return None
    statements = data["Statement"]
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        return None
    if not all(isinstance(st, dict) and ("Principal" in st or "NotPrincipal" in st) for st in statements):
        return None
    return statements


def is_policy_shaped(data: object) -> bool:
    """Is ``data`` a resource policy: a ``Statement`` every entry of which names a principal?"""
    return _statements(data) is not None


def _actions(statement: dict[str, object]) -> list[object]:
    out: list[object] = []
    for key in ("Action", "NotAction"):
        value = statement.get(key)
        if isinstance(value, list):
            out.extend(value)
        elif value is not None:
            out.append(value)
    return out


def why_not_key_policy(data: object) -> str | None:
    """Why ``data``, found on its own, is not a key-policy file; None when it is one.

    A statement whose ``Effect`` is anything but ``Deny`` counts as an Allow
    (a statement that says nothing is still checked).  ``NotAction`` counts
    as naming its actions: an Allow of everything but ``s3:*`` grants other
    services' actions.
    """
    statements = _statements(data)
    if statements is None:
        return "not a resource policy (no `Statement` whose every entry names a `Principal`)"
    others: list[str] = []
    allows = names_kms = False
    for st in statements:
        assert isinstance(st, dict)
        if st.get("Effect") == "Deny":
            continue
        allows = True
        for action in _actions(st):
            text = action.strip().lower() if isinstance(action, str) else None
            if text is not None and text.startswith("kms:"):
                names_kms = True
            elif text is None or not set(text) <= {"*"}:
                others.append(action if isinstance(action, str) else repr(action))
    if others:
        quoted = ", ".join(f"`{a}`" for a in others[:_QUOTED_ACTIONS])
        if len(others) > _QUOTED_ACTIONS:
            quoted += ", ..."
        return f"a policy whose Allow statements name other services' actions ({quoted}), not a key policy"
    if not allows:
        return "a policy that only denies, not a key policy"
    if not names_kms:
        return "a policy whose Allow statements name no `kms:` action, not a key policy"
    return None


def looks_like_key_policy(data: object) -> bool:
    """Is this parsed JSON, found on its own, a KMS key policy (RULES.md, "Key-policy file")?"""
    return why_not_key_policy(data) is None


def policy_names(data: object, *, listed: bool = False) -> list[str] | None:
    """The names of a map of named key policies (``{"name": {policy}, ...}``), else None.

    Every value must be a key policy (``listed``: the configuration lists the
    file, so every value need only be policy-shaped); the map itself is not one.
    """
    if not isinstance(data, dict) or not data or "Statement" in data:
        return None
    test = is_policy_shaped if listed else looks_like_key_policy
    return list(data) if all(test(v) for v in data.values()) else None


def parse_policy(path: Path, text: str, opts: ParseOptions) -> Project:
    """One raw key policy file as a project (raises JSONSyntaxError on invalid JSON)."""
    display = opts.display(path)
    project = Project(ProjectKind.POLICY, display, files=[display])
    document = jsonpos.parse(
        text, display, max_depth=opts.max_depth, budget=opts.budget, duplicates=project.duplicate_keys
    )
    loc = document.loc or Location.point(display, 1)
    project.standalone_policies.append(KeyPolicy(document, loc, attached_by=None))
    return project


def parse_policy_map(path: Path, text: str, opts: ParseOptions) -> Project:
    """A map of named key policies as a project: each policy's findings name it as their resource."""
    display = opts.display(path)
    project = Project(ProjectKind.POLICY, display, files=[display])
    document = jsonpos.parse(
        text, display, max_depth=opts.max_depth, budget=opts.budget, duplicates=project.duplicate_keys
    )
    members = document.value if isinstance(document, Known) and isinstance(document.value, dict) else {}
    for name, policy in members.items():
        loc = policy.loc or document.loc or Location.point(display, 1)
        project.standalone_policies.append(KeyPolicy(policy, loc, attached_by=name))
    return project
