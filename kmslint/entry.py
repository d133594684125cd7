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
[PATH ...]``) is parsed here and run by :mod:`kmslint.lintcmd` directly.
Anything else -- a subcommand, ``--help``, an option this parser does not
know, a value click would reject -- goes to ``kmslint.cli`` (click).  Both
build their options from the one list in :mod:`kmslint.options`, and
``tests/test_importtime.py`` checks that they give the same parameters for
the same arguments.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys

from kmslint import exitcodes, options
from kmslint.options import OPTIONS, SUBCOMMANDS, paths_stay_paths

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from typing import NoReturn

# 100,000, not 20,000: a template's YAML nodes and values live until it is
# checked, and each collection scanned them again (5% of a 1,000-template run).
GC_THRESHOLD = 100_000

# The parameters of ``kmslint check`` when no option is given.
DEFAULTS: dict[str, object] = {"paths": (), **{spec.param: options.default(spec) for spec in options.CHECK}}


def fast_params(argv: list[str]) -> dict[str, object] | None:
    """The parameters click would give ``check`` for ``argv``; None when click must decide."""
    if argv and argv[0] in SUBCOMMANDS:
        return None
    params = dict(DEFAULTS)
    multiple: dict[str, list[str]] = {}
    paths: list[str] = []
    args = iter(paths_stay_paths(argv))
    for arg in args:
        if arg == "--":  # the rest are paths, whatever they look like
            paths.extend(args)
            break
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
    for spec in options.CHECK:
        value = params[spec.param]
        if value is None:
            continue
        if spec.choices is not None and value not in spec.choices():
            return False
        if spec.minimum is None:
            continue
        text = str(value).strip()
        try:
            number = int(text)  # as click's INT does; "+-5" is click's to report
        except ValueError:
            return False
        if not text.isascii() or number < spec.minimum:
            return False
        params[spec.param] = number
    return True


def main() -> None:
    """Run the command line; whatever happens, end with an exit code and no traceback.

    Besides OUTPUT.md's 0/1/2: Ctrl-C exits 130 (as shells report SIGINT),
    saying nothing more; a failure kmslint did not foresee exits 2 (an
    error) with one line on stderr, ``kmslint: internal error: ...; please
    report it`` (the traceback too with ``KMSLINT_DEBUG=1``).
    """
    gc.set_threshold(GC_THRESHOLD, 50, 50)
    _reserve_standard_fds()
    code: object = 0
    try:
        params = fast_params(sys.argv[1:])
        if params is not None:
            from kmslint import lintcmd

            # A usage problem is raised before anything is read: click says it, with the usage line.
            with contextlib.suppress(lintcmd.UsageProblem):
                lintcmd.run(options.LintArgs(**params))  # type: ignore[arg-type]  # as _valid checked them
        from kmslint.cli import main as cli

        cli()  # click's standalone mode ends with SystemExit
    except SystemExit as exc:
        code = exc.code
    except BrokenPipeError:  # `kmslint ... | head`: the reader has gone, say nothing more
        code = 1
        _silence(sys.stdout)
    except KeyboardInterrupt:
        code = exitcodes.INTERRUPTED
    except Exception as exc:  # the last resort: one line, never a traceback
        code = internal_error(exc)
    _finish(code)


DEBUG_VARIABLE = "KMSLINT_DEBUG"


def internal_error(exc: BaseException) -> int:
    """Say, in one line on stderr, that kmslint failed in a way it did not foresee; return exit code 2.

    The message may quote the input, so it is shown ASCII-escaped (no
    control character reaches the terminal) and cut short.  With
    ``KMSLINT_DEBUG=1`` the traceback follows, for the bug report.
    """
    what = ascii(f"{type(exc).__name__}: {exc}")[1:-1]
    if len(what) > 300:
        what = what[:300] + "..."
    hint = "" if os.environ.get(DEBUG_VARIABLE) == "1" else f" (set {DEBUG_VARIABLE}=1 for the traceback)"
    try:
        if sys.stderr is not None:
            print(f"kmslint: internal error: {what}; please report it{hint}", file=sys.stderr)
            if not hint:
                import traceback

                traceback.print_exception(exc, file=sys.stderr)
    except (OSError, ValueError):  # stderr gone too: the exit code says it
        pass
    return exitcodes.ERROR


def _reserve_standard_fds() -> None:
    """Open /dev/null on any of descriptors 0, 1, 2 that the caller closed (``kmslint >&-``).

    Otherwise the first files kmslint opens would get those numbers, and
    anything written to "stdout" or "stderr" below Python would land in them.
    """
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            try:
                null = os.open(os.devnull, os.O_RDWR)
            except OSError:
                return
            if null != fd:
                os.dup2(null, fd)
                os.close(null)


def _silence(stream: object) -> None:
    """Point ``stream``'s descriptor at /dev/null, so flushing what is left of it cannot fail again."""
    try:
        fileno = stream.fileno()  # type: ignore[attr-defined]
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fileno)
        os.close(devnull)
    except (AttributeError, OSError, ValueError):
        pass


def _finish(code: object) -> NoReturn:
    """Print what ``sys.exit(code)`` would print, flush, and end the process now (no teardown)."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        if sys.stderr is not None:  # (print to None would print to stdout)
            with contextlib.suppress(OSError, ValueError):
                print(code, file=sys.stderr)
        status = 1
    for stream in (sys.stdout, sys.stderr):
        if stream is None or stream.closed:  # the language server closes stdout itself
            continue
        try:
            stream.flush()
        except (OSError, ValueError):  # the reader has gone: nothing more can be said
            status = status or 1
    os._exit(status)


if __name__ == "__main__":
    main()
