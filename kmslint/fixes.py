"""Quick fixes: what a check asks for, placed by the model's spans, written into the text.

A check that can offer a fix attaches a :class:`~kmslint.model.QuickFix` to its
violation, built here from the key's spans (:func:`turn_on`, :func:`remove`,
:func:`add_tag`): it names what changes (an attribute set, removed or
inserted) and where, in the model's terms.  The language server then asks
:func:`render` for the text edits, on the buffer the finding came from.

Rendering reads the text only around the spans the parser recorded: the first
content line of a block for its indentation, the character after an entry for
a comma.  It declines (returns None) whatever it cannot do safely as a line
edit: a span in another file, a one-line map with content, a YAML flow node
or alias, an entry that shares its line with another, the only entry of a
YAML mapping.  A fix that is offered parses, and lints without its finding.
"""

from __future__ import annotations

import json
import re

from kmslint.model import Change, KeyResource, Known, Location, QuickFix
from kmslint.record import Record

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing on the lint path
if TYPE_CHECKING:
    from typing import Any

JUSTIFICATION_PLACEHOLDER = "TODO: say why this key must be multi-Region"


class Edit(Record, frozen=True):
    """Replace the text between two 0-based (line, code point) positions."""

    start_line: int
    start_char: int
    end_line: int
    end_char: int
    new_text: str


class Fix(Record, frozen=True):
    """A quick fix as the editor gets it: its title, the rule it fixes, its text edits."""

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
        return starts[line] + char

    out = text
    for e in sorted(edits, key=lambda e: (e.start_line, e.start_char), reverse=True):
        out = out[: offset(e.start_line, e.start_char)] + e.new_text + out[offset(e.end_line, e.end_char) :]
    return out


# --------------------------------------------------------------------------- building, for the checks


def _literal_at(key: KeyResource, attr: str) -> Known | None:
    """The attribute's value when it is a literal written at the attribute itself (not a
    variable's default, a caller's argument or a branch of a condition)."""
    value = getattr(key, attr)
    where = key.attr_locs.get(attr)
    if not isinstance(value, Known) or value.loc is None or where is None or not where.contains(value.loc):
        return None
    return value if value.loc.line == value.loc.end_line else None


def _insert(key: KeyResource, attr: str, value: Any, beside: str | None = None) -> Change | None:
    """``attr`` set to ``value`` in the key's body; a CloudFormation key without Properties gets them."""
    near = key.attr_locs.get(beside) if beside is not None else None
    if key.spelled(attr) in key.written:
        return None  # written, but absent in this reading (null, AWS::NoValue, a condition's branch)
    if key.body is not None:
        return Change("insert", key.syntax, key.body, key.spelled(attr), value, beside=near)
    if key.syntax == "cloudformation" and key.definition is not None:
        return Change("insert", key.syntax, key.definition, "Properties", {key.spelled(attr): value})
    return None


def turn_on(key: KeyResource, attr: str, title: str) -> QuickFix | None:
    """Set a boolean attribute to true: its literal replaced, or the attribute added when unset."""
    if key.definition is None:
        return None  # not text a person edits (plan JSON, .tf.json, a loop's template)
    if getattr(key, attr) is None:
        change = _insert(key, attr, True)
    else:
        literal = _literal_at(key, attr)
        change = Change("replace", key.syntax, literal.loc, value=True) if literal and literal.loc else None
    return QuickFix(title, (change,)) if change is not None else None


def remove(key: KeyResource, attr: str, title: str) -> QuickFix | None:
    """Remove an attribute written as a literal in the key's body (its default applies)."""
    where = key.attr_locs.get(attr)
    if key.body is None or where is None or _literal_at(key, attr) is None:
        return None
    return QuickFix(title, (Change("remove", key.syntax, where, within=key.body),))


