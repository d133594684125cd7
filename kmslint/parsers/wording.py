"""Parse errors in a user's words: what is wrong where the text stops making sense.

Each parser reports a syntax error in its own vocabulary: Python's ``json``
says "Expecting value" for a trailing comma, libyaml "did not find expected
node content", tree-sitter a missing ``quoted_template_end``.  A KMS000
message says the same in words a person writing the file knows (RULES.md):
"a comma before `]`", "unclosed `{` opened at line 3", "unclosed string".
Only the words change: the position each parser gives stays the finding's
position.

Every function here runs on an error path only, and looks at the text in
time linear in its length.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from json import JSONDecodeError

    from tree_sitter import Node
    from yaml import MarkedYAMLError

    from kmslint.parsers.hcl_syntax import Src

_CLOSER = {"{": "}", "[": "]", "(": ")"}
_SNIPPET = 30  # characters of the text quoted in a message, at most


def _quoted(text: str) -> str:
    """A piece of the input as a message quotes it: one line, short, in backticks."""
    line = text.strip().split("\n", 1)[0].strip()
    if len(line) > _SNIPPET:
        line = line[:_SNIPPET] + "..."
    return f"`{line}`" if line else "the end of the file"


def _found(text: str, pos: int) -> str:
    """What is at ``pos``: a punctuation mark, a word, a string's start, or the end of the file."""
    rest = text[pos:].lstrip()
    if not rest:
        return "the end of the file"
    word = re.match(r"[\w.:*+-]+|\"[^\"\n]{0,20}\"?|'[^'\n]{0,20}'?", rest)
    return _quoted(word.group(0) if word else rest[0])


def _before(text: str, pos: int) -> str:
    """The last character before ``pos`` that is not white space ("" at the start)."""
    head = text[:pos].rstrip()
    return head[-1:] if head else ""


def _open_bracket(text: str, pos: int) -> tuple[str, int] | None:
    """The innermost ``{`` or ``[`` still open at ``pos`` in JSON text, and its line."""
    stack: list[tuple[str, int]] = []
    line = 1
    in_string = escaped = False
    for ch in text[:pos]:
        if ch == "\n":
            line += 1
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append((ch, line))
        elif ch in "}]" and stack:
            stack.pop()
    return stack[-1] if stack else None


def _unclosed(text: str, pos: int) -> str | None:
    opener = _open_bracket(text, pos)
    return f"unclosed `{opener[0]}` opened at line {opener[1]}" if opener else None


# --------------------------------------------------------------------------- JSON

_JSON_VALUES = "a string in double quotes, a number, true, false, null, {...} or [...]"


def same_on_every_python(exc: JSONDecodeError) -> JSONDecodeError:
    """``exc`` as Python 3.10 to 3.12 raise it, so that a position and a message do not change with the Python.

    Python 3.13 reports a comma before `]` or `}` as "Illegal trailing comma" at the comma;
    earlier versions, at the bracket, as the value or key that was expected there.
    """
    if not exc.msg.startswith("Illegal trailing comma"):
        return exc
    import json

    closer = len(exc.doc) - len(exc.doc[exc.pos + 1 :].lstrip(" \t\n\r"))  # JSON's whitespace skipped
    expected = (
        "Expecting value"
        if exc.doc[closer : closer + 1] == "]"
        else "Expecting property name enclosed in double quotes"
    )
    return json.JSONDecodeError(expected, exc.doc, closer)


