"""Exit codes, in one place (OUTPUT.md)."""

from __future__ import annotations

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from typing import Final

OK: Final = 0  # no unsuppressed finding at or above --fail-on, and no KMS000
FINDINGS: Final = 1  # at least one such finding, or a KMS000 (whatever --fail-on says)
ERROR: Final = 2  # usage or configuration error, a named file could not be read or parsed, or an internal error
INTERRUPTED: Final = 130  # Ctrl-C (128 + SIGINT, as shells report it)
