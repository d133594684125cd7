"""A policy written as JSON text in a CloudFormation template, read into a located value tree.

``KeyPolicy`` and ``PolicyDocument`` may be JSON strings: a literal, an
``Fn::Sub`` (``!Sub |`` over a block of JSON with ``${AWS::AccountId}`` in it),
or an ``Fn::Join`` of pieces (older and CDK-made templates).  The resolver hands
such a string over as *segments*: pieces of literal text (:class:`Text`), each
knowing where its characters are written, and the values put between them
(:class:`Slot`: a parameter without a default, a pseudo parameter, another
resource's ARN).

:func:`read` parses the text with a placeholder for each slot, then puts the
slots back: one inside a JSON string makes it an
:class:`~kmslint.model.Interpolated` string whose unknown part keeps its meaning
and reference (``arn:aws:iam::${AWS::AccountId}:root`` is the account root); one
standing where a value goes (``"Statement": [..., ${Extra}]``) is that value,
unknown.  Text that is valid JSON only once its unknown parts are filled in (a
slot in place of a member) is wholly unknown; text that is invalid whatever they
are is handed back as the string, for KMS013 to report, as a literal is.

Every value is located where its text is written: a YAML literal block line by
line, a one-line plain, quoted or JSON string character by character (through
its escapes).  Where that cannot be worked out (a folded block, a default taken
from a parameter) a piece's characters are all placed at its start.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from kmslint.model import (
    Conditional,
    DuplicateKey,
    Interpolated,
    Known,
    Location,
    Meaning,
    Unknown,
    Value,
    as_dict,
    known_str,
    scalar,
)
from kmslint.record import replace

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Protocol, TypeAlias

    from kmslint.parsers.common import Budget

    class Resolver(Protocol):
        """What the CloudFormation resolver offers to the reading of policy text."""

        budget: Budget | None
        lines: list[str] | None
        max_depth: int
        # Where keys written twice in policy text go (the project's list); None: nowhere.
        duplicates: list[DuplicateKey] | None

        def resolve(self, value: Value | None) -> Value | None: ...
        def sub_variables(self, text: str) -> Iterator[re.Match[str]]: ...
        def sub_template(self, arg: Value, loc: Location | None) -> tuple[Known, dict[str, Value]] | Unknown: ...
        def sub_part(self, m: re.Match[str], variables: dict[str, Value], loc: Location | None) -> str | Value: ...


# A run of positions: from ``offset`` on, character i is at (line, column + step * i); a run
# whose step is 0 places all its characters at (line, column) and ends at (end_line, end_column).
Run: TypeAlias = tuple[int, int, int, int, int, int]

# Placeholders: a private-use start mark, then one private-use character numbering the slot
# (the text may hold at most this many slots; past that it is read as unknown).
_PH = "\ue000"
_PH_BASE = 0xE100
MAX_SLOTS = 0xEFFF - _PH_BASE
_PLACEHOLDER = re.compile("\ue000([\ue100-\uefff])")


class Text:
    """Literal text of a policy string and where each of its characters is written."""

    __slots__ = ("_offsets", "runs", "text")

    def __init__(self, text: str, runs: list[Run]) -> None:
        self.text = text
        self.runs = runs
        self._offsets: list[int] | None = None

    @property
    def offsets(self) -> list[int]:
        """Where each run starts (worked out once: a text is sliced at each of its placeholders)."""
        if self._offsets is None:
            self._offsets = [r[0] for r in self.runs]
        return self._offsets

    @classmethod
    def at(cls, text: str, loc: Location) -> Text:
        """Text whose characters cannot be placed one by one: all at ``loc``."""
        return cls(text, [(0, loc.line, loc.column, 0, loc.end_line, loc.end_column)])

    def slice(self, start: int, end: int) -> Text:
        """The text from ``start`` to ``end``, with its positions."""
        runs = self.runs
        first = max(bisect_right(self.offsets, start) - 1, 0)
        out: list[Run] = []
        for i in range(first, len(runs)):  # not runs[first:]: a copy of the rest at every slice
            offset, line, column, step, end_line, end_column = runs[i]
            if offset >= end and out:
                break
            skip = max(start - offset, 0)
            out.append((max(offset - start, 0), line, column + step * skip, step, end_line, end_column))
        return Text(self.text[start:end], out)

    def position(self, offset: int) -> tuple[int, int]:
        """Where character ``offset`` is written."""
        return _position(self.runs, self.offsets, offset)

    def after(self, offset: int) -> tuple[int, int]:
        """Where the text written up to character ``offset`` (exclusive) ends."""
        return _after(self.runs, self.offsets, offset)


class Slot:
    """A value put into the text (never a known string: that is :class:`Text`), and where it is written."""

    __slots__ = ("end", "start", "value")

    def __init__(self, value: Unknown, start: tuple[int, int], end: tuple[int, int]) -> None:
        self.value = value
        self.start = start
        self.end = end


Segment: TypeAlias = Text | Slot


def scalar_text(text: str, loc: Location | None, lines: list[str] | None) -> Text | None:
    """A literal string of the template with each character placed where it is written.

    ``loc`` is the scalar's span, quotes or block indicator included; ``lines`` the
    file's lines (None: placing characters is not possible, as in a YAML file whose
    lines are not the editor's).  Whatever cannot be placed exactly is placed at the
    start of the scalar; None without a location.
    """
    if loc is None:
        return None
    runs: list[Run] | None = None
    if lines is not None and 0 < loc.line <= len(lines) and loc.end_line <= len(lines):
        if loc.line == loc.end_line:
            raw = lines[loc.line - 1][loc.column - 1 : loc.end_column - 1]
            runs = _one_line_runs(raw, text, loc.line, loc.column)
        else:
            runs = _literal_block_runs(text, loc, lines)
    return Text(text, runs) if runs is not None else Text.at(text, loc)


def _one_line_runs(raw: str, text: str, line: int, column: int) -> list[Run] | None:
    """Runs for a scalar written on one line: plain, or quoted with its escapes (YAML single
    quotes double a quote; YAML double quotes and JSON strings use backslashes)."""
    if raw == text:
        return [(0, line, column, 1, 0, 0)]
    if len(raw) < 2 or raw[0] != raw[-1] or raw[0] not in "'\"":
        return None
    inner = raw[1:-1]
    decode = _single_quoted if raw[0] == "'" else _double_quoted
    found = decode(inner)
    if found is None or found[0] != text:
        return None
    return [(offset, line, column + 1 + at, 1, 0, 0) for offset, at in found[1]]


def _single_quoted(inner: str) -> tuple[str, list[tuple[int, int]]] | None:
    out: list[str] = []
    marks = [(0, 0)]  # (offset in the decoded text, index in the written text) where a run starts
    size = 0
    i = 0
    while True:
        j = inner.find("''", i)
        if j < 0:
            out.append(inner[i:])
            return "".join(out), marks
        out.append(inner[i : j + 1])
        size += j + 1 - i
        i = j + 2
        marks.append((size, i))


# Backslash escapes of YAML double-quoted scalars (a superset of JSON's), by the letter after the backslash.
_ESCAPES = dict(
    zip(
        '0abt\tnvfre "/\\N_LP',
        '\0\a\b\t\t\n\v\f\r\x1b "/\\\x85\xa0\u2028\u2029',
        strict=True,
    )
)
_HEX_DIGITS = {"x": 2, "u": 4, "U": 8}


def _double_quoted(inner: str) -> tuple[str, list[tuple[int, int]]] | None:
    out: list[str] = []
    marks = [(0, 0)]
    size = 0
    i = 0
    while True:
        j = inner.find("\\", i)
        if j < 0:
            out.append(inner[i:])
            return "".join(out), marks
        out.append(inner[i:j])
        size += j - i
        letter = inner[j + 1 : j + 2]
        if letter in _ESCAPES:
            char, width = _ESCAPES[letter], 2
        elif letter in _HEX_DIGITS:
            width = 2 + _HEX_DIGITS[letter]
            try:
                char = chr(int(inner[j + 2 : j + width], 16))
            except ValueError:
                return None
        else:
            return None
        out.append(char)
        marks.append((size, j))  # the escaped character is placed at its backslash
        size += 1
        i = j + width
        marks.append((size, i))


def _literal_block_runs(text: str, loc: Location, lines: list[str]) -> list[Run] | None:
    """Runs for a YAML literal block (``|``, ``|-``, ``|+``): its content lines, each less the
    block's indentation.  None for any other multi-line scalar (folded, or flow scalars
    folded across lines), or when the lines do not give back the text."""
    header = lines[loc.line - 1][loc.column - 1 :].split("#", 1)[0].strip()
    if not header.startswith("|") or any(c.isdigit() for c in header):
        return None
    body = lines[loc.line : loc.end_line]
    indent = next((len(b) - len(b.lstrip(" ")) for b in body if b.strip()), None)
    if indent is None:
        return None
    runs: list[Run] = []
    pieces: list[str] = []
    size = 0
    for number, written in enumerate(body, start=loc.line + 1):
        piece = written[indent:]
        runs.append((size, number, indent + 1, 1, 0, 0))
        pieces.append(piece)
        size += len(piece) + 1
    if "\n".join(pieces).rstrip("\n") != text.rstrip("\n"):
        return None
    return runs


# --------------------------------------------------------------------------- segments of a template's text


def written_policy(resolver: Resolver, raw: Value) -> Value | None:
    """A policy property as written (``raw``) resolved, and read into a tree when it is JSON
    text: a literal, an ``Fn::Sub`` or an ``Fn::Join`` placed character by character, any
    other value resolved first (then read with every value placed at the whole string)."""
    segments = _segments(resolver, raw)
    if segments is not None and raw.loc is not None:
        return read(segments, raw.loc, resolver.max_depth, resolver.budget, resolver.duplicates)
    return read_resolved(resolver, resolver.resolve(raw))


def read_resolved(resolver: Resolver, value: Value | None) -> Value | None:
    """A resolved policy that is JSON text read into a tree, each ``Fn::If`` branch on its own;
    its values are all placed where the whole string is (there is no text to place them by)."""
    if isinstance(value, Conditional):  # a copy: whatever else it carries about its condition is kept
        then, otherwise = read_resolved(resolver, value.then), read_resolved(resolver, value.otherwise)
        return replace(value, then=then, otherwise=otherwise)
    loc = value.loc if value is not None else None
    if loc is None:
        return value
    if isinstance(value, Interpolated):
        start, end = (loc.line, loc.column), (loc.end_line, loc.end_column)
        segments = [Text.at(p, loc) if isinstance(p, str) else Slot(p, start, end) for p in value.parts]
        return read(segments, loc, resolver.max_depth, resolver.budget, resolver.duplicates)
    if isinstance(value, Known) and isinstance(value.value, str):
        return read([Text.at(value.value, loc)], loc, resolver.max_depth, resolver.budget, resolver.duplicates)
    return value


def _segments(resolver: Resolver, raw: Value) -> list[Segment] | None:
    """A string-building value as written, in segments that know where they are written;
    None when it is none, or holds an ``Fn::If`` (then it is resolved as usual)."""
    text = known_str(raw)
    if text is not None:
        if resolver.budget is not None:
            resolver.budget.spend_bytes(len(text))
        found = scalar_text(text, raw.loc, resolver.lines)
        return [found] if found is not None else None
    fields = as_dict(raw)
    if fields is None or len(fields) != 1:
        return None
    if "Fn::Sub" in fields:
        return _sub_segments(resolver, fields["Fn::Sub"], raw.loc)
    if "Fn::Join" in fields:
        return _join_segments(resolver, fields["Fn::Join"], raw.loc)
    return None


def _sub_segments(resolver: Resolver, arg: Value, loc: Location | None) -> list[Segment] | None:
    found = resolver.sub_template(arg, loc)
    if isinstance(found, Unknown):
        return None
    template, variables = found
    whole = scalar_text(str(template.value), template.loc, resolver.lines)
    if whole is None:
        return None
    out: list[Segment] = []
    pos = 0
    budget = resolver.budget
    if budget is not None:
        budget.spend_bytes(len(whole.text))
    for m in resolver.sub_variables(whole.text):
        if budget is not None:
            budget.spend()
        out.append(whole.slice(pos, m.start()))
        part = resolver.sub_part(m, variables, loc)
        if not _put(out, part, whole.position(m.start()), whole.after(m.end())):
            return None
        pos = m.end()
    out.append(whole.slice(pos, len(whole.text)))
    return out


def _join_segments(resolver: Resolver, arg: Value, loc: Location | None) -> list[Segment] | None:
    items = arg.value if isinstance(arg, Known) and isinstance(arg.value, list) else []
    delimiter = scalar(resolver.resolve(items[0])) if len(items) == 2 else None
    written = items[1] if len(items) == 2 else None
    if not isinstance(delimiter, str) or not isinstance(written, Known) or not isinstance(written.value, list):
        return None
    pieces: list[list[Segment]] = []
    for item in written.value:
        piece = _join_item(resolver, item, loc)
        if piece is None:
            return None
        if piece:
            pieces.append(piece)
    out: list[Segment] = []
    where = items[0].loc or loc
    for i, piece in enumerate(pieces):
        if i and delimiter and where is not None:
            out.append(Text.at(delimiter, where))
        out.extend(piece)
    return out


def _join_item(resolver: Resolver, item: Value, loc: Location | None) -> list[Segment] | None:
    """One item of an ``Fn::Join`` list as segments (empty for ``AWS::NoValue``, which leaves the list)."""
    text = known_str(item)
    if text is not None:
        found = scalar_text(text, item.loc, resolver.lines)
        return [found] if found is not None else None
    fields = as_dict(item)
    if fields is not None and len(fields) == 1 and "Fn::Sub" in fields:
        return _sub_segments(resolver, fields["Fn::Sub"], item.loc)
    part = resolver.resolve(item)
    if part is None:
        return []
    where = item.loc or loc
    piece: list[Segment] = []
    if where is None or not _put(piece, part, (where.line, where.column), (where.end_line, where.end_column)):
        return None
    return piece


def _put(out: list[Segment], part: str | Value | None, start: tuple[int, int], end: tuple[int, int]) -> bool:
    """Add what a placeholder (written from ``start`` to ``end``) stands for to a policy text's
    segments: known text, or slots for its unknown parts.  False for an ``Fn::If``, which the
    text's reading does not follow (the resolved value is read instead)."""

    def text(value: str) -> Text:
        return Text(value, [(0, *start, 0, *end)])

    if isinstance(part, Conditional):
        return False
    if isinstance(part, str):
        out.append(text(part))
    elif isinstance(part, Interpolated):
        out.extend(text(p) if isinstance(p, str) else Slot(p, start, end) for p in part.parts)
    elif isinstance(part, Unknown):
        out.append(Slot(part, start, end))
    elif isinstance(part, Known) and part.is_scalar and part.value is not None:
        value = part.value
        out.append(text(("true" if value else "false") if isinstance(value, bool) else str(value)))
    else:
        why = "AWS::NoValue in a string" if part is None else "a list, mapping or null where a string is expected"
        out.append(Slot(Unknown(why, part.loc if part is not None else None), start, end))
    return True


