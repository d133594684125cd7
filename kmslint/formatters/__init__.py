r"""Output formats, keyed by ``--format`` name and imported only when chosen.

Text from the input is data (OUTPUT.md): names, Sids and values quoted in
messages and file names come from files a pull request may have written,
so no format lets them act on what reads the output.  The helpers say how:

* :func:`terminal` escapes, in a field of ``text`` and ``github`` output (and
  stderr notes), every character that could act on a terminal or a log
  instead of being shown: C0 and C1 controls and DEL (a newline, ``\x1b[2K``,
  OSC 52), the Unicode bidirectional controls that reorder a line ("Trojan
  Source") and every other invisible or non-printable character, lone
  surrogates, and the GitHub runner's legacy ``##[command]`` prefix;
  :func:`log_line` keeps a line that starts with input (a file name) from
  starting a ``::command::``;
* :func:`json_text` serialises the JSON formats so that DEL, C1 and bidi
  controls and the separators are JSON escapes (the parsed value is
  unchanged) and the bytes are valid UTF-8 whatever the input held.

A lone surrogate stands for something that is not Unicode: a file name that
is not UTF-8 (Python carries byte 0xff as U+DCFF) or a JSON ``"\ud800"``
escape.  No UTF-8 text can hold one, so it is shown as an escape in every
format: ``\xff`` for the byte a file name had, ``\ud800`` otherwise.

The machine formats (:data:`UTF8_FORMATS`) are written as UTF-8 bytes
whatever the output stream's encoding; ``text`` and ``github`` in the
stream's encoding, with a backslash escape for what it cannot carry.
"""

from __future__ import annotations

import importlib
import re

from kmslint import HOMEPAGE
from kmslint.record import Record
from kmslint.report import Report

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from typing import Protocol

    class Formatter(Protocol):
        def __call__(self, report: Report, ctx: RenderContext) -> str: ...


# The formats that come first in --help and the errors, in this order; any other module
# in this package (but this one) is a format too, by its file name, after them.
_FIRST = ("text", "json", "sarif", "github", "junit", "gitlab")


def _formats() -> dict[str, str]:
    """``--format`` name -> module, from the modules in this package (none imported here)."""
    import os

    try:
        names = {n[:-3] for n in os.listdir(os.path.dirname(__file__)) if n.endswith(".py") and n != "__init__.py"}
    except OSError:  # not a directory on disk (a zip import): the built-in formats
        names = set(_FIRST)
    ordered = [n for n in _FIRST if n in names] + sorted(names - set(_FIRST))
    return {name: f"kmslint.formatters.{name}" for name in ordered if name.isidentifier()}


FORMATS: dict[str, str] = _formats()

# Formats read by people, in the output stream's own encoding; every other format is read
# by programs and written as UTF-8 bytes whatever the stream's encoding.
TERMINAL_FORMATS = frozenset({"text", "github"})
UTF8_FORMATS = frozenset(FORMATS) - TERMINAL_FORMATS

# Where each rule's documentation lives (SARIF helpUri, LSP codeDescription), under kmslint.HOMEPAGE.
# docs/rules.md is generated from rules/*.yaml, one section per rule.
RULE_DOCS = HOMEPAGE + "/blob/main/docs/rules.md#{anchor}"


class RenderContext(Record, frozen=True):
    version: str
    show_suppressed: bool = False
    color: bool = False


def get(name: str) -> Formatter:
    module = importlib.import_module(FORMATS[name])
    render: Formatter = module.render
    return render


def rule_doc_url(rule_id: str) -> str:
    """The page documenting one rule: its section of docs/rules.md (``#kms003-wildcard-principal``)."""
    from kmslint import catalog, ruledoc

    rule = catalog.rules().get(rule_id)
    return RULE_DOCS.format(anchor=ruledoc.anchor(rule) if rule is not None else rule_id.lower())


# --------------------------------------------------------------------------- text from the input is data