def json_problem(exc: JSONDecodeError) -> str:
    """Python's ``json`` error, said in words (the caller keeps its line and column)."""
    exc = same_on_every_python(exc)
    text, pos, msg = exc.doc, exc.pos, exc.msg
    at_end = not text[pos:].strip()
    ch = text[pos : pos + 1]
    trailing_comma = _before(text, pos) == "," and ch in ("]", "}")
    if msg.startswith("Expecting") and trailing_comma:
        closer = ch if ch in ("]", "}") else "]"
        return f"a comma before `{closer}`: JSON allows no comma after the last item"
    if msg == "Expecting value":
        if not text.strip():
            return "the file is empty"
        if at_end:
            return _unclosed(text, pos) or "the text ends where a value was expected"
        return f"expected a value ({_JSON_VALUES}), found {_found(text, pos)}"
    if msg.startswith("Expecting property name"):
        if at_end:
            return _unclosed(text, pos) or "the text ends where a key was expected"
        if ch == "'":
            return "a key in single quotes: JSON keys take double quotes"
        return f"expected a key in double quotes, found {_found(text, pos)}"
    if msg.startswith("Expecting ':'"):
        return f"expected `:` after the key, found {_found(text, pos)}"
    if msg.startswith("Expecting ','"):
        if at_end:
            return _unclosed(text, pos) or "the text ends inside an object or an array"
        opener = _open_bracket(text, pos)
        closer = _CLOSER[opener[0]] if opener else "}"
        return f"expected `,` or `{closer}` after the item before, found {_found(text, pos)}: is a comma missing?"
    if msg.startswith("Unterminated string"):
        return 'unclosed string: no `"` closes it before the end of the file'
    if msg.startswith("Invalid control character"):
        if ch in ("\n", "\r"):
            return 'a line break inside a string: is its closing `"` missing?'
        if ch == "\t":
            return "a tab inside a string: write it as `\\t`"
        return f"control character U+{ord(ch or ' '):04X} inside a string: write it as an escape"
    if msg.startswith("Invalid \\u"):
        return "a `\\u` escape takes four hexadecimal digits"
    if msg.startswith("Invalid \\escape"):
        return (
            f'invalid escape `{text[pos : pos + 2]}` in a string (JSON knows \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)'
        )
    if msg.startswith("Extra data"):
        return f"more text after the end of the JSON document, starting with {_found(text, pos)}"
    return msg[:1].lower() + msg[1:]


# --------------------------------------------------------------------------- YAML


def yaml_problem(exc: MarkedYAMLError, text: str) -> str:
    """PyYAML's (or libyaml's) error, said in words (the caller keeps its mark)."""
    problem = exc.problem or exc.context or "invalid YAML"
    context = exc.context or ""
    mark, opened = exc.problem_mark, exc.context_mark
    at = _offset(text, mark.line, mark.column) if mark is not None else len(text)
    ch = text[at : at + 1]
    where = f" opened at line {opened.line + 1}" if opened is not None else ""
    if "mapping values are not allowed" in problem:
        return "unexpected `:` here: a key at the wrong indentation, or a value with `: ` in it that needs quotes"
    if "end of stream" in problem and "quoted scalar" in context:
        return f"unclosed quoted string{where}"
    if problem.startswith(("did not find expected ',' or", "expected ',' or")):
        closer = "]" if "sequence" in context else "}"
        if not text[at:].strip():
            return f"unclosed `{'[' if closer == ']' else '{'}`{where}"
        what = "list" if closer == "]" else "mapping"
        return f"expected `,` or `{closer}` in the {what}{where}, found {_found(text, at)}"
    if "node content" in problem:
        if not text[at:].strip():
            return "the file ends where a value was expected (an unclosed `{` or `[`?)"
        return f"expected a value, found {_found(text, at)}"
    if "expected key" in problem or ("<block end>" in problem and "block mapping" in context):
        return (
            f"this line does not continue the mapping{where}"
            " (is it indented wrongly, or a list item `-` where a key should be?)"
        )
    if ("<block end>" in problem and "block collection" in context) or "expected '-' indicator" in problem:
        return f"this line does not continue the list{where} (is it indented wrongly?)"
    if "undefined alias" in problem:
        name = re.match(r"\*([^\s,\[\]{}]*)", text[at:])
        return f"`*{name.group(1) if name else ''}` names no anchor (`&...`) defined before it"
    if "tab" in problem or ch == "\t":
        return "a tab in the indentation: YAML indents with spaces only"
    if "unknown escape" in problem:
        escape = text[at - 1 : at + 1] if text[at - 1 : at] == "\\" else text[at : at + 2]
        return f"unknown escape `{escape}` in a double-quoted string"
    if "cannot start any token" in problem:
        what = "a backtick" if ch == "`" else f"`{ch}`"
        return f"{what} cannot start a plain value: put the value in quotes"
    if "could not find expected ':'" in problem:
        return "a line that is neither `key: value` nor a list item: is its `:` missing?"
    if "end of stream" in problem:
        return f"the file ends in the middle of {context.removeprefix('while scanning ') or 'a value'}"
    return _yaml_words(problem)


