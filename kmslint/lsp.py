"""The language server: ``kmslint lsp`` (stdio), with pygls from the ``lsp`` extra.

* Diagnostics are published when a document is opened or saved, and after
  it stops changing for a moment (debounced, 300 ms by default).  The
  buffer is linted through :func:`kmslint.api.lint` as the document's path,
  so a Terraform file is judged with the rest of its directory on disk, and
  the configuration file that applies to it is used.
* Each diagnostic has the rule ID as its code, a link to the rule's docs
  (``codeDescription.href``) and a severity: critical and high are errors,
  medium warnings, low information, info hints.
* Hover over a diagnostic's span shows the rule's documentation.
* Code actions offer the fixes that are safe to make mechanically:
  ``enable_key_rotation = true`` / ``EnableKeyRotation: true`` (KMS002),
  removing ``bypass_policy_lockout_safety_check = true`` /
  ``BypassPolicyLockoutSafetyCheck: true`` (KMS009), and adding the
  multi-Region justification tag with a placeholder to fill in (KMS004).

The fixes are plain line edits (:func:`fixes_for`), independent of pygls.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from kmslint import __version__, api, catalog
from kmslint.model import Finding, Severity
from kmslint.record import Record, field
from kmslint.settings import Settings

if TYPE_CHECKING:
    from lsprotocol import types as lsp
    from pygls.lsp.server import LanguageServer

DEBOUNCE_SECONDS = 0.3
INSTALL_HINT = "the kmslint language server needs pygls: pip install 'kmslint[lsp]'"
JUSTIFICATION_PLACEHOLDER = "TODO: say why this key must be multi-Region"
LINTED_SUFFIXES = (".tf", ".tf.json", ".json", ".yaml", ".yml", ".template")
LINTED_LANGUAGES = frozenset({"terraform", "hcl", "json", "yaml", "cloudformation"})


class MissingDependency(RuntimeError):
    """pygls or lsprotocol is not installed."""


# --------------------------------------------------------------------------- fixes (pure)


class Edit(Record, frozen=True):
    """Replace the text between two 0-based (line, code point) positions."""

    start_line: int
    start_char: int
    end_line: int
    end_char: int
    new_text: str


class Fix(Record, frozen=True):
    title: str
    rule_id: str
    edits: tuple[Edit, ...]


def apply_edits(text: str, edits: tuple[Edit, ...] | list[Edit]) -> str:
    """The text with non-overlapping edits applied (tests and clients without edit support)."""
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)

    def offset(line: int, char: int) -> int:
        return min(starts[min(line, len(lines))] + char, len(text))

    out = text
    for e in sorted(edits, key=lambda e: (e.start_line, e.start_char), reverse=True):
        out = out[: offset(e.start_line, e.start_char)] + e.new_text + out[offset(e.end_line, e.end_char) :]
    return out


def _kind(path: str) -> str:
    name = path.lower()
    if name.endswith(".tf"):
        return "terraform"
    if name.endswith((".json", ".template")):
        return "json"
    if name.endswith((".yaml", ".yml")):
        return "yaml"
    return ""


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _blank_or_comment(line: str) -> bool:
    s = line.strip()
    return not s or s.startswith(("#", "//"))


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _delete_line(lines: list[str], i: int) -> Edit:
    if i + 1 < len(lines):
        return Edit(i, 0, i + 1, 0, "")
    if i > 0:  # the last line, with no newline after it
        return Edit(i - 1, len(lines[i - 1].rstrip("\r")), i, len(lines[i]), "")
    return Edit(i, 0, i, len(lines[i]), "")


def _replace_value(lines: list[str], i: int, pattern: re.Pattern[str], value: str) -> Edit | None:
    m = pattern.match(lines[i])
    if m is None:
        return None
    return Edit(i, m.start("value"), i, m.end("value"), value)


def _next_content_line(lines: list[str], start: int, stop: int | None = None) -> int | None:
    end = len(lines) if stop is None else min(stop, len(lines))
    for j in range(start, end):
        if not _blank_or_comment(lines[j]):
            return j
    return None


def _tf_block_end(lines: list[str], header: int) -> int | None:
    """The line holding the brace that closes the block opened on ``header`` (strings and comments skipped)."""
    depth = 0
    for j in range(header, len(lines)):
        in_string = False
        k = 0
        line = lines[j]
        while k < len(line):
            c = line[k]
            if in_string:
                if c == "\\":
                    k += 1
                elif c == '"':
                    in_string = False
            elif c == '"':
                in_string = True
            elif c == "#" or line.startswith("//", k):
                break
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    return j
            k += 1
    return None


def _tf_header_above(lines: list[str], i: int) -> int | None:
    for j in range(i, -1, -1):
        if re.match(r'\s*resource\s+"', lines[j]):
            return j
    return None


def _child_indent(lines: list[str], parent: int, stop: int | None = None) -> str:
    j = _next_content_line(lines, parent + 1, stop)
    base = _indent(lines[parent])
    if j is not None and _indent(lines[j]) > base:
        return lines[j][: _indent(lines[j])]
    return lines[parent][:base] + "  "


_TF_ROTATION = re.compile(r"\s*enable_key_rotation\s*=\s*(?P<value>[^\s#/]+)")
_YAML_ROTATION = re.compile(r"\s*EnableKeyRotation\s*:\s*(?P<value>[^\s#,}]+)")
_JSON_ROTATION = re.compile(r'\s*"EnableKeyRotation"\s*:\s*(?P<value>"[^"]*"|[A-Za-z0-9]+)')
_TF_BYPASS = re.compile(r"\s*bypass_policy_lockout_safety_check\s*=\s*(true|\"true\")\s*((#|//).*)?\r?$")
_YAML_BYPASS = re.compile(r"\s*BypassPolicyLockoutSafetyCheck\s*:\s*(true|True|TRUE|\"true\"|'true')\s*(#.*)?\r?$")
_JSON_BYPASS = re.compile(r'\s*"BypassPolicyLockoutSafetyCheck"\s*:\s*(true|"true")\s*(?P<comma>,)?\s*\r?$')


def _fix_rotation(kind: str, lines: list[str], i: int, nl: str) -> Edit | None:
    line = lines[i]
    if kind == "terraform":
        edit = _replace_value(lines, i, _TF_ROTATION, "true")
        if edit is not None:
            return edit
        if not re.match(r'\s*resource\s+"aws_kms_[a-z_]*key"\s+"[^"]+"\s*\{\s*\r?$', line):
            return None
        end = _tf_block_end(lines, i)
        if end is None or any(_TF_ROTATION.match(lines[j]) for j in range(i + 1, end)):
            return None
        indent = _child_indent(lines, i, end)
        return Edit(i + 1, 0, i + 1, 0, f"{indent}enable_key_rotation = true{nl}")
    if kind == "yaml":
        edit = _replace_value(lines, i, _YAML_ROTATION, "true")
        if edit is not None:
            return edit
        if not re.match(r"\s*[A-Za-z0-9]+\s*:\s*(#.*)?\r?$", line):
            return None
        header = _indent(line)
        block = [j for j in range(i + 1, len(lines)) if not _blank_or_comment(lines[j])]
        children: list[int] = []
        for j in block:
            if _indent(lines[j]) <= header:
                break
            children.append(j)
        if not children:
            return None
        child = _indent(lines[children[0]])
        props = [j for j in children if _indent(lines[j]) == child and re.match(r"\s*Properties\s*:", lines[j])]
        if props:
            p = props[0]
            if not re.match(r"\s*Properties\s*:\s*(#.*)?\r?$", lines[p]):
                return None  # a flow mapping or an alias: not a place for a line edit
            nxt = _next_content_line(lines, p + 1)
            if nxt is not None and _indent(lines[nxt]) > child:
                indent = lines[nxt][: _indent(lines[nxt])]
            else:
                indent = lines[p][:child] + "  "
            return Edit(p + 1, 0, p + 1, 0, f"{indent}EnableKeyRotation: true{nl}")
        pad = lines[children[0]][:child]
        return Edit(i + 1, 0, i + 1, 0, f"{pad}Properties:{nl}{pad}  EnableKeyRotation: true{nl}")
    if kind == "json":
        edit = _replace_value(lines, i, _JSON_ROTATION, "true")
        if edit is not None:
            return edit
        if not re.match(r'\s*"[A-Za-z0-9]+"\s*:\s*\{\s*\r?$', line):
            return None
        header = _indent(line)
        for j in range(i + 1, len(lines)):
            if _indent(lines[j]) <= header and lines[j].strip():
                return None  # the resource ended without a Properties object we can edit
            if re.match(r'\s*"Properties"\s*:\s*\{\s*\r?$', lines[j]):
                nxt = _next_content_line(lines, j + 1)
                if nxt is None:
                    return None
                empty = lines[nxt].strip().startswith("}")
                indent = lines[j][: _indent(lines[j])] + "  " if empty else lines[nxt][: _indent(lines[nxt])]
                comma = "" if empty else ","
                return Edit(j + 1, 0, j + 1, 0, f'{indent}"EnableKeyRotation": true{comma}{nl}')
    return None


def _fix_bypass(kind: str, lines: list[str], i: int) -> tuple[Edit, ...]:
    line = lines[i]
    if kind == "terraform" and _TF_BYPASS.match(line):
        return (_delete_line(lines, i),)
    if kind == "yaml" and _YAML_BYPASS.match(line):
        prev = next((j for j in range(i - 1, -1, -1) if not _blank_or_comment(lines[j])), None)
        nxt = _next_content_line(lines, i + 1)
        only_child = (
            prev is not None
            and _indent(lines[prev]) < _indent(line)
            and (nxt is None or _indent(lines[nxt]) < _indent(line))
        )
        return () if only_child else (_delete_line(lines, i),)
    if kind == "json":
        m = _JSON_BYPASS.match(line)
        if m is None:
            return ()
        if m.group("comma"):
            return (_delete_line(lines, i),)
        prev = next((j for j in range(i - 1, -1, -1) if lines[j].strip()), None)
        if prev is None or not lines[prev].rstrip().endswith(","):
            return ()
        cut = len(lines[prev].rstrip())
        return (_delete_line(lines, i), Edit(prev, cut - 1, prev, cut, ""))
    return ()


def _fix_justification(kind: str, lines: list[str], i: int, tag: str, nl: str) -> Edit | None:
    line = lines[i]
    if kind == "terraform":
        if not re.match(r"\s*multi_region\s*=", line):
            return None
        header = _tf_header_above(lines, i)
        end = _tf_block_end(lines, header) if header is not None else None
        if header is None or end is None or end < i:
            return None
        pad = line[: _indent(line)]
        entry = f'"{tag}" = "{JUSTIFICATION_PLACEHOLDER}"'
        for j in range(header + 1, end):
            if re.match(r"\s*tags\s*=", lines[j]):
                if not re.match(r"\s*tags\s*=\s*\{\s*\r?$", lines[j]):
                    return None  # tags = merge(...), a variable, or a one-line map: leave it to a person
                return Edit(j + 1, 0, j + 1, 0, f"{_child_indent(lines, j, end)}{entry}{nl}")
        return Edit(i + 1, 0, i + 1, 0, f"{pad}tags = {{{nl}{pad}  {entry}{nl}{pad}}}{nl}")
    if kind == "yaml":
        if not re.match(r"\s*MultiRegion\s*:", line):
            return None
        level = _indent(line)
        pad = line[:level]
        start = i
        while start > 0 and (_blank_or_comment(lines[start - 1]) or _indent(lines[start - 1]) >= level):
            start -= 1
        end = i
        while end + 1 < len(lines) and (_blank_or_comment(lines[end + 1]) or _indent(lines[end + 1]) >= level):
            end += 1
        for j in range(start, end + 1):
            if _indent(lines[j]) == level and re.match(r"\s*Tags\s*:", lines[j]):
                if not re.match(r"\s*Tags\s*:\s*(#.*)?\r?$", lines[j]):
                    return None  # a flow sequence, an alias or an intrinsic function
                nxt = _next_content_line(lines, j + 1)
                if nxt is not None and (
                    _indent(lines[nxt]) > level
                    or (_indent(lines[nxt]) == level and lines[nxt].lstrip().startswith("-"))
                ):
                    item = lines[nxt][: _indent(lines[nxt])]
                else:
                    item = pad + "  "
                text = f'{item}- Key: "{tag}"{nl}{item}  Value: "{JUSTIFICATION_PLACEHOLDER}"{nl}'
                return Edit(j + 1, 0, j + 1, 0, text)
        text = f'{pad}Tags:{nl}{pad}  - Key: "{tag}"{nl}{pad}    Value: "{JUSTIFICATION_PLACEHOLDER}"{nl}'
        return Edit(i + 1, 0, i + 1, 0, text)
    return None


def fixes_for(finding: Finding, text: str, path: str, justification_tag: str | None = None) -> list[Fix]:
    """The safe fixes for one finding in ``text`` (the buffer it was found in)."""
    kind = _kind(path)
    lines = text.split("\n")
    i = finding.line - 1
    if not kind or not 0 <= i < len(lines):
        return []
    nl = _newline(text)
    if finding.rule_id == "KMS002":
        edit = _fix_rotation(kind, lines, i, nl)
        title = "Enable automatic key rotation"
        return [Fix(title, "KMS002", (edit,))] if edit is not None else []
    if finding.rule_id == "KMS009":
        edits = _fix_bypass(kind, lines, i)
        name = "bypass_policy_lockout_safety_check" if kind == "terraform" else "BypassPolicyLockoutSafetyCheck"
        return [Fix(f"Remove {name} (keep the lockout safety check)", "KMS009", edits)] if edits else []
    if finding.rule_id == "KMS004":
        tag = justification_tag or str(catalog.rules()["KMS004"].option_default("justification_tag"))
        edit = _fix_justification(kind, lines, i, tag, nl)
        return [Fix(f"Add the {tag} tag (then write the reason)", "KMS004", (edit,))] if edit is not None else []
    return []


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


def lint_text(path: str, text: str, settings: Settings | None = None) -> list[Finding]:
    """Unsuppressed findings for the buffer ``text`` of the document at ``path``."""
    name = display_path(path)
    report = api.lint([], settings or Settings(), stdin_text=text, stdin_filename=name)
    return [f for f in report.findings if not f.suppressed and f.file == name]


def wanted(path: str | None, language_id: str | None = None) -> bool:
    if path is None:
        return False
    return path.lower().endswith(LINTED_SUFFIXES) or (language_id or "").lower() in LINTED_LANGUAGES


# --------------------------------------------------------------------------- the server


def _utf16(line: str, codepoints: int) -> int:
    prefix = line[: max(codepoints, 0)]
    return len(prefix.encode("utf-16-le")) // 2


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
        data={"rule": f.rule, "resource": f.resource or None, "severity": f.severity.label},
    )


def hover_markdown(findings: list[Finding]) -> str:
    from kmslint.formatters import rule_doc_url
    from kmslint.formatters.sarif import rule_markdown

    parts: list[str] = []
    for f in findings:
        rule = catalog.rules().get(f.rule_id)
        head = f"**{f.rule_id} {f.rule}** ({f.severity.label}): {f.message}"
        docs = rule_markdown(rule) if rule is not None else ""
        parts.append(f"{head}\n\n[Rule documentation]({rule_doc_url(f.rule_id)})\n\n{docs}".rstrip())
    return "\n\n---\n\n".join(parts)


class _Linted(Record):
    version: int | None
    text: str
    findings: list[Finding]


def _contains(f: Finding, line: int, char: int) -> bool:
    """``(line, char)`` (0-based code points) lies within the finding's span."""
    start = (f.line - 1, f.column - 1)
    end = (f.end_line - 1, f.end_column - 1)
    if end <= start:
        return line == start[0]
    return start <= (line, char) <= end


