"""What every parser shares: options, limits and inline suppression comments."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from kmslint.model import Location, Suppression

DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_DEPTH = 200


@dataclass(frozen=True, slots=True)
class ParseOptions:
    """Limits and context a parser works under.

    ``scan_root``: ``file()``/``templatefile()`` never read outside it.
    ``display``: how a path is named in findings (as given, or relative to the cwd).
    """

    scan_root: Path = field(default_factory=Path.cwd)
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH
    display_names: dict[Path, str] = field(default_factory=dict)

    def display(self, path: Path) -> str:
        """The name a finding in ``path`` is reported under."""
        name = self.display_names.get(path)
        if name is not None:
            return name
        try:
            return str(path.resolve().relative_to(Path.cwd().resolve()))
        except ValueError:
            return str(path)


# kmslint:ignore KMS004, KMS002 -- reason text
_IGNORE = re.compile(
    r"(?:#|//|/\*)\s*kmslint:\s*ignore\b(?P<ids>[^\n]*?)(?:\s--\s*(?P<reason>.*?))?\s*(?:\*/)?\s*$",
)
_ID = re.compile(r"[A-Za-z][A-Za-z0-9-]*")


def parse_ignore_comment(line: str) -> tuple[tuple[str, ...], str] | None:
    """``(rule ids or slugs, reason)`` of a ``kmslint:ignore`` comment on ``line``, else None.

    IDs are separated by commas and/or spaces; the reason is the text after
    ``--`` (empty when there is none).  ``KMS004`` is upper-cased; slugs are
    kept as written (lower case).
    """
    m = _IGNORE.search(line)
    if m is None:
        return None
    ids = tuple(
        tok.upper() if tok.upper().startswith("KMS") else tok.lower() for tok in _ID.findall(m.group("ids") or "")
    )
    reason = (m.group("reason") or "").strip()
    return ids, reason


def comment_suppressions(
    lines: list[str],
    file: str,
    spans: list[tuple[str, int, int]],
    comment_lines: set[int] | None = None,
) -> list[Suppression]:
    """Inline suppressions for resources, from the text of one file.

    ``spans`` are ``(resource, first_line, last_line)`` (1-based).  A comment
    applies to the resource whose header is on the next line, whose header it
    is on, or whose block it is inside.  ``comment_lines``, when given, limits
    the search to lines the parser knows hold a comment (so a string that
    happens to contain ``# kmslint:ignore`` does not count).
    """
    out: list[Suppression] = []
    candidates = sorted(comment_lines) if comment_lines is not None else range(1, len(lines) + 1)
    for lineno in candidates:
        if lineno < 1 or lineno > len(lines):
            continue
        text = lines[lineno - 1]
        if "kmslint" not in text:
            continue
        parsed = parse_ignore_comment(text)
        if parsed is None:
            continue
        ids, reason = parsed
        resource = _owner(lineno, spans)
        col = text.find("kmslint") + 1
        loc = Location(file, lineno, max(col, 1), lineno, len(text) + 1)
        out.append(Suppression(resource, ids, reason, loc, file))
    return out


def _owner(lineno: int, spans: list[tuple[str, int, int]]) -> str | None:
    # The innermost block containing the line, else the block starting just below.
    inside = [(last - first, name) for name, first, last in spans if first <= lineno <= last]
    if inside:
        return min(inside)[1]
    for name, first, _last in spans:
        if first == lineno + 1:
            return name
    return None


class ParseFailure(Exception):
    """A file that cannot be parsed at all: reported as KMS000 at ``line``."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = max(line, 1)
        self.column = max(column, 1)
