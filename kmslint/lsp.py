"""The language server: ``kmslint lsp`` (stdio), with pygls from the ``lsp`` extra.

* Diagnostics are published when a document is opened or saved, and after
  it stops changing for a moment (debounced, 300 ms by default).  The
  buffer is linted through :func:`kmslint.api.lint` as the document's path,
  so a Terraform file is judged with the rest of its directory on disk, and
  the configuration file that applies to it is used.
* Each diagnostic has the rule ID as its code, a link to the rule's docs
  (``codeDescription.href``) and a severity: critical and high are errors,
  medium warnings, low information, info hints.
* Hover over a diagnostic's span shows the rule's documentation; hover over a
  key's resource header shows who can administer, use and delegate it
  (:mod:`kmslint.access_hover`, built from the same lint's configuration).
* Code actions offer the fixes that are safe to make mechanically:
  ``enable_key_rotation = true`` / ``EnableKeyRotation: true`` (KMS002),
  removing ``bypass_policy_lockout_safety_check = true`` /
  ``BypassPolicyLockoutSafetyCheck: true`` (KMS009), and adding the
  multi-Region justification tag with a placeholder to fill in (KMS004).

Each fix is made by its rule's check from the model's spans (:mod:`kmslint.fixes`)
and written into the buffer as text edits here (:func:`fixes_for`), independent of pygls.

Everything an editor sends may be hostile (the document may come from a
pull request; the stream may be garbled):

* A document over ``max_file_bytes`` gets one KMS000 diagnostic saying so
  and is not linted.  At most :data:`MAX_DIAGNOSTICS` are published per
  document, with a note standing for the rest.
* Linting, hover and code actions run in worker threads, never on the
  event loop; code actions are linear in the document and stop at a time
  budget; a request waits at most :data:`REQUEST_WAIT_SECONDS` for its own
  document's lint, so a slow lint never holds up other documents.
* Only documents the editor opened are read: a request naming any other
  file reads nothing from disk.
* The byte stream goes through :class:`FrameReader`: a huge, negative,
  non-numeric, duplicated or missing ``Content-Length`` is dropped in
  bounded memory and the next message is served.
* Logged errors are one escaped line each; no traceback reaches the editor.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from kmslint import __version__, api, catalog
from kmslint.fixes import JUSTIFICATION_PLACEHOLDER, Edit, Fix, apply_edits, render
from kmslint.model import Finding, Severity
from kmslint.record import Record, field
from kmslint.settings import Settings

if TYPE_CHECKING:
    from lsprotocol import types as lsp
    from pygls.lsp.server import LanguageServer

DEBOUNCE_SECONDS = 0.3
INSTALL_HINT = "the kmslint language server needs pygls: pip install 'kmslint[lsp]'"
LINTED_SUFFIXES = (".tf", ".tf.json", ".json", ".yaml", ".yml", ".template")
LINTED_LANGUAGES = frozenset({"terraform", "hcl", "json", "yaml", "cloudformation"})


class MissingDependency(RuntimeError):
    """pygls or lsprotocol is not installed."""


# --------------------------------------------------------------------------- fixes (pure)


def fixes_for(finding: Finding, text: str) -> list[Fix]:
    """The safe fixes for one finding in ``text`` (the buffer it was found in)."""
    return _fixes(finding, text.split("\n"), "\r\n" if "\r\n" in text else "\n")


def _fixes(finding: Finding, lines: list[str], nl: str) -> list[Fix]:
    """The finding's quick fix (made by its check from the model's spans) as edits of ``lines``."""
    if finding.fix is None:
        return []
    edits = render(finding.fix, lines, finding.file, nl)
    return [Fix(finding.fix.title, finding.rule_id, edits)] if edits else []


# --------------------------------------------------------------------------- linting a buffer


def display_path(path: str, cwd: str | None = None) -> str:
    """The name a document is linted under: relative to the server's directory when inside it."""
    here = cwd or os.getcwd()
    absolute = os.path.abspath(path)
    try:
        rel = os.path.relpath(absolute, here)
    except ValueError:  # another drive
        return absolute
    return absolute if rel.startswith("..") else rel


class _ConfigCache(Record):
    entries: dict[tuple[str, int], Settings] = field(default_factory=dict)


