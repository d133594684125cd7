"""The command line (OUTPUT.md).  Formatting lives in ``formatters``, logic in ``api``."""

from __future__ import annotations

import contextlib
import os
import sys

import click

from kmslint import exitcodes
from kmslint.formatters import FORMATS
from kmslint.model import Severity

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

SEVERITIES = [s.label for s in Severity]


class _DefaultGroup(click.Group):
    """``kmslint [OPTIONS] [PATH ...]`` runs ``check``; ``kmslint rules`` etc. are subcommands.

    Arguments naming existing files stay paths (:func:`kmslint.entry.paths_stay_paths`),
    and Ctrl-C ends the run with exit code 130 and nothing more, where
    click would print "Aborted!" and exit 1.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        from kmslint.entry import paths_stay_paths

        if not args or args[0] not in self.commands:
            if args[:1] in (["--help"], ["-h"]):
                return super().parse_args(ctx, args)
            args = ["check", *args]
        elif args[0] != "check" and os.path.lexists(args[0]):
            # A subcommand's name is the subcommand, always: said, so that `kmslint rules`
            # in a repository with a rules/ directory does not pass for a lint of it.
            from kmslint.lintcmd import note

            note(f"kmslint: running `kmslint {args[0]}`; to lint the path {args[0]}, run `kmslint ./{args[0]}`")
        return super().parse_args(ctx, paths_stay_paths(args))

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """``kmslint --help`` shows the lint options too: linting is what ``kmslint`` does."""
        check = self.commands["check"]
        sub = click.Context(check, info_name="kmslint", parent=None)
        rows = [row for p in check.get_params(sub) if isinstance(p, click.Option) and (row := p.get_help_record(sub))]
        with formatter.section("Lint options (kmslint [OPTIONS] [PATH ...])"):
            formatter.write_dl(rows)
        super().format_options(ctx, formatter)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        # `kmslint explain` on an ASCII or cp1252 terminal: escape what it cannot show, never crash.
        with contextlib.suppress(AttributeError, ValueError):
            sys.stdout.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.Abort as exc:
            if isinstance(exc.__cause__, KeyboardInterrupt):
                sys.exit(exitcodes.INTERRUPTED)
            click.echo("Aborted!", err=True)
            sys.exit(1)
        except click.ClickException as exc:
            _show(exc)
            sys.exit(exc.exit_code)
        sys.exit(result if isinstance(result, int) else 0)


def _show(exc: click.ClickException) -> None:
    """click's message for ``exc`` on stderr, each line escaped: it may quote an argument."""
    import io

    from kmslint.lintcmd import note

    text = io.StringIO()
    exc.show(file=text)
    for line in text.getvalue().rstrip("\n").split("\n"):
        note(line)


@click.group(cls=_DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """kmslint: find misconfigured AWS KMS keys and key policies in Terraform, CloudFormation and policy JSON.

    Run `kmslint [OPTIONS] [PATH ...]` to lint (the options below),
    `kmslint rules` to list the rules, `kmslint explain KMS003` for one rule's docs.

    A first argument that names a command runs the command, even when a file
    or directory has that name: lint a directory called rules with
    `kmslint ./rules` (or `kmslint check rules`).
    """


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
    "--output-file",
    "output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the report to this file instead of stdout (replaced whole; never written through a link).",
)
@click.option(
    "--report",
    "reports",
    multiple=True,
    metavar="FORMAT:FILE",
    help="Also write the report in FORMAT to FILE, in the same run (repeatable; e.g. sarif:kmslint.sarif).",
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
@click.option(
    "--allow-nothing-to-lint",
    is_flag=True,
    help="Exit 0, not 2, when a directory given holds nothing to lint (for jobs that run in every directory).",
)
@click.option("--verbose", "-v", is_flag=True, help="Name every file skipped as not IaC, on stderr.")
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
    output: str | None,
    reports: tuple[str, ...],
    jobs: int | None,
    cache_dir: str | None,
    max_file_bytes: int | None,
    max_depth: int | None,
    allow_nothing_to_lint: bool,
    verbose: bool,
    version: bool,
) -> None:
    """Lint PATHs (files and directories; default: the current directory)."""
    from kmslint import lintcmd  # the command itself, click-free (kmslint.entry calls it directly)

    try:
        lintcmd.run(
            paths=paths,
            fmt=fmt,
            fail_on=fail_on,
            select=select,
            extend_select=extend_select,
            ignore=ignore,
            account_id=account_id,
            strict=strict,
            show_suppressed=show_suppressed,
            stdin_filename=stdin_filename,
            exclude=exclude,
            color=color,
            exit_zero=exit_zero,
            config_file=config_file,
            no_config=no_config,
            baseline_file=baseline_file,
            write_baseline=write_baseline,
            output=output,
            reports=reports,
            jobs=jobs,
            cache_dir=cache_dir,
            max_file_bytes=max_file_bytes,
            max_depth=max_depth,
            allow_nothing_to_lint=allow_nothing_to_lint,
            verbose=verbose,
            version=version,
        )
    except lintcmd.UsageProblem as exc:
        raise click.UsageError(str(exc)) from None  # shown escaped by _DefaultGroup.main


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
    from kmslint import catalog, ruledoc

    rule = catalog.resolve(rule_id)
    if rule is None:
        raise click.UsageError(f"unknown rule {rule_id!r} (see `kmslint rules`)")
    click.echo(ruledoc.text(rule, full=True), nl=False)


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
