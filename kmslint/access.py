"""``kmslint access``: who can act on each key of a configuration, and what they can do.

The report is built from the same model the rules read (:class:`kmslint.model.Project`),
loaded by the lint path's discovery and parsers, so it reads what a lint reads and
nothing else (no file outside the scan root, the same limits).  For each key:

* every principal an Allow statement of its key policy names (every ``Fn::If``
  reading), or the account root with every action when the key has no policy
  (the default key policy, which delegates access to IAM);
* every identity policy of the configuration whose Allow statements name the key
  by reference, or by ``*`` or a key ARN pattern that covers every key, when the
  key policy delegates to IAM (an identity policy alone gives nothing on a key
  whose policy does not let the account's IAM policies in).  An alias ARN in
  ``Resource`` gives nothing on the key itself (AWS KMS Developer Guide,
  "Specifying KMS keys in IAM policy statements"): such statements are not listed;
* every grant on the key (``aws_kms_grant``): its grantee and operations.

Each entry is a principal, its kind, a capability (``administer``: the KMS006
administration actions; ``use``: cryptographic operations; ``delegate``:
``kms:CreateGrant``, which lets others use the key; ``full``: every KMS action) and the actions behind it, with the
conditions it is under, summarised, and where it is written.  A principal that
cannot be told statically is listed as ``unknown``, as written; a statement
whose actions cannot be read is not listed (which capability it gives is not known).
Deny statements are not subtracted; an entry they may take actions from names them.

The JSON form is described by ``docs/access.schema.json``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from kmslint.model import (
    Conditional,
    Grant,
    IdentityPolicy,
    Interpolated,
    KeyPolicy,
    KeyResource,
    Known,
    Location,
    Meaning,
    Project,
    Unknown,
    Value,
    as_list,
    clip,
    describe_branch,
    known_str,
    to_plain,
)
from kmslint.policy import actions as act
from kmslint.policy.conditions import (
    Condition,
    is_positive_test,
    limits_grants_to_aws_resources,
    requires_mfa,
)
from kmslint.policy.document import PolicyDocument, Statement, documents
from kmslint.policy.principals import (
    PrincipalClass,
    PrincipalEntry,
    account_of,
    classify,
    classify_value,
    root_account,
)
from kmslint.policy.resources import not_resource_reaches_all_keys, reaches_all_keys

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (see kmslint.record)
if TYPE_CHECKING:
    from typing import Any, TypeAlias

    JSON: TypeAlias = dict[str, Any]  # one object of the report

VERSION = 1
CAPABILITIES = ("administer", "use", "delegate", "full")
# The actions behind each capability but ``full`` (kms:*).  To delegate is to let others use the
# key through a grant: kms:CreateGrant.  Listing, retiring and revoking grants hands out nothing.
CAPABILITY_ACTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("administer", act.ADMIN_ACTIONS),
    ("use", act.CRYPTOGRAPHIC_OPERATIONS),
    ("delegate", ("kms:CreateGrant",)),
)
KINDS = ("wildcard", "account-root", "other-account", "service", "principal", "unknown")
# The principal of the default key policy: nothing is written, AWS puts the key's account root there.
DEFAULT_POLICY_PRINCIPAL = "account root (default key policy)"
ALL_KMS = "kms:*"
# Condition keys summarised by what they test: the key (lower case) -> the summary's word.
_SUMMARISED = {
    "aws:principalorgid": "org",
    "aws:principalorgpaths": "org path",
    "aws:principalaccount": "account",
    "kms:calleraccount": "account",
    "aws:sourceaccount": "source account",
    "aws:principalarn": "principal",
    "aws:sourcearn": "source",
    "aws:sourceorgid": "source org",
}
_QUOTE = 200  # a principal or condition quoted longer than this is shortened (kmslint.model.clip)


def _entry(
    principal: str, kind: str, capability: str, actions: Iterable[str], conditions: Iterable[str], source: JSON
) -> JSON:
    return {
        "principal": principal,
        "kind": kind,
        "capability": capability,
        "actions": sorted(set(actions)),
        "conditions": sorted(set(conditions)),
        "source": source,
    }


# --------------------------------------------------------------------------- principals


def _text(value: Value | None) -> str:
    """A value as the report shows it: text as written, unknown parts as ``${...}``."""
    plain = to_plain(value)
    if isinstance(plain, str):
        return clip(plain.strip(), _QUOTE)
    if isinstance(plain, int | float) and not isinstance(plain, bool):
        return str(plain)
    return clip(json.dumps(plain, separators=(",", ":"), sort_keys=True, default=str), _QUOTE)


def _resource_arn(value: Value | None) -> str | None:
    """The resource whose ARN a reference is (``aws_iam_role.app.arn``, ``!GetAtt Role.Arn``): a
    principal named so is shown by that resource's name, as identity policies' principals are."""
    if isinstance(value, Interpolated) and len(value.parts) == 1 and isinstance(value.parts[0], Unknown):
        value = value.parts[0]
    if not isinstance(value, Unknown) or value.meaning is not Meaning.RESOURCE_ARN or not value.ref:
        return None
    base, _, attribute = value.ref.rpartition(".")
    return base if base and attribute.lower() == "arn" else None


def principal_text(value: Value | None) -> str:
    """A principal's value as the report shows it: a resource's name for its ARN, else as written."""
    return _resource_arn(value) or _text(value)


def principal_name(entry: PrincipalEntry) -> str:
    """``*``, an ARN, a resource's name, a service's name, ``Federated:...`` for the other types."""
    if entry.ptype == "*":
        return "*"
    shown = principal_text(entry.value)
    if entry.ptype.lower() in ("aws", "service"):
        return shown
    return f"{clip(entry.ptype, 40)}:{shown}"


def principal_kind(entry: PrincipalEntry, home: str | None) -> str:
    klass = classify(entry)
    if klass is PrincipalClass.WILDCARD:
        return "wildcard"
    if klass is PrincipalClass.SERVICE:
        return "service"
    if klass is PrincipalClass.UNKNOWN:
        return "unknown"
    account = account_of(entry)
    if klass is PrincipalClass.ACCOUNT_ROOT:
        root = root_account(entry)
        if (
            home is not None
            and (account or root) is not None
            and (account or root) != home
            and (account or "").isdigit()
        ):
            return "other-account"
        return "account-root"
    if home is not None and account is not None and account != home:
        return "other-account"
    return "principal"


def _value_kind(value: Value | None, home: str | None) -> str:
    """A grantee's kind (a grantee is one principal, never a service here)."""
    if value is None:
        return "unknown"
    return principal_kind(PrincipalEntry("AWS", value, value.loc), home)


