"""``kmslint access --format markdown|dot``: the report as Markdown with a Mermaid diagram, and as DOT.

Each case of ``fixtures/access/`` has its exact reports ``expected.md`` and ``expected.dot``
(``pytest tests/test_access_render.py --update-golden`` rewrites them; read the diff).
The diagrams are checked by a grammar of the subset kmslint writes (below), and, where they are
installed, by Mermaid's own parser (node with the npm packages ``mermaid`` and ``jsdom`` in the
directory ``$KMSLINT_NODE_MODULES``, or ``.node/node_modules``: ``npm install --prefix .node
mermaid@11 jsdom``) and by Graphviz's ``dot`` (Debian: ``apt-get install graphviz``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from kmslint import access_render
from kmslint.cli import main
from kmslint.formatters import terminal
from tests.conftest import FIXTURES, ROOT

CASES = FIXTURES / "access"
CASE_NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())

# Text an attacker can put in a name, a principal or a file: each breaks out of a naive rendering.
HOSTILE = [
    'a"b',
    "x] --> evil[pwned",
    "line\nbreak\r\n## heading",
    "<script>alert(1)</script><img src=x onerror=alert(1)>",
    "%% comment\n%%{init: {'theme':'dark'}}%%",
    "```\n# out of the fence",
    "`tick` ``two``",
    "[link](https://example.com) @octocat #1",
    "pipe | cell | ]] }} ))",
    "$$x^2$$ #35; #quot; &amp; &#60;",
    'back\\slash\\" and \\N \\G',
    "\x1b[2J\u202eevil\u200b",
    "end",
    "click p1 href 'javascript:alert(1)'",
    "",
    "-->|x| k1",
    "a" * 300,
]


def run(args: list[str], cwd: Path) -> tuple[int, str, str]:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cwd)
        result = CliRunner().invoke(main, ["access", *args])
    return result.exit_code, result.stdout, result.stderr


def hostile_doc() -> dict:
    """A report (the JSON shape) with hostile text in every field that comes from the input."""
    keys = []
    for i, text in enumerate(HOSTILE):
        keys.append(
            {
                "key": f"{text}{i}",
                "file": text or "f.tf",
                "line": i + 1,
                "access": [
                    {
                        "principal": text,
                        "kind": ["wildcard", "unknown", "other-account", "principal"][i % 4],
                        "capability": ["administer", "use", "delegate", "full"][i % 4],
                        "actions": ["kms:Decrypt", text],
                        "conditions": [text] if i % 2 else [],
                        "source": {"via": "key-policy", "resource": text, "file": text, "line": 3},
                    },
                    {
                        "principal": "*",
                        "kind": "wildcard",
                        "capability": "use",
                        "actions": ["kms:Decrypt"],
                        "conditions": [],
                        "source": {"via": "grant", "resource": "g", "file": "g.tf", "line": 1},
                    },
                ],
                "used_by": [{"resource": text + "r", "type": text, "file": text, "line": 9}],
            }
        )
    return {"version": 1, "keys": keys}


# --------------------------------------------------------------------------- golden files


@pytest.mark.parametrize("case", CASE_NAMES)
@pytest.mark.parametrize(("fmt", "golden"), [("markdown", "expected.md"), ("dot", "expected.dot")])
def test_case(case: str, fmt: str, golden: str, update_golden: bool) -> None:
    code, out, err = run([".", "--format", fmt], CASES / case)
    assert code == 0, err
    path = CASES / case / golden
    if update_golden:
        path.write_text(out, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run `pytest tests/test_access_render.py --update-golden`"
    assert out == path.read_text(encoding="utf-8")


def test_markdown_of_the_acceptance_case() -> None:
    _, out, _ = run([".", "--format", "markdown"], CASES / "tf_acceptance")
    assert "### `aws_kms_key.app` (`main.tf:3`)" in out
    assert "| `arn:aws:iam::444455556666:root` | **other account** | use | `Decrypt` | none |" in out
    assert "- `aws_secretsmanager_secret.db` (`aws_secretsmanager_secret`, `main.tf:79`)" in out
    assert "**1 entry gives access to another account.**" in out
    diagram = mermaid_blocks(out)
    assert len(diagram) == 1
    graph = MermaidGrammar.parse(diagram[0])
    assert ("aws_iam_role.app", "aws_kms_key.app", "use") in graph.labelled_edges()
    assert ("arn:aws:iam::111122223333:role/key-admin", "aws_kms_key.app", "administer, delegate") in (
        graph.labelled_edges()
    )
    assert ("aws_kms_key.app", "aws_secretsmanager_secret.db", "") in graph.labelled_edges()


def test_empty_report() -> None:
    assert access_render.render_markdown({"version": 1, "keys": []}) == "## KMS key access\n\nNo KMS keys found.\n"
    assert DotGrammar.parse(access_render.render_dot({"version": 1, "keys": []})).nodes == {}


def test_malformed_documents_never_crash() -> None:
    for doc in [None, [], {"keys": None}, {"keys": [1, None, {"access": {"a": 1}, "used_by": "x"}]}, {"keys": [{}]}]:
        for render in (access_render.render_markdown, access_render.render_dot, access_render.render_mermaid):
            assert isinstance(render(doc), str)
    odd = {"keys": [{"key": 1, "line": True, "access": [{"principal": None, "kind": 3, "capability": ["x"]}]}]}
    md = access_render.render_markdown(odd)
    assert "| `?` | `?` | `?` | none | none |" in md
    MermaidGrammar.parse(access_render.render_mermaid(odd))
    DotGrammar.parse(access_render.render_dot(odd))


def test_a_large_diagram_is_left_out() -> None:
    entry = {"kind": "principal", "capability": "use", "actions": [], "conditions": [], "source": {}}
    keys = [{"key": f"k{i}", "access": [{**entry, "principal": f"p{i}-{j}"} for j in range(5)]} for i in range(100)]
    md = access_render.render_markdown({"keys": keys})
    assert "```mermaid" not in md
    assert "it would have 500 edges" in md


# --------------------------------------------------------------------------- Markdown safety


def test_hostile_markdown_is_inert() -> None:
    from markdown_it import MarkdownIt

    md = access_render.render_markdown(hostile_doc())
    html = MarkdownIt("commonmark").enable("table").render(md)
    # Only kmslint's own headings: one title, one per key, one for the diagram.
    assert len(re.findall(r"<h[1-6]>", html)) == 1 + len(HOSTILE) + 1
    for tag in ("<a ", "<img", "<script", "<br", "<h1", "<iframe"):
        assert tag not in html
    # The diagram stays one code block: its fence closes where kmslint closes it.
    blocks = mermaid_blocks(md)
    assert len(blocks) == 1
    assert html.count('<code class="language-mermaid">') == 1
    # Every table row has exactly its six cells (no '|' from the input split one).
    rows = [line for line in md.splitlines() if line.startswith("| ") and not line.startswith("| ---")]
    for row in rows:
        assert len(re.findall(r"(?<!\\)\|", row)) == 7, row
    # No text from the input outside code: mentions, links and HTML are shown as written.
    assert "@octocat" not in re.sub(r"<code[^>]*>.*?</code>", "", html, flags=re.S)
    assert "\x1b" not in md and "\u202e" not in md


# --------------------------------------------------------------------------- Mermaid: our grammar


def mermaid_blocks(md: str) -> list[str]:
    return re.findall(r"^```mermaid\n(.*?)^```$", md, flags=re.S | re.M)


_M_ID = r"[prk][0-9]+"
_M_LABEL = r'"((?:[A-Za-z0-9 .,:_/@+=*-]|#[0-9]+;)+)"'
_M_SHAPES = {"square": (r"\[", r"\]"), "hexagon": (r"\{\{", r"\}\}"), "stadium": (r"\(\[", r"\]\)")}
_M_NODE = re.compile(
    rf"  ({_M_ID})(?:" + "|".join(f"{o}{_M_LABEL}{c}" for o, c in _M_SHAPES.values()) + ")",
)
_M_EDGE = re.compile(rf"  ({_M_ID}) -->(?:\|{_M_LABEL}\|)? ({_M_ID})")
_M_CLASSDEF = re.compile(r"  classDef (wildcard|external|unknown) [a-z]+:#[0-9a-f]{3,6}(?:,[a-z]+:#[0-9a-f]{3,6})*")
_M_CLASS = re.compile(rf"  class ({_M_ID}(?:,{_M_ID})*) (wildcard|external|unknown)")


def mermaid_decode(label: str) -> str:
    return re.sub(r"#([0-9]+);", lambda m: chr(int(m.group(1))), label)


class MermaidGrammar:
    """The subset of Mermaid's flowchart syntax kmslint writes, checked line by line: a header,
    nodes (generated ids, quoted labels of safe characters and entity codes, three shapes),
    edges between declared nodes (an optional quoted label), class definitions."""

    def __init__(self) -> None:
        self.nodes: dict[str, tuple[str, str]] = {}  # id -> (label, shape)
        self.edges: list[tuple[str, str, str]] = []

    @classmethod
    def parse(cls, text: str) -> MermaidGrammar:
        graph = cls()
        lines = text.rstrip("\n").split("\n")
        assert lines[0] == "flowchart LR"
        for line in lines[1:]:
            if m := _M_NODE.fullmatch(line):
                ident, *labels = m.groups()
                shape = next(s for s, lab in zip(_M_SHAPES, labels, strict=True) if lab is not None)
                label = next(lab for lab in labels if lab is not None)
                assert ident not in graph.nodes, f"node {ident} declared twice"
                graph.nodes[ident] = (mermaid_decode(label), shape)
            elif m := _M_EDGE.fullmatch(line):
                start, label, end = m.groups()
                assert start in graph.nodes and end in graph.nodes, line
                graph.edges.append((start, end, mermaid_decode(label or "")))
            elif m := _M_CLASS.fullmatch(line):
                assert all(i in graph.nodes for i in m.group(1).split(",")), line
            else:
                assert _M_CLASSDEF.fullmatch(line), f"not in the grammar: {line!r}"
        return graph

    def labelled_edges(self) -> set[tuple[str, str, str]]:
        return {(self.nodes[a][0], self.nodes[b][0], label) for a, b, label in self.edges}


def shown(text: str) -> str:
    """What a Mermaid label shows of an input text (a label is never empty: a space)."""
    return access_render.diagram_text(text).strip() or " "


def test_a_long_label_keeps_its_start_and_end() -> None:
    arn = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/" + "x" * 200 + "/app-reader"
    said = access_render.diagram_text(arn)
    assert len(said) <= access_render.LABEL_CHARS
    assert said.startswith("arn:aws:iam::${data.aws_caller") and said.endswith("/app-reader")
    assert "..." in said
    assert access_render.diagram_text("short\n") == "short\\n"


def test_mermaid_grammar_of_hostile_labels() -> None:
    doc = hostile_doc()
    text = access_render.render_mermaid(doc)
    graph = MermaidGrammar.parse(text)
    labels = {label for label, _ in graph.nodes.values()}
    for i, hostile in enumerate(HOSTILE):
        assert shown(hostile) in labels
        assert shown(f"{hostile}{i}") in labels
    assert len(graph.edges) == 3 * len(HOSTILE)  # a principal, "*" (one node) and a resource for each key
    for line in text.splitlines():
        assert "%%" not in line and "`" not in line and "<" not in line and "$" not in line


@pytest.mark.parametrize("text", HOSTILE)
def test_mermaid_label_round_trip(text: str) -> None:
    label = access_render.mermaid_label(text)
    assert re.fullmatch(_M_LABEL, label)
    assert mermaid_decode(label[1:-1]) == shown(text)


# --------------------------------------------------------------------------- DOT: our grammar

_D_STR = r'"((?:[^"\\\n]|\\\\|\\")*)"'
_D_ATTR = rf"(?:[a-z]+=(?:{_D_STR}|[a-z]+))"
_D_NODE = re.compile(rf"  {_D_STR} \[({_D_ATTR}(?:, {_D_ATTR})*)\];")
_D_EDGE = re.compile(rf"  {_D_STR} -> {_D_STR}(?: \[label={_D_STR}\])?;")
_D_HEAD = [
    "digraph kms_access {",
    "  rankdir=LR;",
    '  node [fontname="Helvetica", shape=box];',
    '  edge [fontname="Helvetica"];',
]


def dot_unescape(text: str) -> str:
    return re.sub(r"\\([\\\"])", r"\1", text)


class DotGrammar:
    """The subset of the DOT language kmslint writes: a digraph, attribute statements, node
    statements with a quoted id and attributes, edges between declared nodes; every string
    double-quoted with only ``\\\\`` and ``\\"`` escapes (escString sequences like ``\\N`` cannot occur)."""

    def __init__(self) -> None:
        self.nodes: dict[str, str] = {}  # id -> label
        self.edges: list[tuple[str, str, str]] = []

    @classmethod
    def parse(cls, text: str) -> DotGrammar:
        graph = cls()
        lines = text.rstrip("\n").split("\n")
        assert lines[:4] == _D_HEAD and lines[-1] == "}"
        for line in lines[4:-1]:
            if m := _D_NODE.fullmatch(line):
                ident = dot_unescape(m.group(1))
                label = re.search(rf"label={_D_STR}", m.group(2))
                assert label is not None and ident not in graph.nodes, line
                graph.nodes[ident] = dot_unescape(label.group(1))
            else:
                m = _D_EDGE.fullmatch(line)
                assert m is not None, f"not in the grammar: {line!r}"
                start, end, label = (dot_unescape(g) if g is not None else "" for g in m.groups())
                assert start in graph.nodes and end in graph.nodes, line
                graph.edges.append((start, end, label))
        return graph


