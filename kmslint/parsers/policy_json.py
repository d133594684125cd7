"""Raw key-policy JSON files: a policy with no key resource around it."""

from __future__ import annotations

from pathlib import Path

from kmslint.model import KeyPolicy, Location, Project, ProjectKind
from kmslint.parsers import jsonpos
from kmslint.parsers.common import ParseOptions


def _texts(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def looks_like_key_policy(data: object) -> bool:
    """Is this parsed JSON, found on its own, a KMS key policy (RULES.md, "Key-policy file")?

    It must be an object with ``Statement``; some statement must name a
    principal (identity policies have none); every action its Allow
    statements write must be a KMS action or a bare wildcard (so S3 bucket,
    SNS topic and VPC endpoint policies are not mistaken for key policies);
    and some statement must name a ``kms:`` action (one that only says
    ``*`` or ``NotAction`` could be any service's).  A statement whose
    ``Effect`` is anything but ``Deny`` counts as an Allow, so a statement
    that says nothing is still checked.  A Deny-only policy naming ``kms:``
    actions is read (KMS019 is about exactly that).
    """
    if not isinstance(data, dict) or "Statement" not in data:
        return False
    statements = data["Statement"]
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        return False
    has_principal = names_kms = False
    for st in statements:
        if not isinstance(st, dict):
            continue
        has_principal = has_principal or "Principal" in st or "NotPrincipal" in st
        allows = st.get("Effect") != "Deny"
        for action in _texts(st.get("Action")):
            text = action.strip().lower()
            if text.startswith("kms:"):
                names_kms = True
            elif allows and not set(text) <= {"*"}:
                return False
    return has_principal and names_kms


def parse_policy(path: Path, text: str, opts: ParseOptions) -> Project:
    """One raw key policy file as a project (raises JSONSyntaxError on invalid JSON)."""
    display = opts.display(path)
    project = Project(ProjectKind.POLICY, display, files=[display])
    document = jsonpos.parse(text, display, max_depth=opts.max_depth, duplicates=project.duplicate_keys)
    loc = document.loc or Location.point(display, 1)
    project.standalone_policies.append(KeyPolicy(document, loc, attached_by=None))
    return project
