"""Resource instances (RULES.md, "Instances"): findings that name them, merged where they agree.

The exact positions are in the fixtures (``fixtures/KMS002/fail_tf_for_each_per_instance_rotation``,
``fixtures/KMS002/fail_tf_plan_module_for_each``, ...); these tests pin the messages, and
the bounds that keep a hostile ``count``/``for_each`` cheap.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kmslint import api
from kmslint.engine import INSTANCES_NAMED, merge_instances
from kmslint.model import InstanceName, Location, Violation
from kmslint.settings import Settings
from tests.conftest import FIXTURES


def _findings(path: Path) -> list[tuple[str, str, int, str]]:
    report = api.lint([str(path)], Settings())  # the rules on by default
    return sorted((f.rule_id, f.resource_name or "", f.line, f.message) for f in report.findings)


def _tails(path: Path, rule: str) -> list[str]:
    """The instance part of each finding's message: what follows its last " (for "."""
    return [m[m.rindex(" (for ") :] for r, _, _, m in _findings(path) if r == rule and " (for " in m]


def test_one_bad_instance_is_named_and_two_at_one_place_are_one_finding() -> None:
    case = FIXTURES / "KMS002" / "fail_tf_for_each_per_instance_rotation"
    assert sorted(_tails(case, "KMS002")) == [' (for each.key "ledger", "payments")', ' (for each.key "refunds")']


def test_count_instances_are_named_by_index() -> None:
    case = FIXTURES / "KMS002" / "fail_tf_rotation_from_local_and_count"
    assert _tails(case, "KMS002") == [" (for count.index 0, 1)"]


def test_the_one_instance_of_a_count_is_not_named_but_a_for_each_key_is(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'variable "create" {\n  default = true\n}\n'
        'resource "aws_kms_key" "k" {\n  count = var.create ? 1 : 0\n  enable_key_rotation = false\n}\n'
        'resource "aws_kms_key" "e" {\n  for_each = toset(["only"])\n  enable_key_rotation = false\n}\n',
        encoding="utf-8",
    )
    tails = {
        res: m[m.find(" (for ") :] if " (for " in m else "" for r, res, _, m in _findings(tmp_path) if r == "KMS002"
    }
    # `count = var.create ? 1 : 0` is how modules make a resource optional: "for count.index 0" says nothing.
    assert tails == {"aws_kms_key.k": "", "aws_kms_key.e": ' (for each.key "only")'}


def test_plan_module_instances_link_their_own_policies() -> None:
    case = FIXTURES / "KMS002" / "fail_tf_plan_module_for_each"
    found = _findings(case)
    # Each module instance's aws_kms_key_policy attaches to its own key: no KMS001.
    assert [(r, res) for r, res, _, _ in found] == [("KMS002", "module.kms.aws_kms_key.this")]
    assert found[0][3].endswith(' (for module.kms["a"], module.kms["b"])')


def test_key_policy_for_each_over_keys_leaves_no_key_on_the_default_policy() -> None:
    case = FIXTURES / "KMS001" / "pass_tf_key_policy_for_each_over_keys"
    assert _findings(case) == []


def _v(index: str, line: int = 3, message: str = "bad") -> Violation:
    return Violation(Location.point("main.tf", line, 5), InstanceName("aws_kms_key.k", index), message)


def test_merge_keeps_instances_at_different_places_apart() -> None:
    merged = list(merge_instances([_v('["a"]', 3), _v('["b"]', 4), _v('["c"]', 3), _v('["d"]', 3, "other")]))
    assert sorted((v.loc.line, v.message) for v in merged) == [
        (3, 'bad (for each.key "a", "c")'),
        (3, 'other (for each.key "d")'),
        (4, 'bad (for each.key "b")'),
    ]
    # Findings of resources without instances pass through unchanged.
    plain = Violation(Location.point("main.tf", 1), "aws_kms_key.plain", "bad")
    assert list(merge_instances([plain])) == [plain]


