"""gitignore-style patterns, matched as git matches them, in time linear in the path.

``.gitignore`` files, ``exclude`` and ``per-path-ignores`` patterns come from
the tree being scanned, which may come from a stranger's pull request.  A
regular-expression translation (pathspec's) lets a pattern such as
``*a*a*a*a*a*a*b`` make Python's backtracking engine run for minutes on one
path, so patterns are matched here without regular expressions:

* within one path component, a pattern is split at its ``*`` runs into
  fixed-width chunks; the first chunk must match at the start, the last at
  the end, and each chunk in between is found at its leftmost place after the
  one before (for ``*`` wildcards the leftmost choice never loses a match).
  Literal chunks are found with ``str.find``; chunks with ``?`` or ``[...]``
  with a bit-parallel scan (shift-and), one step per character;
* across components, ``**`` is a loop in a small automaton run over the
  components, one step per component, its states kept as the bits of an int.

So a match costs time proportional to the path's length (plus the pattern's
once per distinct name), whatever the pattern.  The syntax and its meaning are
git's (``gitignore(5)`` and git's ``wildmatch.c``): ``*``, ``?``, ``[...]``
classes (ranges, ``!``/``^``, ``[:alpha:]``), backslash escapes, ``**``
across directories, anchoring by a ``/`` before the end, a trailing ``/`` for
directories only, ``!`` to re-include, the last matching pattern winning, and
trailing spaces dropped unless escaped.  A pattern git would reject as
malformed (an unclosed ``[``, a trailing backslash) matches nothing: when in
doubt a file is linted, not skipped.

Sizes are capped (:data:`MAX_PATTERN_CHARS`, :data:`MAX_PATTERNS`); patterns
past the caps are dropped, which again only means more is linted.  Linear
per path is not enough when a hostile tree pairs thousands of costly
patterns with thousands of files, so a walk's matching work is capped too
(:class:`Budget`): once spent, its patterns match nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)

# A longer pattern is dropped.  PATH_MAX is 4096 bytes; no real ignore pattern comes near this.
MAX_PATTERN_CHARS = 1024
# Patterns kept from one list (one .gitignore file, the excludes); the rest are dropped.
MAX_PATTERNS = 5000
# How many names' automaton inputs a pattern with ``**`` remembers before starting afresh.
_MASK_CACHE = 4096
# Matching work one walk may spend on ignore patterns, in steps: a pattern looked at, or one
# chunk of it tested (a str.find or a few comparisons), each well under a microsecond.  A
# real tree of 100,000 paths with 50 wildcard patterns needs 5 million; this is a few seconds.
MAX_MATCH_STEPS = 10_000_000


# --------------------------------------------------------------------------- one path component


class _Class:
    """A ``[...]`` bracket expression, as git's wildmatch reads it."""

    __slots__ = ("named", "negated", "ranges", "singles")

    def __init__(self) -> None:
        self.negated = False
        self.singles: set[str] = set()
        self.ranges: list[tuple[str, str]] = []
        self.named: list[Callable[[str], bool]] = []

    def accepts(self, ch: str) -> bool:
        hit = (
            ch in self.singles or any(lo <= ch <= hi for lo, hi in self.ranges) or any(test(ch) for test in self.named)
        )
        return hit != self.negated and ch != "/"


def _ascii(test: Callable[[str], bool]) -> Callable[[str], bool]:
    # git matches in the C locale: character classes hold ASCII characters only.
    return lambda ch: ch.isascii() and test(ch)


_NAMED_CLASSES: dict[str, Callable[[str], bool]] = {
    "alnum": _ascii(str.isalnum),
    "alpha": _ascii(str.isalpha),
    "blank": lambda ch: ch in " \t",
    "cntrl": lambda ch: ord(ch) < 0x20 or ord(ch) == 0x7F,
    "digit": _ascii(str.isdigit),
    "graph": lambda ch: 0x21 <= ord(ch) <= 0x7E,
    "lower": _ascii(str.islower),
    "print": lambda ch: 0x20 <= ord(ch) <= 0x7E,
    "punct": lambda ch: 0x21 <= ord(ch) <= 0x7E and not ch.isalnum(),
    "space": lambda ch: ch in " \t\n\r\f\v",
    "upper": _ascii(str.isupper),
    "xdigit": lambda ch: ch in "0123456789abcdefABCDEF",
}

# Tokens of a pattern: a one-character string is a literal character; these are the rest.
_ANY = "?any"  # ``?``: any one character but ``/``
_STAR = "*star"  # ``*``: any run of characters but ``/``
_SEP = "/sep"  # ``/`` outside a bracket expression
Token = str | _Class


class _Malformed(Exception):
    """A pattern git's wildmatch gives up on (unclosed ``[``, trailing ``\\``): it matches nothing."""