def settings_for(path: str, cache: _ConfigCache | None = None, report: Callable[[str], None] | None = None) -> Settings:
    """The configuration that applies to ``path`` (defaults when none, or when it is invalid)."""
    from kmslint import config

    try:
        found = config.find_config(path)
        if found is None:
            return Settings()
        key = (str(found), found.stat().st_mtime_ns)
        if cache is not None and key in cache.entries:
            return cache.entries[key]
        settings = config.load(found)
    except config.ConfigError as exc:
        if report is not None:
            report(f"kmslint: {exc}")
        return Settings()
    except OSError as exc:
        if report is not None:
            report(f"kmslint: cannot read the configuration: {exc}")
        return Settings()
    if cache is not None:
        cache.entries[key] = settings
    return settings


def lint_text(
    path: str, text: str, settings: Settings | None = None, access: dict[int, str] | None = None
) -> list[Finding]:
    """Unsuppressed findings for the buffer ``text`` of the document at ``path``; with ``access``,
    the access summary of each key it declares goes there, by the 0-based line of its header."""
    name = display_path(path)
    settings = settings or Settings()
    hook = None
    if access is not None:
        from kmslint.access_hover import collector

        hook = collector(name, access, settings.account_id)
    report = api.lint([], settings, stdin_text=text, stdin_filename=name, on_project=hook)
    return [f for f in report.findings if not f.suppressed and f.file == name]


def wanted(path: str | None, language_id: str | None = None) -> bool:
    if path is None:
        return False
    return path.lower().endswith(LINTED_SUFFIXES) or (language_id or "").lower() in LINTED_LANGUAGES


# --------------------------------------------------------------------------- the server


def _utf16(line: str, codepoints: int) -> int:
    """UTF-16 units in the first ``codepoints`` characters (a lone surrogate, which JSON can carry, is one)."""
    prefix = line[: max(codepoints, 0)]
    return len(prefix.encode("utf-16-le", "surrogatepass")) // 2


def _severity(sev: Severity) -> lsp.DiagnosticSeverity:
    from lsprotocol import types as lsp

    if sev >= Severity.HIGH:
        return lsp.DiagnosticSeverity.Error
    if sev == Severity.MEDIUM:
        return lsp.DiagnosticSeverity.Warning
    if sev == Severity.LOW:
        return lsp.DiagnosticSeverity.Information
    return lsp.DiagnosticSeverity.Hint


def _range(lines: list[str], start: tuple[int, int], end: tuple[int, int]) -> lsp.Range:
    from lsprotocol import types as lsp

    def pos(line: int, char: int) -> lsp.Position:
        line = max(line, 0)
        text = lines[line] if line < len(lines) else ""
        return lsp.Position(line=line, character=_utf16(text, char))

    return lsp.Range(start=pos(*start), end=pos(*end))


def finding_range(f: Finding, lines: list[str]) -> lsp.Range:
    start = (f.line - 1, f.column - 1)
    end = (f.end_line - 1, f.end_column - 1)
    if end < start:
        end = start
    return _range(lines, start, end)


def to_diagnostic(f: Finding, lines: list[str]) -> lsp.Diagnostic:
    from lsprotocol import types as lsp

    from kmslint.formatters import rule_doc_url

    message = f.message + (f" ({f.resource})" if f.resource else "")
    return lsp.Diagnostic(
        range=finding_range(f, lines),
        message=message,
        severity=_severity(f.severity),
        code=f.rule_id,
        code_description=lsp.CodeDescription(href=rule_doc_url(f.rule_id)),
        source="kmslint",
        data={"rule": f.slug, "resource": f.resource or None, "severity": f.severity.label},
    )


def hover_markdown(findings: list[Finding]) -> str:
    from kmslint import ruledoc
    from kmslint.formatters import rule_doc_url

    parts: list[str] = []
    for f in findings:
        rule = catalog.rules().get(f.rule_id)
        head = f"**{f.rule_id} {f.slug}** ({f.severity.label}): {f.message}"
        docs = ruledoc.markdown(rule, syntax=example_syntax(f)) if rule is not None else ""
        parts.append(f"{head}\n\n[Rule documentation]({rule_doc_url(f.rule_id)})\n\n{docs}".rstrip())
    return "\n\n---\n\n".join(parts)


