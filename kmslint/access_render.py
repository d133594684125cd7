"""The access report (:mod:`kmslint.access`) as Markdown with a Mermaid diagram, and as Graphviz DOT.

Both take the report's JSON document (``docs/access.schema.json``) and read it leniently: a
field of the wrong type is shown as ``?`` or left out, never an exception, so a hand-written
document cannot crash them.

Every text that comes from the input (names, principals, conditions, files) is data:

* in Markdown it is a code span (:func:`kmslint.access_diff.code`: escaped as for a terminal,
  ``|`` escaped, fenced by more backticks than it holds), so it cannot add a link, an image,
  HTML, a mention or a heading to a pull-request comment or a job summary;
* in the Mermaid diagram node ids are generated (``p1``, ``k1``, ``r1``) and every label is a
  quoted string in which any character but letters, digits and a few safe marks is written as a
  Mermaid entity code (``#35;`` for ``#``), so a label cannot end its string, its node or the
  code block, start a comment (``%%``), add an edge or carry HTML;
* in DOT every id and label is a double-quoted string with ``\\`` and ``"`` escaped, after the
  terminal escaping (no line break or control character reaches the file).
"""

from __future__ import annotations

from kmslint.access_diff import code
from kmslint.formatters import terminal

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (see kmslint.record)
if TYPE_CHECKING:
    from typing import Any

CAPABILITIES = ("administer", "use", "delegate", "full")
KIND_WORDS = {
    "wildcard": "**wildcard** (anyone)",
    "account-root": "account root (delegates to IAM)",
    "other-account": "**other account**",
    "service": "service",
    "principal": "principal",
    "unknown": "unknown",
}
# A label in a diagram is shortened past this many characters, keeping its start and its end (an
# ARN's account and role name); the table has the text whole.
LABEL_CHARS = 100
# GitHub renders a Mermaid diagram of at most 500 edges (and 50,000 characters): past this many
# the diagram is left out, and the Markdown says so.
MAX_EDGES = 400


# --------------------------------------------------------------------------- reading the report leniently


def _str(value: object) -> str:
    return value if isinstance(value, str) else "?"


