"""The language server's access hover: who can administer, use and delegate the key under the cursor.

Built from the configuration the lint already loaded and checked (``on_project`` of
:func:`kmslint.api.lint`), never by reading the document again: :func:`collector` makes the
hook, which turns each key declared in the linted document into a short Markdown summary
keyed by the 0-based line of its resource header (``resource "aws_kms_key" "app" {``, a
template's ``AppKey:``).  It runs in the lint thread, within the unit's budget; a
configuration too costly to read gives no summary, and a failure here never costs the
document its diagnostics.

Every text from the input is a code span (:func:`kmslint.access_diff.code`), as in the
report's Markdown (:mod:`kmslint.access_render`).
"""

from __future__ import annotations

from collections.abc import Callable

from kmslint.access_diff import code
from kmslint.model import Project, clip

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (see kmslint.record)
if TYPE_CHECKING:
    from kmslint.access import JSON

# Principals named per capability; the rest are counted.
SHOWN = 4
# A principal is shortened past this many characters (as in the text table).
PRINCIPAL_CHARS = 90
# Conditions quoted per principal, shortened past this many characters.
CONDITION_CHARS = 60
_RISK = {"wildcard": 0, "other-account": 1, "unknown": 2}
_KIND_NOTE = {
    "wildcard": "**anyone**",
    "other-account": "**other account**",
    "unknown": "unknown",
    "service": "service",
    "account-root": "account root: delegates to IAM",
}


def _who(entry: JSON) -> str:
    notes = [_KIND_NOTE[entry["kind"]]] if entry["kind"] in _KIND_NOTE else []
    if entry["conditions"]:
        said = "; ".join(entry["conditions"])
        notes.append(code(said if len(said) <= CONDITION_CHARS else said[: CONDITION_CHARS - 3] + "..."))
    return code(clip(entry["principal"], PRINCIPAL_CHARS)) + (f" ({', '.join(notes)})" if notes else "")


def summary(key: JSON) -> str:
    """A key of the access report (:func:`kmslint.access.build`'s shape) as a few lines of Markdown."""
    from kmslint.access import CAPABILITIES

    lines = [f"**Access to {code(key['key'])}**", ""]
    for capability in CAPABILITIES:
        entries = [e for e in key["access"] if e["capability"] == capability]
        if not entries:
            continue
        entries.sort(key=lambda e: (_RISK.get(e["kind"], 3), e["principal"]))
        shown = ", ".join(_who(e) for e in entries[:SHOWN])
        more = f", and {len(entries) - SHOWN} more" if len(entries) > SHOWN else ""
        lines.append(f"- **{capability}**: {shown}{more}")
    if len(lines) == 2:
        lines.append("- no access is written in this configuration")
    uses = key["used_by"]
    if uses:
        names = ", ".join(code(u["resource"]) for u in uses[:SHOWN])
        more = f", and {len(uses) - SHOWN} more" if len(uses) > SHOWN else ""
        lines.append(f"- **used by**: {names}{more}")
    lines += ["", "`kmslint access` lists every entry with its actions and where it is written."]
    return "\n".join(lines)


def collector(file: str, into: dict[int, str], account_id: str | None = None) -> Callable[[Project], None]:
    """The ``on_project`` hook that puts the summary of each key declared in ``file`` (the document's
    name as the lint shows it) into ``into``, by the 0-based line of its header."""

    def collect(project: Project) -> None:
        from kmslint import access

        if not any(key.loc.file == file for key in project.keys):
            return
        try:
            keys = access.project_keys(project, account_id)
        except Exception:  # too costly (BudgetExceeded), or a bug: no hover, and the diagnostics are kept
            return
        for key in keys:
            if key.file == file and key.line >= 1:
                into.setdefault(key.line - 1, summary(key.as_json()))

    return collect


__all__ = ["collector", "summary"]