def _tokens(pattern: str) -> list[Token]:
    """The pattern as tokens, escapes resolved; raises :class:`_Malformed`."""
    out: list[Token] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= n:
                raise _Malformed
            out.append(_SEP if pattern[i + 1] == "/" else pattern[i + 1])
            i += 2
        elif ch == "*":
            out.append(_STAR)
            i += 1
        elif ch == "?":
            out.append(_ANY)
            i += 1
        elif ch == "[":
            cls, i = _bracket(pattern, i + 1)
            out.append(cls)
        elif ch == "/":
            out.append(_SEP)
            i += 1
        else:
            out.append(ch)
            i += 1
    return out


def _bracket(pattern: str, i: int) -> tuple[_Class, int]:
    """Read a bracket expression whose ``[`` is just before ``i``; return it and the index after ``]``.

    Follows wildmatch.c step by step: a ``]`` right after ``[`` (or ``[!``)
    is a member, ``a-z`` is a range, ``[:name:]`` a named class, ``\\x`` the
    character x.
    """
    n = len(pattern)
    cls = _Class()
    if i < n and pattern[i] in "!^":
        cls.negated = True
        i += 1
    prev = ""  # the last single member, a possible range start ("" after a range or class)
    first = True
    while True:
        if i >= n:
            raise _Malformed
        ch = pattern[i]
        if ch == "]" and not first:
            return cls, i + 1
        first = False
        if ch == "\\":
            if i + 1 >= n:
                raise _Malformed
            ch = pattern[i + 1]
            cls.singles.add(ch)
            prev, i = ch, i + 2
        elif ch == "-" and prev and i + 1 < n and pattern[i + 1] != "]":
            hi = pattern[i + 1]
            i += 2
            if hi == "\\":
                if i >= n:
                    raise _Malformed
                hi = pattern[i]
                i += 1
            cls.ranges.append((prev, hi))
            prev = ""
        elif ch == "[" and i + 1 < n and pattern[i + 1] == ":":
            end = pattern.find("]", i + 2)
            if end < 0:
                raise _Malformed
            body = pattern[i + 2 : end]
            if not body.endswith(":"):
                cls.singles.add("[")  # no ":]": the "[" is a member like any other
                prev, i = "[", i + 1
                continue
            test = _NAMED_CLASSES.get(body[:-1])
            if test is None:
                raise _Malformed
            cls.named.append(test)
            prev, i = "", end + 1
        else:
            cls.singles.add(ch)
            prev, i = ch, i + 1


class _Chunk:
    """A fixed-width run of tokens between two ``*``: literal text, or a sequence of tests."""

    __slots__ = ("masks", "text", "tokens", "width")

    def __init__(self, tokens: list[Token]) -> None:
        self.width = len(tokens)
        literal = all(isinstance(t, str) and len(t) == 1 for t in tokens)
        self.text: str | None = "".join(t for t in tokens if isinstance(t, str)) if literal else None
        self.tokens = tokens
        self.masks: dict[str, int] = {}  # character -> bits of the tokens that accept it

    def _accepts(self, token: Token, ch: str) -> bool:
        if isinstance(token, _Class):
            return token.accepts(ch)
        return ch != "/" if token == _ANY else token == ch

    def at(self, s: str, i: int) -> bool:
        """Does the chunk match ``s`` at ``i``?"""
        if self.text is not None:
            return s.startswith(self.text, i)
        if i + self.width > len(s):
            return False
        return all(self._accepts(t, s[i + k]) for k, t in enumerate(self.tokens))

    def find(self, s: str, start: int, end: int) -> int:
        """The leftmost ``i >= start`` where the chunk matches inside ``s[:end]``, or -1."""
        if self.text is not None:
            return s.find(self.text, start, end)
        masks = self.masks
        goal = 1 << (self.width - 1)
        state = 0
        for i in range(start, end):
            ch = s[i]
            mask = masks.get(ch)
            if mask is None:
                mask = sum(1 << k for k, t in enumerate(self.tokens) if self._accepts(t, ch))
                if len(masks) < _MASK_CACHE:
                    masks[ch] = mask
            state = ((state << 1) | 1) & mask
            if state & goal:
                return i - self.width + 1
        return -1