def test_dot_grammar_of_hostile_labels() -> None:
    text = access_render.render_dot(hostile_doc())
    graph = DotGrammar.parse(text)
    labels = set(graph.nodes.values())
    for hostile in HOSTILE:
        assert terminal(hostile) in labels
    assert "\x1b" not in text and "\n\n" not in text


@pytest.mark.parametrize("text", HOSTILE)
def test_dot_string_round_trip(text: str) -> None:
    quoted = access_render.dot_string(text)
    m = re.fullmatch(_D_STR, quoted)
    assert m is not None
    assert dot_unescape(m.group(1)) == terminal(text)


# --------------------------------------------------------------------------- the real parsers


def _node_modules() -> Path | None:
    for where in (os.environ.get("KMSLINT_NODE_MODULES"), str(ROOT / ".node" / "node_modules")):
        found = Path(where) if where else None
        if found and (found / "mermaid" / "dist" / "mermaid.core.mjs").is_file() and (found / "jsdom").is_dir():
            return found
    return None


def mermaid_parse(diagrams: list[str]) -> list[dict]:
    modules = _node_modules()
    node = shutil.which("node")
    if node is None or modules is None:
        pytest.skip(
            "Mermaid's parser needs node and the npm packages mermaid and jsdom"
            " (npm install --prefix .node mermaid@11 jsdom, or set KMSLINT_NODE_MODULES)"
        )
    script = ROOT / "tests" / "data" / "mermaid_parse.mjs"
    done = subprocess.run(
        [node, str(script), str(modules)],
        input=json.dumps(diagrams),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: list[dict] = json.loads(done.stdout)
    return result


@pytest.mark.slow
def test_mermaid_parser_reads_every_diagram() -> None:
    """Mermaid's own parser reads each diagram as kmslint meant it: every node with its label and
    shape, every edge, nothing more (a hostile label that broke out would add nodes or edges)."""
    docs: list[object] = [hostile_doc()]
    for case in CASE_NAMES:
        _, out, _ = run([".", "--format", "json"], CASES / case)
        docs.append(json.loads(out))
    diagrams = [access_render.render_mermaid(doc) for doc in docs]
    shapes = {"square": "square", "hexagon": "hexagon", "stadium": "stadium"}
    for text, parsed in zip(diagrams, mermaid_parse(diagrams), strict=True):
        assert parsed["ok"], parsed.get("error")
        assert parsed["type"] == "flowchart-v2"
        ours = MermaidGrammar.parse(text)
        theirs = {ident: (label, shape) for ident, (label, shape) in parsed["nodes"].items()}
        assert theirs == {i: (label, shapes[s]) for i, (label, s) in ours.nodes.items()}
        assert sorted(map(tuple, parsed["edges"])) == sorted(ours.edges)


@pytest.mark.slow
def test_mermaid_parser_rejects_what_the_grammar_rejects() -> None:
    """The check can fail: a label with a raw quote is an error for both."""
    bad = 'flowchart LR\n  p1["a"b"]\n'
    assert not mermaid_parse([bad])[0]["ok"]
    with pytest.raises(AssertionError):
        MermaidGrammar.parse(bad)


@pytest.mark.slow
def test_graphviz_reads_every_graph() -> None:
    dot = shutil.which("dot")
    if dot is None:
        pytest.skip("Graphviz's dot is not installed (Debian: apt-get install graphviz)")
    docs: list[object] = [hostile_doc()]
    for case in CASE_NAMES:
        _, out, _ = run([".", "--format", "json"], CASES / case)
        docs.append(json.loads(out))
    for doc in docs:
        text = access_render.render_dot(doc)
        ours = DotGrammar.parse(text)
        # Graphviz's own reading of the graph (-Tjson0): the same nodes, with our labels.  It keeps a
        # label as an escString (\\ is one backslash when drawn; \" is read as "): each backslash
        # of the text is written twice, so none starts an escString sequence (\N, \G, \l).
        done = subprocess.run([dot, "-Tjson0"], input=text, capture_output=True, text=True, timeout=60, check=True)
        assert done.stderr == ""
        theirs = json.loads(done.stdout)
        labels = {o["name"]: o["label"] for o in theirs.get("objects", [])}
        assert labels == {ident: label.replace("\\", "\\\\") for ident, label in ours.nodes.items()}
        assert len(theirs.get("edges", [])) == len(ours.edges)
