"""KMS011 rotation-period-too-long: automatic rotation less often than the configured maximum."""

from __future__ import annotations

from collections.abc import Iterator

from kmslint.model import Project, Violation, as_int
from kmslint.policy.keyspec import ROTATION_DAYS
from kmslint.rules import RuleContext, check
from kmslint.rules._common import key_variants, with_branch

AWS_MIN_DAYS, AWS_MAX_DAYS = ROTATION_DAYS


@check("KMS011")
def rotation_period_too_long(project: Project, ctx: RuleContext) -> Iterator[Violation]:
    maximum = int(ctx.option("maximum_days"))
    for key in project.keys:
        for branch, values in key_variants(key, "rotation_period"):
            days = as_int(values["rotation_period"])
            if days is None or not AWS_MIN_DAYS <= days <= AWS_MAX_DAYS or days <= maximum:
                continue  # unset (365 days), unknown, out of AWS's range (KMS015) or short enough
            yield Violation(
                key.where("rotation_period"),
                key.name,
                with_branch(
                    f"the key material rotates every {days} days, longer than the {maximum} days allowed; "
                    f"set {key.spelled('rotation_period')} to {max(maximum, AWS_MIN_DAYS)} or less",
                    branch,
                ),
                content=f"{key.name}:rotation_period={days}",
            )
            break
