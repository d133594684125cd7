"""Baselines: adopt kmslint in a repository that already has findings.

``kmslint --write-baseline FILE`` records every current (unsuppressed)
finding; ``kmslint --baseline FILE`` then reports only findings that are not
in it.  A finding is recorded by a fingerprint that survives edits elsewhere
in the file -- lines moving up or down, other resources changing:

* the rule ID,
* the resource (``aws_kms_key.logs``, a logical ID, or null),
* the file, relative to the baseline file's directory (so it does not
  matter from which directory kmslint runs),
* a hash of the offending node's normalised content (``Finding.content``,
  set by the check: the statement, the attribute and its value, ...).

Matching counts occurrences: when the baseline holds a fingerprint twice and
the code now has it three times, one of the three (the last in report order)
is new.  Findings in the baseline are kept in the report, marked suppressed
with the reason ``in the baseline``, so ``--show-suppressed`` still lists
them and exit codes ignore them.

The file is JSON with a ``version`` field, one entry per finding, sorted, so
that it diffs well and two runs on the same code write the same bytes.
Parse errors (KMS000) are never recorded: a file that cannot be parsed is not
something to accept.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from kmslint.fingerprint import Identity, recorded
from kmslint.model import PARSE_ERROR, SUPPRESSED_BY_BASELINE, Finding
from kmslint.record import Record, replace

VERSION = 1
NOT_RECORDED = frozenset({PARSE_ERROR})
# A baseline entry is ~200 bytes: this holds well over a hundred thousand findings.
MAX_BYTES = 32 * 1024 * 1024

Fingerprint = Identity  # rule ID, file, resource, content hash (kmslint.fingerprint.recorded)


class BaselineError(Exception):
    """A baseline file that cannot be read or is not a kmslint baseline."""


def relative_file(file: str, base: Path) -> str:
    """``file`` (as reported: relative to the cwd, or absolute) relative to ``base``, with ``/``."""
    absolute = os.path.abspath(file)
    try:
        rel = os.path.relpath(absolute, base)
    except ValueError:  # another drive, on Windows
        rel = absolute
    return rel.replace(os.sep, "/")


def fingerprint(finding: Finding, base: Path) -> Fingerprint:
    """:func:`kmslint.fingerprint.recorded`, with the file relative to ``base``."""
    return recorded(finding, relative_file(finding.file, base))


def _base_of(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.abspath(path)).parent


def _recordable(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if not f.suppressed and f.rule_id not in NOT_RECORDED]


def render(findings: Iterable[Finding], path: str | os.PathLike[str]) -> str:
    """The baseline file's text for ``findings``, as it would be written at ``path``."""
    base = _base_of(path)
    prints = sorted(fingerprint(f, base) for f in _recordable(findings))
    entries = [{"rule_id": r, "file": file, "resource": res or None, "content": h} for r, file, res, h in prints]
    doc = {"version": VERSION, "tool": "kmslint", "findings": entries}
    return _escape_surrogates(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"


_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_surrogates(text: str) -> str:
    """JSON text with each lone surrogate written as a ``\\uXXXX`` escape.

    A file name that is not UTF-8 (``b"\\xff.tf"``) reaches Python as a lone
    surrogate, which no UTF-8 file can hold; as an escape, the file stays
    UTF-8 and reads back as the very same name, so the finding still matches.
    Only strings can hold one, so the escape always lands inside a string.
    """
    if text.isascii():
        return text
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def write(findings: Iterable[Finding], path: str | os.PathLike[str]) -> int:
    """Write the baseline of ``findings`` to ``path``; return how many findings it records."""
    from kmslint import fsio

    recordable = _recordable(findings)
    try:
        text = render(recordable, path)
        # A fresh random name, never followed if planted, then renamed over the target (fsio).
        fsio.write_atomic(path, text.encode("utf-8"))
    except OSError as exc:
        raise BaselineError(f"{os.fspath(path)}: cannot write the baseline: {exc.strerror or exc}") from None
    return len(recordable)


class Baseline(Record, frozen=True):
    path: str
    counts: Counter[Fingerprint]

    def __len__(self) -> int:
        return sum(self.counts.values())


def _entry(item: object, index: int, path: str) -> Fingerprint:
    where = f"{path}: findings[{index}]"
    if not isinstance(item, dict):
        raise BaselineError(f"{where}: expected an object with rule_id, file, resource and content")
    values: list[str] = []
    for key in ("rule_id", "file", "content"):
        value = item.get(key)
        if not isinstance(value, str) or not value:
            raise BaselineError(f"{where}.{key}: expected a non-empty string")
        values.append(value)
    resource = item.get("resource")
    if resource is not None and not isinstance(resource, str):
        raise BaselineError(f"{where}.resource: expected a string or null")
    rule_id, file, content = values
    return (rule_id, file, resource or "", content)


def load(path: str | os.PathLike[str]) -> Baseline:
    """Read a baseline file (raises :class:`BaselineError`)."""
    from kmslint import fsio

    shown = os.fspath(path)
    if fsio.link_escapes(path):  # a pull request may replace the committed baseline by a link
        raise BaselineError(f"{shown}: cannot read the baseline: a symbolic link out of its repository")
    try:
        text = fsio.read_regular(path, MAX_BYTES).decode("utf-8")
    except FileNotFoundError:
        raise BaselineError(f"{shown}: no such baseline file (create it with --write-baseline)") from None
    except fsio.NotRegularFile:
        raise BaselineError(f"{shown}: cannot read the baseline: not a regular file") from None
    except fsio.TooLarge:
        raise BaselineError(f"{shown}: cannot read the baseline: over the {MAX_BYTES}-byte limit") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{shown}: cannot read the baseline: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        from kmslint.parsers.wording import same_on_every_python

        exc = same_on_every_python(exc)
        raise BaselineError(f"{shown}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    except RecursionError:  # thousands of nested brackets
        raise BaselineError(f"{shown}: not a kmslint baseline (nested too deeply)") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
        raise BaselineError(f"{shown}: not a kmslint baseline (expected an object with version and findings)")
    version = doc.get("version")
    if version != VERSION:
        raise BaselineError(f"{shown}: version: expected {VERSION}, got {json.dumps(version)}")
    counts: Counter[Fingerprint] = Counter(_entry(item, i, shown) for i, item in enumerate(doc["findings"]))
    return Baseline(shown, counts)


def apply(findings: list[Finding], baseline: Baseline) -> list[Finding]:
    """Mark the findings recorded in ``baseline`` as suppressed (reason: in the baseline).

    ``findings`` are in report order; when the code has a fingerprint more
    often than the baseline does, the first ones match and the rest are new.
    """
    base = _base_of(baseline.path)
    remaining = Counter(baseline.counts)
    reason = f"in the baseline ({baseline.path})"
    out: list[Finding] = []
    for f in findings:
        if not f.suppressed and f.rule_id not in NOT_RECORDED:
            key = fingerprint(f, base)
            if remaining[key] > 0:
                remaining[key] -= 1
                out.append(
                    replace(f, suppressed=True, suppression_reason=reason, suppression_kind=SUPPRESSED_BY_BASELINE)
                )
                continue
        out.append(f)
    return out


__all__ = ["VERSION", "Baseline", "BaselineError", "apply", "fingerprint", "load", "render", "write"]
