"""The options of ``kmslint check``, declared once, and the record of a command line's arguments.

:data:`CHECK` is the one list: :mod:`kmslint.entry` builds its click-free
parser's table from it and :mod:`kmslint.cli` builds the click options of
``check`` from it, so the two cannot disagree (``tests/test_importtime.py``
checks that they parse alike).  Both end in a :class:`LintArgs`, the one
argument of :func:`kmslint.lintcmd.run`.  Adding an option is an entry in
:data:`CHECK`, its field in :class:`LintArgs`, and the code that uses it.

This module imports neither click nor typing: the fast path imports it.
"""

from __future__ import annotations

import os

from kmslint.record import Record

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from collections.abc import Callable

# An option's kind: takes one value (the last given wins), takes a value each time it is
# given (a tuple), a flag (False unless given), or a --x/--no-x pair (None unless given).
VALUE, MULTIPLE, FLAG, PAIR = "value", "multiple", "flag", "pair"


class Option(Record, frozen=True):
    """One option: its names (a pair's are ``--x`` and ``--no-x``), the parameter it sets, and
    what ``--help`` says.  ``choices`` gives the values allowed (called only when a value is
    checked, so that the formats are not imported for nothing); ``minimum`` makes it an
    integer at least that; ``path`` is ``"file"`` or ``"dir"`` for a path that must not be
    the other (as click checks it); ``metavar`` names the value in ``--help``."""

    names: tuple[str, ...]
    param: str
    kind: str
    help: str
    default: object = None
    show_default: bool = False
    choices: Callable[[], list[str]] | None = None
    minimum: int | None = None
    path: str | None = None
    metavar: str | None = None


def _formats() -> list[str]:
    from kmslint.formatters import FORMATS

    return list(FORMATS)


def _severities() -> list[str]:
    from kmslint.model import Severity

    return [s.label for s in Severity]


# In the order ``kmslint check --help`` lists them.
CHECK: tuple[Option, ...] = (
    Option(("--format",), "fmt", VALUE, "Output format.", default="text", show_default=True, choices=_formats),
    Option(
        ("--fail-on",),
        "fail_on",
        VALUE,
        "Exit 1 only for findings at or above this severity [default: low].",
        choices=_severities,
    ),
    Option(("--select",), "select", MULTIPLE, "Only these rules (IDs, prefixes, slugs or ALL; comma-separated)."),
    Option(("--extend-select",), "extend_select", MULTIPLE, "Add these rules to the selection (e.g. KMS007)."),
    Option(("--ignore",), "ignore", MULTIPLE, "Do not report these rules."),
    Option(("--account-id",), "account_id", VALUE, "The AWS account the keys live in (for KMS014)."),
    Option(("--strict", "--no-strict"), "strict", PAIR, "Also report suppressions that match nothing (KMS901)."),
    Option(("--show-suppressed",), "show_suppressed", FLAG, "List suppressed findings with their reasons."),
    Option(("--stdin-filename",), "stdin_filename", VALUE, "Read the file to lint from stdin, as this path ('-')."),
    Option(("--exclude",), "exclude", MULTIPLE, "Skip paths matching these gitignore-style patterns."),
    Option(("--color", "--no-color"), "color", PAIR, "Colour the text output [default: on a terminal]."),
    Option(("--exit-zero",), "exit_zero", FLAG, "Exit 0 even when there are findings (errors still exit 2)."),
    Option(
        ("--config",),
        "config_file",
        VALUE,
        "Use this configuration file (.kmslint.toml, or a pyproject.toml with [tool.kmslint]) "
        "instead of looking for one.",
        path="file",
    ),
    Option(("--no-config",), "no_config", FLAG, "Ignore configuration files."),
    Option(
        ("--baseline",),
        "baseline_file",
        VALUE,
        "Report only findings not recorded in this baseline file.",
        path="file",
    ),
    Option(
        ("--write-baseline",),
        "write_baseline",
        VALUE,
        "Record the current findings in this baseline file and exit 0.",
        path="file",
    ),
    Option(
        ("--output-file",),
        "output",
        VALUE,
        "Write the report to this file instead of stdout (replaced whole; never written through a link).",
        path="file",
    ),
    Option(
        ("--report",),
        "reports",
        MULTIPLE,
        "Also write the report in FORMAT to FILE, in the same run (repeatable; e.g. sarif:kmslint.sarif).",
        metavar="FORMAT:FILE",
    ),
    Option(
        ("--jobs", "-j"),
        "jobs",
        VALUE,
        "Worker processes; 0 or unset: automatic (one per core for large runs). Output is the same for any N.",
        minimum=0,
    ),
    Option(
        ("--cache-dir",),
        "cache_dir",
        VALUE,
        "Reuse the findings of unchanged files from this directory (off by default; safe to delete).",
        path="dir",
    ),
    Option(
        ("--max-file-bytes",),
        "max_file_bytes",
        VALUE,
        "Report a larger file as KMS000 instead of reading it [default: 4194304].",
        minimum=1,
    ),
    Option(
        ("--max-depth",), "max_depth", VALUE, "Report nesting deeper than this as KMS000 [default: 200].", minimum=1
    ),
    Option(
        ("--allow-nothing-to-lint",),
        "allow_nothing_to_lint",
        FLAG,
        "Exit 0, not 2, when a directory given holds nothing to lint (for jobs that run in every directory).",
    ),
    Option(("--verbose", "-v"), "verbose", FLAG, "Name every file skipped as not IaC, on stderr."),
    Option(("--version",), "version", FLAG, "Print the version and exit."),
)


