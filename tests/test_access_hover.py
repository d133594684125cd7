"""The language server's access hover (kmslint.access_hover): a key's header shows who can act on it.

Built from the lint's own configuration (``on_project``), so the document is read once; the
end-to-end cases talk to ``kmslint lsp`` through the real client of ``tests/test_lsp.py``.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from kmslint import access_hover, api
from kmslint import lsp as kls
from kmslint.model import Finding
from kmslint.settings import Settings
from tests.conftest import FIXTURES

CASES = FIXTURES / "access"


def _copy(case: str, tmp_path: Path) -> Path:
    shutil.copytree(CASES / case, tmp_path / case)
    return tmp_path / case


def _lint(path: Path, settings: Settings | None = None) -> tuple[list[Finding], dict[int, str]]:
    access: dict[int, str] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(path.parent)
        findings = kls.lint_text(str(path), path.read_text(encoding="utf-8"), settings or Settings(), access)
    return findings, access


def test_summary_of_a_terraform_key(tmp_path: Path) -> None:
    root = _copy("tf_acceptance", tmp_path)
    _, access = _lint(root / "main.tf", Settings(account_id="111122223333"))
    header = (root / "main.tf").read_text(encoding="utf-8").split("\n").index('resource "aws_kms_key" "app" {')
    assert list(access) == [header]
    text = access[header]
    lines = text.split("\n")
    assert lines[0] == "**Access to `aws_kms_key.app`**"
    assert "- **administer**: `arn:aws:iam::111122223333:role/key-admin` (`MFA`)" in lines
    use = next(line for line in lines if line.startswith("- **use**:"))
    # The riskiest first: another account before the account's own principals; at most four named.
    assert use.startswith("- **use**: `arn:aws:iam::444455556666:root` (**other account**), ")
    assert "`aws_iam_role.worker`" in use and "`logs.eu-west-1.amazonaws.com` (service)" in use
    assert "- **delegate**: `${var.pipeline_role}` (unknown, `grant for AWS resources`)" in text
    assert "- **used by**: `aws_secretsmanager_secret.db`" in lines
    assert len(lines) <= 10


def test_summary_of_a_cloudformation_key_and_the_same_as_the_report(tmp_path: Path) -> None:
    from kmslint import accesscmd

    root = _copy("cfn_template", tmp_path)
    findings, access = _lint(root / "template.yaml")
    lines = (root / "template.yaml").read_text(encoding="utf-8").split("\n")
    report = accesscmd.report(accesscmd.load([str(root)], Settings()).projects, Settings())
    by_line = {k["line"] - 1: k for k in report["keys"]}
    assert set(access) == set(by_line)
    for line, key in by_line.items():
        assert lines[line].strip() == f"{key['key']}:"
        assert access[line] == access_hover.summary(key)
    assert findings == _lint(root / "template.yaml")[0]


def test_summary_is_escaped_and_bounded() -> None:
    hostile = "x`y` [l](http://e) <b>@o</b>\n# h"
    entry = {
        "principal": hostile * 20,
        "kind": "wildcard",
        "capability": "use",
        "actions": ["kms:Decrypt"],
        "conditions": [hostile * 10],
        "source": {"via": "grant", "resource": "g", "file": "f", "line": 1},
    }
    key = {
        "key": hostile,
        "file": "f",
        "line": 1,
        "access": [dict(entry, principal=f"{hostile}{i}") for i in range(9)],
        "used_by": [{"resource": hostile, "type": "t", "file": "f", "line": 2}] * 6,
    }
    text = access_hover.summary(key)
    assert "\n# h" not in text  # the line break is shown escaped, inside the code span
    assert "and 5 more" in text and "and 2 more" in text
    assert len(text.split("\n")) == 6
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").render(text)
    for tag in ("<a ", "<b>", "<h1", "<img"):
        assert tag not in html


def test_a_file_without_keys_has_no_summary(tmp_path: Path) -> None:
    path = tmp_path / "main.tf"
    path.write_text('resource "aws_sqs_queue" "q" {\n  kms_master_key_id = "alias/x"\n}\n', encoding="utf-8")
    _, access = _lint(path)
    assert access == {}


def test_the_hook_does_not_change_the_lint(tmp_path: Path) -> None:
    root = _copy("tf_acceptance", tmp_path)
    text = (root / "main.tf").read_text(encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        plain = api.lint([], Settings(), stdin_text=text, stdin_filename="main.tf")
        seen: list[object] = []
        hooked = api.lint([], Settings(), stdin_text=text, stdin_filename="main.tf", on_project=seen.append)
    assert plain.findings == hooked.findings and len(seen) == 1


def test_a_failing_summary_costs_no_diagnostics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kmslint import access

    def boom(*_: object, **__: object) -> object:
        raise RuntimeError("a bug")

    path = tmp_path / "main.tf"
    path.write_text('resource "aws_kms_key" "k" {\n  description = "x"\n}\n', encoding="utf-8")
    assert _lint(path)[1]
    monkeypatch.setattr(access, "project_keys", boom)
    findings, summaries = _lint(path)
    assert "KMS002" in [f.rule_id for f in findings] and summaries == {}


# --------------------------------------------------------------------------- the real server


@pytest.mark.slow
def test_hover_on_a_key_header_end_to_end(tmp_path: Path) -> None:
    from tests.test_lsp import Client

    root = _copy("tf_acceptance", tmp_path)
    client = Client(root)
    try:
        client.initialize(root)
        main = root / "main.tf"
        text = main.read_text(encoding="utf-8")
        uri = client.open(main, text, "terraform")
        client.diagnostics(uri)
        header = text.split("\n").index('resource "aws_kms_key" "app" {')
        hover = client.request(
            "textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": header, "character": 12}}
        )
        assert hover["contents"]["kind"] == "markdown"
        value = hover["contents"]["value"]
        assert value.startswith("**Access to `aws_kms_key.app`**")
        assert "`arn:aws:iam::444455556666:root` (**other account**)" in value  # .kmslint.toml's account-id
        assert hover["range"] == {
            "start": {"line": header, "character": 0},
            "end": {"line": header, "character": len('resource "aws_kms_key" "app" {')},
        }
        # The line below the header is not the key's: no hover there (no finding either).
        below = client.request(
            "textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": header + 1, "character": 2}}
        )
        assert below is None
        # An edit that renames the key: the next hover reads the new lint.
        renamed = text.replace('resource "aws_kms_key" "app" {', 'resource "aws_kms_key" "renamed" {')
        sent = client.change(uri, 2, renamed)
        client.diagnostics(uri, after=sent)
        hover = client.request(
            "textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": header, "character": 0}}
        )
        assert hover["contents"]["value"].startswith("**Access to `aws_kms_key.renamed`**")
    finally:
        code = client.close()
    assert code == 0


@pytest.mark.slow
def test_hover_cost_on_a_700_kb_template(tmp_path: Path) -> None:
    """The summaries are built in the lint (no second read); a hover is a lookup.  The figures go
    to stdout (pytest -s) for the README."""
    from tests.attacks.test_lsp import BIG, KEY_LINES, template
    from tests.test_lsp import Client

    text = template(BIG)
    assert len(text) > 700_000
    path = tmp_path / "big.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        costs = {}
        for with_access in (False, True, False, True):
            start = time.perf_counter()
            kls.lint_text(str(path), text, Settings(), {} if with_access else None)
            costs.setdefault(with_access, []).append(time.perf_counter() - start)
    client = Client(tmp_path)
    try:
        client.initialize(tmp_path)
        uri = client.open(path, text, "yaml")
        client.diagnostics(uri, timeout=120)
        header = 2 + KEY_LINES * 900
        start = time.perf_counter()
        hover = client.request(
            "textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": header, "character": 3}}
        )
        took = time.perf_counter() - start
        value = hover["contents"]["value"]
        assert value.startswith("**Access to `Key900`**")
        assert "- **administer**: `arn:aws:iam::111122223333:role/KeyAdmin`" in value
        assert took < 1.0
    finally:
        client.close()
    print(
        json.dumps(
            {
                "lint_s": round(min(costs[False]), 3),
                "lint_with_access_s": round(min(costs[True]), 3),
                "hover_request_s": round(took, 3),
            }
        )
    )
