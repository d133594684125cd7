"""Valid HCL that tree-sitter-hcl rejects, rewritten so that the grammar accepts it.

tree-sitter-hcl is stricter than Terraform's own scanner
(``hclsyntax/scan_tokens.rl`` in hashicorp/hcl) in a few places:

* a number with an exponent and no fraction (``1e3``, ``1E3``, ``1e+3``,
  ``7e-2``) is read as ``1`` followed by a stray identifier ``e3``;
* a heredoc whose marker has letters outside ASCII (``<<ÉTÉ``) never opens;
* a heredoc closing line that Terraform trims with Unicode whitespace
  (a no-break space after ``EOT``) never closes it.

Each is a syntax error to the grammar, which would turn the whole file into
one KMS000 and hide every finding in it.  When a tree has errors,
:func:`rewrite` scans the text the way Terraform's scanner does (comments,
quoted templates, heredocs and ``${}``/``%{}`` sequences inside them) and
returns a copy in which only such tokens are replaced by others **of the same
byte length** (digits, an ASCII marker, spaces).  Every byte offset, line and
column stays where it was, and every value is still read from the original
bytes: the copy only gets the grammar past a token it does not know.
Nothing inside a string, a comment or a heredoc's text is touched, so no
literal changes meaning.
"""

from __future__ import annotations

import re

from kmslint.parsers.common import Budget

# What Go's unicode.IsSpace counts, which is what bytes.TrimSpace strips from a
# heredoc's closing line: ASCII whitespace, NEL, NBSP and the Unicode spaces.
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"

# Expression tokens that matter here; everything else (operators, spaces) is skipped
# by the search.  Identifiers (ID_Start or '_', then ID_Continue or '-'; any byte past
# ASCII taken as part of one) are matched so that digits inside them are never read as
# numbers; numbers as the scanner's NumberLit (digits, dots and exponents, a dot only
# when more of the number follows).
_TOKEN = re.compile(
    rb"""(?P<ident>[A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff-]*)
    |(?P<number>[0-9](?:[0-9]|\.(?=[0-9eE])|[eE][+-]?[0-9])*)
    |(?P<comment>\#[^\n]*|//[^\n]*|/\*(?:[^*]|\*(?!/))*(?:\*/|\Z))
    |(?P<heredoc><<-?(?P<marker>[A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff-]*)\r?\n)
    |(?P<quote>")
    |(?P<open>\{)
    |(?P<close>~?\})""",
    re.X,
)
# A number's bytes as digits: e, E, + and - become 0.
_DIGITS_ONLY = bytes(c if 48 <= c <= 57 else 48 for c in range(256))
# Where a quoted template's literal text may end or change.
_STRING_STOP = re.compile(rb'[\\"$%\n]')
# A ${ or %{ sequence in heredoc text: one with the same character before it ($${, %%{)
# is literal text.
_SEQUENCE = re.compile(rb"(?<!\$)\$\{|(?<!%)%\{")

# Only these can make the grammar fail where Terraform would not: a file with
# none of them is not worth scanning.
_CANDIDATE = re.compile(rb"[0-9][eE]|<<-?[A-Za-z0-9_-]*[\x80-\xff]|[\xc2\xe1\xe2\xe3][\x80-\xbf]")


def rewrite(data: bytes, budget: Budget | None = None) -> bytes | None:
    """``data`` with the tokens tree-sitter-hcl rejects replaced, same length; None if there are none.

    The scan pays ``budget`` a step per token or line it looks at.
    """
    if _CANDIDATE.search(data) is None:
        return None
    patches = _Scanner(data, budget or Budget()).run()
    if not patches:
        return None
    out = bytearray(data)
    for start, replacement in patches:
        out[start : start + len(replacement)] = replacement
    assert len(out) == len(data)
    return bytes(out)


