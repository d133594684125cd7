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

# What Go's unicode.IsSpace counts, which is what bytes.TrimSpace strips from a
# heredoc's closing line: ASCII whitespace, NEL, NBSP and the Unicode spaces.
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"

# The scanner's NumberLit: a digit, then digits, dots and exponents (a dot only
# when more of the number follows).
_NUMBER = re.compile(rb"[0-9](?:[0-9]|\.(?=[0-9eE])|[eE][+-]?[0-9])*")
# Identifiers: ID_Start or '_', then ID_Continue or '-'.  Any byte past ASCII is
# taken as part of one: in expression position it can be nothing else valid.
_IDENT = re.compile(rb"[A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff-]*")
_HEREDOC_OPEN = re.compile(rb"<<(-?)([A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff-]*)\r?\n")
_SPACES = re.compile(rb"[ \t\r\n]+")
# Where a quoted template's literal text may end or change.
_STRING_STOP = re.compile(rb'[\\"$%\n]')
_HEREDOC_STOP = re.compile(rb"[$%\n]")

# Only these can make the grammar fail where Terraform would not: a file with
# none of them is not worth scanning.
_CANDIDATE = re.compile(rb"[0-9][eE]|<<-?[A-Za-z0-9_-]*[\x80-\xff]|[\xc2\xe1\xe2\xe3][\x80-\xbf]")


def rewrite(data: bytes) -> bytes | None:
    """``data`` with the tokens tree-sitter-hcl rejects replaced, same length; None if there are none."""
    if _CANDIDATE.search(data) is None:
        return None
    patches = _Scanner(data).run()
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

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.patches: list[tuple[int, bytes]] = []
        self.braces = 0
        self.returns: list[tuple[int, tuple[str, bytes]]] = []
        self.after_dot = False  # the last token was `.`: a number there is a legacy index
        self.markers: dict[bytes, bytes] = {}  # heredoc marker past ASCII -> its stand-in

    def run(self) -> list[tuple[int, bytes]]:
        mode: tuple[str, bytes] | None = None  # None: expression tokens
        while self.pos < len(self.data):
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
        data = self.data
        while self.pos < len(data):
            ch = data[self.pos : self.pos + 1]
            space = _SPACES.match(data, self.pos)
            if space is not None:
                self.pos = space.end()
                continue
            if ch == b"#" or data.startswith(b"//", self.pos):
                end = data.find(b"\n", self.pos)
                self.pos = len(data) if end < 0 else end
                continue
            if data.startswith(b"/*", self.pos):
                end = data.find(b"*/", self.pos + 2)
                self.pos = len(data) if end < 0 else end + 2
                continue
            dot, self.after_dot = self.after_dot, False
            if ch == b'"':
                self.pos += 1
                return ("string", b"")
            if ch == b"<":
                heredoc = _HEREDOC_OPEN.match(data, self.pos)
                if heredoc is not None:
                    self._ascii_marker(heredoc)
                    self.pos = heredoc.end()
                    return ("heredoc", heredoc.group(2))
                self.pos += 1
                continue
            if ch.isdigit():
                number = _NUMBER.match(data, self.pos)
                assert number is not None
                self._number(number, dot)
                self.pos = number.end()
                continue
            ident = _IDENT.match(data, self.pos)
            if ident is not None:
                self.pos = ident.end()
                continue
            if ch == b"{":
                self.braces += 1
            elif ch == b"}" or data.startswith(b"~}", self.pos):
                self.pos += 1 if ch == b"}" else 2
                if self.returns and self.returns[-1][0] == self.braces:
                    self.braces -= 1
                    return self.returns.pop()[1]
                self.braces -= 1
                continue
            elif ch == b".":
                self.after_dot = not data.startswith(b"..", self.pos)
            self.pos += 1
        return None

    def _number(self, number: re.Match[bytes], after_dot: bool) -> None:
        """``1e3``: digits of the same length for the grammar (the value is read from the original)."""
        text = number.group()
        if after_dot or b"." in text or not (b"e" in text or b"E" in text):
            return
        if not text[-1:].isdigit():
            return
        self.patches.append((number.start(), re.sub(rb"[^0-9]", b"0", text)))

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
        """Heredoc text up to its closing line (Terraform's rule: the line, trimmed, is the marker)."""
        data = self.data
        while self.pos < len(data):
            if start_of_line:
                end = data.find(b"\n", self.pos)
                if end < 0:
                    break  # a marker line must end with a newline: unterminated
                line = data[self.pos : end]
                if _go_trim(line) == marker:
                    self._closing_line(line, marker)
                    self.pos = end
                    return None
            stop = _HEREDOC_STOP.search(data, self.pos)
            if stop is None:
                break
            self.pos = stop.start()
            ch = data[self.pos : self.pos + 1]
            if ch == b"\n":
                self.pos += 1
                start_of_line = True
                continue
            start_of_line = False
            if data[self.pos + 1 : self.pos + 2] == ch and data[self.pos + 2 : self.pos + 3] == b"{":
                self.pos += 3
                continue
            width = self._sequence_width()
            if width:
                self._enter_sequence(("heredoc", marker), width)
                return None
            self.pos += 1
        self.pos = len(data)
        return None

    # ------------------------------------------------------------------ heredoc markers

    def _ascii_marker(self, opening: re.Match[bytes]) -> None:
        """A marker with letters past ASCII: an ASCII one of the same length, found nowhere in the file."""
        marker = opening.group(2)
        if marker.isascii():
            return
        stand_in = self._stand_in(len(marker))
        if stand_in is None:
            return
        self.markers[marker] = stand_in
        self.patches.append((opening.start(2), stand_in))

    def _stand_in(self, width: int) -> bytes | None:
        """An ASCII identifier ``width`` bytes long that occurs nowhere in the file (so no line of
        any heredoc can close it early), or None if the first few thousand all do."""
        for i in range(4096):
            head = _LETTERS[i % 26 : i % 26 + 1] + _base36(i // 26)
            if len(head) > width:
                break
            candidate = head.ljust(width, b"_")
            if candidate not in self.data:
                return candidate
        return None

    def _closing_line(self, line: bytes, marker: bytes) -> None:
        """Make a closing line the grammar recognises: the stand-in marker, ASCII spaces around it."""
        start = self.pos
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
