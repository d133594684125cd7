"""Messages name a key's attributes as its own syntax spells them, never both ways (issue 15)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kmslint import api, config
from kmslint.model import ATTRIBUTE_NAMES
from tests.conftest import ROOT

# What the other syntax calls the same things; `multi_region`/`MultiRegion` and the like
# differ only in case, so names are compared as written.
OTHER = {"terraform": "cloudformation", "cloudformation": "terraform"}


def _syntax(path: str) -> str | None:
    if path.endswith((".tf", ".tf.json")):
        return "terraform"
    if path.endswith((".yaml", ".yml", ".template")):
        return "cloudformation"
    return None  # JSON: a template, a plan or a policy


@pytest.fixture(scope="module")
def findings() -> list[api.Finding]:
    settings = config.settings_for(None, config.Overrides(select=frozenset({"ALL"})), use_config=False)
    return api.lint([str(ROOT / "fixtures")], settings).findings


def test_each_message_names_attributes_in_its_own_syntax(findings: list[api.Finding]) -> None:
    checked = 0
    for f in findings:
        syntax = _syntax(f.file)
        if syntax is None:
            continue
        theirs = set(ATTRIBUTE_NAMES[OTHER[syntax]].values()) - set(ATTRIBUTE_NAMES[syntax].values())
        words = set(re.findall(r"[A-Za-z][A-Za-z_]*(?:::[A-Za-z]+)*", f.message))
        assert not words & theirs, f"{f.file}:{f.line}: {f.rule_id} names {words & theirs}: {f.message}"
        checked += any(name in f.message for name in ATTRIBUTE_NAMES[syntax].values())
    assert checked > 20  # the fixtures give many messages that name an attribute


@pytest.mark.parametrize(
    ("source", "name", "said"),
    [
        (
            'resource "aws_kms_key" "k" {\n  enable_key_rotation = false\n}\n',
            "main.tf",
            "set enable_key_rotation = true",
        ),
        (
            "Resources:\n  K:\n    Type: AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: false\n",
            "t.yaml",
            "set EnableKeyRotation: true",
        ),
    ],
)
def test_the_rotation_fix_is_written_as_the_syntax_writes_it(tmp_path: Path, source: str, name: str, said: str) -> None:
    (tmp_path / name).write_text(source)
    settings = config.settings_for(None, config.Overrides(select=frozenset({"KMS002"})), use_config=False)
    [finding] = api.lint([str(tmp_path / name)], settings).findings
    assert finding.message.endswith(said)