class Glob:
    """The pattern of one path component (no ``/``): chunks of fixed width separated by ``*``."""

    __slots__ = ("chunks", "exact", "min_width")

    def __init__(self, tokens: list[Token]) -> None:
        parts: list[list[Token]] = [[]]
        after_star = False
        for t in tokens:
            if t == _STAR:
                if not after_star:  # "**" inside a component is "*"
                    parts.append([])
                after_star = True
            else:
                parts[-1].append(t)
                after_star = False
        self.exact = len(parts) == 1
        self.chunks = [_Chunk(p) for p in parts]
        self.min_width = sum(c.width for c in self.chunks)

    def match(self, name: str) -> bool:
        chunks = self.chunks
        if self.exact:
            return len(name) == chunks[0].width and chunks[0].at(name, 0)
        n = len(name)
        if n < self.min_width:
            return False
        head, tail = chunks[0], chunks[-1]
        if head.width and not head.at(name, 0):
            return False
        end = n - tail.width
        if tail.width and not tail.at(name, end):
            return False
        pos = head.width
        for chunk in chunks[1:-1]:
            if not chunk.width:
                continue
            found = chunk.find(name, pos, end)
            if found < 0:
                return False
            pos = found + chunk.width
        return pos <= end


# --------------------------------------------------------------------------- whole patterns


class _AnySegment:
    """``**`` at the end of a pattern needs at least one more component: this one matches any."""

    def match(self, name: str) -> bool:
        return True


_GLOBSTAR = None  # a ``**`` component in a rule's component list


class Rule:
    """One pattern line: what it matches, and whether it ignores (or re-includes, ``!``)."""

    __slots__ = ("_masks", "anchored", "dir_only", "glob", "need", "negated", "segments", "star_bits", "text", "weight")

    def __init__(self, text: str, negated: bool, dir_only: bool, tokens: list[Token]) -> None:
        self.text = text
        self.negated = negated
        self.dir_only = dir_only
        self.anchored = _SEP in tokens
        self.glob: Glob | None = None
        self.segments: list[Glob | _AnySegment | None] = []
        self.star_bits = 0
        self._masks: dict[str, int] = {}
        if not self.anchored:
            self.glob = Glob(tokens)
        else:
            self._segments(tokens)
        globs = [g for g in (self.glob, *self.segments) if isinstance(g, Glob)]
        texts = [c.text for g in globs for c in g.chunks if c.text]
        # A literal every match contains: most paths are ruled out by one substring test.
        self.need = max(texts, key=len) if texts else ""
        self.weight = sum(len(g.chunks) for g in globs) or 1

    def _segments(self, tokens: list[Token]) -> None:
        pieces: list[list[Token]] = [[]]
        for t in tokens:
            if t == _SEP:
                pieces.append([])
            else:
                pieces[-1].append(t)
        if not pieces[0] and len(pieces) > 1:
            pieces.pop(0)  # a leading "/" only anchors
        for piece in pieces:
            if len(piece) >= 2 and all(t == _STAR for t in piece):
                if self.segments and self.segments[-1] is _GLOBSTAR:
                    continue  # "**/**" is "**"
                self.segments.append(_GLOBSTAR)
            else:
                self.segments.append(Glob(piece))
        if self.segments and self.segments[-1] is _GLOBSTAR:
            # "dir/**" matches everything inside dir, not dir itself.
            self.segments[-1:] = [_AnySegment(), _GLOBSTAR]
        for k, seg in enumerate(self.segments):
            if seg is _GLOBSTAR:
                self.star_bits |= 1 << k

    def match(self, name: str, parts: list[str] | None, is_dir: bool) -> bool:
        """Does the rule match a path (its ``parts`` relative to the rule's base, ``name`` the last)?"""
        if self.dir_only and not is_dir:
            return False
        if self.glob is not None:
            return self.glob.match(name)
        assert parts is not None
        if not self.star_bits:
            segs = self.segments
            return len(parts) == len(segs) and all(g.match(p) for g, p in zip(segs, parts))  # type: ignore[union-attr]
        return self._run(parts)

    def _run(self, parts: list[str]) -> bool:
        """The automaton over components: bit ``k`` set means the first ``k`` pattern components are matched."""
        stars = self.star_bits
        state = 1 | ((1 & stars) << 1)
        for part in parts:
            mask = self._masks.get(part)
            if mask is None:
                mask = sum(1 << k for k, g in enumerate(self.segments) if g is not _GLOBSTAR and g.match(part))
                if len(self._masks) >= _MASK_CACHE:
                    self._masks.clear()
                self._masks[part] = mask
            state = ((state & mask) << 1) | (state & stars)
            state |= (state & stars) << 1
            if not state:
                return False
        return bool(state >> len(self.segments) & 1)


def _trim_trailing_spaces(line: str) -> str:
    """Drop trailing spaces that are not escaped with a backslash (git's ``trim_trailing_spaces``)."""
    last_space = -1
    i, n = 0, len(line)
    while i < n:
        ch = line[i]
        if ch == " ":
            if last_space < 0:
                last_space = i
        elif ch == "\\":
            i += 1
            if i >= n:
                return line
            last_space = -1
        else:
            last_space = -1
        i += 1
    return line[:last_space] if last_space >= 0 else line