def example_syntax(f: Finding) -> str:
    """The syntax of the rule examples a hover on ``f`` shows: the one its file is written in."""
    if f.file.endswith((".tf", ".tf.json", ".hcl")) or f.resource.startswith(("aws_", "module.", "data.")):
        return "terraform"  # a configuration, or a plan (its resources are Terraform addresses)
    return "policy" if not f.resource else "cloudformation"


class _Linted(Record):
    """One lint of one version of a document, with what requests on it need, all made in the lint thread."""

    version: int | None
    text: str
    findings: list[Finding]
    lines: list[str]
    diagnostics: list[Any]  # lsp.Diagnostic: what was published (see MAX_DIAGNOSTICS, oversize)
    nl: str = "\n"  # the buffer's line break, for the lines quick fixes add
    access: dict[int, str] = field(default_factory=dict)  # a key header's line -> its access summary


def _contains(f: Finding, line: int, char: int) -> bool:
    """``(line, char)`` (0-based code points) lies within the finding's span."""
    start = (f.line - 1, f.column - 1)
    end = (f.end_line - 1, f.end_column - 1)
    if end <= start:
        return line == start[0]
    return start <= (line, char) <= end


def _overlaps(f: Finding, first: int, last: int) -> bool:
    return f.line - 1 <= last and max(f.end_line, f.line) - 1 >= first


def oversize(text: str, limit: int) -> int | None:
    """The document's size in UTF-8 bytes when it is over ``limit``, else None (without encoding a small one)."""
    if len(text) * 4 <= limit:
        return None
    size = len(text.encode("utf-8", "surrogatepass"))
    return size if size > limit else None


def _too_large(size: int, limit: int) -> lsp.Diagnostic:
    from lsprotocol import types as lsp

    from kmslint.formatters import rule_doc_url

    return lsp.Diagnostic(
        range=lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=0, character=0)),
        message=f"the document is {size} bytes, over the {limit}-byte limit (max_file_bytes): not linted",
        severity=lsp.DiagnosticSeverity.Error,
        code="KMS000",
        code_description=lsp.CodeDescription(href=rule_doc_url("KMS000")),
        source="kmslint",
    )


def _more(hidden: int, first: Finding, lines: list[str]) -> lsp.Diagnostic:
    """The note that stands for the findings past :data:`MAX_DIAGNOSTICS`, at the first of them."""
    from lsprotocol import types as lsp

    start = _range(lines, (first.line - 1, first.column - 1), (first.line - 1, first.column - 1)).start
    return lsp.Diagnostic(
        range=lsp.Range(start=start, end=start),
        message=f"{hidden} more findings from here on are not shown (at most {MAX_DIAGNOSTICS} per document):"
        " run kmslint on the file to see them all",
        severity=lsp.DiagnosticSeverity.Information,
        source="kmslint",
    )


def _hover(state: _Linted, line: int, character: int) -> lsp.Hover | None:
    """The hover for a position (LSP line, UTF-16 character), from one lint's findings."""
    from lsprotocol import types as lsp

    text = state.lines[line] if 0 <= line < len(state.lines) else ""
    # LSP characters are UTF-16 units; findings count code points.
    char = len(text.encode("utf-16-le", "surrogatepass")[: character * 2].decode("utf-16-le", "ignore"))
    hits = [f for f in state.findings if _contains(f, line, char)]
    access = state.access.get(line)
    if access is not None:  # a key's header: its access first, then what is found there
        value = "\n\n---\n\n".join([access, hover_markdown(hits)] if hits else [access])
        header = _range(state.lines, (line, 0), (line, len(text)))
        return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=value), range=header)
    if not hits:
        return None
    narrowest = min(hits, key=lambda f: (f.end_line - f.line, f.end_column - f.column))
    return lsp.Hover(
        contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=hover_markdown(hits)),
        range=finding_range(narrowest, state.lines),
    )


