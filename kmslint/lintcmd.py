r"""The ``check`` command (``kmslint [OPTIONS] [PATH ...]``), without click.

``kmslint.cli`` parses the options (:mod:`kmslint.options`) with click and
calls :func:`run` with their :class:`~kmslint.options.LintArgs`;
``kmslint.entry`` calls it directly for a plain lint, so that a one-file
lint does not pay for importing click (~15 ms of ~120).  :func:`run` reads
the settings, then stdin, lints, and emits the report and the exit code.
Usage errors are :class:`UsageProblem`; the CLI turns them into click's
usage error.

Output is written so that nothing in the input can break it (OUTPUT.md):
the report goes to stdout as bytes, UTF-8 for the machine formats whatever
the stream's encoding, the stream's own encoding for ``text`` and
``github`` with a backslash escape for what it cannot carry (with
``--output-file FILE``, to a new UTF-8 file written by :mod:`kmslint.fsio`);
every line on stderr is escaped like the text format's fields (notes quote
file names), and a closed or broken stream ends the run with one line or
quietly, never with a traceback.
"""

from __future__ import annotations

import os
import sys

from kmslint import __version__, exitcodes
from kmslint.model import Severity

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from typing import Any, NoReturn

    from kmslint.api import Report
    from kmslint.options import LintArgs
    from kmslint.settings import Settings


class UsageProblem(Exception):
    """A usage error found before anything was read: reported with the usage line, exit 2."""


def _echo(message: str, err: bool = False) -> None:
    """One line: on stdout, or on stderr with anything quoted from the input shown escaped."""
    if err:
        note(message)
    else:
        write_stdout(message + "\n", utf8=False)


def note(message: str) -> None:
    """One line on stderr, escaped (kmslint.formatters: terminal, log_line); dropped if stderr is gone."""
    from kmslint.formatters import log_line, terminal

    _write(sys.stderr, log_line(terminal(message)) + "\n", utf8=False)


def write_stdout(text: str, *, utf8: bool) -> None:
    """``text`` on stdout: as UTF-8 bytes (``utf8``), else in the stream's encoding with escapes.

    Nothing is written when stdout is closed (``>&-``); a reader that has
    gone raises ``BrokenPipeError`` (kmslint.entry ends quietly).
    """
    _write(sys.stdout, text, utf8=utf8)


def _write(stream: Any, text: str, *, utf8: bool) -> None:
    if stream is None:  # the descriptor was closed when Python started
        return
    buffer = getattr(stream, "buffer", None)
    try:
        if buffer is None:  # a text-only stream (a test's StringIO): it takes str
            stream.write(text)
            stream.flush()
            return
        encoding = "utf-8" if utf8 else (getattr(stream, "encoding", None) or "utf-8")
        stream.flush()  # whatever went through the text layer first stays first
        buffer.write(text.encode(encoding, "backslashreplace"))
        buffer.flush()
    except (OSError, ValueError):  # closed, gone or full
        if stream is sys.stdout:
            raise  # the report was not written: the caller says so
        # stderr: nothing more can be said there