# --------------------------------------------------------------------------- reading


def concat(segments: list[Segment], loc: Location | None) -> Value:
    """The string the segments make, as the resolver makes strings: Known, Unknown or Interpolated."""
    parts: list[str | Unknown] = []
    for seg in segments:
        piece: str | Unknown = seg.text if isinstance(seg, Text) else seg.value
        if isinstance(piece, str) and parts and isinstance(parts[-1], str):
            parts[-1] += piece
        elif piece != "":
            parts.append(piece)
    if not parts:
        return Known("", loc)
    if len(parts) == 1:
        only = parts[0]
        return Known(only, loc) if isinstance(only, str) else Unknown(only.reason, loc, only.meaning, only.ref)
    return Interpolated(tuple(parts), loc)


def read(
    segments: list[Segment],
    loc: Location,
    max_depth: int,
    budget: Budget | None,
    duplicates: list[DuplicateKey] | None = None,
) -> Value:
    """The policy the JSON text of ``segments`` holds, its unknown parts kept symbolic.

    Text that does not start as a JSON object is handed back as the string it is (the
    policy reader says what is wrong with it).  ``loc`` is where the whole string is
    written; ``budget`` pays for the text and every value built.  Keys the text writes
    twice are added to ``duplicates``, placed where they are written (KMS013 reports them).
    """
    if not any(isinstance(s, Text) and s.text.strip() for s in segments) or not _starts_object(segments):
        return concat(segments, loc)
    builder = _Builder()
    for seg in segments:
        if budget is not None:
            budget.spend_bytes(len(seg.text) if isinstance(seg, Text) else 1)
        if not builder.add(seg):
            return Unknown("a policy string with more unknown parts than kmslint reads", loc)
    from kmslint.parsers import jsonpos

    text = builder.text()
    twice: list[DuplicateKey] | None = [] if duplicates is not None else None
    try:
        tree = jsonpos.parse(text, loc.file, max_depth=max_depth, budget=budget, duplicates=twice)
    except jsonpos.JSONSyntaxError as exc:
        if exc.limit:
            return Unknown(f"a policy string past a parse limit ({exc.message})", loc)
        if builder.bare or not all(_cannot_break_json(s) for s in builder.slots):
            return Unknown("a policy string that is valid JSON only once its unknown parts are filled in", loc)
        # Invalid whatever its unknown parts are: the text as written, for KMS013 to report.
        return Known(_Filler(builder, text, budget).key(text), loc)
    filler = _Filler(builder, text, budget)
    if twice and duplicates is not None:
        duplicates.extend(filler.placed(d) for d in twice)
    return filler.fill(tree)


