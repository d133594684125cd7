"""Where the ``kmslint`` command starts: the console script and ``python -m kmslint``.

A lint of one file lives about a tenth of a second, so two costs of a
Python process that a long-lived program never notices are worth avoiding
(measured on 2 cores, one Terraform file, medians):

* the cyclic garbage collector runs every 700 allocations, many times while
  the modules are imported; a higher threshold lets it run rarely (the model
  builds trees, not cycles), and it still runs on long runs;
* the interpreter's teardown (clearing every module and object) costs
  ~15 ms; the output is flushed and the process ends with ``os._exit``.

The command line itself is ``kmslint.cli`` (click); library callers and
tests use that directly.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import NoReturn

GC_THRESHOLD = 20_000


def main() -> None:
    gc.set_threshold(GC_THRESHOLD, 50, 50)
    code: object = 0
    try:
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
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            status = status or 1
    os._exit(status)


if __name__ == "__main__":
    main()
