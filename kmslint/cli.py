"""The command line (OUTPUT.md).  Formatting lives in ``formatters``, logic in ``api``."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import click

from kmslint import __version__, exitcodes
from kmslint.formatters import FORMATS
from kmslint.model import Severity

if TYPE_CHECKING:
    from kmslint.api import Report

SEVERITIES = [s.label for s in Severity]


class _DefaultGroup(click.Group):
    """``kmslint [OPTIONS] [PATH ...]`` runs ``check``; ``kmslint rules`` etc. are subcommands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands:
            if args[:1] in (["--help"], ["-h"]):
                return super().parse_args(ctx, args)
            args = ["check", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """kmslint: find misconfigured AWS KMS keys and key policies in Terraform, CloudFormation and policy JSON.

    Run `kmslint [OPTIONS] [PATH ...]` to lint (see `kmslint check --help`),
    `kmslint rules` to list the rules, `kmslint explain KMS003` for one rule's docs.
    """


def _split(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(v.strip() for value in values for v in value.split(",") if v.strip())


@main.command("check")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--format", "fmt", type=click.Choice(list(FORMATS)), default="text", show_default=True, help="Output format."
)
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    default=None,
    help="Exit 1 only for findings at or above this severity [default: low].",
)
@click.option("--select", multiple=True, help="Only these rules (IDs, prefixes, slugs or ALL; comma-separated).")
@click.option("--extend-select", multiple=True, help="Add these rules to the selection (e.g. KMS007).")
@click.option("--ignore", multiple=True, help="Do not report these rules.")
@click.option("--account-id", default=None, help="The AWS account the keys live in (for KMS014).")
@click.option("--strict/--no-strict", default=None, help="Also report suppressions that match nothing (KMS901).")
@click.option("--show-suppressed", is_flag=True, help="List suppressed findings with their reasons.")
@click.option("--stdin-filename", default=None, help="Read the file to lint from stdin, as this path ('-').")
@click.option("--exclude", multiple=True, help="Skip paths matching these gitignore-style patterns.")
@click.option("--color/--no-color", default=None, help="Colour the text output [default: on a terminal].")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings (errors still exit 2).")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Use this configuration file (.kmslint.toml, or a pyproject.toml with [tool.kmslint]) "
    "instead of looking for one.",
)
@click.option("--no-config", is_flag=True, help="Ignore configuration files.")
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Report only findings not recorded in this baseline file.",
)
@click.option(
    "--write-baseline",
    type=click.Path(dir_okay=False),
    default=None,
    help="Record the current findings in this baseline file and exit 0.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=0),
    default=None,
    help="Worker processes; 0 or unset: automatic (one per core for large runs). Output is the same for any N.",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Reuse the findings of unchanged files from this directory (off by default; safe to delete).",
)
@click.option(
    "--max-file-bytes",
    type=click.IntRange(min=1),
    default=None,
    help="Report a larger file as KMS000 instead of reading it [default: 4194304].",
)
@click.option(
    "--max-depth",
    type=click.IntRange(min=1),
    default=None,
    help="Report nesting deeper than this as KMS000 [default: 200].",
)
@click.option("--version", is_flag=True, help="Print the version and exit.")
def check(
    paths: tuple[str, ...],
    fmt: str,
    fail_on: str | None,
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    account_id: str | None,
    strict: bool | None,
    show_suppressed: bool,
    stdin_filename: str | None,
    exclude: tuple[str, ...],
    color: bool | None,
    exit_zero: bool,
    config_file: str | None,
    no_config: bool,
    baseline_file: str | None,
    write_baseline: str | None,
    jobs: int | None,
    cache_dir: str | None,
    max_file_bytes: int | None,
    max_depth: int | None,
    version: bool,
) -> None:
    """Lint PATHs (files and directories; default: the current directory)."""
    if version:
        click.echo(f"kmslint {__version__}")
        sys.exit(exitcodes.OK)
    from kmslint import api, config

    overrides: dict[str, Any] = {"strict": strict, "show_suppressed": show_suppressed or None}
    if select:
        overrides["select"] = _split(select)
    if extend_select:
        overrides["extend_select"] = _split(extend_select)
    if ignore:
        overrides["ignore"] = _split(ignore)
    if account_id:
        overrides["account_id"] = account_id
    if exclude:
        overrides["exclude"] = tuple(exclude)
    if fail_on:
        overrides["fail_on"] = Severity.parse(fail_on)
    bad = _unknown_rules(overrides)
    if bad:
        raise click.UsageError(f"unknown rule(s): {', '.join(sorted(bad))} (see `kmslint rules`)")
    if config_file is not None and no_config:
        raise click.UsageError("--config and --no-config contradict each other; give one")
    overrides["baseline"] = None if write_baseline else baseline_file
    start = stdin_filename if stdin_filename is not None else next((p for p in paths if p != "-"), None)
    try:
        settings = config.settings_for(
            start, config.Overrides(**overrides), config_file=config_file, use_config=not no_config
        )
    except config.ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"kmslint: error: {problem}", err=True)
        sys.exit(exitcodes.ERROR)
    if max_file_bytes is not None or max_depth is not None:
        from dataclasses import replace

        settings = replace(
            settings,
            max_file_bytes=max_file_bytes or settings.max_file_bytes,
            max_depth=max_depth or settings.max_depth,
        )
    stdin_text: str | None = None
    if stdin_filename is not None or paths == ("-",):
        if paths not in ((), ("-",)):
            raise click.UsageError("with --stdin-filename, give '-' (or nothing) as the path")
        data = sys.stdin.buffer.read(settings.max_file_bytes + 1)
        from kmslint.parsers.common import ParseFailure, decode_source

        try:
            if len(data) > settings.max_file_bytes:
                raise ParseFailure(f"input is over the {settings.max_file_bytes}-byte limit (max_file_bytes)")
            stdin_text = decode_source(data)
        except ParseFailure as exc:
            stdin_text = None
            click.echo(f"{stdin_filename or '-'}:{exc.line}:{exc.column}: KMS000 {exc.message}", err=True)
            sys.exit(exitcodes.ERROR)

    def run() -> Report:
        run_opts: dict[str, Any] = {"jobs": jobs or None, "cache_dir": cache_dir}
        if stdin_text is not None:
            return api.lint(
                [], settings, stdin_text=stdin_text, stdin_filename=stdin_filename or "stdin.json", **run_opts
            )
        return api.lint(list(paths) or ["."], settings, **run_opts)

    if settings.baseline is None:
        report = run()
    else:
        from kmslint.baseline import BaselineError

        try:
            report = run()
        except BaselineError as exc:
            click.echo(f"kmslint: error: {exc}", err=True)
            sys.exit(exitcodes.ERROR)
    if write_baseline:
        _write_baseline(report, write_baseline)

    for note in report.notes:
        click.echo(f"kmslint: {note}", err=True)
    from kmslint import formatters

    use_color = color if color is not None else (sys.stdout.isatty() and "NO_COLOR" not in os.environ)
    ctx = formatters.RenderContext(__version__, show_suppressed=settings.show_suppressed, color=bool(use_color))
    sys.stdout.write(formatters.get(fmt)(report, ctx))
    sys.stdout.flush()
    if report.usage_error:
        sys.exit(exitcodes.ERROR)
    failing = bool(report.failing(settings.fail_on)) and not exit_zero
    sys.exit(exitcodes.FINDINGS if failing else exitcodes.OK)