# --------------------------------------------------------------------------- statements


def capabilities(st: Statement) -> list[tuple[str, list[str]]]:
    """What an Allow statement lets its principals do on the key: (capability, actions)."""
    if st.covers_all_kms():
        return [("full", [ALL_KMS])]
    out = []
    for capability, group in CAPABILITY_ACTIONS:
        covered = st.covered(group)
        if covered:
            out.append((capability, list(covered)))
    return out


def _values(cond: Condition) -> list[str]:
    return [_text(v) for v in cond.values] or ["?"]


def _service(value: Value) -> str:
    """The service a ``kms:ViaService`` value names: its first label, when that is literal text."""
    text = _text(value)
    if isinstance(value, Known | Interpolated) and not text.startswith(("{", "[", "$")):
        return text.split(".", 1)[0]
    return text


def summarise(cond: Condition) -> list[str]:
    """Short summaries of one condition test; one that cannot be summarised is its key."""
    key = cond.key.lower()
    if requires_mfa(cond):
        return ["MFA"]
    if limits_grants_to_aws_resources(cond):
        return ["grant for AWS resources"]
    if is_positive_test(cond):
        if key == "kms:viaservice":  # secretsmanager.eu-west-1.amazonaws.com: via secretsmanager
            return [f"via {_service(v)}" for v in cond.values] or ["via ?"]
        word = _SUMMARISED.get(key)
        if word is not None:
            return [f"{word} {v}" for v in _values(cond)]
        return [clip(cond.key, _QUOTE)]
    return [f"{clip(cond.key, _QUOTE)} ({clip(cond.operator, 60)})"]


