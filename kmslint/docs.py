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

from kmslint import catalog

REFRESH = "python -m kmslint.docs docs/rules.md"

_FORMAT_TITLES = {"terraform": "Terraform", "cloudformation": "CloudFormation", "policy": "key policy JSON"}


def _fence_language(example: catalog.Example) -> str:
    if example.format == "terraform":
        return "json" if example.code.lstrip().startswith("{") else "hcl"
    if example.format == "cloudformation":
        return "json" if example.code.lstrip().startswith("{") else "yaml"
    return "json"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def anchor(rule: catalog.Rule) -> str:
    """The heading anchor GitHub (and most Markdown renderers) give ``## KMS001 default-key-policy``."""
    return f"{rule.id.lower()}-{rule.slug}"


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in text.strip().split("\n\n") if p.strip()]


def _fence(code: str, language: str) -> list[str]:
    body = code.rstrip("\n")
    ticks = "```"
    while ticks in body:
        ticks += "`"
    return [f"{ticks}{language}", *body.splitlines(), ticks]


def render_rule(rule: catalog.Rule) -> list[str]:
    state = "on" if rule.enabled_by_default else "off (enable with `--extend-select " + rule.id + "`)"
    formats = ", ".join(_FORMAT_TITLES.get(f, f) for f in rule.applies_to) or "all inputs"
    kind = "a check" if rule.kind == "check" else "reported by the engine"
    out = [
        f"## {rule.id} {rule.slug}",
        "",
        f"**Severity:** {rule.severity.label} · **Default:** {state} · **Applies to:** {formats} · **Kind:** {kind}",
        "",
        *_paragraphs(rule.summary),
        "",
        "### Why it matters",
        "",
    ]
    for p in _paragraphs(rule.why):
        out += [p, ""]
    out += ["### How to fix", ""]
    for p in _paragraphs(rule.fix):
        out += [p, ""]
    if rule.options:
        out += [
            "### Options",
            "",
            f"Set in the configuration file under `[rules.{rule.id}]`.",
            "",
            "| option | type | default | meaning |",
            "|---|---|---|---|",
        ]
        for name, spec in rule.options.items():
            default = spec.get("default")
            shown = "none" if default is None else f"`{str(default).lower() if isinstance(default, bool) else default}`"
            out.append(
                f"| `{name.replace('_', '-')}` | {spec.get('type', 'string')} | {shown} | "
                f"{_cell(str(spec.get('description', '')))} |"
            )
        out.append("")
    if rule.examples:
        out += ["### Examples", ""]
        for ex in rule.examples:
            verdict = "Bad" if ex.verdict == "bad" else "Good"
            title = f": {ex.title}" if ex.title else ""
            out += [f"**{verdict}** ({_FORMAT_TITLES.get(ex.format, ex.format)}){title}", ""]
            out += [*_fence(ex.code, _fence_language(ex)), ""]
    out += ["### References", ""]
    out += [f"- [{_cell(title)}]({url})" for title, url in rule.references]
    out.append("")
    return out


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
        link = f"[{rule.id}](#{anchor(rule)})"
        out.append(f"| {link} | `{rule.slug}` | {rule.severity.label} | {state} | {_cell(rule.summary)} |")
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
