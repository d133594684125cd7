"""KMS009 policy-lockout-bypass: the key policy lockout safety check is turned off."""

from __future__ import annotations

from collections.abc import Iterator

from kmslint.fixes import remove
from kmslint.model import Project, Violation, as_bool
from kmslint.rules import RuleContext, check
from kmslint.rules._common import key_variants, with_branch


@check("KMS009")
def policy_lockout_bypass(project: Project, ctx: RuleContext) -> Iterator[Violation]:
    for key in project.keys:
        for branch, values in key_variants(key, "bypass_lockout_check"):
            if as_bool(values["bypass_lockout_check"]) is not True:
                continue
            yield Violation(
                key.where("bypass_lockout_check"),
                key.name,
                with_branch(
                    "the key policy lockout safety check is bypassed, so AWS accepts a policy that leaves "
                    f"nobody able to manage the key; remove {key.spelled('bypass_lockout_check')} "
                    "(it defaults to false)",
                    branch,
                ),
                content=f"{key.name}:bypass_lockout_check",
                fix=remove(
                    key,
                    "bypass_lockout_check",
                    f"Remove {key.spelled('bypass_lockout_check')} (keep the lockout safety check)",
                ),
            )
            break
    for policy in project.key_policies():
        if policy.key is not None and policy.attached_by == policy.key.name:
            continue  # the key's own argument, reported above
        if as_bool(policy.bypass_lockout_check) is True:
            yield Violation(
                policy.bypass_loc or policy.loc,
                policy.attached_by,
                "the key policy lockout safety check is bypassed when this policy is attached, so AWS accepts "
                "a policy that leaves nobody able to manage the key; remove bypass_policy_lockout_safety_check",
                content=f"{policy.attached_by}:bypass_lockout_check",
            )