def conditions_of(st: Statement, doc: PolicyDocument | None) -> list[str]:
    conds, known = st.conditions
    out = [s for c in conds for s in summarise(c)]
    if not known:
        out.append("unknown condition")
    if doc is not None and doc.branch:
        when = describe_branch(doc.branch_at(st.loc))
        if when:
            out.append(clip(when, _QUOTE))
    return out


def _source(via: str, resource: str, loc: Location) -> JSON:
    return {"via": via, "resource": resource, "file": loc.file, "line": loc.line}


# --------------------------------------------------------------------------- one key


class _Key:
    """One key of the report: its name, where it is declared, its policy, and what it gathers."""

    def __init__(self, name: str, file: str, line: int) -> None:
        self.name = name
        self.file = file
        self.line = line
        self.entries: dict[tuple[str, str], list[JSON]] = {}
        self.used_by: dict[str, JSON] = {}

    def add(self, entry: JSON) -> None:
        self.entries.setdefault((entry["principal"], entry["capability"]), []).append(entry)

    def as_json(self) -> JSON:
        access = [merge(found) for _, found in sorted(self.entries.items())]
        used = sorted(self.used_by.values(), key=lambda u: (u["resource"], u["file"], u["line"]))
        return {"key": self.name, "file": self.file, "line": self.line, "access": access, "used_by": used}


def merge(found: list[JSON]) -> JSON:
    """One entry for a principal and capability that several statements give.

    It is the widest of them (the fewest conditions; the first written on a tie), with every
    action given at least as widely; an action given only under further conditions is added,
    and so are those conditions, as ``<actions> only when <conditions>``: never shown as
    given more widely than it is.
    """
    widest = min(found, key=lambda e: len(e["conditions"]))
    held = set(widest["conditions"])
    actions = set().union(*(e["actions"] for e in found if set(e["conditions"]) <= held))
    extra: dict[str, set[str]] = {}
    for e in found:
        more = set(e["actions"]) - actions
        if more and not set(e["conditions"]) <= held:
            extra.setdefault("; ".join(e["conditions"]), set()).update(more)
    conditions = list(widest["conditions"])
    for when, more in extra.items():
        shown = ", ".join(a.removeprefix("kms:") for a in sorted(more))
        conditions.append(f"{shown} only when {when}")
    out = dict(widest)
    out["actions"] = sorted(actions.union(*extra.values()))
    out["conditions"] = sorted(set(conditions))
    return out


def _policy_readings(project: Project, policy: KeyPolicy | IdentityPolicy) -> list[PolicyDocument]:
    return documents(policy, project.readings, project.budget)


def _key_policy_entries(project: Project, policy: KeyPolicy, name: str, home: str | None) -> Iterator[JSON]:
    resource = policy.attached_by or name
    for doc in _policy_readings(project, policy):
        if doc.unknown and not doc.statements:
            # Nothing can be read of it: anyone may be in it, which is what the entry says.
            written = _text(policy.document) if not isinstance(policy.document, Known) else "(unreadable policy)"
            source = _source("key-policy", resource, policy.loc)
            yield _entry(written, "unknown", "full", [], ["the key policy cannot be read statically"], source)
            continue
        for st in doc.allow_statements:
            caps = capabilities(st)
            if not caps:
                continue
            conditions = conditions_of(st, doc)
            source = _source("key-policy", resource, st.loc)
            if st.not_principal:  # everyone but those listed
                who = [("*", "wildcard")]
                conditions = [*conditions, *(f"except {principal_name(p)}" for p in st.principals)]
            else:
                who = [(principal_name(p), principal_kind(p, home)) for p in st.principals]
            for principal, kind in who:
                for capability, acts in caps:
                    yield _entry(principal, kind, capability, acts, [*conditions, *denials(doc, acts)], source)