def _code_actions(uri: str, path: str, state: _Linted, first: int, last: int) -> list[lsp.CodeAction]:
    """The quick fixes for the findings that overlap lines ``first``..``last``.

    Each fix is placed by the spans its check recorded and reads only the
    lines next to them, so this is linear in the document.  At most
    :data:`MAX_CODE_ACTIONS` are made, within :data:`FIX_SECONDS` (pygls
    serialises the answer on its event loop); the rest are there for a
    request on a narrower range, as an editor makes for the cursor's line.
    """
    import time

    from lsprotocol import types as lsp

    deadline = time.monotonic() + FIX_SECONDS
    done: dict[tuple[str, int], list[Fix]] = {}
    actions: list[lsp.CodeAction] = []
    for f in state.findings:
        if not _overlaps(f, first, last):
            continue
        if time.monotonic() > deadline or len(actions) >= MAX_CODE_ACTIONS:
            break
        spot = (f.rule_id, f.line)
        fixes = done.get(spot)
        if fixes is None:  # findings at the same place (instances, aliases) share their fixes
            fixes = done[spot] = _fixes(f, state.lines, state.nl)
        diagnostic = to_diagnostic(f, state.lines) if fixes else None
        for fix in fixes:
            edits = [
                lsp.TextEdit(
                    range=_range(state.lines, (e.start_line, e.start_char), (e.end_line, e.end_char)),
                    new_text=e.new_text,
                )
                for e in fix.edits
            ]
            actions.append(
                lsp.CodeAction(
                    title=fix.title,
                    kind=lsp.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic] if diagnostic is not None else None,
                    is_preferred=True,
                    edit=lsp.WorkspaceEdit(changes={uri: edits}),
                )
            )
    return actions


# --------------------------------------------------------------------------- reading the editor's messages

# The largest message passed on: a document at the default max_file_bytes (4 MiB)
# with every character JSON-escaped fits, and pygls decodes a message on its event
# loop, so this also bounds how long one message can hold it up.
MAX_MESSAGE_BYTES = 32 * 1024 * 1024
MAX_HEADER_LINE = 1024
MAX_HEADERS = 16
_CHUNK = 1 << 16
# Where a message starts: a Content-Length header line.  It cannot occur inside a
# JSON body (a JSON string holds no raw line break), so after anything unreadable
# the reader looks for the next one.
_MARKER = re.compile(rb"content-length:[ \t]{0,16}[0-9]{1,20}[ \t]{0,16}\r?\n", re.IGNORECASE)
_MARKER_MAX = 96
_HEADER = re.compile(rb"([A-Za-z0-9-]{1,64}):([^\r\n]*)\r?\n")


