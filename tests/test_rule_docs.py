"""Every example in the rule docs is run, and ``docs/rules.md`` is fresh.

Each example is written alone into a temporary directory under the name its
format is read from (``main.tf``, ``template.yaml`` or ``template.json``,
``policy.json``) and linted with the default settings plus its own rule
(so off-by-default rules run), and with ``--strict`` for KMS901.  An
example whose title says ``with --account-id 111122223333`` (or
``with --strict``) is run with that flag, as its reader would run it.


* a bad example of a ``check`` rule gives exactly that rule (and nothing
  else); a good one gives no finding at all;
* a bad example of an ``engine`` rule gives at least one finding of it; a
  good one none of it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from kmslint import api, catalog, docs, ruledoc
from kmslint.config import from_mapping
from kmslint.settings import Settings
from tests.conftest import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _file_name(example: catalog.Example) -> str:
    json_text = example.code.lstrip().startswith("{")
    if example.format == "terraform":
        return "main.tf.json" if json_text else "main.tf"
    if example.format == "cloudformation":
        return "template.json" if json_text else "template.yaml"
    return "policy.json"


def _examples() -> list[object]:
    out: list[object] = []
    for rule in catalog.rules().values():
        seen: dict[str, int] = {}
        for ex in rule.examples:
            key = f"{ex.verdict}-{ex.format}"
            seen[key] = seen.get(key, 0) + 1
            name = key if seen[key] == 1 else f"{key}-{seen[key]}"
            out.append(pytest.param(rule, ex, id=f"{rule.id}/{name}"))
    return out


_ACCOUNT_FLAG = re.compile(r"--account-id[ =](\d{12})\b")
# A title `with [require-customer-managed-key] everywhere = true`: that line of the table (KMS022).
_CMK_TABLE = re.compile(r"\[require-customer-managed-key\] (.+)$")


def settings_for(rule: catalog.Rule, example: catalog.Example) -> Settings:
    account = _ACCOUNT_FLAG.search(example.title)
    table = _CMK_TABLE.search(example.title)
    cmk = None
    if table is not None:
        toml = f"[require-customer-managed-key]\n{table.group(1)}\n"
        cmk = from_mapping(tomllib.loads(toml), ROOT / ".kmslint.toml").require_customer_managed_key
    return Settings(
        extend_select=frozenset({rule.id}),
        strict=rule.id == "KMS901" or "--strict" in example.title,
        account_id=account.group(1) if account else None,
        require_customer_managed_key=cmk,
    )


def lint_example(rule: catalog.Rule, example: catalog.Example, tmp_path: Path) -> list[tuple[str, int, str]]:
    (tmp_path / _file_name(example)).write_text(example.code, encoding="utf-8")
    settings = settings_for(rule, example)
    report = api.lint([str(tmp_path)], settings)
    return [(f.rule_id, f.line, f.message) for f in report.findings if not f.suppressed]


@pytest.mark.parametrize(("rule", "example"), _examples())
def test_example(rule: catalog.Rule, example: catalog.Example, tmp_path: Path) -> None:
    found = lint_example(rule, example, tmp_path)
    ids = [rid for rid, _line, _msg in found]
    if rule.kind == "check":
        if example.verdict == "bad":
            assert ids, f"the bad example of {rule.id} gives no finding"
            assert set(ids) == {rule.id}, f"the bad example of {rule.id} gives other findings too: {found}"
        else:
            assert found == [], f"the good example of {rule.id} gives findings: {found}"
    elif example.verdict == "bad":
        assert rule.id in ids, f"the bad example of {rule.id} does not give {rule.id}: {found}"
    else:
        assert rule.id not in ids, f"the good example of {rule.id} gives {rule.id}: {found}"


def test_docs_rules_md_is_fresh() -> None:
    committed = ROOT / "docs" / "rules.md"
    current = committed.read_text(encoding="utf-8") if committed.exists() else ""
    assert current == docs.render(), f"docs/rules.md is stale; refresh it with: {docs.REFRESH}"


def test_docs_check_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "rules.md"
    assert docs.main(["--check", str(target)]) == 1
    assert capsys.readouterr().err == f"{target} is stale; refresh it with: {docs.REFRESH}\n"
    assert docs.main([str(target)]) == 0
    assert docs.main(["--check", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == docs.render()
    assert docs.main(["--bogus"]) == 2


def test_every_rule_has_a_section_and_a_table_row() -> None:
    text = docs.render()
    for rule in catalog.rules().values():
        assert f"\n## {rule.id} {rule.slug}\n" in text
        assert f"| [{rule.id}](#{ruledoc.anchor(rule)}) |" in text