def denials(doc: PolicyDocument, actions: list[str]) -> list[str]:
    """``unless denied by <statement> (line N)`` for each Deny statement of the reading that may
    take some of ``actions`` away: Deny statements are not subtracted, but never hidden."""
    asked = act.KMS_ACTIONS if actions == [ALL_KMS] else tuple(actions)
    out = []
    for st in doc.statements:
        if known_str(st.effect) == "Allow" or st.covers_any(asked) is False:
            continue
        out.append(f"unless denied by {clip(st.label(), 80)} (line {st.loc.line})")
    return out


def delegates_to_iam(project: Project, key: KeyResource, home: str | None) -> bool:
    """Do the key's account's identity policies count on this key: no policy (the default one
    does), a policy that cannot be read, or an Allow statement for the account's root."""
    if key.policy is None:
        return True
    for doc in _policy_readings(project, key.policy):
        if doc.unknown:
            return True
        for st in doc.allow_statements:
            if st.not_principal or st.covers_any(act.KMS_ACTIONS) is False:
                continue
            for p in st.principals:
                if classify(p) is PrincipalClass.ACCOUNT_ROOT and principal_kind(p, home) == "account-root":
                    return True
    return False


def _module_prefix(name: str) -> str:
    """``module.a.module.b.`` of a Terraform resource name, "" at the root (or for a logical ID)."""
    parts = name.split(".")
    prefix = []
    while len(parts) > 2 and parts[0] == "module":
        prefix.extend(parts[:2])
        parts = parts[2:]
    return "".join(f"{p}." for p in prefix)


def _names_key(value: Value, key: KeyResource, prefix: str, home: str | None) -> bool:
    """Does one ``Resource`` entry of an identity policy cover the key?"""
    if isinstance(value, Interpolated) and len(value.parts) == 1 and isinstance(value.parts[0], Unknown):
        value = value.parts[0]
    if isinstance(value, Unknown):
        # Only the key's ARN names it in an IAM policy (not its ID, nor an alias).
        base, _, attribute = (value.ref or "").rpartition(".")
        return attribute.lower() == "arn" and bool(base) and key.name in (base, prefix + base)
    if isinstance(value, Conditional):
        return False
    if reaches_all_keys(value) is not True:
        return False
    text = known_str(value) if isinstance(value, Known) else None
    if home is not None and text is not None and text.startswith("arn:"):
        account = text.split(":")[4] if len(text.split(":")) > 4 else ""
        if account and "*" not in account and "?" not in account and account != home:
            return False
    return True


def covers_key(st: Statement, key: KeyResource, policy: IdentityPolicy, home: str | None) -> bool:
    if st.resource is None:
        return False
    values = st.resources
    if st.not_resource:
        return not_resource_reaches_all_keys(values) is True
    prefix = _module_prefix(policy.name)
    return any(_names_key(v, key, prefix, home) for v in values)


def _identity_principals(policy: IdentityPolicy) -> list[tuple[str, str]]:
    """Who an identity policy is for: the role, user or group it is written in, or those it is
    attached to when the configuration says which; else the policy resource itself, as an
    unknown principal."""
    if policy.own:
        return [(str(policy.name), "principal")]
    if policy.identities:
        return [(name, "principal") for name in policy.identities]
    return [(str(policy.name), "unknown")]


def _identity_entries(project: Project, key: KeyResource, home: str | None) -> Iterator[JSON]:
    for policy in project.identity_policies:
        who = _identity_principals(policy)
        for doc in _policy_readings(project, policy):
            for st in doc.allow_statements:
                if not covers_key(st, key, policy, home):
                    continue
                conditions = conditions_of(st, doc)
                source = _source("identity-policy", str(policy.name), st.loc)
                for capability, acts in capabilities(st):
                    for principal, kind in who:
                        yield _entry(principal, kind, capability, acts, [*conditions, *denials(doc, acts)], source)


