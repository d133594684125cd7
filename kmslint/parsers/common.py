"""What every parser shares: options, limits and inline suppression comments."""

from __future__ import annotations

import os
import re
import sys
import time
from array import array
from bisect import bisect_left
from functools import lru_cache
from pathlib import Path

from kmslint import fsio
from kmslint.model import Location, Suppression
from kmslint.record import Record, field

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from tree_sitter import Language, Parser, Tree

# 4 MiB: CloudFormation takes templates up to 1 MB, key policies up to 32 KB, and a real
# .tf file is rarely over 1 MB; the worst such file costs about a minute and 2.5 GB.
DEFAULT_MAX_FILE_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_DEPTH = 200
# Mapping keys written twice that a YAML or JSON document records (model.DuplicateKey): a real
# file has a few at most; past this many (a file built to be costly) the rest are read as
# usual, the last value winning, but not recorded.
MAX_DUPLICATE_KEYS = 1_000


def int_max_str_digits() -> int:
    """Python's limit on the digits of an integer read from text (0: none); before 3.10.7 there is none."""
    get = getattr(sys, "get_int_max_str_digits", None)
    return int(get()) if get is not None else 0


# A pin of the findings cache (``Project.files_tried``) that stands for the list of the
# ``.tf``/``.tf.json`` files of a directory, not for one file: a module's directory, or where
# a local module call's source would be (adding a file there, or the directory, changes
# the configuration).  No file is named so: a path component never holds a NUL.
TF_LISTING = "\x00tf-files"


def tf_listing(directory: str) -> str:
    """What :data:`TF_LISTING` pins: the sorted ``.tf``/``.tf.json`` names of ``directory``."""
    try:
        names = sorted(e.name for e in os.scandir(directory) if e.name.endswith((".tf", ".tf.json")))
    except OSError as exc:
        return f"cannot be listed: {exc.errno}"
    return "\n".join(names)


class ParseOptions(Record, frozen=True):
    """Limits and context a parser works under.

    ``scan_root``: ``file()``/``templatefile()`` and symbolic links are read
    only inside it (RULES.md: the git work tree holding the scanned path, or
    the scanned directory; each unit has its own, see ``discovery.Unit``);
    None: nowhere.
    ``display``: how a path is named in findings (as given, or relative to the cwd).
    """

    scan_root: Path | None = None
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH
    display_names: dict[Path, str] = field(default_factory=dict)
    # (walked directory, as given): files found there are named under it.
    display_roots: tuple[tuple[Path, str], ...] = ()
    # Text to use instead of the file on disk (an editor's unsaved buffer on stdin).
    sources: dict[Path, str] = field(default_factory=dict)
    # What the unit being loaded may still spend (the engine gives each unit its own).
    budget: Budget | None = field(default=None, compare=False)
    # The run's enabled rules: some add markers to the prefilter (registry.Format.rule_markers).
    rules: frozenset[str] = frozenset()

    def read_text(self, path: Path | str) -> str:
        """A file's text, within the limits; raises :class:`ParseFailure` (KMS000) otherwise.

        Every parser reads files through this, so size limits, binary and
        non-UTF-8 detection, and stdin buffers work the same everywhere.
        """
        if self.sources:
            key = Path(path)
            override = self.sources.get(key)
            if override is None:
                override = self.sources.get(key.absolute())
            if override is not None:
                return override
        # A link in a pull request may point anywhere (/etc, a FIFO, a secret): only
        # links to files inside the scanned tree are read, named on the command line or not.
        if os.path.islink(path) and not self.inside_scan_root(path):
            raise ParseFailure("symbolic link to a file outside the scanned tree: not read")
        return read_source(path, self.max_file_bytes)

    def inside_scan_root(self, path: Path | str) -> bool:
        """Is ``path``, symlinks resolved, inside the scan root?  Compared by path components
        (``/repo-evil`` is not inside ``/repo``); raises :class:`ParseFailure` for a broken or
        looping link."""
        try:
            resolved = Path(path).resolve(strict=True)
        except (OSError, RuntimeError, ValueError):
            raise ParseFailure("broken or looping symbolic link") from None
        if self.scan_root is None:
            return False
        try:
            root = self.scan_root.resolve()
        except (OSError, RuntimeError, ValueError):
            return False
        return resolved.is_relative_to(root)

    def display(self, path: Path) -> str:
        """The name a finding in ``path`` is reported under."""
        name = self.display_names.get(path)
        if name is not None:
            return name
        absolute = Path(os.path.abspath(path))
        for root, given in self.display_roots:
            if absolute.is_relative_to(root):
                return os.path.normpath(os.path.join(given, absolute.relative_to(root).as_posix()))
        try:
            return str(path.resolve().relative_to(Path.cwd().resolve()))
        except (ValueError, OSError):  # outside the cwd, or the cwd was deleted
            return str(path)


