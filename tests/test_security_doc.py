"""docs/security.md, the threat model, names a test for every promise: each must exist.

A promise whose test was renamed or removed is a promise nobody checks; this
fails until the page and the tests agree again.
"""

from __future__ import annotations

import ast
import re
from functools import cache

from tests.conftest import ROOT

DOC = ROOT / "docs" / "security.md"
_CITED = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


@cache  # each file is cited many times: parsed once
def _tests_in(path: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


def test_every_test_the_threat_model_cites_exists() -> None:
    """Every `path::test` cited in docs/security.md is a test function in that file."""
    cited = _CITED.findall(DOC.read_text(encoding="utf-8"))
    assert len(cited) >= 80
    missing = [f"{path}::{name}" for path, name in cited if name not in _tests_in(path)]
    assert missing == []


def test_every_promise_row_cites_a_test() -> None:
    """Each row of the promise table that states a promise names at least one test."""
    text = DOC.read_text(encoding="utf-8")
    table = text.split("| promise | held by |", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| **")]
    assert rows
    assert [row for row in rows if not _CITED.search(row)] == []