# The characters JSON and XML output write as escapes or references (their values
# unchanged): DEL and C1 controls; the bidirectional controls (ALM, LRM, RLM,
# LRE/RLE/PDF/LRO/RLO, LRI/RLI/FSI/PDI); the line and paragraph separators;
# lone surrogates, which no UTF-8 text can hold.
_ACTIVE = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_SURROGATES = "\ud800-\udfff"
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# The legacy workflow-command prefix, which the GitHub Actions runner obeys
# anywhere in a log line (``::command::`` only at a line's start).
_LEGACY_COMMAND = "##["


def _shown(char: str) -> str:
    r"""How one unsafe character is shown: ``\n``, ``\x1b``, ``\x9b``, ``\u202e``, ``\xff``, ``\U000e0041``."""
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if 0xDC80 <= code <= 0xDCFF:  # a byte of a name that is not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def terminal(text: str, keep: str = "") -> str:
    r"""``text`` with everything that could act on a terminal or a CI log shown escaped.

    Every character Python does not count as printable is escaped: C0 and C1
    controls and DEL (a newline, ``\x1b[2K``, OSC 52), format characters
    (the bidi controls that reorder a line, zero-width and other invisible
    ones), lone surrogates, separators other than the space, private-use and
    unassigned code points.  And ``##[``, the legacy workflow command that
    the GitHub Actions runner obeys anywhere in a line, is shown as
    ``##\x5b``.  Applied to whole fields (file name, message, resource,
    reason): kmslint's own words never contain these, so only quoted input
    changes.  ``keep``: characters the caller escapes its own way (``github``
    turns CR and LF into ``%0D``/``%0A``, which an annotation shows as a line
    break).
    """
    if not text.isprintable():  # the common case costs one C loop
        text = "".join(c if c.isprintable() or c in keep else _shown(c) for c in text)
    if _LEGACY_COMMAND in text:
        text = text.replace(_LEGACY_COMMAND, "##\\x5b")
    return text


def log_line(line: str) -> str:
    r"""``line`` (already escaped) made unable to start a workflow command, where it starts with input.

    The runner takes a line whose text starts with ``::`` (after leading
    blanks) as a command: a file named ``::error file=x::forged.tf`` would
    start a line of text output.  Its first colon is shown as ``\x3a``.
    """
    stripped = line.lstrip()
    if not stripped.startswith("::"):
        return line
    at = len(line) - len(stripped)
    return f"{line[:at]}\\x3a{line[at + 1 :]}"


def unsurrogate(text: str) -> str:
    r"""``text`` with each lone surrogate shown escaped (``\xff``, ``\ud800``): encodable as UTF-8."""
    if text.isascii():
        return text
    return _SURROGATE.sub(lambda m: _shown(m.group()), text)


_SURROGATE = re.compile(f"[{_SURROGATES}]")
_JSON_UNSAFE = re.compile(f"[{_ACTIVE}{_SURROGATES}]")


def _json_escape(char: str) -> str:
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:  # not Unicode: its escaped form, as text (a backslash, JSON-escaped)
        return "\\" + _shown(char)
    return f"\\u{code:04x}"  # a JSON escape: the value read back is this very character


def json_text(doc: object) -> str:
    r"""``doc`` as indented JSON: valid UTF-8, no raw control or bidi character, values unchanged.

    ``json`` escapes C0 controls itself; DEL, C1 controls, bidi controls and
    the separators become ``\u`` escapes here (they can only occur inside
    strings), and a lone surrogate becomes the text of its escape.  The ``[``
    of ``##[`` is written ``\u005b``, so a report printed in a GitHub Actions
    log carries no legacy workflow command.
    """
    import json

    text = json.dumps(doc, indent=2, ensure_ascii=False)
    if _LEGACY_COMMAND in text:  # only inside strings: JSON's own brackets never follow "##"
        text = text.replace(_LEGACY_COMMAND, "##\\u005b")
    if text.isascii() and "\x7f" not in text:
        return text + "\n"
    return _JSON_UNSAFE.sub(lambda m: _json_escape(m.group()), text) + "\n"
