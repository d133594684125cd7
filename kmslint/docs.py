"""``docs/rules.md``, generated from the catalogue (``rules/*.yaml``).

    python -m kmslint.docs docs/rules.md          # refresh the file
    python -m kmslint.docs --check docs/rules.md  # exit 1 when it is stale
    python -m kmslint.docs                        # print to stdout

The output depends only on the catalogue (no version, no date), so the
committed file changes exactly when a rule's documentation does; a test
fails when it is stale.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from kmslint import catalog, ruledoc

REFRESH = "python -m kmslint.docs docs/rules.md"


def render_rule(rule: catalog.Rule) -> list[str]:
    """One rule's section, as lines (the last one empty)."""
    return ruledoc.markdown(rule, page=True).split("\n")


def render(rules: Iterable[catalog.Rule] | None = None) -> str:
    """The whole of ``docs/rules.md``."""
    table = list(rules if rules is not None else catalog.rules().values())
    out = [
        "# kmslint rules",
        "",
        "<!-- Generated from rules/*.yaml; do not edit. Refresh with: " + REFRESH + " -->",
        "",
        "Every rule kmslint reports, generated from the catalogue in `rules/*.yaml`. "
        "`kmslint rules` prints the table below and `kmslint explain ID` one rule's section. "
        "Select rules by ID, ID prefix, slug or `ALL` (`--select`, `--extend-select`, `--ignore`, "
        "or the configuration file).",
        "",
        "| ID | slug | severity | default | summary |",
        "|---|---|---|---|---|",
    ]
    for rule in table:
        state = "on" if rule.enabled_by_default else "off"
        link = f"[{rule.id}](#{ruledoc.anchor(rule)})"
        out.append(f"| {link} | `{rule.slug}` | {rule.severity.label} | {state} | {ruledoc.cell(rule.summary)} |")
    out.append("")
    for rule in table:
        out += render_rule(rule)
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    paths = [a for a in args if a != "--check"]
    if len(paths) > 1 or any(p.startswith("-") for p in paths) or (check and not paths):
        print("usage: python -m kmslint.docs [--check] [OUTPUT.md]", file=sys.stderr)
        return 2
    text = render()
    if not paths:
        sys.stdout.write(text)
        return 0
    target = Path(paths[0])
    if check:
        try:
            current = target.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != text:
            print(f"{target} is stale; refresh it with: {REFRESH}", file=sys.stderr)
            return 1
        return 0
    from kmslint import fsio

    target.parent.mkdir(parents=True, exist_ok=True)
    fsio.write_atomic(target, text.encode("utf-8"))  # every file kmslint writes goes through fsio
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
