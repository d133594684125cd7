"""Linting a unit leaves no reference cycle behind.

kmslint.entry raises the garbage collector's threshold (a short-lived process
builds trees, not cycles), so anything a cycle reaches -- a configuration's
blocks, its tree-sitter trees -- would stay in memory until a rare
collection: peak memory on a 1,000-file tree doubled when one appeared (a
self-referencing closure holding the evaluator). Each unit's objects must be
freed by reference counting alone.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from kmslint import engine
from kmslint.discovery import discover
from kmslint.parsers.common import ParseOptions
from kmslint.settings import Settings

TERRAFORM = """\
locals {
  admin = "arn:aws:iam::111122223333:role/admin"
}
resource "aws_kms_key" "k" {
  enable_key_rotation = true
  policy = <<EOT
{"Version": "2012-10-17", "Statement": [{"Sid": "Admin", "Effect": "Allow",
 "Principal": {"AWS": "${local.admin}"}, "Action": "kms:*", "Resource": "*"}]}
EOT
}
"""
TEMPLATE = """\
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: "*"
            Action: kms:*
            Resource: "*"
"""
CONDITIONS = """\
Parameters:
  Stage: {Type: String, AllowedValues: [dev, prod]}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  IsDev: !Not [!Condition IsProd]
  InUsEast1: !Equals [!Ref "AWS::Region", us-east-1]
Resources:
  Key:
    Type: AWS::KMS::Key
    Condition: IsProd
    Properties:
      EnableKeyRotation: !If [IsDev, true, !If [InUsEast1, false, true]]
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - !If [IsProd, {Effect: Allow, Principal: "*", Action: kms:*, Resource: "*"}, !Ref AWS::NoValue]
"""
# A configuration that calls a module (twice, one with for_each) whose output it reads.
MODULE_CALLS = """\
module "a" {
  source   = "./mod"
  for_each = toset(["x", "y"])
  rotate   = each.key == "x"
}
module "b" {
  source = "./mod"
  rotate = false
}
resource "aws_kms_alias" "b" {
  name          = "alias/b"
  target_key_id = module.b.key_id
}
"""
MODULE = """\
variable "rotate" {}
resource "aws_kms_key" "k" {
  enable_key_rotation = var.rotate
}
output "key_id" {
  value = aws_kms_key.k.key_id
}
"""
POLICY = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:*"}]}'


@pytest.fixture
def no_collection() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


@pytest.mark.parametrize(
    ("name", "text"),
    [("main.tf", TERRAFORM), ("t.yaml", TEMPLATE), ("c.yaml", CONDITIONS), ("p.json", POLICY), ("m.tf", MODULE_CALLS)],
)
def test_a_linted_unit_leaves_no_cycle(tmp_path: Path, name: str, text: str, no_collection: None) -> None:
    """What linting one unit builds is freed by reference counting: the collector finds nothing of it."""
    (tmp_path / name).write_text(text)
    if text is MODULE_CALLS:
        (tmp_path / "mod").mkdir()
        (tmp_path / "mod" / "main.tf").write_text(MODULE)
    [unit] = [u for u in discover([str(tmp_path)]).units if u.path in (tmp_path, tmp_path / name)]
    settings = Settings()
    rules = engine.enabled_rules(settings)
    opts = ParseOptions(scan_root=tmp_path)
    first = engine.lint_unit(unit, opts, settings, rules, {})  # warm: grammars and caches loaded once
    assert first.findings
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    engine.lint_unit(unit, opts, settings, rules, {})
    gc.collect()
    left = sorted({type(o).__module__ + "." + type(o).__qualname__ for o in gc.garbage})
    assert left == []