def _items(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _strs(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _at(doc: dict[str, Any]) -> str:
    line = doc.get("line")
    shown = f":{line}" if isinstance(line, int) and not isinstance(line, bool) else ""
    return _str(doc.get("file")) + shown


def _actions(actions: list[str]) -> str:
    return ", ".join(a.removeprefix("kms:") for a in actions)


class _Graph:
    """The report as a graph: principals -> keys (one edge per principal and key, labelled with its
    capabilities) -> resources.  Nodes are numbered in the order the report lists them."""

    def __init__(self, doc: object) -> None:
        self.principals: dict[tuple[str, str], str] = {}  # (principal, kind) -> id
        self.keys: list[tuple[str, str]] = []  # (id, label)
        self.resources: dict[str, str] = {}  # resource -> id
        self.access: dict[tuple[str, str], list[str]] = {}  # (principal id, key id) -> capabilities
        self.uses: list[tuple[str, str]] = []  # (key id, resource id)
        names = [_str(k.get("key")) for k in _keys(doc)]
        for key in _keys(doc):
            name = _str(key.get("key"))
            kid = f"k{len(self.keys) + 1}"
            # Two keys of the same name (two configurations): each says where it is.
            label = name if names.count(name) == 1 else f"{name} ({_at(key)})"
            self.keys.append((kid, label))
            for entry in _items(key.get("access")):
                ident = (_str(entry.get("principal")), _str(entry.get("kind")))
                pid = self.principals.setdefault(ident, f"p{len(self.principals) + 1}")
                caps = self.access.setdefault((pid, kid), [])
                capability = _str(entry.get("capability"))
                if capability not in caps:
                    caps.append(capability)
            for use in _items(key.get("used_by")):
                rid = self.resources.setdefault(_str(use.get("resource")), f"r{len(self.resources) + 1}")
                if (kid, rid) not in self.uses:
                    self.uses.append((kid, rid))

    @property
    def edges(self) -> int:
        return len(self.access) + len(self.uses)


def _keys(doc: object) -> list[dict[str, Any]]:
    return _items(doc.get("keys")) if isinstance(doc, dict) else []


def _capabilities(caps: list[str]) -> str:
    order = {c: i for i, c in enumerate(CAPABILITIES)}
    return ", ".join(sorted(caps, key=lambda c: (order.get(c, len(order)), c)))


# --------------------------------------------------------------------------- Mermaid

# Characters a quoted Mermaid label keeps as they are; any other is an entity code (#NNN;).
_MERMAID_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:_/@+=*-")


def diagram_text(text: str) -> str:
    """What a diagram shows of ``text``: escaped as for a terminal, its middle left out past
    :data:`LABEL_CHARS` (``arn:aws:iam::${data.aws_caller...}:role/app``)."""
    shown = terminal(text)
    if len(shown) <= LABEL_CHARS:
        return shown
    half = (LABEL_CHARS - 3) // 2
    return f"{shown[:half]}...{shown[-half:]}"


def mermaid_label(text: str) -> str:
    """``text`` as a quoted Mermaid label: ``"..."`` holding only safe characters and entity codes."""
    shown = diagram_text(text)
    body = "".join(c if c in _MERMAID_SAFE else f"#{ord(c)};" for c in shown)
    return f'"{body.strip() or "#32;"}"'


_KIND_CLASS = {"wildcard": "wildcard", "other-account": "external", "unknown": "unknown"}


def render_mermaid(doc: object) -> str:
    """The report's graph as a Mermaid flowchart (without the code fence)."""
    graph = _Graph(doc)
    lines = ["flowchart LR"]
    classes: dict[str, list[str]] = {}
    for (principal, kind), pid in graph.principals.items():
        lines.append(f"  {pid}[{mermaid_label(principal)}]")
        if kind in _KIND_CLASS:
            classes.setdefault(_KIND_CLASS[kind], []).append(pid)
    for kid, label in graph.keys:
        lines.append(f"  {kid}{{{{{mermaid_label(label)}}}}}")
    for resource, rid in graph.resources.items():
        lines.append(f"  {rid}([{mermaid_label(resource)}])")
    for (pid, kid), caps in graph.access.items():
        lines.append(f"  {pid} -->|{mermaid_label(_capabilities(caps))}| {kid}")
    for kid, rid in graph.uses:
        lines.append(f"  {kid} --> {rid}")
    styles = {"wildcard": "fill:#fdd,stroke:#c00", "external": "fill:#ffe8cc,stroke:#d60", "unknown": "fill:#eee"}
    for name, ids in classes.items():
        lines.append(f"  classDef {name} {styles[name]}")
        lines.append(f"  class {','.join(ids)} {name}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- Markdown


def _cell_kind(kind: str) -> str:
    return KIND_WORDS.get(kind) or code(kind)


def _row(entry: dict[str, Any]) -> str:
    source = entry.get("source")
    source = source if isinstance(source, dict) else {}
    capability = _str(entry.get("capability"))
    conditions = _strs(entry.get("conditions"))
    cells = [
        code(_str(entry.get("principal"))),
        _cell_kind(_str(entry.get("kind"))),
        capability if capability in CAPABILITIES else code(capability),
        code(_actions(_strs(entry.get("actions")))) if _strs(entry.get("actions")) else "none",
        code("; ".join(conditions)) if conditions else "none",
        f"{code(_str(source.get('via')))} {code(_str(source.get('resource')))} {code(_at(source))}",
    ]
    return "| " + " | ".join(cells) + " |"


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _summary(keys: list[dict[str, Any]]) -> str:
    entries = [e for k in keys for e in _items(k.get("access"))]
    said = f"{_count(len(keys), 'key', 'keys')}, {_count(len(entries), 'access entry', 'access entries')}."
    for kind, whom in (("wildcard", "anyone"), ("other-account", "another account")):
        n = sum(1 for e in entries if e.get("kind") == kind)
        if n:
            said += f" **{n} {'entry gives' if n == 1 else 'entries give'} access to {whom}.**"
    unknown = sum(1 for e in entries if e.get("kind") == "unknown")
    if unknown:
        said += f" {unknown} with a principal that cannot be told statically (unknown)."
    return said


def render_markdown(doc: object) -> str:
    """The report for a pull-request comment or ``GITHUB_STEP_SUMMARY``: a table per key and a diagram."""
    keys = _keys(doc)
    lines = ["## KMS key access", ""]
    if not keys:
        return "\n".join([*lines, "No KMS keys found.", ""])
    lines += [_summary(keys), ""]
    for key in keys:
        lines += [f"### {code(_str(key.get('key')))} ({code(_at(key))})", ""]
        entries = _items(key.get("access"))
        if entries:
            lines.append("| Principal | Kind | Capability | Actions | Conditions | Source |")
            lines.append("| --- | --- | --- | --- | --- | --- |")
            lines += [_row(e) for e in entries]
        else:
            lines.append("No access is written in this configuration.")
        lines.append("")
        uses = _items(key.get("used_by"))
        if uses:
            lines.append("Used by:")
            lines.append("")
            for use in uses:
                lines.append(f"- {code(_str(use.get('resource')))} ({code(_str(use.get('type')))}, {code(_at(use))})")
            lines.append("")
    graph = _Graph(doc)
    lines += ["### Who reaches which key", ""]
    if graph.edges > MAX_EDGES:
        lines.append(
            f"The diagram is left out: it would have {graph.edges} edges, more than GitHub renders"
            " (`kmslint access --format dot` draws it with Graphviz)."
        )
    else:
        lines += ["```mermaid", render_mermaid(doc).rstrip("\n"), "```"]
    lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------- DOT


def dot_string(text: str) -> str:
    """``text`` as a DOT double-quoted string: escaped for a terminal, then ``\\`` and ``"`` escaped."""
    shown = terminal(text).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{shown}"'


_DOT_STYLE = {
    "wildcard": ', style=filled, fillcolor="#ffdddd", color="#cc0000"',
    "other-account": ', style=filled, fillcolor="#ffe8cc", color="#dd6600"',
    "unknown": ', style="filled,dashed", fillcolor="#eeeeee"',
}


def render_dot(doc: object) -> str:
    """The report's graph (principals -> keys -> resources) in the DOT language, for Graphviz."""
    graph = _Graph(doc)
    lines = [
        "digraph kms_access {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", shape=box];',
        '  edge [fontname="Helvetica"];',
    ]
    for (principal, kind), pid in graph.principals.items():
        lines.append(f"  {dot_string(pid)} [label={dot_string(principal)}{_DOT_STYLE.get(kind, '')}];")
    for kid, label in graph.keys:
        lines.append(f"  {dot_string(kid)} [label={dot_string(label)}, shape=hexagon, style=bold];")
    for resource, rid in graph.resources.items():
        lines.append(f"  {dot_string(rid)} [label={dot_string(resource)}, shape=ellipse];")
    for (pid, kid), caps in graph.access.items():
        lines.append(f"  {dot_string(pid)} -> {dot_string(kid)} [label={dot_string(_capabilities(caps))}];")
    for kid, rid in graph.uses:
        lines.append(f"  {dot_string(kid)} -> {dot_string(rid)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


__all__ = ["diagram_text", "dot_string", "mermaid_label", "render_dot", "render_markdown", "render_mermaid"]
