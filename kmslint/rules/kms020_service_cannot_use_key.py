"""KMS020 service-cannot-use-key: a resource names a key of the configuration, the AWS service
behind it calls KMS as its own service principal, and the key's policy does not let it.

The services and what they need are the table of :mod:`kmslint.policy.service_use`; whether
a policy allows it is :mod:`kmslint.policy.service_access`; what is known of the resource
(its name, account, what sends to it) is the model's :class:`~kmslint.model.ServiceUse`.
Anything that cannot be told gives no finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from kmslint.model import (
    ENCRYPTION_KMS,
    Branch,
    KeyResource,
    Known,
    Project,
    Sender,
    ServiceUse,
    Violation,
    branches,
    clip,
    has_conditional,
    to_plain,
)
from kmslint.policy.document import documents
from kmslint.rules import RuleContext, check
from kmslint.rules._common import with_branch

TYPE_CHECKING = False  # the services' tables are imported when a use is there to check
if TYPE_CHECKING:
    from kmslint.policy.service_access import UsingResource
    from kmslint.policy.service_use import Requirement

# What a message calls the resource that names the key, by the kind of its use.
_NOUNS = {"sns": "topic", "sqs": "queue", "s3": "bucket", "logs": "log group", "cloudtrail": "trail"}
_FIELD = re.compile(r"\{(partition|region|account|name|sender|unknown)\}")


@check("KMS020")
def service_cannot_use_key(project: Project, ctx: RuleContext) -> Iterator[Violation]:
    if not project.service_uses:
        return
    from kmslint.policy.service_use import requirements

    keys: dict[str, list[KeyResource]] = {}
    for key in project.keys:
        keys.setdefault(str(key.name), []).append(key)
    for su in project.service_uses:
        use = su.use
        if su.key_resource is None or use.key_loc is None:
            continue
        found = [su.key] if su.key is not None else keys.get(str(su.key_resource))
        if not found:
            continue
        named = _named_under(su)
        if not named:
            continue
        for row in requirements(use.rtype):
            if not row.needs_statement:
                continue
            if row.id == "config-delivery" and su.service_linked is not True:
                continue  # with a role of the user's, Config calls KMS as that role (root delegation)
            senders: list[Sender | None] = [None]
            if row.senders:
                senders = [s for s in su.senders if s.rtype in row.senders]
                if not senders:
                    continue  # nothing in the configuration makes the service send here
            violation = _first_missing(project, ctx, su, row, found, senders, named)
            if violation is not None:
                yield violation


def _named_under(su: ServiceUse) -> list[Branch]:
    """The branches under which the resource encrypts with the key it names (one, ``()``, when
    nothing is conditional); empty when a conditional may name another key on some branch."""
    use = su.use
    if not (has_conditional(use.switch) or has_conditional(use.key)):
        return [()] if use.state(use.switch, use.key) == ENCRYPTION_KMS else []
    present = {n: v for n, v in (("switch", use.switch), ("key", use.key)) if v is not None}
    out: list[Branch] = []
    written: set[str] = set()
    for branch, plain in branches(Known(present)):
        values = plain.value if isinstance(plain, Known) and isinstance(plain.value, dict) else {}
        switch, key = values.get("switch"), values.get("key")
        if use.state(switch, key) != ENCRYPTION_KMS:
            continue
        written.add(repr(to_plain(key)))
        out.append(branch)
    return out if len(written) == 1 else []  # two keys on two branches: which one is not told here


def _first_missing(
    project: Project,
    ctx: RuleContext,
    su: ServiceUse,
    row: Requirement,
    keys: list[KeyResource],
    senders: list[Sender | None],
    named: list[Branch],
) -> Violation | None:
    """The finding for the first sender (or the resource itself) and branch the key's policy
    leaves an action out for, on every instance of the key; None when none does or it cannot
    be told."""
    from kmslint.policy.service_access import UsingResource

    account = su.account or ctx.account_id
    for sender in senders:
        resource = UsingResource(
            partition=su.partition,
            region=su.region,
            account=account,
            name=su.aws_name,
            sender=sender.aws_name if sender is not None else None,
        )
        for when in named:
            answer: tuple[tuple[str, ...], Branch] | None = None
            for key in keys:
                missing = _missing(project, key, row, resource, when)
                if missing is None or not missing[0]:
                    answer = None
                    break
                answer = answer or missing
            if answer is None:
                continue
            actions, policy_branch = answer
            branch = tuple(dict.fromkeys((*when, *policy_branch)))
            # Would it be allowed for some resource?  Then a statement's conditions name another one.
            loose = _missing(project, keys[0], row, UsingResource(), when)
            elsewhere = loose is None or not loose[0]
            return _violation(su, row, keys[0], resource, sender, actions, branch, elsewhere)
    return None


def _missing(
    project: Project, key: KeyResource, row: Requirement, resource: UsingResource, when: Branch
) -> tuple[tuple[str, ...], Branch] | None:
    """The actions a reading of the key's policy (consistent with ``when``) leaves out, and that
    reading's branch; ``((), ())`` when every reading allows them all; None: cannot be told."""
    from kmslint.policy.service_access import missing_in

    if key.policy is None:
        return row.actions, ()  # the default key policy: no service principal is allowed anything
    readings = documents(key.policy, project.readings, project.budget)
    sides = dict(when)
    undecided = False
    for doc in readings:
        if any(sides.get(name, side) != side for name, side in doc.branch):
            continue
        missing = missing_in(doc, row, resource)
        if missing is None:
            undecided = True
        elif missing:
            return missing, doc.branch
    return None if undecided else ((), ())