def _starts_object(segments: list[Segment]) -> bool:
    for seg in segments:
        if isinstance(seg, Slot):
            return False
        head = seg.text.lstrip()
        if head:
            return head.startswith("{")
    return False


def _cannot_break_json(value: Unknown) -> bool:
    """Can the unknown part hold no quote, backslash or line break, so that the text is
    invalid whatever it is?  Pseudo parameters and resource IDs and ARNs cannot."""
    return (value.ref or "").startswith("AWS::") or value.meaning in (Meaning.RESOURCE_ID, Meaning.RESOURCE_ARN)


class _Builder:
    """The JSON text with a placeholder for each slot, and where each of its characters is written."""

    __slots__ = ("bare", "escaped", "in_string", "offsets", "out", "runs", "size", "slots")

    def __init__(self) -> None:
        self.out: list[str] = []
        self.runs: list[Run] = []
        self.offsets: list[int] = []
        self.slots: list[Unknown] = []
        self.bare: set[int] = set()  # slots standing where a JSON value goes, not inside a string
        self.size = 0
        self.in_string = False
        self.escaped = False

    def add(self, seg: Segment) -> bool:
        if isinstance(seg, Text):
            for run in seg.runs:
                self._run((self.size + run[0], *run[1:]))
            self._scan(seg.text)
            self._append(seg.text)
            return True
        index = len(self.slots)
        if index >= MAX_SLOTS:
            return False
        self.slots.append(seg.value)
        mark = _PH + chr(_PH_BASE + index)
        if not self.in_string:
            self.bare.add(index)
            mark = f'"{mark}"'
        self._run((self.size, *seg.start, 0, *seg.end))
        self._append(mark)
        self.escaped = False
        return True

    def _run(self, run: Run) -> None:
        self.runs.append(run)
        self.offsets.append(run[0])

    def _append(self, text: str) -> None:
        self.out.append(text)
        self.size += len(text)

    def _scan(self, text: str) -> None:
        """Follow whether the text written so far ends inside a JSON string (and right after
        a backslash there, which escapes what comes next)."""
        i = 1 if self.escaped and text else 0
        self.escaped = self.escaped and not text
        while True:
            q = text.find('"', i)
            if q < 0:
                break
            if self.in_string:
                b = q
                while b > i and text[b - 1] == "\\":
                    b -= 1
                self.in_string = (q - b) % 2 == 1  # an escaped quote leaves the string open
            else:
                self.in_string = True
            i = q + 1
        if self.in_string and len(text) > i:
            tail = len(text) - len(text.rstrip("\\"))
            self.escaped = tail % 2 == 1

    def text(self) -> str:
        return "".join(self.out)