class _Scanner:
    """A scanner of HCL's lexical modes, collecting ``(offset, same-length bytes)`` patches.

    The mode stack holds what a closing brace returns to: ``("string",)``,
    ``("heredoc", marker)``; ``braces`` counts open braces and ``returns`` the
    brace depth at which each ``${``/``%{`` sequence closes, as the scanner's
    ``retBraces`` does.
    """

    def __init__(self, data: bytes, budget: Budget) -> None:
        self.data = data
        self.budget = budget
        self.pos = 0
        self.patches: list[tuple[int, bytes]] = []
        self.braces = 0
        self.returns: list[tuple[int, tuple[str, bytes]]] = []
        self.markers: dict[bytes, bytes] = {}  # heredoc marker past ASCII -> its stand-in
        self.stand_ins: dict[int, bytes | None] = {}  # by width
        self.closers: dict[bytes, tuple[int, int | None]] = {}  # marker -> (searched from, closing line)
        self.newline = (0, 0)  # (searched from, start of the next line)

    def run(self) -> list[tuple[int, bytes]]:
        mode: tuple[str, bytes] | None = None  # None: expression tokens
        while self.pos < len(self.data):
            self.budget.spend()
            if mode is None:
                mode = self._expression()
            elif mode[0] == "string":
                mode = self._string()
            else:
                mode = self._heredoc(mode[1], start_of_line=self._at_line_start())
        return self.patches

    def _at_line_start(self) -> bool:
        return self.pos == 0 or self.data[self.pos - 1 : self.pos] == b"\n"

    # ------------------------------------------------------------------ expression mode

    def _expression(self) -> tuple[str, bytes] | None:
        """Scan expression tokens until a template (string, heredoc) starts or a ``${`` ends."""
        data, budget = self.data, self.budget
        for token in _TOKEN.finditer(data, self.pos):
            budget.spend()
            kind = token.lastgroup
            if kind == "number":
                self._number(token)
            elif kind == "quote":
                self.pos = token.end()
                return ("string", b"")
            elif kind == "heredoc":
                self._ascii_marker(token)
                self.pos = token.end()
                return ("heredoc", token.group("marker"))
            elif kind == "open":
                self.braces += 1
            elif kind == "close":
                self.braces -= 1
                if self.returns and self.returns[-1][0] == self.braces + 1:
                    self.pos = token.end()
                    return self.returns.pop()[1]
        self.pos = len(data)
        return None

    def _number(self, number: re.Match[bytes]) -> None:
        """``1e3``: digits of the same length for the grammar (the value is read from the original).

        Not after a dot: there a number is a legacy index (``a.0``), which has no exponent.
        """
        text = number.group()
        if b"." in text or not (b"e" in text or b"E" in text) or not text[-1:].isdigit():
            return
        start = number.start()
        if self.data[start - 1 : start] != b".":
            self.patches.append((start, text.translate(_DIGITS_ONLY)))

    # ------------------------------------------------------------------ templates

    def _enter_sequence(self, back_to: tuple[str, bytes], width: int) -> None:
        """``${`` or ``%{`` (``width`` bytes, with a ``~``): expression tokens until its brace closes."""
        self.pos += width
        self.braces += 1
        self.returns.append((self.braces, back_to))

    def _sequence_width(self) -> int:
        """The width of a ``${``/``%{`` opening here (escapes ``$${``/``%%{`` are 0: literal text)."""
        data, pos = self.data, self.pos
        if data[pos + 1 : pos + 2] != b"{":
            return 0
        return 3 if data[pos + 2 : pos + 3] == b"~" else 2

    def _string(self) -> tuple[str, bytes] | None:
        data = self.data
        while True:
            self.budget.spend()
            stop = _STRING_STOP.search(data, self.pos)
            if stop is None:
                self.pos = len(data)
                return None
            self.pos = stop.start()
            ch = data[self.pos : self.pos + 1]
            if ch == b"\\":
                self.pos += 2
            elif ch in (b'"', b"\n"):  # the end (or, at a newline, a syntax error either way)
                self.pos += 1
                return None
            elif data[self.pos + 1 : self.pos + 2] == ch and data[self.pos + 2 : self.pos + 3] == b"{":
                self.pos += 3  # $${ and %%{ are literal text
            else:
                width = self._sequence_width()
                if width:
                    self._enter_sequence(("string", b""), width)
                    return None
                self.pos += 1

    def _heredoc(self, marker: bytes, start_of_line: bool) -> tuple[str, bytes] | None:
        """Heredoc text up to its closing line, or up to a ``${``/``%{`` sequence before it."""
        data = self.data
        # After a sequence, the line it is on can no longer close the heredoc.
        first = self.pos if start_of_line else self._next_line(self.pos)
        close = self._closing_line_at(marker, first)
        sequence = _SEQUENCE.search(data, self.pos, len(data) if close is None else close)
        if sequence is not None:
            self.pos = sequence.start()
            self._enter_sequence(("heredoc", marker), self._sequence_width())
            return None
        if close is None:
            self.pos = len(data)  # unterminated: a syntax error either way
            return None
        end = data.find(b"\n", close)
        self._closing_line(close, data[close:end], marker)
        self.pos = end
        return None

    def _next_line(self, pos: int) -> int:
        """Where the line after the one holding ``pos`` starts (the end of the file if none).

        Remembered: a line of many ``${}`` asks after each one.
        """
        searched, found = self.newline
        if not searched <= pos < found:
            newline = self.data.find(b"\n", pos)
            found = len(self.data) if newline < 0 else newline + 1
            self.newline = (pos, found)
        return found

    def _closing_line_at(self, marker: bytes, first: int) -> int | None:
        """Where the first line from ``first`` on that closes the heredoc starts: Terraform's
        rule, the line trimmed of (Unicode) spaces is the marker, and a newline ends it.

        The answer found from a position holds from every position up to it: a heredoc of
        many ``${}`` asks again after each, and searching the rest of the file each time
        was quadratic (700,000 of them: 23 s).
        """
        known = self.closers.get(marker)
        if known is not None and known[0] <= first and (known[1] is None or first <= known[1]):
            return known[1]
        found = self._find_closing_line(marker, first)
        self.closers[marker] = (first, found)
        return found

    def _find_closing_line(self, marker: bytes, first: int) -> int | None:
        data = self.data
        at = data.find(marker, first)
        while at >= 0:
            self.budget.spend()
            start = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at)
            if end < 0:
                return None
            if start >= first and _go_trim(data[start:end]) == marker:
                return start
            at = data.find(marker, end + 1)  # the rest of this line cannot close it either
        return None

    # ------------------------------------------------------------------ heredoc markers

    def _ascii_marker(self, opening: re.Match[bytes]) -> None:
        """A marker with letters past ASCII: an ASCII one of the same length, found nowhere in the file."""
        marker = opening.group("marker")
        if marker.isascii():
            return
        stand_in = self._stand_in(len(marker))
        if stand_in is None:
            return
        self.markers[marker] = stand_in
        self.patches.append((opening.start("marker"), stand_in))

    def _stand_in(self, width: int) -> bytes | None:
        """An ASCII identifier ``width`` bytes long that occurs nowhere in the file, so that no
        line of any heredoc can close it early; None if the first few candidates all do.

        Markers of one width share it: a heredoc's closing line is rewritten only where
        Terraform closes that heredoc, so two markers never meet on one line.  Each
        candidate is a search of the whole file: their number is bounded, per width and
        in all, so that a file of many odd markers cannot make the search quadratic.
        """
        if width in self.stand_ins:
            return self.stand_ins[width]
        found = None
        if len(self.stand_ins) < _MAX_WIDTHS:
            for i in range(_CANDIDATES):
                head = _LETTERS[i % 26 : i % 26 + 1] + _base36(i // 26)
                if len(head) > width:
                    break
                candidate = head.ljust(width, b"_")
                if candidate not in self.data:
                    found = candidate
                    break
        self.stand_ins[width] = found
        return found

    def _closing_line(self, start: int, line: bytes, marker: bytes) -> None:
        """Make a closing line the grammar recognises: the stand-in marker, ASCII spaces around it."""
        text = line.decode("utf-8", "replace")
        lead = len(text) - len(text.lstrip(_GO_SPACE))
        head = len(text[:lead].encode("utf-8", "replace"))
        tail = head + len(marker)
        if not line[:head].isascii():
            self.patches.append((start, b" " * head))
        stand_in = self.markers.get(marker)
        if stand_in is not None:
            self.patches.append((start + head, stand_in))
        if not line[tail:].isascii():
            self.patches.append((start + tail, re.sub(rb"[^\t\r ]", b" ", line[tail:])))


_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Stand-in markers tried per width, and widths served per file (see _Scanner._stand_in).
_CANDIDATES = 64
_MAX_WIDTHS = 16


def _base36(n: int) -> bytes:
    digits = b"0123456789abcdefghijklmnopqrstuvwxyz"
    out = b""
    while True:
        n, r = divmod(n, 36)
        out = digits[r : r + 1] + out
        if n == 0:
            return out


def _go_trim(line: bytes) -> bytes:
    """``bytes.TrimSpace`` as Go does it (Unicode whitespace; invalid UTF-8 left alone)."""
    if line.isascii():
        return line.strip(b" \t\n\v\f\r")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return line.strip(b" \t\n\v\f\r")
    return text.strip(_GO_SPACE).encode("utf-8")