_YAML_TOKENS = {
    "<stream end>": "the end of the file",
    "<block end>": "the end of the block",
    "<block mapping start>": "a mapping",
    "<block sequence start>": "a list",
    "<block entry>": "a list item `-`",
    "<scalar>": "a value",
    "<document start>": "`---`",
    "<flow mapping end>": "`}`",
    "<flow sequence end>": "`]`",
}


def _yaml_words(problem: str) -> str:
    for token, words in _YAML_TOKENS.items():
        problem = problem.replace(f"'{token}'", words).replace(token, words)
    return problem.replace("node content", "value").replace("stream", "file")


def _offset(text: str, line: int, column: int) -> int:
    """The index in ``text`` of a 0-based line and column (PyYAML's mark)."""
    start = 0
    for _ in range(line):
        nl = text.find("\n", start)
        if nl < 0:
            return len(text)
        start = nl + 1
    return min(start + column, len(text))


# --------------------------------------------------------------------------- HCL

# tree-sitter-hcl's closing tokens, and what a person calls the thing each one closes.
_HCL_CLOSERS = {"}": "`{`", "]": "`[`", ")": "`(`", "quoted_template_end": "string"}


def hcl_problem(bad: Node, src: Src) -> str:
    """tree-sitter-hcl's first ERROR or MISSING node, said in words."""
    if bad.is_missing:
        return _hcl_missing(bad, src)
    text = src.text(bad)
    first = text.strip().split("\n", 1)[0].strip()
    if first.endswith("=") and "\n" not in text.strip():
        return f"{_quoted(first)} has no value"
    if first.endswith("{") and "\n" in text.strip():
        return (
            f"cannot read the block {_quoted(first[:-1])} opened at line {bad.start_point[0] + 1}: look in it for"
            " an unclosed string or `${`, or a missing `=`"
        )
    return f"unexpected {_quoted(text)}"


def hcl_where(bad: Node) -> Node:
    """Where to report ``bad``: an unclosed string where it starts (tree-sitter finds the
    missing `"` at the end of the file, lines away from the mistake), else ``bad`` itself."""
    if bad.is_missing and bad.type == "quoted_template_end" and bad.parent is not None:
        return bad.parent
    return bad


def _hcl_missing(bad: Node, src: Src) -> str:
    kind = bad.type
    opener = bad.parent
    while opener is not None and opener.type in ("block_end", "object_end", "tuple_end"):
        opener = opener.parent
    if opener is not None and kind == "quoted_template_end":
        return 'unclosed string: no `"` ends the string that starts here'
    if opener is not None and kind in _HCL_CLOSERS:
        line = opener.start_point[0] + 1
        if opener.type == "block":
            head = src.text(opener).split("{", 1)[0]
            return f"unclosed block {_quoted(head)} opened at line {line}"
        if opener.type == "function_call":
            name = src.text(opener).split("(", 1)[0]
            return f"unclosed `{name.strip()}(` opened at line {line}"
        return f"unclosed {_HCL_CLOSERS[kind]} opened at line {line}"
    if kind == "heredoc_identifier" and opener is not None:
        start = src.text(opener).split("\n", 1)[0].strip()
        marker = start.lstrip("<-").strip()
        return f"unclosed heredoc `{start}` opened at line {opener.start_point[0] + 1}: no line `{marker}` ends it"
    rest = src.data[bad.start_byte :].decode("utf-8", "replace")
    if kind == "{":
        return f"expected `=` (or `{{` to open a block) before {_found(rest, 0)}"
    return f"unexpected {_found(rest, 0)}"
