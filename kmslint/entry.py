"""Where the ``kmslint`` command starts: the console script and ``python -m kmslint``.

A lint of one file lives about a tenth of a second, so two costs of a
Python process that a long-lived program never notices are worth avoiding
(measured on 2 cores, one Terraform file, medians):

* the cyclic garbage collector runs every 700 allocations, many times while
  the modules are imported; a higher threshold lets it run rarely (the model
  builds trees, not cycles), and it still runs on long runs;
* the interpreter's teardown (clearing every module and object) costs
  ~15 ms; the output is flushed and the process ends with ``os._exit``.

and importing click costs ~15 ms, so a plain lint (``kmslint [OPTIONS]
[PATH ...]`` with options from the table below) is parsed here and run by
:mod:`kmslint.lintcmd` directly.  Anything else -- a subcommand, ``--help``,
an option this table does not know, a value click would reject -- goes to
``kmslint.cli`` (click), which remains the definition of the command line:
``tests/test_importtime.py`` checks that this table and click agree and that
both give the same parameters for the same arguments.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from typing import NoReturn

# 100,000, not 20,000: a template's YAML nodes and values live until it is
# checked, and each collection scanned them again (5% of a 1,000-template run).
GC_THRESHOLD = 100_000

# The subcommands of ``kmslint.cli.main``: a first argument naming one is not a path.
SUBCOMMANDS = frozenset({"check", "rules", "explain", "lsp"})

# The options of ``kmslint check``: option -> (parameter, kind), kind being
# "value", "multiple", "true" or "false" (flags and the two halves of --x/--no-x).
OPTIONS: dict[str, tuple[str, str]] = {
    "--format": ("fmt", "value"),
    "--fail-on": ("fail_on", "value"),
    "--select": ("select", "multiple"),
    "--extend-select": ("extend_select", "multiple"),
    "--ignore": ("ignore", "multiple"),
    "--account-id": ("account_id", "value"),
    "--strict": ("strict", "true"),
    "--no-strict": ("strict", "false"),
    "--show-suppressed": ("show_suppressed", "true"),
    "--stdin-filename": ("stdin_filename", "value"),
    "--exclude": ("exclude", "multiple"),
    "--color": ("color", "true"),
    "--no-color": ("color", "false"),
    "--exit-zero": ("exit_zero", "true"),
    "--config": ("config_file", "value"),
    "--no-config": ("no_config", "true"),
    "--baseline": ("baseline_file", "value"),
    "--write-baseline": ("write_baseline", "value"),
    "--jobs": ("jobs", "value"),
    "-j": ("jobs", "value"),
    "--cache-dir": ("cache_dir", "value"),
    "--max-file-bytes": ("max_file_bytes", "value"),
    "--max-depth": ("max_depth", "value"),
    "--version": ("version", "true"),
}
DEFAULTS: dict[str, object] = {
    "paths": (),
    "fmt": "text",
    "fail_on": None,
    "select": (),
    "extend_select": (),
    "ignore": (),
    "account_id": None,
    "strict": None,
    "show_suppressed": False,
    "stdin_filename": None,
    "exclude": (),
    "color": None,
    "exit_zero": False,
    "config_file": None,
    "no_config": False,
    "baseline_file": None,
    "write_baseline": None,
    "jobs": None,
    "cache_dir": None,
    "max_file_bytes": None,
    "max_depth": None,
    "version": False,
}
# Integer options and their least value (click.IntRange).
MINIMUM = {"jobs": 0, "max_file_bytes": 1, "max_depth": 1}


def fast_params(argv: list[str]) -> dict[str, object] | None:
    """The parameters click would give ``check`` for ``argv``; None when click must decide."""
    if argv and argv[0] in SUBCOMMANDS:
        return None
    params = dict(DEFAULTS)
    multiple: dict[str, list[str]] = {}
    paths: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "-" or not arg.startswith("-"):
            paths.append(arg)
            continue
        name, eq, attached = arg.partition("=")
        if not eq and name.startswith("-j") and name[2:].isdigit():
            name, attached, eq = "-j", name[2:], "="
        spec = OPTIONS.get(name)
        if spec is None or (eq and not name.startswith("--")):
            return None  # --help, --, an unknown option, -x=y: click's to say
        param, kind = spec
        if kind in ("true", "false"):
            if eq:
                return None
            params[param] = kind == "true"
            continue
        value = attached if eq else next(args, None)
        if value is None or (not eq and value.startswith("-") and value != "-"):
            return None
        if kind == "multiple":
            multiple.setdefault(param, []).append(value)
        else:
            params[param] = value
    for param, values in multiple.items():
        params[param] = tuple(values)
    params["paths"] = tuple(paths)
    return params if _valid(params) else None


def _valid(params: dict[str, object]) -> bool:
    """Convert and check values as click's types would; False when click must report a problem."""
    from kmslint.formatters import FORMATS
    from kmslint.model import Severity

    if params["fmt"] not in FORMATS:
        return False
    if params["fail_on"] is not None and params["fail_on"] not in {s.label for s in Severity}:
        return False
    for param, least in MINIMUM.items():
        value = params[param]
        if value is None:
            continue
        text = str(value).strip()
        if not text.lstrip("+-").isdigit() or not text.isascii() or int(text) < least:
            return False
        params[param] = int(text)
    return True


def main() -> None:
    gc.set_threshold(GC_THRESHOLD, 50, 50)
    code: object = 0
    try:
        params = fast_params(sys.argv[1:])
        if params is not None:
            from kmslint import lintcmd

            # A usage problem is raised before anything is read: click says it, with the usage line.
            with contextlib.suppress(lintcmd.UsageProblem):
                lintcmd.run(**params)  # type: ignore[arg-type]
        from kmslint.cli import main as cli

        cli()  # click's standalone mode ends with SystemExit
    except SystemExit as exc:
        code = exc.code
    except BrokenPipeError:  # `kmslint ... | head`: the reader has gone, say nothing more
        code = 1
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    _finish(code)


def _finish(code: object) -> NoReturn:
    """Print what ``sys.exit(code)`` would print, flush, and end the process now (no teardown)."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    for stream in (sys.stdout, sys.stderr):
        if stream is None or stream.closed:  # the language server closes stdout itself
            continue
        try:
            stream.flush()
        except OSError:  # the reader has gone: nothing more can be said
            status = status or 1
    os._exit(status)


if __name__ == "__main__":
    main()