def _position(runs: list[Run], offsets: list[int], offset: int) -> tuple[int, int]:
    i = bisect_right(offsets, offset) - 1
    start, line, column, step, _el, _ec = runs[max(i, 0)]
    return line, column + step * (offset - start)


def _after(runs: list[Run], offsets: list[int], offset: int) -> tuple[int, int]:
    if offset <= 0:
        return _position(runs, offsets, 0)
    i = bisect_right(offsets, offset - 1) - 1
    start, line, column, step, end_line, end_column = runs[max(i, 0)]
    if step == 0:
        return end_line, end_column
    return line, column + offset - start


class _Filler:
    """Puts located values and the slots back into the tree parsed from the placeholder text."""

    __slots__ = ("budget", "offsets", "runs", "slots", "starts")

    def __init__(self, builder: _Builder, text: str, budget: Budget | None) -> None:
        self.runs = builder.runs
        self.offsets = builder.offsets
        self.slots = builder.slots
        self.budget = budget
        self.starts = [0, *(m.end() for m in re.finditer("\n", text))]

    def _loc(self, loc: Location | None) -> Location | None:
        """Where the text at ``loc`` (a span of the placeholder text) is written."""
        if loc is None:
            return None
        starts = self.starts
        first = starts[min(loc.line, len(starts)) - 1] + loc.column - 1
        last = starts[min(loc.end_line, len(starts)) - 1] + loc.end_column - 1
        line, column = _position(self.runs, self.offsets, first)
        end_line, end_column = _after(self.runs, self.offsets, last)
        if (end_line, end_column) < (line, column):
            end_line, end_column = line, column
        return Location(loc.file, line, column, end_line, end_column)

    def placed(self, d: DuplicateKey) -> DuplicateKey:
        """A key written twice in the placeholder text, placed where the template writes it."""
        return DuplicateKey(d.name, self._loc(d.loc) or d.loc, self._loc(d.first) or d.first)

    def fill(self, value: Value) -> Value:
        if self.budget is not None:
            self.budget.spend()
        if not isinstance(value, Known):
            return value
        loc = self._loc(value.loc)
        v = value.value
        if isinstance(v, str):
            return self._text(v, loc)
        if isinstance(v, dict):
            return Known({self.key(k): self.fill(x) for k, x in v.items()}, loc)
        if isinstance(v, list):
            return Known([self.fill(x) for x in v], loc)
        return Known(v, loc)

    def _slot(self, m: re.Match[str]) -> Unknown | None:
        """The slot a placeholder numbers; None for one the text itself wrote (private-use
        characters, in the text or its escapes, that number no slot: they stay text)."""
        index = ord(m.group(1)) - _PH_BASE
        return self.slots[index] if index < len(self.slots) else None

    def _text(self, s: str, loc: Location | None) -> Value:
        if _PH not in s:
            return Known(s, loc)
        parts: list[Segment] = []
        pos = 0
        for m in _PLACEHOLDER.finditer(s):
            slot = self._slot(m)
            if slot is None:
                continue
            parts.append(Text(s[pos : m.start()], []))
            parts.append(Slot(slot, (0, 0), (0, 0)))
            pos = m.end()
        parts.append(Text(s[pos:], []))
        return concat(parts, loc)

    def key(self, k: str) -> str:
        """Text with unknown parts (a member name) written as ``${reference}``, as messages show them."""
        if _PH not in k:
            return k

        def name(m: re.Match[str]) -> str:
            slot = self._slot(m)
            return m.group(0) if slot is None else "${" + (slot.ref or slot.reason) + "}"

        return _PLACEHOLDER.sub(name, k)