def add_tag(key: KeyResource, tag: str, value: str, title: str, beside: str) -> QuickFix | None:
    """Add a tag: into the tags the key writes when they are a literal map or list, else a new
    tags attribute after the attribute ``beside``."""
    if "tags" not in key.attr_locs:  # none written here (the provider's default tags are elsewhere)
        entry: Any = {tag: value} if key.syntax == "terraform" else [{"Key": tag, "Value": value}]
        change = _insert(key, "tags", entry, beside=beside)
        return QuickFix(title, (change,)) if change is not None else None
    tags = key.tags
    where = key.attr_locs["tags"]
    if not isinstance(tags, Known) or tags.loc is None or not where.contains(tags.loc) or key.body is None:
        return None
    if isinstance(tags.value, dict) and tag in tags.value:
        return None  # the tag is there, its reason empty: a person writes it in
    if key.syntax == "terraform":
        change = Change("insert", key.syntax, tags.loc, tag, value)
    else:
        change = Change("insert", key.syntax, tags.loc, None, {"Key": tag, "Value": value})
    return QuickFix(title, (change,))


# --------------------------------------------------------------------------- rendering, for the editor


class _Text:
    """The buffer's lines, read at the places a change names (1-based lines and columns)."""

    def __init__(self, lines: list[str], file: str, nl: str) -> None:
        self.lines = lines
        self.file = file
        self.nl = nl

    def line(self, n: int) -> str:
        return self.lines[n - 1].rstrip("\r") if 1 <= n <= len(self.lines) else ""

    def char(self, n: int, column: int) -> str:
        text = self.line(n)
        return text[column - 1] if 1 <= column <= len(text) else ""

    def ours(self, loc: Location | None) -> bool:
        """Is the span in this buffer, within its lines?"""
        return loc is not None and loc.file == self.file and 1 <= loc.line <= loc.end_line <= len(self.lines)

    def starts_line(self, loc: Location) -> bool:
        return not self.line(loc.line)[: loc.column - 1].strip()

    def rest_is_blank(self, n: int, column: int, comments: tuple[str, ...]) -> bool:
        rest = self.line(n)[column - 1 :].strip()
        return not rest or rest.startswith(comments)

    def content(self, n: int, comments: tuple[str, ...]) -> bool:
        text = self.line(n).strip()
        return bool(text) and not text.startswith(comments)

    def next_content(self, after: int, stop: int, comments: tuple[str, ...]) -> int | None:
        """The first line after ``after`` and up to ``stop`` that holds more than blanks and comments."""
        for n in range(after + 1, min(stop, len(self.lines)) + 1):
            if self.content(n, comments):
                return n
        return None

    def prev_content(self, before: int, comments: tuple[str, ...]) -> int | None:
        for n in range(before - 1, 0, -1):
            if self.content(n, comments):
                return n
        return None


def _indent(text: str) -> str:
    return text[: len(text) - len(text.lstrip(" \t"))]


def render(fix: QuickFix, lines: list[str], file: str, nl: str = "\n") -> tuple[Edit, ...] | None:
    """The text edits of ``fix`` on the buffer ``lines`` of ``file`` (None: not safe to offer)."""
    text = _Text(lines, file, nl)
    edits: list[Edit] = []
    for change in fix.changes:
        if not text.ours(change.at) or (change.within is not None and not text.ours(change.within)):
            return None
        made = _RENDER[change.op](change, text)
        if made is None:
            return None
        edits.extend(made)
    return tuple(edits)


def _replace(change: Change, text: _Text) -> list[Edit] | None:
    at = change.at
    if at.line != at.end_line:
        return None
    written = _scalar(change.value)
    return [Edit(at.line - 1, at.column - 1, at.end_line - 1, at.end_column - 1, written)]


def _delete_lines(text: _Text, first: int, last: int) -> Edit:
    """Whole lines ``first``..``last`` (1-based) removed, their line breaks with them."""
    if last < len(text.lines):
        return Edit(first - 1, 0, last, 0, "")
    if first > 1:  # the last line, with no newline after it
        return Edit(first - 2, len(text.line(first - 1)), last - 1, len(text.lines[last - 1]), "")
    return Edit(first - 1, 0, last - 1, len(text.lines[last - 1]), "")