def read_source(path: Path | str, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> str:
    """Read a source file as UTF-8 text, refusing what cannot be source code."""
    try:
        data = fsio.read_regular(path, max_bytes)
    except fsio.NotRegularFile:
        raise ParseFailure("not a regular file (a device, FIFO or socket): not read") from None
    except fsio.TooLarge as exc:
        size = f"{exc.size} bytes, " if exc.size is not None else ""
        raise ParseFailure(f"file is {size}over the {max_bytes}-byte limit (--max-file-bytes)") from None
    except OSError as exc:
        raise ParseFailure(f"cannot read file: {exc.strerror or exc}") from None
    return decode_source(data)


def decode_source(data: bytes) -> str:
    """UTF-8 (with or without BOM) text, or :class:`ParseFailure` naming the line of the problem."""
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise ParseFailure("binary file (NUL byte): not a text source", line)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ParseFailure(f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", line, column) from None
    return text[1:] if text.startswith("\ufeff") else text


# kmslint:ignore KMS004, KMS002 -- reason text
# Matched in steps, not with one pattern: a lazy `[^\n]*?` before optional
# `\s--` and `\s*$` groups backtracks cubically on a run of whitespace
# (800 tabs in one comment: 1.5 s; 8,000: half an hour).
_IGNORE_HEAD = re.compile(r"(?:#|//|/\*)\s*kmslint:\s*ignore\b")
_REASON_SEP = re.compile(r"\s--")
_ID = re.compile(r"[A-Za-z][A-Za-z0-9-]*")


def parse_ignore_comment(line: str) -> tuple[tuple[str, ...], str] | None:
    """``(rule ids or slugs, reason)`` of a ``kmslint:ignore`` comment on ``line``, else None.

    IDs are separated by commas and/or spaces; the reason is the text after
    ``--`` (empty when there is none).  ``KMS004`` is upper-cased; slugs are
    kept as written (lower case).
    """
    head = _IGNORE_HEAD.search(line)
    if head is None:
        return None
    rest = line[head.end() :].split("\n", 1)[0]
    sep = _REASON_SEP.search(rest)
    if sep is None:
        id_text, reason = _strip_comment_end(rest), ""
    else:
        id_text, reason = rest[: sep.start()], _strip_comment_end(rest[sep.end() :]).strip()
    ids = tuple(tok.upper() if tok.upper().startswith("KMS") else tok.lower() for tok in _ID.findall(id_text))
    return ids, reason


def _strip_comment_end(text: str) -> str:
    """``text`` without trailing whitespace and one closing ``*/``."""
    text = text.rstrip()
    return text[:-2].rstrip() if text.endswith("*/") else text


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
    owner = _Owners(spans)
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
        resource = owner.of(lineno)
        col = text.find("kmslint") + 1
        loc = Location(file, lineno, max(col, 1), lineno, len(text) + 1)
        out.append(Suppression(resource, ids, reason, loc, file))
    return out


class _Owners:
    """The resource a comment on a line belongs to: the innermost block containing the line
    (the shortest; the first name of equals), else the first block starting just below.

    Asked about lines in increasing order, it sweeps the spans once, keeping those open
    at the line in a heap: scanning every span for every comment was quadratic (5,000
    commented resources: 10 s).
    """

    def __init__(self, spans: list[tuple[str, int, int]]) -> None:
        self.pending = sorted(((first, last - first, name, last) for name, first, last in spans), reverse=True)
        self.open: list[tuple[int, str, int]] = []  # (length, name, last line) of spans begun
        self.below: dict[int, str] = {}
        for name, first, _last in spans:
            self.below.setdefault(first, name)

    def of(self, lineno: int) -> str | None:
        import heapq

        pending, open_ = self.pending, self.open
        while pending and pending[-1][0] <= lineno:
            _first, length, name, last = pending.pop()
            heapq.heappush(open_, (length, name, last))
        while open_ and open_[0][2] < lineno:  # ended above this line (and every later one)
            heapq.heappop(open_)
        if open_:
            return open_[0][1]
        return self.below.get(lineno + 1)


# A JSON escape of a UTF-16 surrogate (\ud800-\udfff), and a surrogate in a decoded string.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def as_go_reads_json(text: str, data: object) -> object:
    """``data``, as ``json.loads`` read it from ``text``, with every lone surrogate made U+FFFD.

    ``"\\ud800"`` with no partner decodes in Python to a lone surrogate, which no
    output can encode (a traceback where a finding quotes it); Go's
    encoding/json, and so Terraform and AWS, read U+FFFD.  Containers are
    fixed in place: ``json.loads`` shares none.
    """
    if _SURROGATE_ESCAPE.search(text) is None:
        return data

    def fix(s: str) -> str:
        return _SURROGATE.sub("\ufffd", s)

    if isinstance(data, str):
        return fix(data)
    stack: list[object] = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, list):  # an array, or an object read as (key, value) pairs (jsonpos)
            for i, item in enumerate(node):
                if isinstance(item, tuple):
                    key, value = item
                    if isinstance(value, str):
                        value = fix(value)
                    node[i] = (fix(key), value)
                else:
                    value = item
                    if isinstance(value, str):
                        node[i] = value = fix(value)
                if isinstance(value, list | dict):
                    stack.append(value)
        elif isinstance(node, dict):
            members = [(fix(k), fix(v) if isinstance(v, str) else v) for k, v in node.items()]
            node.clear()
            node.update(members)
            stack.extend(v for _k, v in members if isinstance(v, list | dict))
    return data


class ParseFailure(Exception):
    """A file that cannot be parsed at all: reported as KMS000 at ``line``."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = max(line, 1)
        self.column = max(column, 1)


# --------------------------------------------------------------------------- hostile-input guards

# Everything kmslint does for one unit (a Terraform directory with its templates,
# a template, a policy file) -- parsing, evaluating, reading policies, running
# the checks -- spends from one Budget, so that no input under the size limit
# can keep a CI runner for more than a few seconds or a few hundred MB.
#
# Measured on the 2-core development machine (Python 3.11) with configurations
# written by bench/gen.py, their resources made distinct (the test
# test_a_large_real_looking_file_is_far_from_the_limits builds the first):
#
#   file                                      steps    memory growth   CPU
#   1.0 MB, 556 resources (large as real)     52,000     98 MiB        1.0 s
#   4.1 MB, 2,206 resources (under 4 MiB)    206,000    407 MiB        3.3 s
#
# so a real configuration uses a few percent of the steps and a quarter of the
# memory, and one at the size limit a seventh and 94% (tree-sitter-hcl keeps ~70
# bytes per byte of such a file).  Inputs built to be costly run out of steps in
# 2-5 s, or of memory at a peak of ~470 MB (4 MiB of blank lines in a block).
#
# Steps: one per expression evaluated, value node walked, for item or policy
# statement read, two per JSON value decoded, one per 64 characters of text
# built, and sixteen per finding; one costs ~1-4 us.
UNIT_STEPS = 1_500_000
# Seconds of the thread's CPU time, parsing included: with start-up and output
# a run stays under 10 s of CPU.  The steps usually end a costly input first;
# the clock stops what steps do not count (a parse, a regular expression).  CPU
# time, not wall-clock time: on a busy CI runner a file must not become KMS000
# (and fail the gate) because other jobs had the cores.
UNIT_SECONDS = 7.0


def cpu_clock() -> float:
    """This thread's CPU time, in seconds (the clock every budget reads)."""
    return time.thread_time()


# Growth of this process's resident memory over the unit's start, parse trees
# included: with the interpreter (~15 MB at that point) and what is allocated
# between two looks at it (a few MB), a run stays under 500 MB.
UNIT_MEMORY_BYTES = 432 << 20
# How many steps may pass between two looks at the clock and at memory (~10 us).
CHECK_EVERY = 1024


class BudgetExceeded(Exception):
    """A unit's budget ran out: reported as KMS000 where evaluation gave up, never a pass.

    ``where`` is the innermost place being worked on when it ran out, ``root``
    the outermost (the attribute of the configuration whose value was asked
    for); whoever catches it reports the first of them in a file the user
    can see.  Not a :class:`ParseFailure`: nothing may turn it into an
    Unknown value and carry on.
    """

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why
        self.where: Location | None = None
        self.root: Location | None = None


class Budget:
    """What one unit may spend: steps, wall-clock time and memory, shared by every stage.

    ``spend(n)`` is the hot path (a subtraction and a comparison); every
    :data:`CHECK_EVERY` steps :meth:`check` also looks at the total, the clock
    and the process's resident memory.  Once exhausted a budget stays so:
    every later ``spend`` raises :class:`BudgetExceeded` again.
    """

    __slots__ = (
        *("_memory_cap", "deadline", "exhausted", "left", "max_steps"),
        *("memory_bytes", "quantum", "seconds", "spent", "timed_out"),
    )

    def __init__(self, steps: int | None = None, seconds: float | None = None, memory_bytes: int | None = None) -> None:
        self.max_steps = UNIT_STEPS if steps is None else steps
        self.seconds = UNIT_SECONDS if seconds is None else seconds
        self.deadline = cpu_clock() + self.seconds
        self.memory_bytes = UNIT_MEMORY_BYTES if memory_bytes is None else memory_bytes
        self._memory_cap: int | None = None
        self.spent = 0
        self.exhausted: str | None = None
        # Ran out of time or memory (here or in a parse): an outcome another run, on a less
        # busy machine, may not share, so not one to keep in a cache.
        self.timed_out = False
        self.quantum = self.left = min(CHECK_EVERY, self.max_steps)

    def spend(self, steps: int = 1) -> None:
        """Use ``steps``; raises :class:`BudgetExceeded` when the budget is gone."""
        self.left -= steps
        if self.left < 0:
            self.check()

    def spend_bytes(self, size: int) -> None:
        """Pay for handling ``size`` bytes or characters of text (one step per 64)."""
        self.spend(size >> 6)

    def check(self) -> None:
        """Count the steps since the last check; look at the total, the clock and memory."""
        self.spent += self.quantum - self.left
        why = self.exhausted
        if why is None:
            if self.spent > self.max_steps:
                why = f"it needed over {self.max_steps:,} evaluation steps"
            elif cpu_clock() > self.deadline:
                why = f"it took over {self.seconds:g} s of CPU time"
                self.timed_out = True
            elif self.memory_cap and _rss() > self.memory_cap:
                why = f"it needed over {self.memory_bytes >> 20} MiB"
                self.timed_out = True
        if why is not None:
            self.exhausted = why
            self.quantum = self.left = 0
            raise BudgetExceeded(why)
        self.quantum = self.left = min(CHECK_EVERY, self.max_steps - self.spent + 1)

    @property
    def memory_cap(self) -> int:
        """The resident size the process may reach: its size when first asked plus the
        allowance; 0 if it cannot be read.  Most units are small and never ask (reading
        the size costs ~15 us); a large one asks before its first large allocation
        (:meth:`measure_memory_from_here`)."""
        cap = self._memory_cap
        if cap is None:
            rss = _rss()
            cap = self._memory_cap = rss + self.memory_bytes if rss else 0
        return cap

    def allow_for_input(self, size: int) -> None:
        """Scale the allowance to a unit holding ``size`` bytes of input, when that is more than
        one file may hold by default (:data:`DEFAULT_MAX_FILE_BYTES`, whatever a run's own
        limit: lowering it must not loosen the budget).

        The limits stop input built to cost out of proportion to its size; a
        directory of ten large files may honestly cost ten times what one does
        (tree-sitter alone needs ~70 bytes of memory per byte of Terraform).
        Each parse still grows memory by at most the base allowance
        (:func:`parse_tree`), so many hostile files gain nothing from it.
        Call it before the memory cap is first read.
        """
        factor = size / DEFAULT_MAX_FILE_BYTES
        if factor <= 1.0:
            return
        extra_seconds = self.seconds * (factor - 1.0)
        extra_memory = int(self.memory_bytes * (factor - 1.0))
        self.seconds += extra_seconds
        self.deadline += extra_seconds
        self.max_steps = int(self.max_steps * factor)
        self.memory_bytes += extra_memory
        if self._memory_cap:  # already measured: raise the cap by as much
            self._memory_cap += extra_memory

    def measure_memory_from_here(self, size: int) -> None:
        """About to handle ``size`` bytes of input: if that is large, memory growth counts from now."""
        if size > SMALL_INPUT and self._memory_cap is None:
            self._memory_cap = self.memory_cap

    def check_clock(self) -> None:
        """Look at the clock now: before work that cannot be stopped once started (a parse)."""
        if self.exhausted is not None or cpu_clock() > self.deadline:
            self.check()


# A tree-sitter parse also spends from its unit's budget, and may take at most
# this long plus this per megabyte of input: far beyond any real file (~0.4 s/MB),
# but tree-sitter-hcl is quadratic in the length of a run of whitespace inside an
# expression (40 KB of spaces between brackets: 10 s), so a hostile file must not
# hang the run.  tree-sitter-hcl also needs ~70 bytes of memory per byte of a real
# file and ~550 per byte of some inputs (a block of blank lines or comments): the
# unit's memory allowance stops those.
PARSE_SECONDS = 4.0
PARSE_SECONDS_PER_MB = 1.0
# And may give at most this many syntax nodes: every node costs the parsers and
# the evaluator tens of microseconds and a few hundred bytes of Python objects.
# A real 4 MiB file has well under a million and a half (Terraform: ~1 per 3 bytes).
MAX_SYNTAX_NODES = 1_500_000


class ParseTimeout(ParseFailure):
    """A tree-sitter parse ran past its time or memory budget."""


def _rss() -> int:
    """This process's resident memory now (Linux), else its peak so far; 0 if unknown."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


# Inputs up to this size are parsed without the budget's callbacks (which cost a
# small file's parse up to a quarter more): at worst ~0.3 s (4 KB of spaces inside
# brackets; 16 KB took 4 s) and a few MB.
SMALL_INPUT = 4 * 1024


@lru_cache(maxsize=4)
def grammar(package: str) -> Language:
    """The tree-sitter language of a grammar package (``tree_sitter_json``, ``tree_sitter_hcl``).

    Only the package's compiled ``_binding`` module is loaded: the
    ``__init__`` of tree-sitter-json imports ``importlib.resources`` (for
    highlighting queries kmslint never reads), which costs a one-file lint
    ~7 ms.  Should the package be laid out otherwise, it is imported whole.
    """
    import importlib
    from importlib.machinery import ExtensionFileLoader, PathFinder

    import tree_sitter

    package_spec = PathFinder.find_spec(package)
    places = package_spec.submodule_search_locations if package_spec is not None else None
    spec = PathFinder.find_spec(f"{package}._binding", places) if places else None
    if spec is not None and isinstance(spec.loader, ExtensionFileLoader):
        binding = spec.loader.create_module(spec)
        spec.loader.exec_module(binding)
    else:
        binding = importlib.import_module(package)
    return tree_sitter.Language(binding.language())


def parse_tree(parser: Parser, data: bytes, budget: Budget | None = None) -> Tree:
    """``parser.parse(data)`` within its unit's budget; raises :class:`ParseTimeout` past it.

    Without a ``budget`` (a parser used on its own) the parse gets one of its own.
    """
    if budget is not None:
        budget.spend_bytes(len(data))
        budget.check_clock()  # a unit of many small files built to be slow stops within one of them
    if len(data) <= SMALL_INPUT:
        return _counted(parser.parse(data))
    if budget is None:
        budget = Budget()
    own = PARSE_SECONDS + PARSE_SECONDS_PER_MB * len(data) / 1_000_000
    deadline = min(cpu_clock() + own, budget.deadline)
    seconds = min(own, budget.seconds)
    memory_cap = budget.memory_cap
    now = _rss()
    if memory_cap and now:  # one parse grows memory by at most the base allowance, however large the unit
        memory_cap = min(memory_cap, now + UNIT_MEMORY_BYTES)
    state = [0, 0, 0]  # offset reached, callbacks, 1 if over the memory cap

    def read(offset: int, _point: object) -> bytes:
        return data[offset : offset + 65536]

    def progress(offset: int, _has_error: bool) -> bool:
        state[0] = offset
        state[1] += 1
        if state[1] % 16 == 0 and memory_cap and _rss() > memory_cap:
            state[2] = 1
            return True
        return cpu_clock() > deadline

    try:
        tree = parser.parse(read, progress_callback=progress)
    except ValueError:  # the progress callback cancelled the parse
        parser.reset()  # else the next parse resumes this one
        budget.timed_out = True
        line = data.count(b"\n", 0, state[0]) + 1
        why = f"needed over {UNIT_MEMORY_BYTES >> 20} MiB" if state[2] else f"took over {seconds:.0f} s of CPU time"
        raise ParseTimeout(
            f"parsing gave up near here: it {why} (input built to be slow to parse, such as a very"
            " long run of whitespace inside an expression or of blank lines)",
            line,
        ) from None
    return _counted(tree)


def _counted(tree: Tree) -> Tree:
    count = tree.root_node.descendant_count
    if count > MAX_SYNTAX_NODES:
        raise ParseTimeout(
            f"the file has {count} syntax elements (names, values, punctuation), over the {MAX_SYNTAX_NODES} one file"
            " may have"
        )
    return tree


class ColumnIndex:
    """1-based character columns from byte offsets, in O(log n) for lines of any length.

    Slicing a line prefix and decoding it per node is quadratic on a long line
    (a minified 2 MB JSON template: minutes); this counts the UTF-8
    continuation bytes before an offset instead.
    """

    __slots__ = ("_continuations", "ascii", "data")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.ascii = data.isascii()
        self._continuations: array[int] | None = None

    def chars(self, start: int, end: int) -> int:
        """How many characters ``data[start:end]`` holds (UTF-8)."""
        if self.ascii or end <= start:
            return max(end - start, 0)
        cont = self._continuations
        if cont is None:
            cont = self._continuations = array("q", (m.start() for m in _CONTINUATION.finditer(self.data)))
        return (end - start) - (bisect_left(cont, end) - bisect_left(cont, start))


_CONTINUATION = re.compile(rb"[\x80-\xbf]")