class FrameReader:
    r"""The editor's byte stream, handed to pygls one well-formed message at a time.

    pygls reads ``Content-Length`` itself and believes it: a huge value
    raised ``OverflowError`` and killed the server, and a malformed one made
    it lose its place in the stream.  This reader finds each header block,
    and passes on only messages with exactly one decimal ``Content-Length``
    of at most :data:`MAX_MESSAGE_BYTES`, re-framed as
    ``Content-Length: N\r\n\r\n`` and the body.  Anything else (a length
    that is huge, negative, not a number, given twice or missing; a header
    line that never ends; bytes between messages) is dropped in bounded
    memory, said on stderr, and the next message is served.  It offers the
    two methods pygls's stdio reader calls, ``readline()`` and ``read(n)``,
    and never raises: an unreadable input ends like closed input.
    """

    def __init__(self, raw: Any, limit: int = MAX_MESSAGE_BYTES, report: Callable[[str], None] | None = None) -> None:
        self._read1: Callable[[int], bytes] = getattr(raw, "read1", None) or raw.read
        self._limit = limit
        self._report = report or _report_dropped
        self._buf = bytearray()
        self._eof = False
        self._skipped = 0  # bytes dropped by _skip_line, reported with the next search's
        self._lines: list[bytes] = []
        self._body = b""

    def readline(self) -> bytes:
        if not self._lines:
            try:
                body = self._next_message()
            except Exception as exc:  # an input error (or a bug) must end the session, not raise into pygls
                self._report(f"stopped reading the editor's messages: {type(exc).__name__}: {exc}")
                body = None
            if body is None:
                return b""
            self._lines = [b"Content-Length: %d\r\n" % len(body), b"\r\n"]
            self._body = body
        return self._lines.pop(0)

    def read(self, n: int = -1) -> bytes:
        out, self._body = (self._body, b"") if n < 0 or n >= len(self._body) else (self._body[:n], self._body[n:])
        return out

    def _fill(self) -> bool:
        """Read what is available (at least a byte); False at the end of the input."""
        if self._eof:
            return False
        try:
            data = self._read1(_CHUNK)
        except (OSError, ValueError):
            data = b""
        if not data:
            self._eof = True
            return False
        self._buf += data
        return True

    def _next_message(self) -> bytes | None:
        """The next well-formed message's body; None at the end of the input."""
        while True:
            if not self._find_marker():
                return None
            length, problem = self._header_block()
            if length is None:
                if problem:
                    self._report(f"dropped a message: {problem}")
                continue
            body = self._exactly(length)
            if body is None:
                return None
            return body

    def _find_marker(self) -> bool:
        """Drop everything before the next Content-Length header line; False at the end of the input."""
        dropped, self._skipped = self._skipped, 0
        while True:
            m = _MARKER.search(self._buf)
            if m is not None:
                skipped = bytes(self._buf[: m.start()])
                del self._buf[: m.start()]
                self._say_dropped(dropped, skipped)
                return True
            keep = max(len(self._buf) - _MARKER_MAX, 0)  # the start of a header line may be at the end
            dropped += keep
            del self._buf[:keep]
            if not self._fill():
                self._say_dropped(dropped, bytes(self._buf))
                return False

    def _say_dropped(self, dropped: int, tail: bytes) -> None:
        # Headers before Content-Length (Content-Type) and line breaks are not worth a word.
        if dropped or not re.fullmatch(rb"(?:[A-Za-z0-9-]{1,64}:[^\r\n]*\r?\n|\r?\n)*", tail):
            self._report(f"dropped {dropped + len(tail)} bytes that were not a message")

    def _line(self) -> bytes | None:
        """The next line, if it ends within MAX_HEADER_LINE bytes (not consumed); None otherwise."""
        while True:
            end = self._buf.find(b"\n", 0, MAX_HEADER_LINE)
            if end >= 0:
                return bytes(self._buf[: end + 1])
            if len(self._buf) >= MAX_HEADER_LINE or not self._fill():
                return None

    def _header_block(self) -> tuple[int | None, str]:
        """The Content-Length of the header block starting here, or None and what is wrong with it.

        A line that is not a header ends the block unconsumed, so a message
        that starts inside it is still found.
        """
        lengths: list[bytes] = []
        headers = 0
        while True:
            line = self._line()
            if line is None or headers > MAX_HEADERS:
                self._skip_line()
                return None, "a header block that does not end"
            if line in (b"\r\n", b"\n"):
                del self._buf[: len(line)]
                break
            m = _HEADER.fullmatch(line)
            if m is None:
                if headers == 0:
                    self._skip_line()
                return None, "a broken header line"
            del self._buf[: len(line)]
            headers += 1
            if m.group(1).lower() == b"content-length":
                lengths.append(m.group(2).strip())
        if len(lengths) != 1:
            return None, "Content-Length given twice" if lengths else "no Content-Length"
        value = lengths[0]
        if not (value.isdigit() and len(value) <= 20):
            return None, "a Content-Length that is not a number"
        length = int(value)
        if length > self._limit:
            return None, f"{length} bytes, over the {self._limit}-byte limit"
        if length == 0:
            return None, "an empty message"
        return length, ""

    def _skip_line(self) -> None:
        """Drop the line the block stopped at, so that the search for the next message moves on."""
        end = self._buf.find(b"\n", 0, MAX_HEADER_LINE)
        size = end + 1 if end >= 0 else max(1, min(len(self._buf), MAX_HEADER_LINE))
        self._skipped += min(size, len(self._buf))
        del self._buf[:size]

    def _exactly(self, n: int) -> bytes | None:
        while len(self._buf) < n:
            if not self._fill():
                self._report(f"the input ended inside a {n}-byte message")
                return None
        body = bytes(self._buf[:n])
        del self._buf[:n]
        return body


def _printable(text: str, limit: int = 1000) -> str:
    """``text`` with control characters escaped and its length bounded: for the editor's log."""
    out = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text[:limit])
    return out + ("..." if len(text) > limit else "")


def _report_dropped(message: str) -> None:
    import logging

    logging.getLogger("kmslint.lsp").warning("%s", message)


def _log_without_tracebacks() -> None:
    """Log warnings and errors (pygls's, asyncio's, ours) on stderr as one escaped line each, never a traceback."""
    import logging

    class OneLine(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            message = record.getMessage()
            # pygls sometimes writes the traceback into the message itself: keep its last line.
            head, marker, trace = message.partition("Traceback (most recent call last):")
            if marker:
                last = [line for line in trace.splitlines() if line.strip()][-1:]
                message = head.rstrip() + (f" ({last[0].strip()})" if last else "")
            exc = record.exc_info[1] if record.exc_info else None
            if exc is not None:
                message += f" ({type(exc).__name__}: {exc})"
            return _printable(f"kmslint lsp: {record.levelname.lower()}: {message}")

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLine())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)


