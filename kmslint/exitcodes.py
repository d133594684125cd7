"""Exit codes, in one place (OUTPUT.md)."""

from typing import Final

OK: Final = 0  # no unsuppressed finding at or above --fail-on
FINDINGS: Final = 1  # at least one such finding
ERROR: Final = 2  # usage or configuration error, or a named file could not be read or parsed
