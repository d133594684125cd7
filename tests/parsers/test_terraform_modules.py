"""Module calls evaluated as Terraform does (RULES.md, "Modules"; kmslint.parsers.tf_modules).

The exact-position cases are fixtures/projects/tf_module_*; these tests pin
what a fixture cannot show: instance keys, values and references inside
instances, calls not followed in every output path, the findings cache,
discovery of called directories, and the bounds against recursion and
explosion.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from kmslint import api
from kmslint.cli import main
from kmslint.model import Known, Unknown, instance_index
from kmslint.parsers.tf_model import ref_name
from kmslint.settings import Settings
from tests.parsers.tf_helpers import key, parse, write

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "projects"

KEY_MODULE = """
variable "enable_key_rotation" {
  default = true
}
variable "policy" {
  default = null
}
resource "aws_kms_key" "this" {
  enable_key_rotation = var.enable_key_rotation
  policy              = var.policy
}
output "key_id" {
  value = aws_kms_key.this.key_id
}
output "arn" {
  value = aws_kms_key.this.arn
}
"""


def _rows(report: api.Report, root: Path) -> list[tuple[str, str, int, int, str | None]]:
    return sorted(
        (f.rule_id, os.path.relpath(f.file, root), f.line, f.column, f.resource_name)
        for f in report.findings
        if not f.suppressed
    )


# --------------------------------------------------------------------------- values and names


def test_arguments_are_the_module_variables_and_defaults_fill_the_rest(tmp_path: Path) -> None:
    write(tmp_path, {"modules/kms/main.tf": KEY_MODULE})
    call = 'module "a" {\n  source = "./modules/kms"\n  enable_key_rotation = false\n}\n'
    project = parse(tmp_path, {"main.tf": call})
    k = key(project, "module.a.aws_kms_key.this")
    assert isinstance(k.rotation, Known) and k.rotation.value is False
    assert k.policy is None  # default = null, not passed: a known null, so no policy (KMS001)
    assert instance_index(k.name) == ""  # one instance: a name says all


def test_a_variable_without_default_stays_unknown_but_a_null_default_is_null(tmp_path: Path) -> None:
    project = parse(
        tmp_path,
        {
            "main.tf": """
            variable "none" {}
            variable "null" {
              default = null
            }
            resource "aws_kms_key" "a" {
              policy = var.none
            }
            resource "aws_kms_key" "b" {
              policy = var.null
            }
            """
        },
    )
    a = key(project, "aws_kms_key.a")
    assert a.policy is not None and isinstance(a.policy.document, Unknown)
    assert key(project, "aws_kms_key.b").policy is None


def test_for_each_instances_have_their_keys_and_each_is_bound(tmp_path: Path) -> None:
    write(tmp_path, {"modules/kms/main.tf": KEY_MODULE})
    project = parse(
        tmp_path,
        {
            "main.tf": """
            module "k" {
              source              = "./modules/kms"
              for_each            = { b = false, a = true }
              enable_key_rotation = each.value
            }
            """
        },
    )
    got = sorted(
        (k.name, instance_index(k.name), k.rotation.value) for k in project.keys if isinstance(k.rotation, Known)
    )
    assert got == [
        ("module.k.aws_kms_key.this", 'module.k["a"]', True),
        ("module.k.aws_kms_key.this", 'module.k["b"]', False),
    ]


def test_an_unknown_for_each_evaluates_one_instance_with_each_unknown(tmp_path: Path) -> None:
    write(tmp_path, {"modules/kms/main.tf": KEY_MODULE})
    project = parse(
        tmp_path,
        {
            "main.tf": """
            variable "keys" {}
            module "k" {
              source              = "./modules/kms"
              for_each            = var.keys
              enable_key_rotation = each.value
            }
            """
        },
    )
    (k,) = project.keys
    assert k.name == "module.k.aws_kms_key.this" and isinstance(k.rotation, Unknown)


def test_references_inside_an_instance_carry_its_path_and_link_per_instance(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "modules/kms/main.tf": """
            resource "aws_kms_key" "this" {
              enable_key_rotation = true
            }
            resource "aws_kms_key_policy" "this" {
              key_id = aws_kms_key.this.id
              policy = "{}"
            }
            """
        },
    )
    call = 'module "k" {\n  source = "./modules/kms"\n  for_each = toset(["x", "y"])\n}\n'
    project = parse(tmp_path, {"main.tf": call})
    # Each instance's aws_kms_key_policy attaches to its own instance's key, none stands alone.
    assert not project.standalone_policies
    attached = sorted(instance_index(k.name) for k in project.keys if k.policy is not None)
    assert attached == ['module.k["x"]', 'module.k["y"]']


def test_module_outputs_resolve_in_the_caller(tmp_path: Path) -> None:
    write(tmp_path, {"modules/kms/main.tf": KEY_MODULE})
    project = parse(
        tmp_path,
        {
            "main.tf": """
            module "kms" {
              source = "./modules/kms"
            }
            resource "aws_kms_alias" "a" {
              name          = "alias/a"
              target_key_id = module.kms.key_id
            }
            resource "aws_kms_grant" "g" {
              key_id            = module.kms.arn
              grantee_principal = "arn:aws:iam::111122223333:role/r"
              operations        = ["Decrypt"]
            }
            """
        },
    )
    assert [a.target for a in project.aliases] == ["module.kms.aws_kms_key.this"]
    assert [g.key for g in project.grants] == ["module.kms.aws_kms_key.this"]


def test_references_name_resources_with_their_module_paths() -> None:
    assert ref_name("module.a.module.b.aws_kms_key.x.arn") == "module.a.module.b.aws_kms_key.x"
    assert ref_name("aws_kms_key.y.id") == "aws_kms_key.y"
    assert ref_name('module.a["k"].aws_kms_key.x[0].arn') == "module.a.aws_kms_key.x"
    assert ref_name("module.a.key_id") is None  # an output of a call not followed


def test_module_files_are_what_the_result_depends_on(tmp_path: Path) -> None:
    write(tmp_path, {"modules/kms/main.tf": KEY_MODULE})
    project = parse(tmp_path, {"main.tf": 'module "a" {\n  source = "./modules/kms"\n}\n'})
    assert any(f.endswith("modules/kms/main.tf") for f in project.files)
    assert (str(tmp_path / "modules" / "kms"), "main.tf") in project.files_tried


# --------------------------------------------------------------------------- sources not followed


@pytest.mark.parametrize(
    "source",
    [
        "terraform-aws-modules/kms/aws",
        "git::https://example.com/kms.git",
        "s3::https://s3.amazonaws.com/b/kms.zip",
        "./missing",
        "../../../../../../etc",  # leaves the scanned tree
    ],
)
def test_a_source_not_on_disk_is_not_followed_and_recorded(tmp_path: Path, source: str) -> None:
    project = parse(tmp_path, {"main.tf": f'module "remote" {{\n  source = "{source}"\n}}\n'})
    assert [(n.file, n.line, n.module, n.source) for n in project.not_followed] == [("main.tf", 1, "remote", source)]
    assert not project.keys


def test_not_followed_in_json_and_one_stderr_line_without_changing_the_exit_code(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "main.tf": """
            module "kms" {
              source = "terraform-aws-modules/kms/aws"
            }
            module "s3" {
              source = "terraform-aws-modules/s3-bucket/aws"
            }
            """
        },
    )
    runner = CliRunner()
    as_json = runner.invoke(main, ["--format", "json", str(tmp_path)])
    doc = json.loads(as_json.stdout)
    assert doc["summary"]["not_followed"] == [
        {"file": str(tmp_path / "main.tf"), "line": 1, "module": "kms", "source": "terraform-aws-modules/kms/aws"},
        {"file": str(tmp_path / "main.tf"), "line": 4, "module": "s3", "source": "terraform-aws-modules/s3-bucket/aws"},
    ]
    text = runner.invoke(main, [str(tmp_path)])
    assert text.exit_code == 0 and as_json.exit_code == 0
    assert text.stderr.strip().endswith(
        "2 module calls not followed (sources not on disk): run terraform init, or lint the plan JSON"
    )
    assert "not followed" not in as_json.stderr  # the JSON says it in its summary


def test_a_remote_call_is_listed_even_where_nothing_mentions_kms(tmp_path: Path) -> None:
    """`module "eks" { source = "terraform-aws-modules/eks/aws" }` creates a KMS key that nobody
    checked: the directory holds no KMS text, but the run still says the call was not followed."""
    write(tmp_path, {"main.tf": 'module "eks" {\n  source = "terraform-aws-modules/eks/aws"\n}\n'})
    report = api.lint([str(tmp_path)], Settings())
    assert [(n.module, n.source) for n in report.not_followed] == [("eks", "terraform-aws-modules/eks/aws")]


def test_calls_listed_without_evaluation_are_those_evaluation_lists(tmp_path: Path, monkeypatch) -> None:
    """A directory of remote calls only is listed from its text, never parsed; the list is the
    one a full evaluation gives (the same directory with a key in it)."""
    from kmslint.parsers import terraform

    calls = (
        'module "vpc" {\n  source = "terraform-aws-modules/vpc/aws"\n}\n'
        '# module "commented" {\n'
        'module rds {\n  # source = "not this"\n  version = "1.0"\n  source  = "git::https://x.example/r.git?ref=v1"\n}\n'
        'module "escaped" {\n  source = "org/a\\u0062c/aws"\n}\n'
        'module "no_source" {\n}\n'
        'resource "aws_s3_bucket" "b" {\n  source = "not a call"\n}\n'
    )
    as_json = json.dumps({"module": {"from_json": {"source": "org/j/aws"}}})
    write(tmp_path / "only", {"main.tf": calls, "more.tf.json": as_json})
    write(tmp_path / "keyed", {"main.tf": calls, "more.tf.json": as_json, "key.tf": 'resource "aws_kms_key" "k" {}\n'})
    parsed: list[str] = []
    real = terraform.parse_file
    monkeypatch.setattr(terraform, "parse_file", lambda path, opts: parsed.append(path.name) or real(path, opts))

    def listed(d: str) -> list[tuple[str, int, str, str]]:
        report = api.lint([str(tmp_path / d)], Settings())
        return [(Path(n.file).name, n.line, n.module, n.source) for n in report.not_followed]

    only = listed("only")
    assert parsed == []
    assert only == listed("keyed") and "key.tf" in parsed
    assert [(m, s) for _f, _l, m, s in only] == [
        ("vpc", "terraform-aws-modules/vpc/aws"),
        ("rds", "git::https://x.example/r.git?ref=v1"),
        ("escaped", "org/abc/aws"),
        ("no_source", ""),
        ("from_json", "org/j/aws"),
    ]


def test_not_followed_survives_the_findings_cache(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    write(tree, {"main.tf": 'module "kms" {\n  source = "terraform-aws-modules/kms/aws"\n}\n'})
    cache_dir = str(tmp_path / "cache")
    first = api.lint([str(tree)], Settings(), cache_dir=cache_dir)
    again = api.lint([str(tree)], Settings(), cache_dir=cache_dir)
    assert first.not_followed == again.not_followed and len(again.not_followed) == 1


def test_a_changed_module_file_is_linted_again_from_the_cache(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    write(tree, {"modules/kms/main.tf": KEY_MODULE, "main.tf": 'module "a" {\n  source = "./modules/kms"\n}\n'})
    cache_dir = str(tmp_path / "cache")
    first = api.lint([str(tree)], Settings(), cache_dir=cache_dir)
    assert "KMS002" not in {f.rule_id for f in first.findings}
    write(tree, {"modules/kms/main.tf": KEY_MODULE.replace("default = true", "default = false")})
    again = api.lint([str(tree)], Settings(), cache_dir=cache_dir)
    assert "KMS002" in {f.rule_id for f in again.findings}


def test_a_file_added_to_a_module_is_linted_again_from_the_cache(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    write(tree, {"modules/kms/main.tf": KEY_MODULE, "main.tf": 'module "a" {\n  source = "./modules/kms"\n}\n'})
    cache_dir = str(tmp_path / "cache")
    assert not {f.rule_id for f in api.lint([str(tree)], Settings(), cache_dir=cache_dir).findings} & {"KMS002"}
    # Nothing the first run read changed: only the module directory's list of files did.
    write(tree, {"modules/kms/extra.tf": 'resource "aws_kms_key" "extra" {\n  enable_key_rotation = false\n}\n'})
    again = api.lint([str(tree)], Settings(), cache_dir=cache_dir)
    assert ("KMS002", "module.a.aws_kms_key.extra") in {(f.rule_id, f.resource) for f in again.findings}


def test_a_module_source_created_or_installed_later_is_followed_from_the_cache(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    calls = 'module "local" {\n  source = "./modules/kms"\n}\nmodule "remote" {\n  source = "org/kms/aws"\n}\n'
    write(tree, {"main.tf": calls})
    cache_dir = str(tmp_path / "cache")
    assert len(api.lint([str(tree)], Settings(), cache_dir=cache_dir).not_followed) == 2
    bad = KEY_MODULE.replace("default = true", "default = false")
    write(tree, {"modules/kms/main.tf": bad})  # the local source now exists
    assert len(api.lint([str(tree)], Settings(), cache_dir=cache_dir).not_followed) == 1
    manifest = {"Modules": [{"Key": "remote", "Source": "org/kms/aws", "Dir": ".terraform/modules/remote"}]}
    write(tree, {".terraform/modules/remote/main.tf": bad, ".terraform/modules/modules.json": json.dumps(manifest)})
    again = api.lint([str(tree)], Settings(), cache_dir=cache_dir)  # as after terraform init
    assert again.not_followed == []
    assert {"module.local.aws_kms_key.this", "module.remote.aws_kms_key.this"} <= {f.resource for f in again.findings}


# --------------------------------------------------------------------------- discovery


def _linted(paths: list[Path]) -> list[tuple[str, str]]:
    report = api.lint([str(p) for p in paths], Settings())
    return sorted({(f.rule_id, f.resource) for f in report.findings})


def test_a_called_directory_is_linted_only_through_its_calls(tmp_path: Path) -> None:
    module = KEY_MODULE.replace("default = true", "default = false")
    call = 'module "a" {\n  source = "../modules/kms"\n  enable_key_rotation = true\n}\n'
    write(tmp_path, {"modules/kms/main.tf": module, "live/main.tf": call})
    # Through the call only: its default (false) is overridden, no KMS002 for aws_kms_key.this.
    assert _linted([tmp_path]) == [("KMS001", "module.a.aws_kms_key.this")]
    # Alone, or named on the command line, it is linted on its own with its defaults.
    alone = [("KMS001", "aws_kms_key.this"), ("KMS002", "aws_kms_key.this")]
    assert _linted([tmp_path / "modules" / "kms"]) == alone
    named = _linted([tmp_path, tmp_path / "modules" / "kms" / "main.tf"])
    assert named == sorted([*alone, ("KMS001", "module.a.aws_kms_key.this")])


def test_directories_that_call_each_other_in_a_cycle_stay_units(tmp_path: Path) -> None:
    key = 'resource "aws_kms_key" "k" {\n  enable_key_rotation = true\n}\n'
    write(
        tmp_path,
        {
            "a/main.tf": 'module "b" {\n  source = "../b"\n}\n' + key,
            "b/main.tf": 'module "a" {\n  source = "../a"\n}\n',
        },
    )
    assert ("KMS001", "aws_kms_key.k") in _linted([tmp_path])


def test_a_module_file_that_does_not_parse_is_reported_through_its_caller(tmp_path: Path) -> None:
    call = 'module "a" {\n  source = "../modules/kms"\n}\n'
    write(tmp_path, {"modules/kms/main.tf": 'resource "aws_kms_key" "k" {\n', "live/main.tf": call})
    report = api.lint([str(tmp_path)], Settings())
    assert [(f.rule_id, os.path.relpath(f.file, tmp_path)) for f in report.findings] == [
        ("KMS000", "modules/kms/main.tf")
    ]


# --------------------------------------------------------------------------- manifests


def test_a_hostile_manifest_is_no_manifest(tmp_path: Path) -> None:
    outside = [json.dumps({"Modules": [{"Key": "k", "Dir": d}]}) for d in ("/etc", "../../..", "/proc/self/cwd")]
    for text in ["{", "[]", '{"Modules": 7}', '{"Modules": [{"Key": "k", "Dir": 3}]}', "[" * 100_000, *outside]:
        write(tmp_path, {".terraform/modules/modules.json": text, "main.tf": 'module "k" {\n  source = "x/y/aws"\n}\n'})
        project = parse(tmp_path)
        assert [n.module for n in project.not_followed] == ["k"]


# --------------------------------------------------------------------------- the root's context


def test_the_root_provider_default_tags_reach_module_keys(tmp_path: Path) -> None:
    # The module has a `why` of its own: the provider's tags must be read with the root's.
    module = (
        'resource "aws_kms_key" "this" {\n  multi_region = true\n  enable_key_rotation = true\n}\n'
        'variable "why" {\n  default = ""\n}\n'
    )
    call = 'module "a" {\n  source = "./modules/kms"\n}\n'
    tags = (
        'provider "aws" {\n  default_tags {\n    tags = {\n'
        '      "kmslint:multi-region-justification" = var.why\n    }\n  }\n}\n'
        'variable "why" {\n  default = "replicated for the DR Region"\n}\n'
    )
    write(tmp_path, {"modules/kms/main.tf": module, "main.tf": call})
    assert ("KMS004", "module.a.aws_kms_key.this") in _linted([tmp_path])
    write(tmp_path, {"providers.tf": tags})
    assert ("KMS004", "module.a.aws_kms_key.this") not in _linted([tmp_path])


def test_a_suppression_in_a_module_holds_for_every_call(tmp_path: Path) -> None:
    module = (
        'resource "aws_kms_key" "this" {\n'
        "  # kmslint:ignore KMS002 -- rotated by the key-rotation pipeline\n"
        "  enable_key_rotation = false\n}\n"
    )
    calls = 'module "a" {\n  source = "./modules/kms"\n}\nmodule "b" {\n  source = "./modules/kms"\n}\n'
    write(tmp_path, {"modules/kms/main.tf": module, "main.tf": calls})
    report = api.lint([str(tmp_path)], Settings())
    kms002 = sorted((f.resource, f.suppressed) for f in report.findings if f.rule_id == "KMS002")
    assert kms002 == [("module.a.aws_kms_key.this", True), ("module.b.aws_kms_key.this", True)]