# --------------------------------------------------------------------------- the server

# How long a hover or code action waits for its document's lint before answering
# without it; lints run one at a time, so a slow one elsewhere delays, never blocks.
REQUEST_WAIT_SECONDS = 2.0
# How long code actions may spend on fixes for one request.
FIX_SECONDS = 1.0
# Diagnostics published per document: pygls serialises them on its event loop
# (30,000 took ~0.5 s and 17 MB), and no one reads more in an editor.
MAX_DIAGNOSTICS = 1000
MAX_CODE_ACTIONS = 1000


def create_server(debounce: float = DEBOUNCE_SECONDS) -> LanguageServer:
    """A pygls server with kmslint's features (raises :class:`MissingDependency` without pygls).

    Nothing heavy runs on the event loop: linting (and building the
    diagnostics) in one lint thread, hover and code actions in another, so
    a slow lint never holds up requests on other documents.  Only documents
    the editor opened are read, never a file on disk named by a request.
    """
    try:
        from lsprotocol import types as lsp
        from pygls.lsp.server import LanguageServer
    except ImportError as exc:
        raise MissingDependency(INSTALL_HINT) from exc

    # One lint thread: the parsers (tree-sitter) are not to be used from two threads.
    lint_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kmslint-lint")
    quick_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kmslint-requests")

    class Server(LanguageServer):
        def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
            """Serve on stdio, reading the editor's messages through a :class:`FrameReader`."""
            _log_without_tracebacks()
            reader = cast("BinaryIO", FrameReader(stdin or sys.stdin.buffer))
            try:
                super().start_io(reader, stdout or sys.stdout.buffer)
            finally:
                lint_pool.shutdown(wait=False, cancel_futures=True)
                quick_pool.shutdown(wait=False, cancel_futures=True)

    server = Server("kmslint", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental)
    _register(server, _Documents(server, lint_pool, quick_pool, debounce))
    return server


def _register(server: LanguageServer, docs: _Documents) -> None:
    """The server's features, each handed to ``docs``."""
    from lsprotocol import types as lsp

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(params: lsp.DidOpenTextDocumentParams) -> None:
        docs.languages[params.text_document.uri] = params.text_document.language_id
        docs.schedule(params.text_document.uri, 0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(params: lsp.DidChangeTextDocumentParams) -> None:
        docs.schedule(params.text_document.uri, docs.debounce)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(params: lsp.DidSaveTextDocumentParams) -> None:
        docs.schedule(params.text_document.uri, 0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(params: lsp.DidCloseTextDocumentParams) -> None:
        docs.close(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    async def hover(params: lsp.HoverParams) -> lsp.Hover | None:
        state = await docs.current(params.text_document.uri)
        if state is None or not (state.findings or state.access):
            return None
        position = params.position
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(docs.quick_pool, _hover, state, position.line, position.character)

    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix], resolve_provider=False),
    )
    async def code_action(params: lsp.CodeActionParams) -> list[lsp.CodeAction] | None:
        from pygls.uris import to_fs_path

        uri = params.text_document.uri
        state = await docs.current(uri)
        path = to_fs_path(uri)
        if state is None or path is None:
            return None
        first, last = params.range.start.line, params.range.end.line
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(docs.quick_pool, _code_actions, uri, path, state, first, last)


