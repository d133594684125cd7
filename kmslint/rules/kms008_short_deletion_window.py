"""KMS008 short-deletion-window: a waiting period shorter than the configured minimum."""

from __future__ import annotations

from collections.abc import Iterator

from kmslint.model import Project, Violation, as_int
from kmslint.policy.keyspec import DELETION_DAYS
from kmslint.rules import RuleContext, check
from kmslint.rules._common import key_variants, with_branch

AWS_MIN_DAYS, AWS_MAX_DAYS = DELETION_DAYS


@check("KMS008")
def short_deletion_window(project: Project, ctx: RuleContext) -> Iterator[Violation]:
    minimum = int(ctx.option("minimum_days"))
    for key in project.keys:
        for branch, values in key_variants(key, "deletion_window"):
            days = as_int(values["deletion_window"])
            if days is None or not AWS_MIN_DAYS <= days <= AWS_MAX_DAYS or days >= minimum:
                continue  # unset (30 days), unknown, out of AWS's range (KMS015) or long enough
            yield Violation(
                key.where("deletion_window"),
                key.name,
                with_branch(
                    f"the deletion waiting period is {days} days, below the {minimum} days required; a key "
                    "scheduled for deletion by mistake can only be recovered within that window. Set "
                    f"{key.spelled('deletion_window')} to {min(minimum, AWS_MAX_DAYS)}",
                    branch,
                ),
                content=f"{key.name}:deletion_window={days}",
            )
            break