def split_ids(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(v.strip() for value in values for v in value.split(",") if v.strip())


def run(args: LintArgs) -> NoReturn:
    """Lint PATHs: everything ``kmslint [OPTIONS] [PATH ...]`` does after parsing its arguments.

    Raises :class:`UsageProblem` for a usage error (before reading anything);
    ends with ``sys.exit`` and the exit code otherwise.
    """
    if args.version:
        _echo(f"kmslint {__version__}")
        sys.exit(exitcodes.OK)
    overrides = read_overrides(args)
    extra_reports = [report_spec(spec) for spec in args.reports]
    settings = read_settings(args, overrides)
    stdin_text = read_input(args, settings)
    report = lint(args, settings, stdin_text)
    if args.write_baseline:
        write_baseline_file(report, args.write_baseline)
    if settings.allow_nothing_to_lint:
        report.nothing_read = []  # asked for: not an error, in the exit code or in a report
    emit(args, settings, report, extra_reports)
    sys.exit(exit_code(args, settings, report))


def read_overrides(args: LintArgs) -> dict[str, Any]:
    """What the options say over the configuration (config.Overrides); a usage problem when one is wrong."""
    overrides: dict[str, Any] = {
        "strict": args.strict,
        "show_suppressed": args.show_suppressed or None,
        "allow_nothing_to_lint": args.allow_nothing_to_lint or None,
    }
    if args.select:
        overrides["select"] = split_ids(args.select)
    if args.extend_select:
        overrides["extend_select"] = split_ids(args.extend_select)
    if args.ignore:
        overrides["ignore"] = split_ids(args.ignore)
    account_id = args.account_id
    if account_id:
        if not (len(account_id) == 12 and account_id.isascii() and account_id.isdigit()):
            # As the configuration's account-id: anything else would be compared with
            # principals' accounts (KMS014) and quoted in messages.
            raise UsageProblem(f"--account-id: expected a 12-digit AWS account ID, got {account_id!r}")
        overrides["account_id"] = account_id
    if args.exclude:
        overrides["exclude"] = tuple(args.exclude)
    if args.fail_on:
        overrides["fail_on"] = Severity.parse(args.fail_on)
    bad = unknown_rules(overrides)
    if bad:
        names = ", ".join(f"{name}{did_you_mean(name)}" for name in sorted(bad))
        raise UsageProblem(f"unknown rule(s): {names} (see `kmslint rules`)")
    if args.config_file is not None and args.no_config:
        raise UsageProblem("--config and --no-config contradict each other; give one")
    overrides["baseline"] = None if args.write_baseline else args.baseline_file
    return overrides


def read_settings(args: LintArgs, overrides: dict[str, Any]) -> Settings:
    """The configuration found for the first path (or the one named), with ``overrides`` over it;
    a configuration error is said on stderr and exits 2."""
    from kmslint import config

    start = args.stdin_filename if args.stdin_filename is not None else next((p for p in args.paths if p != "-"), None)
    try:
        settings = config.settings_for(
            start, config.Overrides(**overrides), config_file=args.config_file, use_config=not args.no_config
        )
    except config.ConfigError as exc:
        for problem in exc.problems:
            _echo(f"kmslint: error: {problem}", err=True)
        sys.exit(exitcodes.ERROR)
    if args.max_file_bytes is not None or args.max_depth is not None:
        from kmslint.record import replace

        settings = replace(
            settings,
            max_file_bytes=args.max_file_bytes or settings.max_file_bytes,
            max_depth=args.max_depth or settings.max_depth,
        )
    return settings


def read_input(args: LintArgs, settings: Settings) -> str | None:
    """The text to lint from stdin (``-`` or ``--stdin-filename``), or None to lint the paths."""
    if args.stdin_filename is None and args.paths != ("-",):
        return None
    if args.paths not in ((), ("-",)):
        raise UsageProblem("with --stdin-filename, give '-' (or nothing) as the path")
    return read_stdin(args.stdin_filename or "-", settings.max_file_bytes)


def lint(args: LintArgs, settings: Settings, stdin_text: str | None) -> Report:
    """The report of the run; a baseline that cannot be read is said on stderr and exits 2."""
    if settings.baseline is None:
        return _lint(args, settings, stdin_text)
    from kmslint.baseline import BaselineError

    try:
        return _lint(args, settings, stdin_text)
    except BaselineError as exc:
        _echo(f"kmslint: error: {exc}", err=True)
        sys.exit(exitcodes.ERROR)


def _lint(args: LintArgs, settings: Settings, stdin_text: str | None) -> Report:
    from kmslint import api

    run_opts: dict[str, Any] = {"jobs": args.jobs or None, "cache_dir": args.cache_dir}
    if stdin_text is not None:
        name = args.stdin_filename or stdin_name(stdin_text)
        return api.lint([], settings, stdin_text=stdin_text, stdin_filename=name, **run_opts)
    return api.lint(list(args.paths) or ["."], settings, **run_opts)


def emit(args: LintArgs, settings: Settings, report: Report, extra_reports: list[tuple[str, str]]) -> None:
    """The remarks on stderr, the ``--report`` files, the report on stdout or in ``--output-file``,
    then what was not followed or not read; a report that cannot be written is said on stderr
    and exits 2."""
    from kmslint import formatters

    for remark in remarks(report, args.verbose):
        _echo(f"kmslint: {remark}", err=True)
    use_color = _use_color(args.color, args.output)
    ctx = formatters.RenderContext(__version__, show_suppressed=settings.show_suppressed, color=use_color)
    rendered = formatters.get(args.fmt)(report, ctx)
    plain = formatters.RenderContext(__version__, show_suppressed=settings.show_suppressed, color=False)
    for extra_fmt, path in extra_reports:
        try:
            write_report_file(formatters.get(extra_fmt)(report, plain), path)
        except (OSError, ValueError) as exc:
            _echo(
                f"kmslint: error: cannot write the report to {path}: {getattr(exc, 'strerror', None) or exc}", err=True
            )
            sys.exit(exitcodes.ERROR)
    try:
        if args.output is not None:
            write_report_file(rendered, args.output)
        else:
            write_stdout(rendered, utf8=args.fmt in formatters.UTF8_FORMATS)
    except BrokenPipeError:
        raise  # `kmslint | head`: the reader has gone (kmslint.entry ends quietly)
    except (OSError, ValueError) as exc:
        where = f" to {args.output}" if args.output is not None else ""
        _echo(f"kmslint: error: cannot write the report{where}: {getattr(exc, 'strerror', None) or exc}", err=True)
        sys.exit(exitcodes.ERROR)
    if args.fmt == "text" and report.not_followed:
        _echo(not_followed_line(len(report.not_followed)), err=True)
    if report.nothing_read:
        from kmslint import api

        for given in report.nothing_read:
            _echo(f"kmslint: error: {api.nothing_read_line(given)}", err=True)


def exit_code(args: LintArgs, settings: Settings, report: Report) -> int:
    """OUTPUT.md's exit code for the run."""
    if report.nothing_read or report.usage_error:
        return exitcodes.ERROR
    failing = bool(report.failing(settings.fail_on)) and not args.exit_zero
    return exitcodes.FINDINGS if failing else exitcodes.OK


def report_spec(spec: str) -> tuple[str, str]:
    """``--report FORMAT:FILE`` as (format, file); a usage problem when either part is wrong."""
    from kmslint.formatters import FORMATS

    fmt, colon, path = spec.partition(":")
    if not colon or not path:
        raise UsageProblem(f"--report: expected FORMAT:FILE (e.g. sarif:kmslint.sarif), got {spec!r}")
    if fmt not in FORMATS:
        raise UsageProblem(f"--report: unknown format {fmt!r} in {spec!r}; one of: {', '.join(FORMATS)}")
    return fmt, path


def remarks(report: Report, verbose: bool) -> list[str]:
    """The notes for stderr: one line for many named files skipped as not IaC (pre-commit names
    every changed YAML and JSON file), each of them when only one was, every skipped file
    with ``verbose``."""
    skipped = set(report.skipped)
    named = [n for n in report.notes if n in skipped]
    out = [n for n in report.notes if n not in skipped]
    if verbose:
        return out + report.skipped
    if len(named) > 1:
        return [
            *out,
            f"skipped {len(named)} files that are not Terraform, CloudFormation or key policies; --verbose lists them",
        ]
    return out + named


def not_followed_line(count: int) -> str:
    """The text format's last word on module calls it could not follow (OUTPUT.md); the exit
    code does not change for them."""
    calls = "module call" if count == 1 else "module calls"
    return f"{count} {calls} not followed (sources not on disk): run terraform init, or lint the plan JSON"


def write_report_file(text: str, path: str) -> None:
    """``--output``: the report as a new UTF-8 file at ``path`` (kmslint.fsio.write_atomic).

    A shell redirection (``> kmslint.sarif``) follows a link that a pull
    request committed under that name; this replaces the name instead.
    """
    from kmslint import fsio

    fsio.write_atomic(path, text.encode("utf-8", "backslashreplace"))


def _use_color(color: bool | None, output: str | None) -> bool:
    """``--color``/``--no-color``, else colour on a terminal (not into ``--output``) unless NO_COLOR is set."""
    if color is not None:
        return color
    if output is not None:
        return False
    try:
        return sys.stdout is not None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    except (OSError, ValueError):  # a closed stream
        return False


# The start of a Terraform file: a top-level block (`resource "aws_kms_key" "k" {`, `locals {`).
_HCL_BLOCK = (
    r"(?m)^[ \t]*(resource|data|module|variable|output|locals|provider|terraform|moved|import|check)[ \t]*[\"{]"
)


def stdin_name(text: str) -> str:
    """What to call stdin read without ``--stdin-filename``, by its content: ``stdin.json``
    (a policy, plan or JSON template), ``stdin.tf`` (Terraform) or ``stdin.yaml`` (a YAML
    template), as if it were a file of that name in the current directory."""
    import re

    if text.lstrip("\ufeff \t\r\n").startswith(("{", "[")):
        return "stdin.json"
    if re.search(_HCL_BLOCK, text):
        return "stdin.tf"
    return "stdin.yaml"


def read_stdin(name: str, limit: int) -> str:
    """The buffer an editor sends on stdin, as text; a problem is KMS000 on stderr and exit 2.

    Read in chunks up to ``limit`` (kmslint.fsio), so neither a huge stream nor
    a huge ``--max-file-bytes`` allocates more than the input; stdin closed
    (``<&-``) or unreadable (a write-only descriptor) is said in one line.  (A
    directory as stdin stops the Python interpreter itself, before kmslint
    runs.)
    """
    from kmslint import fsio
    from kmslint.parsers.common import ParseFailure, decode_source

    try:
        buffer = getattr(sys.stdin, "buffer", None)
        if buffer is None:
            raise ParseFailure("cannot read stdin: it is closed")
        try:
            return decode_source(fsio.read_stream(buffer, limit))
        except fsio.TooLarge:
            raise ParseFailure(f"input is over the {limit}-byte limit (--max-file-bytes)") from None
        except (OSError, ValueError) as exc:
            raise ParseFailure(f"cannot read stdin: {getattr(exc, 'strerror', None) or exc}") from None
    except ParseFailure as exc:
        _echo(f"{name}:{exc.line}:{exc.column}: KMS000 {exc.message}", err=True)
        sys.exit(exitcodes.ERROR)


def write_baseline_file(report: Report, path: str) -> NoReturn:
    from kmslint import baseline

    for remark in report.notes:
        _echo(f"kmslint: {remark}", err=True)
    try:
        count = baseline.write(report.findings, path)
    except baseline.BaselineError as exc:
        _echo(f"kmslint: error: {exc}", err=True)
        sys.exit(exitcodes.ERROR)
    _echo(f"kmslint: wrote {count} finding{'' if count == 1 else 's'} to the baseline {path}", err=True)
    sys.exit(exitcodes.ERROR if report.usage_error else exitcodes.OK)


def did_you_mean(name: str) -> str:
    """`` (did you mean KMS009?)`` for the rule ID or slug nearest to ``name`` (:mod:`kmslint.catalog`)."""
    from kmslint import catalog

    return catalog.did_you_mean(name)


def unknown_rules(overrides: dict[str, Any]) -> set[str]:
    """The names in ``--select``, ``--extend-select`` and ``--ignore`` that name no rule (:mod:`kmslint.catalog`)."""
    from kmslint import catalog

    return catalog.unknown(name for key in ("select", "extend_select", "ignore") for name in overrides.get(key, ()))