def test_merge_names_a_bounded_number_of_instances() -> None:
    many = [_v(f"[{i}]") for i in range(INSTANCES_NAMED + 3)]
    (v,) = merge_instances(many)
    assert v.message == "bad (for count.index 0, 1, 2, 3, 4 and 3 more)"
    assert type(v.resource) is str  # the finding's resource is the plain name


@pytest.mark.parametrize(
    "expr",
    [
        "count = 1000000000",
        "for_each = toset([for i in range(1000000) : tostring(i)])",
        "for_each = { for i in range(100000) : tostring(i) => i }",
    ],
)
def test_instance_explosion_stays_cheap(tmp_path: Path, expr: str) -> None:
    (tmp_path / "main.tf").write_text(
        f'resource "aws_kms_key" "k" {{\n  {expr}\n  enable_key_rotation = false\n}}\n', encoding="utf-8"
    )
    started = time.monotonic()
    found = _findings(tmp_path)
    assert time.monotonic() - started < 20
    # Past the bound the collection is read as unknown (one instance, no index), or, when
    # building it is too costly, the configuration is a KMS000: never a traceback, never
    # a finding per instance.
    rules = [r for r, _, _, _ in found]
    assert rules.count("KMS002") <= 1 and len(found) <= 3
    assert all(" (for " not in m for _, _, _, m in found)


@pytest.mark.slow
def test_a_long_chain_of_for_each_over_resources_is_bounded(tmp_path: Path) -> None:
    """``k1`` over ``k0``, ``k2`` over ``k1`` ... 3,000 deep: no recursion error, no traceback."""
    parts = ['resource "aws_kms_key" "k0" {\n  for_each = toset(["a"])\n  enable_key_rotation = false\n}\n']
    parts += [
        f'resource "aws_kms_key" "k{i}" {{\n  for_each = aws_kms_key.k{i - 1}\n  enable_key_rotation = false\n}}\n'
        for i in range(1, 3000)
    ]
    # Written last first, so that working out the first one needs every other.
    (tmp_path / "main.tf").write_text("".join(reversed(parts)), encoding="utf-8")
    found = _findings(tmp_path)
    assert {r for r, _, _, _ in found} <= {"KMS000", "KMS001", "KMS002"}
    # Each key is instance "a" of k0 when the chain is short enough to follow, else an instance
    # that knows no key: never a finding per link, never a crash.
    k1 = [m for r, res, _, m in found if r == "KMS002" and res == "aws_kms_key.k1"]
    assert len(k1) == 1 and k1[0].endswith('(for each.key "a")')
    assert len([r for r, _, _, _ in found if r == "KMS002"]) == 3000


def test_a_counted_key_policy_in_each_module_instance_attaches_to_that_instance_s_key(tmp_path: Path) -> None:
    """``aws_kms_key_policy`` with ``count = ... ? 1 : 0`` and ``key_id = aws_kms_key.this.id``,
    in a module called with for_each: each instance's policy is its own key's (no key is left
    on the default policy, no policy stands alone), and "[0]" is not named."""
    module = """
variable "service" {}
resource "aws_kms_key" "this" {
  enable_key_rotation = true
}
resource "aws_kms_key_policy" "general" {
  count  = var.service != "ebs" ? 1 : 0
  key_id = aws_kms_key.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Sid = "Root", Effect = "Allow", Action = "kms:*", Resource = "*",
                   Principal = { AWS = "arn:aws:iam::111122223333:root" } }]
  })
}
"""
    (tmp_path / "modules" / "kms").mkdir(parents=True)
    (tmp_path / "modules" / "kms" / "main.tf").write_text(module, encoding="utf-8")
    call = 'module "kms" {\n  source   = "./modules/kms"\n  for_each = toset(["efs", "s3"])\n  service  = each.key\n}\n'
    (tmp_path / "main.tf").write_text(call, encoding="utf-8")
    found = _findings(tmp_path)
    assert [(r, res) for r, res, _, _ in found] == [("KMS001", "module.kms.aws_kms_key_policy.general")]
    assert found[0][3].endswith('(for module.kms["efs"], module.kms["s3"])')
