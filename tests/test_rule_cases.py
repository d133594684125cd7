"""Every fixture case: exact findings (rule, file, line, column, resource).

``fixtures/<RULE>/<pass|fail>_<name>/`` is one case: its directory is linted
with every rule enabled; the findings of that rule must equal
``expected.yaml``'s list (a pass case: none); its ``options`` are rule
options (``KMS008: {minimum_days: 7}``), ``account_id``, ``strict``,
``key-policy-files`` (patterns relative to the case's directory) and
``require-customer-managed-key`` (the table, as a ``.kmslint.toml`` would write it).  ``fixtures/projects/<name>/``
cases compare the findings of every rule.  ``pytest -k KMS003`` runs one
rule's cases.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kmslint import api
from kmslint.config import anchor_pattern, from_mapping
from kmslint.settings import Settings
from tests.conftest import FIXTURES


def _cases() -> list[Any]:
    out = []
    for rule_dir in sorted(p for p in FIXTURES.iterdir() if p.is_dir() and p.name.startswith("KMS")):
        for case in sorted(p for p in rule_dir.iterdir() if p.is_dir()):
            out.append(pytest.param(rule_dir.name, case, id=f"{rule_dir.name}/{case.name}"))
    projects = FIXTURES / "projects"
    if projects.is_dir():
        for case in sorted(p for p in projects.iterdir() if p.is_dir()):
            out.append(pytest.param(None, case, id=f"projects/{case.name}"))
    return out


def _expected(case: Path) -> tuple[list[tuple[str, str, int, int, str | None]], dict[str, Any]]:
    spec_file = case / "expected.yaml"
    if not spec_file.exists():
        return [], {}
    spec = yaml.safe_load(spec_file.read_text()) or {}
    rows = [
        (str(f["rule"]), str(f["file"]), int(f["line"]), int(f["column"]), f.get("resource"))
        for f in spec.get("findings") or []
    ]
    return sorted(rows), dict(spec.get("options") or {})


def lint_case(case: Path, options: dict[str, Any]) -> api.Report:
    table = options.get("require-customer-managed-key")
    cmk = None
    if table is not None:
        cmk = from_mapping({"require-customer-managed-key": table}, case / ".kmslint.toml").require_customer_managed_key
    settings = Settings(
        select=frozenset({"ALL"}),
        account_id=options.get("account_id"),
        strict=bool(options.get("strict", False)),
        options={k: v for k, v in options.items() if k.startswith("KMS")},
        # As a .kmslint.toml in the case's directory would list them.
        key_policy_files=tuple(anchor_pattern(p, case) for p in options.get("key-policy-files", ())),
        require_customer_managed_key=cmk,
    )
    return api.lint([str(case)], settings)


@pytest.mark.parametrize(("rule", "case"), _cases())
def test_case(rule: str | None, case: Path) -> None:
    expected, options = _expected(case)
    if rule is not None:
        assert case.name.startswith(("pass_", "fail_")), f"{case}: name must start with pass_ or fail_"
        if case.name.startswith("pass_"):
            assert not expected, f"{case}: a pass case expects no finding of {rule}"
        else:
            assert expected, f"{case}: a fail case needs expected.yaml with its findings"
            assert all(r == rule for r, *_ in expected), f"{case}: expected.yaml lists other rules than {rule}"
    report = lint_case(case, options)
    actual = sorted(
        (f.rule_id, str(Path(f.file).relative_to(case)), f.line, f.column, f.resource_name)
        for f in report.findings
        if not f.suppressed and (rule is None or f.rule_id == rule)
    )
    assert actual == expected