def _overlaps(f: Finding, first: int, last: int) -> bool:
    return f.line - 1 <= last and max(f.end_line, f.line) - 1 >= first


def create_server(debounce: float = DEBOUNCE_SECONDS) -> LanguageServer:
    """A pygls server with kmslint's features (raises :class:`MissingDependency` without pygls)."""
    try:
        from lsprotocol import types as lsp
        from pygls.lsp.server import LanguageServer
        from pygls.uris import to_fs_path
    except ImportError as exc:
        raise MissingDependency(INSTALL_HINT) from exc

    server = LanguageServer("kmslint", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental)
    # Linting is CPU work; one worker keeps the parsers single-threaded and the server responsive.
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kmslint-lint")
    linted: dict[str, _Linted] = {}
    pending: dict[str, asyncio.Task[None]] = {}
    languages: dict[str, str] = {}
    configs = _ConfigCache()
    warned: set[str] = set()

    def warn(message: str) -> None:
        if message not in warned:
            warned.add(message)
            server.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Warning, message=message))

    def run_lint(path: str, text: str) -> tuple[list[Finding], list[str]]:
        """In the worker thread: lint, collecting configuration warnings to send from the event loop."""
        messages: list[str] = []
        return lint_text(path, text, settings_for(path, configs, messages.append)), messages

    async def lint_now(uri: str) -> _Linted | None:
        path = to_fs_path(uri)
        if not wanted(path, languages.get(uri)):
            return None
        assert path is not None
        doc = server.workspace.get_text_document(uri)
        text, version = doc.source, doc.version
        try:
            findings, messages = await asyncio.get_running_loop().run_in_executor(executor, run_lint, path, text)
        except Exception as exc:  # a bug must not take the editor's server down; say so instead
            server.window_log_message(
                lsp.LogMessageParams(type=lsp.MessageType.Error, message=f"kmslint failed on {path}: {exc!r}")
            )
            return None
        for message in messages:
            warn(message)
        result = _Linted(version, text, findings)
        linted[uri] = result
        lines = text.split("\n")
        server.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(
                uri=uri, version=version, diagnostics=[to_diagnostic(f, lines) for f in findings]
            )
        )
        return result

    async def lint_later(uri: str, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        pending.pop(uri, None)
        await lint_now(uri)

    def schedule(uri: str, delay: float) -> None:
        previous = pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        pending[uri] = asyncio.ensure_future(lint_later(uri, delay))

    async def current(uri: str) -> _Linted | None:
        """The findings for the document as it is now (linting it again when it changed since)."""
        doc = server.workspace.get_text_document(uri)
        have = linted.get(uri)
        if have is not None and have.version == doc.version and have.text == doc.source:
            return have
        return await lint_now(uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(params: lsp.DidOpenTextDocumentParams) -> None:
        languages[params.text_document.uri] = params.text_document.language_id
        schedule(params.text_document.uri, 0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(params: lsp.DidChangeTextDocumentParams) -> None:
        schedule(params.text_document.uri, debounce)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(params: lsp.DidSaveTextDocumentParams) -> None:
        schedule(params.text_document.uri, 0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        task = pending.pop(uri, None)
        if task is not None:
            task.cancel()
        linted.pop(uri, None)
        languages.pop(uri, None)
        server.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    async def hover(params: lsp.HoverParams) -> lsp.Hover | None:
        state = await current(params.text_document.uri)
        if state is None:
            return None
        lines = state.text.split("\n")
        line = params.position.line
        text = lines[line] if line < len(lines) else ""
        # LSP characters are UTF-16 units; findings count code points.
        char = len(text.encode("utf-16-le")[: params.position.character * 2].decode("utf-16-le", "ignore"))
        hits = [f for f in state.findings if _contains(f, line, char)]
        if not hits:
            return None
        narrowest = min(hits, key=lambda f: (f.end_line - f.line, f.end_column - f.column))
        return lsp.Hover(
            contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=hover_markdown(hits)),
            range=finding_range(narrowest, lines),
        )

    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix], resolve_provider=False),
    )
    async def code_action(params: lsp.CodeActionParams) -> list[lsp.CodeAction] | None:
        uri = params.text_document.uri
        state = await current(uri)
        path = to_fs_path(uri)
        if state is None or path is None:
            return None
        lines = state.text.split("\n")
        settings = settings_for(path, configs, warn)
        tag = settings.options.get("KMS004", {}).get("justification_tag")
        actions: list[lsp.CodeAction] = []
        for f in state.findings:
            if not _overlaps(f, params.range.start.line, params.range.end.line):
                continue
            for fix in fixes_for(f, state.text, path, tag if isinstance(tag, str) else None):
                edits = [
                    lsp.TextEdit(
                        range=_range(lines, (e.start_line, e.start_char), (e.end_line, e.end_char)), new_text=e.new_text
                    )
                    for e in fix.edits
                ]
                actions.append(
                    lsp.CodeAction(
                        title=fix.title,
                        kind=lsp.CodeActionKind.QuickFix,
                        diagnostics=[to_diagnostic(f, lines)],
                        is_preferred=True,
                        edit=lsp.WorkspaceEdit(changes={uri: edits}),
                    )
                )
        return actions

    return server


def serve(debounce: float = DEBOUNCE_SECONDS) -> None:
    """Run the language server on stdin/stdout until the client says exit."""
    server = create_server(debounce)
    server.start_io(sys.stdin.buffer, sys.stdout.buffer)


__all__ = [
    "DEBOUNCE_SECONDS",
    "Edit",
    "Fix",
    "MissingDependency",
    "apply_edits",
    "create_server",
    "fixes_for",
    "lint_text",
    "serve",
]