def _remove(change: Change, text: _Text) -> list[Edit] | None:
    at, within = change.at, change.within
    if within is None or not text.starts_line(at):
        return None
    if text.char(within.line, within.column) == "{" and change.syntax == "cloudformation":
        return _remove_json(at, text)
    comments = ("#", "//") if change.syntax == "terraform" else ("#",)
    if not text.rest_is_blank(at.end_line, at.end_column, comments):
        return None
    if change.syntax == "cloudformation":  # YAML: removing a mapping's only entry leaves it null
        level = len(_indent(text.line(at.line)))
        prev = text.prev_content(at.line, comments)
        nxt = text.next_content(at.end_line, len(text.lines), comments)
        if (prev is None or len(_indent(text.line(prev))) < level) and (
            nxt is None or len(_indent(text.line(nxt))) < level
        ):
            return None
    return [_delete_lines(text, at.line, at.end_line)]


def _remove_json(at: Location, text: _Text) -> list[Edit] | None:
    after = text.line(at.end_line)[at.end_column - 1 :].strip()
    if after == ",":
        return [_delete_lines(text, at.line, at.end_line)]
    if after:
        return None
    prev = text.prev_content(at.line, ())
    if prev is None:
        return None
    before = text.line(prev).rstrip()
    if before.endswith("{"):  # the only entry: the object is left empty
        return [_delete_lines(text, at.line, at.end_line)]
    if not before.endswith(","):
        return None
    return [_delete_lines(text, at.line, at.end_line), Edit(prev - 1, len(before) - 1, prev - 1, len(before), "")]


def _insert_into(change: Change, text: _Text) -> list[Edit] | None:
    opener = text.char(change.at.line, change.at.column)
    if change.syntax == "terraform":
        return _insert_hcl(change, text) if opener == "{" else None
    if opener in ("{", "["):
        return _insert_flow(change, text, opener)
    if opener in ("*", "&", "!", "|", ">", "'", '"') or not text.starts_line(change.at):
        return None  # an alias, an anchor, a tag or a scalar: not a block to add a line to
    return _insert_yaml(change, text)


_RENDER = {"replace": _replace, "remove": _remove, "insert": _insert_into}


# -- Terraform


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


def _hcl_key(name: str) -> str:
    return name if _IDENTIFIER.match(name) else json.dumps(name)


def _hcl_entry(name: str, value: Any, pad: str, nl: str) -> str:
    if isinstance(value, dict):
        inner = "".join(f"{pad}  {_hcl_key(k)} = {_scalar(v)}{nl}" for k, v in value.items())
        return f"{pad}{name} = {{{nl}{inner}{pad}}}"
    return f"{pad}{_hcl_key(name)} = {_scalar(value)}"


def _beside(change: Change, text: _Text, comments: tuple[str, ...]) -> Location | None:
    """The entry the new one goes after, when it is on lines of its own inside the container."""
    near = change.beside
    if near is None or not text.ours(near) or not change.at.contains(near) or not text.starts_line(near):
        return None
    if near.line != near.end_line or not text.rest_is_blank(near.end_line, near.end_column, comments):
        return None
    return near


def _insert_hcl(change: Change, text: _Text) -> list[Edit] | None:
    at, nl, name = change.at, text.nl, change.name or ""
    if text.char(at.end_line, at.end_column - 1) != "}":
        return None
    near = _beside(change, text, ("#", "//"))
    if near is not None:
        entry = _hcl_entry(name, change.value, _indent(text.line(near.line)), nl)
        return [Edit(near.line, 0, near.line, 0, entry + nl)]
    pad = _indent(text.line(at.line))
    if at.line == at.end_line:  # resource "aws_kms_key" "k" {}: open it up
        if text.line(at.line)[at.column : at.end_column - 2].strip():
            return None  # a one-line map with content: how to lay it out is for a person
        entry = _hcl_entry(name, change.value, pad + "  ", nl)
        return [Edit(at.line - 1, at.column - 1, at.line - 1, at.end_column - 1, f"{{{nl}{entry}{nl}{pad}}}")]
    if not text.rest_is_blank(at.line, at.column + 1, ("#", "//")):
        return None
    first = text.next_content(at.line, at.end_line, ("#", "//"))
    child = _indent(text.line(first)) if first is not None and first < at.end_line else pad + "  "
    return [Edit(at.line, 0, at.line, 0, _hcl_entry(name, change.value, child, nl) + nl)]