def _violation(
    su: ServiceUse,
    row: Requirement,
    key: KeyResource,
    resource: UsingResource,
    sender: Sender | None,
    actions: tuple[str, ...],
    branch: Branch,
    elsewhere: bool = False,
) -> Violation:
    use = su.use
    principal = _filled(row.principal or "", resource, placeholders=True)
    what = row.service
    if sender is not None:
        noun = _NOUNS.get(use.kind, "resource")
        what = f"{row.service} ({clip(str(sender.name))} sends to this {noun})"
    policy_attr = "policy" if key.syntax == "terraform" else "KeyPolicy"
    where = f"the key's `{policy_attr}`"
    attached = key.policy.attached_by if key.policy is not None else None
    if attached is not None and str(attached) != str(key.name):
        where = f"the `{policy_attr}` of {clip(str(attached))}"  # an aws_kms_key_policy attaches it
    fix = (
        f"add a statement to {where} that allows the service principal `{principal}` "
        f"{', '.join(f'`{a}`' for a in row.documented)}{_condition(row, resource)}"
    )
    why = ""
    if elsewhere:
        subject = "the sending resource" if sender is not None else f"this {_NOUNS.get(use.kind, 'resource')}"
        why = f" (a statement for it has conditions that do not match {subject})"
    message = (
        f"{what} cannot use key {clip(str(key.name))}: its key policy does not allow the service principal "
        f"`{principal}` {', '.join(f'`{a}`' for a in actions)}{why}; {fix}"
    )
    if row.applies_when:
        message += f" (needed when {row.applies_when})"
    return Violation(
        use.key_loc or use.loc,
        use.name,
        with_branch(message, branch),
        content=f"{use.name}:{row.id}:{key.name}",
        subject=f"{row.id}:{sender.name if sender is not None else ''}",
    )


def _condition(row: Requirement, resource: UsingResource) -> str:
    """The condition the documentation's statement carries, filled in with what is known."""
    if row.context_key and row.context_arn:
        arn = _filled(row.context_arn, resource, placeholders=True)
        operator = "ArnLike" if "*" in arn else "ArnEquals"
        return f", with the condition {operator} `{row.context_key}` = `{arn}`"
    parts = []
    if row.source_account:
        parts.append(f"StringEquals `aws:SourceAccount` = `{resource.account or '<account>'}`")
    if row.source_arn and (resource.sender is not None or "{sender}" not in row.source_arn):
        parts.append(f"ArnLike `aws:SourceArn` = `{_filled(row.source_arn, resource, placeholders=True)}`")
    return f", with the condition {' and '.join(parts)}" if parts else ""


def _filled(template: str, resource: UsingResource, placeholders: bool) -> str:
    """A row's template with what is known of the resource (``<region>`` for what is not)."""

    def one(m: re.Match[str]) -> str:
        field = m.group(1)
        if field == "unknown":
            return "*"
        known = getattr(resource, field)
        if known is not None:
            return str(known)
        return "aws" if field == "partition" else f"<{field}>"

    return _FIELD.sub(one, template)
