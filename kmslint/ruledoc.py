"""A rule's documentation, rendered from the catalogue for everyone who shows it.

One renderer, as Markdown or as plain text, with the options each reader
needs:

* :func:`markdown` with ``page=True``: the rule's section of ``docs/rules.md``
  (:mod:`kmslint.docs`), with its options table and every example;
* :func:`markdown`: SARIF ``help.markdown``; with ``syntax``, the language
  server's hover, one screen in the document's syntax (the first good example
  written in it, no references: the hover links to the whole page);
* :func:`text`: SARIF ``help.text``; with ``full=True``, ``kmslint explain``
  (wrapped for a terminal, with the rule's state, options and examples).

Each is a list of blocks (a heading, a paragraph, a code fence) separated by
one blank line.
"""

from __future__ import annotations

from collections.abc import Iterable

from kmslint.catalog import Example, Rule
from kmslint.decide import REQUIRE_CMK_RULE

FORMAT_TITLES = {"terraform": "Terraform", "cloudformation": "CloudFormation", "policy": "key policy JSON"}
_WIDTH = 88  # `kmslint explain` wraps its paragraphs to this many columns


def anchor(rule: Rule) -> str:
    """The heading anchor GitHub (and most Markdown renderers) give ``## KMS001 default-key-policy``."""
    return f"{rule.id.lower()}-{rule.slug}"


def paragraphs(text: str) -> list[str]:
    """``text``'s paragraphs (separated by blank lines), each on one line."""
    return [" ".join(p.split()) for p in text.strip().split("\n\n") if p.strip()]


def cell(text: str) -> str:
    """``text`` on one line, safe inside a Markdown table cell or link text."""
    return " ".join(text.split()).replace("|", "\\|")


def _verdict(example: Example) -> str:
    return "Bad" if example.verdict == "bad" else "Good"


def _fence_language(example: Example) -> str:
    if example.format == "terraform":
        return "json" if example.code.lstrip().startswith("{") else "hcl"
    if example.format == "cloudformation":
        return "json" if example.code.lstrip().startswith("{") else "yaml"
    return "json"


def _fence(example: Example) -> str:
    body = example.code.rstrip("\n")
    ticks = "```"
    while ticks in body:
        ticks += "`"
    return "\n".join([f"{ticks}{_fence_language(example)}", *body.splitlines(), ticks])


def _blocks(blocks: Iterable[str]) -> str:
    return "\n\n".join(blocks) + "\n"


# --------------------------------------------------------------------------- Markdown


def markdown(rule: Rule, *, page: bool = False, syntax: str | None = None) -> str:
    """A rule's documentation as Markdown: its section of ``docs/rules.md`` with ``page``,
    else SARIF's help; with ``syntax`` (``terraform``, ``cloudformation`` or ``policy``:
    the document's), a hover's screenful."""
    level = "###" if page else "####"
    out = _page_head(rule) if page else [f"**{rule.id} {rule.slug}** ({rule.severity.label})"]
    out += paragraphs(rule.summary)
    out += [f"{level} Why it matters", *paragraphs(rule.why), f"{level} How to fix", *paragraphs(rule.fix)]
    if page:
        out += _options_table(rule)
    examples = rule.examples
    if syntax is not None:
        examples = tuple(ex for ex in examples if ex.format == syntax and ex.verdict == "good")[:1]
    if page and examples:
        out.append(f"{level} Examples")
    for ex in examples:
        title = f": {ex.title}" if ex.title else ""
        shown = FORMAT_TITLES.get(ex.format, ex.format) if page else ex.format
        out += [f"**{_verdict(ex)}** ({shown}){title}", _fence(ex)]
    if rule.references and syntax is None:
        out.append(f"{level} References")
        out.append("\n".join(f"- [{cell(title)}]({url})" for title, url in rule.references))
    return _blocks(out)


def _page_head(rule: Rule) -> list[str]:
    state = "on" if rule.enabled_by_default else "off (enable with `--extend-select " + rule.id + "`)"
    if rule.id == REQUIRE_CMK_RULE:
        state = "off (a `[require-customer-managed-key]` table in the configuration turns it on)"
    formats = ", ".join(FORMAT_TITLES.get(f, f) for f in rule.applies_to) or "all inputs"
    kind = "a check" if rule.kind == "check" else "reported by the engine"
    return [
        f"## {rule.id} {rule.slug}",
        f"**Severity:** {rule.severity.label} · **Default:** {state} · **Applies to:** {formats} · **Kind:** {kind}",
    ]


def _options_table(rule: Rule) -> list[str]:
    if not rule.options:
        return []
    rows = ["| option | type | default | meaning |", "|---|---|---|---|"]
    for name, spec in rule.options.items():
        default = spec.get("default")
        shown = "none" if default is None else f"`{str(default).lower() if isinstance(default, bool) else default}`"
        meaning = cell(str(spec.get("description", "")))
        rows.append(f"| `{name.replace('_', '-')}` | {spec.get('type', 'string')} | {shown} | {meaning} |")
    return ["### Options", f"Set in the configuration file under `[rules.{rule.id}]`.", "\n".join(rows)]


# --------------------------------------------------------------------------- plain text


def text(rule: Rule, *, full: bool = False) -> str:
    """A rule's documentation as plain text: SARIF's help; with ``full``, ``kmslint explain``'s
    page (paragraphs wrapped and indented, the rule's state, options and examples)."""
    if full:
        return _blocks(_explanation(rule))
    out = [f"{rule.id} {rule.slug} ({rule.severity.label})", *paragraphs(rule.summary)]
    out += [f"Why it matters:\n{_joined(rule.why)}", f"How to fix:\n{_joined(rule.fix)}"]
    if rule.references:
        out.append("\n".join(["References:", *(f"- {title}: {url}" for title, url in rule.references)]))
    return _blocks(out)


def _explanation(rule: Rule) -> list[str]:
    state = "on by default" if rule.enabled_by_default else "off by default (enable with --extend-select)"
    if rule.id == REQUIRE_CMK_RULE:
        state = "off by default (enable with a [require-customer-managed-key] table)"
    out = [f"{rule.id} {rule.slug}  [{rule.severity.label}, {state}]", _wrapped(rule.summary)]
    out += [f"Why it matters\n{_wrapped(rule.why)}", f"How to fix\n{_wrapped(rule.fix)}"]
    if rule.options:
        lines = [
            f"  {name} (default: {spec['default']!r}): {spec['description']}" for name, spec in rule.options.items()
        ]
        out.append("\n".join(["Options", *lines]))
    for ex in rule.examples:
        title = f" — {ex.title}" if ex.title else ""
        code = "\n".join("    " + line if line else "" for line in ex.code.rstrip("\n").splitlines())
        out.append(f"{_verdict(ex)} ({ex.format}){title}\n{code}")
    out.append("\n".join(["References", *(f"  - {title}: {url}" for title, url in rule.references)]))
    return out


def _joined(text: str) -> str:
    return "\n\n".join(paragraphs(text))


def _wrapped(text: str) -> str:
    import textwrap  # only `kmslint explain` needs it

    indent = "  "
    return "\n\n".join(
        textwrap.fill(p, width=_WIDTH, initial_indent=indent, subsequent_indent=indent) for p in paragraphs(text)
    )