# The options ``kmslint access`` adds for ``--diff`` (kmslint.accessdiffcmd), in --help's order.
ACCESS_DIFF: tuple[Option, ...] = (
    Option(
        ("--diff",),
        "diff",
        VALUE,
        "Show only what the work tree changes in the access of git revision REV (read from git, never checked"
        " out; the work tree's configuration applies to both).",
        metavar="REV",
    ),
    Option(
        ("--fail-on-widening",),
        "fail_on_widening",
        FLAG,
        "With --diff: exit 1 when any access was added or widened.",
    ),
)


class LintArgs(Record, frozen=True):
    """What ``kmslint [OPTIONS] [PATH ...]`` was given: the paths and a field for each option
    of :data:`CHECK` (its ``param``), as click would pass them (``tests/test_importtime.py``
    checks that the two lists agree)."""

    paths: tuple[str, ...]
    fmt: str
    fail_on: str | None
    select: tuple[str, ...]
    extend_select: tuple[str, ...]
    ignore: tuple[str, ...]
    account_id: str | None
    strict: bool | None
    show_suppressed: bool
    stdin_filename: str | None
    exclude: tuple[str, ...]
    color: bool | None
    exit_zero: bool
    config_file: str | None
    no_config: bool
    baseline_file: str | None
    write_baseline: str | None
    output: str | None
    reports: tuple[str, ...]
    jobs: int | None
    cache_dir: str | None
    max_file_bytes: int | None
    max_depth: int | None
    allow_nothing_to_lint: bool
    verbose: bool
    version: bool


def default(option: Option) -> object:
    """What the parameter is when the option is not given."""
    if option.kind == MULTIPLE:
        return ()
    if option.kind == FLAG:
        return False
    return option.default


# The subcommands of ``kmslint.cli.main``: a first argument naming one is not a path.
SUBCOMMANDS = frozenset({"check", "rules", "explain", "lsp", "access"})


def option_table(specs: tuple[Option, ...]) -> dict[str, tuple[str, str]]:
    """Each option's name -> (parameter, kind), kind being "value", "multiple", "true" or
    "false" (flags and the two halves of --x/--no-x)."""
    table: dict[str, tuple[str, str]] = {}
    for spec in specs:
        if spec.kind == PAIR:
            on, off = spec.names
            table[on] = (spec.param, "true")
            table[off] = (spec.param, "false")
            continue
        kind = "true" if spec.kind == FLAG else spec.kind
        for name in spec.names:
            table[name] = (spec.param, kind)
    return table


# The options of ``kmslint check``, by name.
OPTIONS = option_table(CHECK)


def paths_stay_paths(argv: list[str]) -> list[str]:
    """``argv`` with each argument that names an existing file moved after ``--``, as a path.

    pre-commit passes the changed files' names after the hook's options, and
    a pull request chooses those names: a file called
    ``--write-baseline=x.json`` or ``--exclude=*.tf.json`` would otherwise be
    an option that passes the gate.  An argument that names something on
    disk is therefore a path, even when it starts with ``-``.  (An option's
    value is left alone: ``--exclude -x`` stays a pattern.)  Subcommands
    other than ``check`` take no paths and are left as they are.
    """
    if argv and argv[0] in SUBCOMMANDS:
        if argv[0] != "check":
            return argv
        return [argv[0], *paths_stay_paths(argv[1:])]
    kept: list[str] = []
    files: list[str] = []
    rest = ["--"]
    wants_value = False  # the previous argument was an option taking this one as its value
    for i, arg in enumerate(argv):
        if wants_value:
            kept.append(arg)
            wants_value = False
            continue
        if arg == "--":
            rest = argv[i:]
            break
        if arg.startswith("-") and arg != "-" and os.path.lexists(arg):
            files.append(arg)
            continue
        kept.append(arg)
        name, eq, _ = arg.partition("=")
        spec = OPTIONS.get(name)
        wants_value = spec is not None and spec[1] in ("value", "multiple") and not eq
    return [*kept, *rest, *files] if files else argv