def _write_baseline(report: Report, path: str) -> None:
    from kmslint import baseline

    for note in report.notes:
        click.echo(f"kmslint: {note}", err=True)
    try:
        count = baseline.write(report.findings, path)
    except baseline.BaselineError as exc:
        click.echo(f"kmslint: error: {exc}", err=True)
        sys.exit(exitcodes.ERROR)
    click.echo(f"kmslint: wrote {count} finding{'' if count == 1 else 's'} to the baseline {path}", err=True)
    sys.exit(exitcodes.ERROR if report.usage_error else exitcodes.OK)


def _unknown_rules(overrides: dict[str, Any]) -> set[str]:
    from kmslint import catalog

    bad: set[str] = set()
    for key in ("select", "extend_select", "ignore"):
        for name in overrides.get(key, ()):
            if name.upper() == "ALL" or catalog.resolve(name) is not None:
                continue
            if name.upper().startswith("KMS") and any(r.startswith(name.upper()) for r in catalog.rules()):
                continue
            bad.add(name)
    return bad


@main.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def rules_command(fmt: str) -> None:
    """List every rule: ID, slug, default severity, on or off by default."""
    from kmslint import catalog

    table = list(catalog.rules().values())
    if fmt == "json":
        import json

        rows = [
            {
                "id": r.id,
                "slug": r.slug,
                "severity": r.severity.label,
                "enabled_by_default": r.enabled_by_default,
                "summary": r.summary,
            }
            for r in table
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    width = max(len(r.slug) for r in table)
    click.echo(f"{'ID':<7} {'SLUG':<{width}} {'SEVERITY':<8} {'DEFAULT':<7} SUMMARY")
    for r in table:
        state = "on" if r.enabled_by_default else "off"
        click.echo(f"{r.id:<7} {r.slug:<{width}} {r.severity.label:<8} {state:<7} {r.summary}")


@main.command("explain")
@click.argument("rule_id")
def explain(rule_id: str) -> None:
    """Print one rule's documentation: what it flags, why, how to fix, examples, references."""
    from kmslint import catalog

    rule = catalog.resolve(rule_id)
    if rule is None:
        raise click.UsageError(f"unknown rule {rule_id!r} (see `kmslint rules`)")
    click.echo(render_explanation(rule))


def _wrap(text: str, indent: str = "  ") -> str:
    import textwrap  # only `kmslint explain` needs it

    paragraphs = [" ".join(p.split()) for p in text.split("\n\n")]
    return "\n\n".join(textwrap.fill(p, width=88, initial_indent=indent, subsequent_indent=indent) for p in paragraphs)


def render_explanation(rule: Any) -> str:
    state = "on by default" if rule.enabled_by_default else "off by default (enable with --extend-select)"
    out = [
        f"{rule.id} {rule.slug}  [{rule.severity.label}, {state}]",
        "",
        _wrap(rule.summary),
        "",
        "Why it matters",
        _wrap(rule.why),
        "",
        "How to fix",
        _wrap(rule.fix),
    ]
    if rule.options:
        out += ["", "Options"]
        for name, spec in rule.options.items():
            out.append(f"  {name} (default: {spec['default']!r}): {spec['description']}")
    for ex in rule.examples:
        title = f" — {ex.title}" if ex.title else ""
        out += ["", f"{'Bad' if ex.verdict == 'bad' else 'Good'} ({ex.format}){title}"]
        out += ["    " + line if line else "" for line in ex.code.rstrip("\n").splitlines()]
    out += ["", "References"]
    out += [f"  - {title}: {url}" for title, url in rule.references]
    return "\n".join(out)


@main.command("lsp")
@click.option("--stdio", is_flag=True, help="Talk LSP over stdin/stdout (the default, and the only transport).")
@click.option(
    "--debounce-ms",
    type=click.IntRange(min=0),
    default=300,
    show_default=True,
    help="Wait this long after the last change before linting a document again.",
)
def lsp_command(stdio: bool, debounce_ms: int) -> None:
    """Run the language server for editors (needs `pip install 'kmslint[lsp]'`)."""
    from kmslint import lsp

    try:
        server = lsp.create_server(debounce_ms / 1000)
    except lsp.MissingDependency as exc:
        click.echo(f"kmslint: {exc}", err=True)
        sys.exit(exitcodes.ERROR)
    server.start_io(sys.stdin.buffer, sys.stdout.buffer)