def grant_actions(grant: Grant) -> list[str] | None:
    """The KMS actions of a grant's operations; None when they cannot all be read."""
    out = []
    for op in as_list(grant.operations):
        text = known_str(op)
        if text is None:
            return None
        name = act.canonical(text if text.lower().startswith("kms:") else f"kms:{text}")
        if name is not None:
            out.append(name)
    return out


def _grant_entries(project: Project, key: KeyResource, home: str | None) -> Iterator[JSON]:
    for grant in project.grants:
        if grant.key != key.name or grant.operations is None:
            continue
        acts = grant_actions(grant)
        if not acts:
            continue
        principal = principal_text(grant.grantee) if grant.grantee is not None else "?"
        kind = _value_kind(grant.grantee, home)
        if grant.grantee is not None and classify_value(grant.grantee) is PrincipalClass.UNKNOWN:
            kind = "unknown"
        source = _source("grant", str(grant.name), grant.attr_locs.get("grantee", grant.loc))
        # encryption_context_equals: encryption context equals
        conditions = [c.replace("_", " ") for c in grant.constraints]
        for capability, group in CAPABILITY_ACTIONS:
            mine = [a for a in acts if a in group]
            if mine:
                yield _entry(principal, kind, capability, mine, conditions, source)


def _home(key: KeyResource | None, account_id: str | None) -> str | None:
    if key is not None:
        stated = known_str(key.account)
        if stated and stated.strip():
            return stated.strip()
    return account_id


def _uses(project: Project, name: str) -> Iterator[JSON]:
    for use in project.key_uses:
        if use.key_resource == name:
            yield {"resource": str(use.name), "type": use.rtype, "file": use.loc.file, "line": use.loc.line}
    for service in project.service_uses:
        if service.key_resource == name:
            use = service.use
            yield {"resource": str(use.name), "type": use.rtype, "file": use.loc.file, "line": use.loc.line}


def project_keys(project: Project, account_id: str | None = None) -> list[_Key]:
    """The keys of one configuration, with their access and uses."""
    out: dict[tuple[str, str, int], _Key] = {}
    for key in project.keys:
        name = str(key.name)
        ident = (name, key.loc.file, key.loc.line)
        entry = out.get(ident)
        if entry is None:
            entry = out[ident] = _Key(name, key.loc.file, key.loc.line)
        home = _home(key, account_id)
        if key.policy is None:
            source = _source("key-policy", name, key.loc)
            entry.add(_entry(DEFAULT_POLICY_PRINCIPAL, "account-root", "full", [ALL_KMS], [], source))
        else:
            for e in _key_policy_entries(project, key.policy, name, home):
                entry.add(e)
        if delegates_to_iam(project, key, home):
            for e in _identity_entries(project, key, home):
                entry.add(e)
        for e in _grant_entries(project, key, home):
            entry.add(e)
        for use in _uses(project, name):
            entry.used_by.setdefault(use["resource"], use)
    for policy in project.standalone_policies:
        name = str(policy.attached_by or policy.loc.file)
        ident = (name, policy.loc.file, policy.loc.line)
        entry = out.get(ident)
        if entry is None:
            entry = out[ident] = _Key(name, policy.loc.file, policy.loc.line)
        for e in _key_policy_entries(project, policy, name, account_id):
            entry.add(e)
    return list(out.values())


def build(projects: Iterable[Project], account_id: str | None = None) -> JSON:
    """The access report (the shape of ``docs/access.schema.json``) of these configurations."""
    keys = [k for p in projects for k in project_keys(p, account_id)]
    keys.sort(key=lambda k: (k.name, k.file, k.line))
    return {"version": VERSION, "keys": [k.as_json() for k in keys]}