def parse_rule(line: str) -> Rule | None:
    """One line of a ``.gitignore`` (or one exclude pattern) as a :class:`Rule`; None for none.

    None for a blank line, a comment, a pattern longer than
    :data:`MAX_PATTERN_CHARS`, or one git would not match anything with.
    """
    if line.endswith("\r"):
        line = line[:-1]  # git drops the CR of a CRLF line ending
    if not line or line.startswith("#") or len(line) > MAX_PATTERN_CHARS:
        return None
    body = _trim_trailing_spaces(line)
    negated = body.startswith("!")
    if negated:
        body = body[1:]
    dir_only = body.endswith("/")
    if dir_only:
        body = body[:-1]
    if not body:
        return None
    try:
        tokens = _tokens(body)
    except _Malformed:
        return None
    return Rule(line, negated, dir_only, tokens)


class Budget:
    """Matching work left to a walk (hostile ignore files cannot make a walk take minutes)."""

    __slots__ = ("left",)

    def __init__(self, steps: int | None = None) -> None:
        self.left = MAX_MATCH_STEPS if steps is None else steps

    def spend(self, steps: int) -> bool:
        self.left -= steps
        return self.left >= 0

    @property
    def spent(self) -> bool:
        return self.left < 0


class RuleList:
    """The patterns of one ``.gitignore`` file (or of a list of excludes), in order.

    :meth:`decide` asks which pattern matches last, as git does; literal
    component names (``node_modules``, ``.terraform``) are looked up in a
    dict, so a long list of them costs one lookup per path.
    """

    __slots__ = ("_literal", "_others", "anchored", "budget", "dropped", "rules")

    def __init__(self, lines: Iterable[str], budget: Budget | None = None) -> None:
        # Once the budget is spent the list matches nothing: more is linted, never less.
        self.budget = budget
        self.rules: list[Rule] = []
        self.dropped = 0
        for line in lines:
            rule = parse_rule(line)
            if rule is None:
                continue
            if len(self.rules) >= MAX_PATTERNS:
                self.dropped += 1
                continue
            self.rules.append(rule)
        # name -> [(index, rule)] for unanchored patterns that are one literal name.
        self._literal: dict[str, list[tuple[int, Rule]]] = {}
        # The rest, last first, with what the loop in decide() tests before matching.
        self._others: list[tuple[int, str, bool, bool, Rule]] = []
        for i, rule in enumerate(self.rules):
            glob = rule.glob
            if glob is not None and glob.exact and glob.chunks[0].text is not None:
                self._literal.setdefault(glob.chunks[0].text, []).append((i, rule))
            else:
                self._others.append((i, rule.need, rule.anchored, rule.dir_only, rule))
        self._others.reverse()
        self.anchored = any(r.anchored for r in self.rules)

    def __bool__(self) -> bool:
        return bool(self.rules)

    def decide(self, rel: str, is_dir: bool) -> bool | None:
        """True if ``rel`` (``/``-separated, relative to the list's base) is ignored, False if
        re-included by a ``!`` pattern, None if no pattern matches it.

        A list without anchored patterns looks at the last component only, so
        ``rel`` may be just that name.
        """
        name = rel.rpartition("/")[2]
        budget = self.budget
        if budget is not None:
            budget.left -= 1 + len(self._others)
            if budget.left < 0:
                return None
        best = -1
        winner: Rule | None = None
        for i, rule in self._literal.get(name, ()):
            if not rule.dir_only or is_dir:
                best, winner = i, rule
        if not self._others:
            return None if winner is None else not winner.negated
        parts = rel.split("/") if self.anchored else None
        for i, need, on_path, dir_only, rule in self._others:
            if i < best:
                break
            if (dir_only and not is_dir) or need not in (rel if on_path else name):
                continue
            if budget is not None and not budget.spend(rule.weight * (len(parts) if parts and rule.star_bits else 1)):
                return None
            if rule.match(name, parts, is_dir):
                winner = rule
                break
        return None if winner is None else not winner.negated

    def match_path(self, path: str, is_dir: bool = False) -> bool:
        """Is ``path`` ignored, or inside an ignored directory?  (A file in an excluded
        directory cannot be re-included, as in git.)"""
        path = path.strip("/")
        if not path:
            return False
        start = 0
        while True:
            cut = path.find("/", start)
            if cut < 0:
                return self.decide(path, is_dir) is True
            if self.decide(path[:cut], True) is True:
                return True
            start = cut + 1


__all__ = ["MAX_MATCH_STEPS", "MAX_PATTERNS", "MAX_PATTERN_CHARS", "Budget", "Glob", "Rule", "RuleList", "parse_rule"]
