"""Every quick fix offered on the fixtures: applied to the buffer, it parses and its finding is gone.

The fixtures hold the shapes real files take (modules, conditions, CRLF, tabs,
flow mappings, comments); this runs each fix the language server would offer
on them, as the editor applies it, and lints the result.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kmslint import lsp as kls
from kmslint.model import Finding
from kmslint.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
FIXED_RULES = ("KMS002", "KMS004", "KMS009")
SUFFIXES = (".tf", ".yaml", ".yml", ".json", ".template")


def _files() -> list[Path]:
    out = []
    for rule in FIXED_RULES:
        for path in sorted((ROOT / "fixtures" / rule).rglob("*")):
            if path.is_file() and path.name != "expected.yaml" and path.name.endswith(SUFFIXES):
                out.append(path)
    return out


def _lint(path: Path, text: str) -> list[Finding]:
    return kls.lint_text(str(path), text, Settings(select=frozenset({"ALL"})))


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(ROOT / "fixtures")))
def test_each_fix_offered_parses_and_fixes(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    findings = _lint(path, text)
    for f in findings:
        if f.rule_id not in FIXED_RULES:
            continue
        for fix in kls.fixes_for(f, text):
            fixed = kls.apply_edits(text, fix.edits)
            after = _lint(path, fixed)
            assert "KMS000" not in {a.rule_id for a in after}, fixed
            same = [a for a in after if a.rule_id == f.rule_id and a.resource == f.resource]
            if f.rule_id == "KMS004":  # the placeholder keeps the finding until a reason is written
                assert all("placeholder" in a.message for a in same), fixed
            else:
                assert not same, fixed


def test_fixes_are_offered_on_the_fixtures() -> None:
    """The test above is not vacuous: the fixtures give each rule's fix in each syntax."""
    offered: set[tuple[str, str]] = set()
    for path in _files():
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        for f in _lint(path, text):
            if f.rule_id in FIXED_RULES and kls.fixes_for(f, text):
                offered.add((f.rule_id, path.suffix))
    for rule in FIXED_RULES:
        assert {(rule, ".tf"), (rule, ".yaml")} <= offered, (rule, sorted(offered))