# -- CloudFormation: YAML blocks, and JSON (or YAML flow) objects and arrays


def _insert_yaml(change: Change, text: _Text) -> list[Edit] | None:
    at, nl = change.at, text.nl
    near = _beside(change, text, ("#",))
    if near is not None:
        pad = _indent(text.line(near.line))
        return [Edit(near.line, 0, near.line, 0, _yaml_entry(change.name, change.value, pad, nl) + nl)]
    pad = " " * (at.column - 1)
    if change.name is None and text.char(at.line, at.column) != "-":
        return None  # an item for a list that is not a block sequence
    if change.name is not None and text.char(at.line, at.column) == "-":
        return None
    return [Edit(at.line - 1, 0, at.line - 1, 0, _yaml_entry(change.name, change.value, pad, nl) + nl)]


def _yaml_key(name: str) -> str:
    return name if re.match(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\Z", name) else json.dumps(name)


def _yaml_entry(name: str | None, value: Any, pad: str, nl: str) -> str:
    """``name: value`` (``name`` None: a list item ``- ...``) as block YAML indented by ``pad``."""
    if name is None:
        assert isinstance(value, dict)
        lines = _yaml_entry_lines(value, pad + "  ", nl)
        return pad + "- " + lines[len(pad) + 2 :]
    if isinstance(value, dict):
        return f"{pad}{_yaml_key(name)}:{nl}{_yaml_entry_lines(value, pad + '  ', nl)}"
    if isinstance(value, list):
        items = nl.join(_yaml_entry(None, item, pad + "  ", nl) for item in value)
        return f"{pad}{_yaml_key(name)}:{nl}{items}"
    return f"{pad}{_yaml_key(name)}: {_scalar(value)}"


def _yaml_entry_lines(mapping: dict[str, Any], pad: str, nl: str) -> str:
    return nl.join(_yaml_entry(k, v, pad, nl) for k, v in mapping.items())


def _insert_flow(change: Change, text: _Text, opener: str) -> list[Edit] | None:
    at, nl = change.at, text.nl
    if (opener == "[") != (change.name is None):
        return None
    closer = "]" if opener == "[" else "}"
    if text.char(at.end_line, at.end_column - 1) != closer:
        return None
    entry = json.dumps(change.value)
    if change.name is not None:
        entry = f"{json.dumps(change.name)}: {entry}"
    near = _beside(change, text, ())
    if near is not None:  # before it, with a comma: the entry it goes beside follows
        pad = _indent(text.line(near.line))
        return [Edit(near.line - 1, 0, near.line - 1, 0, f"{pad}{entry},{nl}")]
    open_rest = text.line(at.line)[at.column :].strip()
    if at.line == at.end_line or open_rest:  # written on one line: the entry goes in after the opener
        empty = open_rest.startswith(closer)
        return [Edit(at.line - 1, at.column, at.line - 1, at.column, entry if empty else entry + ", ")]
    first = text.next_content(at.line, at.end_line, ())
    if first is None:
        return None
    empty = text.line(first).strip().startswith(closer)
    pad = _indent(text.line(at.line)) + "  " if empty else _indent(text.line(first))
    return [Edit(at.line, 0, at.line, 0, f"{pad}{entry}{'' if empty else ','}{nl}")]


def _scalar(value: Any) -> str:
    """A bool or a string as HCL, JSON and YAML all write it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(str(value))
