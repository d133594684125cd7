"""Raw key policies: a JSON file that is one key policy, or a map of named ones.

Which files those are is RULES.md's "Key-policy file"
(:mod:`kmslint.parsers.policy_json`): found on its own, a policy is a key
policy only when its Allow statements name ``kms:`` actions (or ``*``) and
nothing else; a file the configuration lists in ``key-policy-files`` is one
whatever its actions.
"""

from __future__ import annotations

from kmslint.parsers.formats.terraform import KMS
from kmslint.parsers.registry import Format
from kmslint.parsers.sniff import Sign

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from kmslint.model import Project
    from kmslint.parsers.common import ParseOptions
    from kmslint.parsers.registry import Content

HINT = "; list it in key-policy-files to lint it as one"


def claims_policy(content: Content, opts: ParseOptions) -> bool:
    """A key policy found on its own; any JSON the configuration lists (KMS013 says what is wrong)."""
    from kmslint.parsers import policy_json

    return content.listed or policy_json.looks_like_key_policy(content.data(opts.max_depth))


def explain_policy(content: Content, opts: ParseOptions) -> str | None:
    """Why a resource policy is not read as a key policy (None for what is no policy at all)."""
    from kmslint.parsers import policy_json

    data = content.data(opts.max_depth)
    if not policy_json.is_policy_shaped(data):
        return None
    why = policy_json.why_not_key_policy(data)
    return why + HINT if why else None


def read_policy(content: Content, opts: ParseOptions) -> Project | None:
    from kmslint.parsers import jsonpos, policy_json
    from kmslint.parsers.common import ParseFailure

    try:
        return policy_json.parse_policy(content.path, content.text, opts)
    except jsonpos.JSONSyntaxError as exc:  # valid JSON, but past a parse limit
        raise ParseFailure(f"invalid JSON: {exc.message}", exc.line, exc.column) from None


def claims_map(content: Content, opts: ParseOptions) -> bool:
    """Every value a key policy (listed in the configuration: every value a resource policy)."""
    from kmslint.parsers import policy_json

    if content.top is None or "Statement" in content.top:
        return False
    return policy_json.policy_names(content.data(opts.max_depth), listed=content.listed) is not None


def explain_map(content: Content, opts: ParseOptions) -> str | None:
    """Why a map of resource policies is not read: the first of them that is not a key policy."""
    from kmslint.parsers import policy_json

    data = content.data(opts.max_depth)
    if not isinstance(data, dict) or not data or "Statement" in data:
        return None
    if not all(policy_json.is_policy_shaped(v) for v in data.values()):
        return None
    for name, policy in data.items():
        why = policy_json.why_not_key_policy(policy)
        if why:
            return f"a map of named policies, not all of them key policies ({name!r} is {why}){HINT}"
    return None


def read_map(content: Content, opts: ParseOptions) -> Project | None:
    from kmslint.parsers import jsonpos, policy_json
    from kmslint.parsers.common import ParseFailure

    try:
        return policy_json.parse_policy_map(content.path, content.text, opts)
    except jsonpos.JSONSyntaxError as exc:  # valid JSON, but past a parse limit
        raise ParseFailure(f"invalid JSON: {exc.message}", exc.line, exc.column) from None


FORMATS = (
    # Before the single policy: a listed file is one policy unless it is a map of them.
    Format(
        name="map of named key policies",
        reading="json",
        suffixes=(".json",),
        order=30,
        markers=(KMS,),
        claims=claims_map,
        read=read_map,
        explain=explain_map,
        listable=True,
        marked_by_definition=True,
    ),
    Format(
        name="key policy",
        reading="json",
        suffixes=(".json",),
        order=40,
        markers=(KMS,),
        # A broken key (`"Statement" [...]`, the colon missing) still leaves its principals.
        signs=(Sign("Statement", "json-key"), Sign("Principal", "json-key")),
        claims=claims_policy,
        read=read_policy,
        explain=explain_policy,
        listable=True,
        marked_by_definition=True,
    ),
)
