"""The command line (OUTPUT.md).  Formatting lives in ``formatters``, logic in ``api``."""

from __future__ import annotations

import contextlib
import os
import sys

import click

from kmslint import exitcodes, options

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, TypeVar

    F = TypeVar("F", bound=Callable[..., Any])


class _DefaultGroup(click.Group):
    """``kmslint [OPTIONS] [PATH ...]`` runs ``check``; ``kmslint rules`` etc. are subcommands.

    Arguments naming existing files stay paths (:func:`kmslint.options.paths_stay_paths`),
    and Ctrl-C ends the run with exit code 130 and nothing more, where
    click would print "Aborted!" and exit 1.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        from kmslint.options import paths_stay_paths

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


def _click_type(spec: options.Option) -> click.ParamType[Any] | None:
    """The click type that checks and converts the option's value (None: text, or a flag)."""
    if spec.choices is not None:
        return click.Choice(spec.choices())
    if spec.minimum is not None:
        return click.IntRange(min=spec.minimum)
    if spec.path is not None:
        return click.Path(file_okay=spec.path != "dir", dir_okay=spec.path != "file")
    return None


def _click_option(spec: options.Option) -> Callable[[F], F]:
    """The click option ``spec`` declares (kmslint.options)."""
    decls = ["/".join(spec.names)] if spec.kind == options.PAIR else list(spec.names)
    kwargs: dict[str, Any] = {"help": spec.help, "type": _click_type(spec)}
    if spec.kind == options.FLAG:
        kwargs["is_flag"] = True
    elif spec.kind == options.MULTIPLE:
        kwargs["multiple"] = True
    else:
        kwargs["default"] = spec.default
    if spec.show_default:
        kwargs["show_default"] = True
    if spec.metavar is not None:
        kwargs["metavar"] = spec.metavar
    return click.option(*decls, spec.param, **kwargs)


def with_options(specs: tuple[options.Option, ...]) -> Callable[[F], F]:
    """A decorator giving a command the options ``specs`` declare, listed in their order."""

    def decorate(command: F) -> F:
        for spec in reversed(specs):  # decorators apply from the last up
            command = _click_option(spec)(command)
        return command

    return decorate


@main.command("check")
@click.argument("paths", nargs=-1, type=click.Path())
@with_options(options.CHECK)
def check(**params: Any) -> None:
    """Lint PATHs (files and directories; default: the current directory)."""
    from kmslint import lintcmd  # the command itself, click-free (kmslint.entry calls it directly)

    try:
        lintcmd.run(options.LintArgs(**params))
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


@main.command("access")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "markdown", "dot"]), default="text", show_default=True
)
@click.option("--output", type=click.Path(dir_okay=False), help="Write the report to this file instead of stdout.")
@click.option("--account-id", help="The AWS account the keys live in (tells other accounts apart).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="Use this configuration file.")
@with_options(options.ACCESS_DIFF)
def access_command(
    paths: tuple[str, ...],
    fmt: str,
    output: str | None,
    account_id: str | None,
    config_file: str | None,
    diff: str | None,
    fail_on_widening: bool,
) -> int:
    """Who can administer, use and delegate each KMS key in PATHs, and what uses each key.

    With --diff REV: only what the work tree changes in it since the git revision REV.
    """
    from kmslint import accesscmd

    if account_id and not (len(account_id) == 12 and account_id.isascii() and account_id.isdigit()):
        raise click.UsageError(f"--account-id: expected a 12-digit AWS account ID, got {account_id!r}")
    if diff is not None:
        from kmslint import accessdiffcmd

        return accessdiffcmd.run(diff, paths, fmt, output, account_id, config_file, fail_on_widening)
    if fail_on_widening:
        raise click.UsageError("--fail-on-widening needs --diff REV")
    if fmt not in accesscmd.RENDERERS:
        raise click.UsageError(
            f"--format {fmt} is for --diff; the report is written as {', '.join(accesscmd.RENDERERS)}"
        )
    return accesscmd.run(paths, fmt, output, account_id, config_file)


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