class _Documents:
    """The open documents: their languages, their latest lints, the lints pending."""

    def __init__(
        self, server: LanguageServer, lint_pool: ThreadPoolExecutor, quick_pool: ThreadPoolExecutor, debounce: float
    ) -> None:
        self.server = server
        self.lint_pool = lint_pool
        self.quick_pool = quick_pool
        self.debounce = debounce
        self.linted: dict[str, _Linted] = {}
        self.pending: dict[str, asyncio.Task[_Linted | None]] = {}
        self.languages: dict[str, str] = {}
        self.configs = _ConfigCache()
        self.warned: set[str] = set()

    def warn(self, message: str) -> None:
        from lsprotocol import types as lsp

        if message not in self.warned:
            self.warned.add(message)
            self.server.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Warning, message=message))

    def opened(self, uri: str) -> Any:
        """The editor's copy of an open document; None for anything else (never read from disk)."""
        if uri not in self.languages:
            return None
        from urllib.parse import unquote

        return self.server.workspace.text_documents.get(unquote(uri))

    def run_lint(self, path: str, text: str, version: int | None) -> tuple[_Linted, list[str]]:
        """In the lint thread: lint (unless too large) and build the diagnostics; configuration warnings to send."""
        messages: list[str] = []
        settings = settings_for(path, self.configs, messages.append)
        lines = text.split("\n")
        size = oversize(text, settings.max_file_bytes)
        access: dict[int, str] = {}
        if size is not None:
            findings: list[Finding] = []
            diagnostics = [_too_large(size, settings.max_file_bytes)]
        else:
            findings = lint_text(path, text, settings, access)
            diagnostics = [to_diagnostic(f, lines) for f in findings[:MAX_DIAGNOSTICS]]
            if len(findings) > MAX_DIAGNOSTICS:
                diagnostics.append(_more(len(findings) - MAX_DIAGNOSTICS, findings[MAX_DIAGNOSTICS], lines))
        result = _Linted(version, text, findings, lines, diagnostics, "\r\n" if "\r\n" in text else "\n", access)
        return result, messages

    async def lint_now(self, uri: str) -> _Linted | None:
        from lsprotocol import types as lsp
        from pygls.uris import to_fs_path

        path = to_fs_path(uri)
        doc = self.opened(uri)
        if doc is None or not wanted(path, self.languages.get(uri)):
            return None
        assert path is not None
        text, version = doc.source, doc.version
        loop = asyncio.get_running_loop()
        try:
            result, messages = await loop.run_in_executor(self.lint_pool, self.run_lint, path, text, version)
        except Exception as exc:  # a bug must not take the editor's server down; say so instead
            message = _printable(f"kmslint failed on {path}: {type(exc).__name__}: {exc}")
            self.server.window_log_message(lsp.LogMessageParams(type=lsp.MessageType.Error, message=message))
            return None
        for message in messages:
            self.warn(message)
        if uri not in self.languages:  # closed while it was being linted
            return None
        self.linted[uri] = result
        self.server.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=result.diagnostics)
        )
        return result

    async def lint_later(self, uri: str, delay: float) -> _Linted | None:
        if delay > 0:
            await asyncio.sleep(delay)
        result = await self.lint_now(uri)
        if self.pending.get(uri) is asyncio.current_task():
            self.pending.pop(uri, None)
        return result

    def schedule(self, uri: str, delay: float) -> asyncio.Task[_Linted | None]:
        previous = self.pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        task = self.pending[uri] = asyncio.ensure_future(self.lint_later(uri, delay))
        return task

    async def current(self, uri: str) -> _Linted | None:
        """The findings for the document as it is now, waiting a little for its lint; None if not ready."""
        doc = self.opened(uri)
        if doc is None:
            return None
        have = self.linted.get(uri)
        if have is not None and have.version == doc.version and have.text == doc.source:
            return have
        task = self.pending.get(uri)
        if task is None or task.done():
            task = self.schedule(uri, 0)
        done, _ = await asyncio.wait({task}, timeout=REQUEST_WAIT_SECONDS)
        if task not in done or task.cancelled() or task.exception() is not None:
            return None
        result = task.result()
        return result if result is not None and result.version == doc.version else None

    def close(self, uri: str) -> None:
        from lsprotocol import types as lsp

        task = self.pending.pop(uri, None)
        if task is not None:
            task.cancel()
        self.linted.pop(uri, None)
        self.languages.pop(uri, None)
        self.server.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


def serve(debounce: float = DEBOUNCE_SECONDS) -> None:
    """Run the language server on stdin/stdout until the client says exit."""
    server = create_server(debounce)
    server.start_io(sys.stdin.buffer, sys.stdout.buffer)


__all__ = [
    "DEBOUNCE_SECONDS",
    "JUSTIFICATION_PLACEHOLDER",
    "MAX_MESSAGE_BYTES",
    "Edit",
    "Fix",
    "FrameReader",
    "MissingDependency",
    "apply_edits",
    "create_server",
    "fixes_for",
    "lint_text",
    "serve",
]
