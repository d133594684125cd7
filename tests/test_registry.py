"""The parser registry: which formats there are, what each claims, what a file is read as.

Classification is :mod:`kmslint.parsers.registry`'s alone (DESIGN.md: parsers
claim their inputs): discovery keeps the names some format may claim, the
engine asks what a file is.  These tests hold the registry to that -- adding
a format is adding one module -- and hold the classification to RULES.md:
key-policy files, structural signs of IaC in text that does not parse, and
``summary.files`` counting only what was read as IaC (OUTPUT.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kmslint import api
from kmslint.parsers import formats, policy_json, registry, sniff
from kmslint.settings import Settings

# The formats kmslint reads today; a new one is a module of the formats package, and no edit here.
FORMAT_NAMES = {
    "Terraform",
    "Terraform JSON",
    "Terraform plan",
    "CloudFormation template (YAML)",
    "CloudFormation template (JSON)",
    "key policy",
    "map of named key policies",
}


def write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2))
    return path


def rows(report: api.Report) -> list[tuple[str, str, int, int, str | None]]:
    return [(f.rule_id, Path(f.file).name, f.line, f.column, f.resource or None) for f in report.findings]


def policy(*statements: dict[str, object]) -> dict[str, object]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(principal: object, action: object, **more: object) -> dict[str, object]:
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*", **more}


def deny(principal: object, action: object) -> dict[str, object]:
    return {"Effect": "Deny", "Principal": principal, "Action": action, "Resource": "*"}


# --------------------------------------------------------------------------- the registry itself


def test_every_module_of_the_formats_package_declares_its_formats() -> None:
    """Each module of kmslint/parsers/formats defines FORMATS, and the registry holds exactly those."""
    (directory,) = formats.__path__
    modules = sorted(p.stem for p in Path(directory).glob("*.py") if not p.stem.startswith("_"))
    declared = [f for m in modules for f in __import__(f"kmslint.parsers.formats.{m}", fromlist=["x"]).FORMATS]
    assert {f.name for f in registry.registry().formats} == {f.name for f in declared}
    assert {f.name for f in declared} >= FORMAT_NAMES
    assert set(registry.suffixes()) >= {".tf", ".tf.json", ".json", ".yaml", ".yml", ".template"}
    assert set(registry.directory_suffixes()) == {".tf", ".tf.json"}


FAKE_FORMAT = '''
"""A format no one has: key policies in `.kmspolicy` files, read whatever their actions say."""

from kmslint.parsers.formats.terraform import KMS
from kmslint.parsers.registry import Format


def claims(content, opts):
    return content.path.name.endswith(".kmspolicy") and content.top is not None


def read(content, opts):
    from kmslint.parsers import policy_json

    return policy_json.parse_policy(content.path, content.text, opts)


FORMATS = (
    Format(
        name="kmspolicy", reading="json", suffixes=(".kmspolicy",), order=5, markers=(KMS,), claims=claims, read=read
    ),
)
'''


def test_adding_a_format_is_adding_one_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A module dropped into the formats package is a format: walked, sniffed, claimed and read."""
    tree = tmp_path / "tree"
    write(tree / "keys" / "archive.kmspolicy", policy(deny("*", "kms:ScheduleKeyDeletion")))
    assert rows(api.lint([str(tree)], jobs=1)) == []  # no format claims the name: not even walked

    extra = tmp_path / "more_formats"
    write(extra / "kmspolicy.py", FAKE_FORMAT)
    monkeypatch.setattr(formats, "__path__", [*formats.__path__, str(extra)])
    monkeypatch.setattr(registry, "_registry", None)
    try:
        assert "kmspolicy" in {f.name for f in registry.registry().formats}
        report = api.lint([str(tree)], jobs=1)
    finally:
        sys.modules.pop("kmslint.parsers.formats.kmspolicy", None)
    assert rows(report) == [("KMS019", "archive.kmspolicy", 1, 1, None)]
    assert report.files == 1


def test_a_module_without_formats_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "broken_format.py", "NOTHING = 1\n")
    monkeypatch.setattr(formats, "__path__", [str(tmp_path)])
    monkeypatch.setattr(registry, "_registry", None)
    try:
        with pytest.raises(TypeError, match="broken_format defines no FORMATS"):
            registry.registry()
    finally:
        sys.modules.pop("kmslint.parsers.formats.broken_format", None)


@pytest.mark.parametrize(
    ("name", "text", "reading"),
    [
        ("t.json", '{"Resources": {}}', "json"),
        ("t.json", "  [1]", "json"),
        ("t.json", "Resources: {}", "yaml"),  # CloudFormation reads YAML whatever the name
        ("t.template", "{Resources: {}}", "json"),  # not JSON: then read as YAML flow syntax
        ("t.yaml", '{"Resources": {}}', "yaml"),
        ("T.YML", "{}", "yaml"),
    ],
)
def test_how_a_file_is_read(name: str, text: str, reading: str) -> None:
    assert registry.reading_of(Path(name), text) == reading


def test_the_prefilter_of_a_reading_is_its_formats_markers() -> None:
    """A JSON file matters with any marker of a JSON format: a plan's IAM policy types too."""
    assert registry.might_matter('{"type": "aws_iam_role_policy"}', "json")
    assert not registry.might_matter('{"type": "aws_iam_role_policy"}', "yaml")
    assert registry.might_matter("Type: AWS::IAM::ManagedPolicy", "yaml")
    assert registry.might_matter('module "k" {\n  source = "./keys"\n}\n', "terraform")
    assert not registry.might_matter('{"Statement": [{"Principal": "*", "Action": "*"}]}', "json")


# --------------------------------------------------------------------------- signs


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"Resources": {"K": ', True),
        ('{\n  "AWSTemplateFormatVersion" : "2010-09-09",', True),
        ("Resources:\n  Key:\n    Type: [", True),
        ("  - ? !!str Resources :\n", True),
        ("&anchor Resources: {", True),
        ("{Resources: {K: {Type: AWS::KMS::Key}", True),
        ('"Re\\x73ources":\n  K: [', True),  # a YAML escape
        ('{"\\u0053tatement": [', True),  # a JSON escape
        ('{"Statement": [{"Principal": "*"}],}', True),
        ('{\n  "Statement" [{"Principal": "*"}]\n}', True),  # the colon lost: its principals remain
        ('{"terraform_version": "1.9.0",', True),
        ('resource "aws_kms_key" "k" {\n  x = [\n}', True),
        ("  module kms {", True),
        # Prose, not structure.
        ('{"description": "Resources: a bucket. Statement: none", "x": 1,}', False),
        ('{"text": "the \\"Statement\\": element"}', False),
        ("# Resources: see the README\nkms: [", False),
        ("notes: |\n  Statement: the proxy forwards calls\n  Principal: anyone\nx: [", False),
        ("MyResources: 1\nx: [", False),
        ("Resources:x\n[", False),
        ("resources:\n  limits: {cpu: 1}\n[", False),
        ("title: Terraform resource blocks\nx: [", False),
        ('{"resources": {"bullets": []},}', False),
    ],
)
def test_signs_are_mapping_keys_and_blocks_not_prose(text: str, expected: bool) -> None:
    """A file that does not parse is a KMS000 only when a format's word is written as structure."""
    assert registry.shows_signs(text) is expected


def test_looking_for_signs_is_bounded() -> None:
    """A million copies of a word on one line answer at once (yes: when in doubt, report)."""
    import time

    text = "Resources" * 1_000_000
    start = time.monotonic()
    assert sniff.shows(text, (sniff.Sign("Resources"),))
    assert time.monotonic() - start < 2.0
    assert not sniff.shows("x" * 300 + "Resources: 1", (sniff.Sign("Resources"),))  # too far from its line's start


# --------------------------------------------------------------------------- key-policy files


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (policy(allow("*", "kms:Decrypt")), None),
        (policy(allow("*", ["*", "kms:Decrypt"])), None),
        ({"Statement": allow({"AWS": "111122223333"}, "KMS:decrypt")}, None),  # one statement, any case
        (policy(deny("*", "s3:*"), {"Principal": "*", "Action": "kms:*"}), None),  # no Effect: an Allow
        (policy(allow("*", "kms:*"), deny("*", ["kms:ScheduleKeyDeletion", "s3:*"])), None),
        (policy(allow("*", "*")), "Allow statements name no `kms:` action"),  # a VPC endpoint policy
        (policy(allow("*", "*"), deny("*", "kms:*")), "Allow statements name no `kms:` action"),  # an RCP
        (policy(deny("*", "kms:*")), "only denies"),
        (policy(allow("*", ["kms:Decrypt", "s3:GetObject"])), "other services' actions (`s3:GetObject`)"),
        (policy(allow("*", "ec2:*")), "other services' actions (`ec2:*`)"),
        (policy(allow("*", ["a:1", "b:2", "c:3", "d:4"])), "(`a:1`, `b:2`, `c:3`, ...)"),
        (policy(allow("*", "kms:Decrypt"), {"Effect": "Allow", "NotAction": "s3:*"}), "no `Statement` whose"),
        (policy({"Effect": "Allow", "Principal": "*", "NotAction": "s3:*"}), "other services' actions"),
        (policy(allow("*", ["kms:Decrypt", 3])), "other services' actions (`3`)"),
        ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*"}]}, "no `Statement`"),  # an SCP
        ({"Statement": []}, "no `Statement`"),
        ({"name": "web"}, "no `Statement`"),
        (["Statement"], "no `Statement`"),
    ],
)
def test_a_key_policy_file_is_what_rules_md_says(data: object, why: str | None) -> None:
    """RULES.md "Key-policy file": every statement names a principal, the Allows name kms: actions or *."""
    reason = policy_json.why_not_key_policy(data)
    if why is None:
        assert reason is None
    else:
        assert reason is not None and why in reason
    assert policy_json.looks_like_key_policy(data) is (why is None)


def test_a_map_is_read_only_when_every_value_is_a_key_policy() -> None:
    keys = {"payments": policy(allow("*", "kms:Decrypt")), "ledger": policy(allow("*", "kms:*"))}
    assert policy_json.policy_names(keys) == ["payments", "ledger"]
    with_bucket = {**keys, "bucket": policy(allow("*", "s3:*"))}
    assert policy_json.policy_names(with_bucket) is None
    assert policy_json.policy_names(with_bucket, listed=True) == ["payments", "ledger", "bucket"]
    assert policy_json.policy_names({**keys, "$schema": "x"}, listed=True) is None
    assert policy_json.policy_names({}) is None
    assert policy_json.policy_names(policy(allow("*", "kms:*"))) is None  # a policy is not a map of them


def test_a_map_of_named_key_policies_names_each_finding(tmp_path: Path) -> None:
    """Each policy of a map is linted as a key policy; its findings' resource is its name (OUTPUT.md)."""
    root = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*"}
    keys = {"payments": policy(allow("*", "kms:Decrypt", Sid="Everyone")), "ledger": policy(dict(root, Resource="*"))}
    path = write(tmp_path / "keys.json", keys)
    doc = json.loads(_cli("--format", "json", str(path)).stdout)
    found = [(f["rule_id"], f["line"], f["column"], f["resource"]) for f in doc["findings"]]
    assert found == [("KMS019", 2, 15, "payments"), ("KMS003", 5, 7, "payments"), ("KMS001", 17, 7, "ledger")]
    assert "statement `Everyone` allows `*` to use this key" in doc["findings"][1]["message"]
    assert doc["summary"]["files"] == 1


# --------------------------------------------------------------------------- what a run reads, skips, counts


def test_named_files_that_are_not_key_policies_are_skipped_with_the_reason(tmp_path: Path) -> None:
    """A named file that is no IaC is skipped with a note saying why; walked, it is skipped silently."""
    files = {
        "bucket.json": policy(allow("*", ["kms:Decrypt", "s3:GetObject"])),
        "deny.json": policy(deny("*", "kms:*")),
        "map.json": {"key": policy(allow("*", "kms:Decrypt")), "bucket": policy(allow("*", "s3:*"))},
        "metadata.json": '{"title": "SSE-KMS", "resources": {"bullets": [],},}',
        "package.json": {"name": "web", "dependencies": {}},
        "values.json": {"kms": {"enabled": True}},
    }
    paths = [str(write(tmp_path / name, data)) for name, data in files.items()]
    hint = "; list it in key-policy-files to lint it as one"
    report = api.lint(paths)
    assert (report.findings, report.errors, report.files) == ([], [], 0)
    assert report.notes == [
        f"{paths[0]}: skipped, a policy whose Allow statements name other services' actions (`s3:GetObject`),"
        f" not a key policy{hint}",
        f"{paths[1]}: skipped, a policy that only denies, not a key policy{hint}",
        f"{paths[2]}: skipped, a map of named policies, not all of them key policies ('bucket' is a policy whose"
        f" Allow statements name other services' actions (`s3:*`), not a key policy){hint}",
        f"{paths[3]}: skipped, not valid JSON and not a template, plan or policy",
        f"{paths[4]}: skipped, nothing KMS-related in it",
        f"{paths[5]}: skipped, not a Terraform, CloudFormation or key-policy file",
    ]
    walked = api.lint([str(tmp_path)])
    assert (walked.findings, walked.errors, walked.notes, walked.files) == ([], [], [], 0)


def test_summary_files_counts_only_what_was_read_as_iac(tmp_path: Path) -> None:
    """Terraform files, templates (a key or not), plans, key policies and KMS000 files; nothing else."""
    key = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  K:\n    Type: AWS::KMS::Key\n"
    counted = {
        "net/main.tf": 'resource "aws_vpc" "v" {}\n',  # Terraform by its name, KMS or not
        "key.yaml": key,
        "queue.yaml": "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n",  # a template without a key
        "broken.yaml": key + "   Properties: {}\n",  # KMS000
        "key.json": policy(allow("*", "kms:Decrypt")),
        "plan.json": {"format_version": "1.2", "terraform_version": "1.9.0", "planned_values": {}},
    }
    skipped = {
        "package.json": {"name": "web"},
        "metadata.json": '{"title": "SSE-KMS",}',
        "bucket.json": policy(allow("*", ["kms:Decrypt", "s3:GetObject"])),
        "endpoint.json": policy(allow("*", "*")),  # a policy, but no key policy: nothing KMS in it
        "k8s.yaml": "apiVersion: v1\nkind: ConfigMap\ndata:\n  kms: alias/app\n",
    }
    for name, data in {**counted, **skipped}.items():
        write(tmp_path / name, data)
    result = _cli("--format", "json", "--select", "KMS003", str(tmp_path))
    doc = json.loads(result.stdout)
    assert doc["summary"]["files"] == len(counted) == 6
    assert doc["summary"]["skipped"] == len(skipped) == 5  # counted apart: looked at, not read
    assert [(Path(f["file"]).name, f["rule_id"]) for f in doc["findings"]] == [
        ("broken.yaml", "KMS000"),
        ("key.json", "KMS003"),
    ]
    text = _cli("--select", "KMS003", str(tmp_path)).stdout
    assert text.splitlines()[-1] == "Found 2 findings (1 critical, 1 high) in 6 files; 5 files skipped (not IaC)."


def test_files_that_cannot_be_read_as_text_are_kms000_only_with_signs_of_iac(tmp_path: Path) -> None:
    """Over the size limit, not UTF-8 or UTF-16: a KMS000 when its first bytes show a template or policy."""
    lock = {"name": "web", "lockfileVersion": 3, "packages": {f"node_modules/p{i}": {"version": "1"} for i in range(9)}}
    write(tmp_path / "package-lock.json", lock)
    template = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  K:\n    Type: AWS::KMS::Key\n"
    write(tmp_path / "big.yaml", template + "#\n" * 200)
    (tmp_path / "latin1.json").write_bytes(b'{"title": "caf\xe9 SSE-KMS", "x": 1}')
    (tmp_path / "utf16.template").write_bytes(template.encode("utf-16"))
    report = api.lint([str(tmp_path)], Settings(max_file_bytes=400))
    assert [(Path(e.file).name, e.line, e.column, e.message) for e in report.errors] == [
        ("big.yaml", 1, 1, f"file is {len(template) + 400} bytes, over the 400-byte limit (--max-file-bytes)"),
        ("utf16.template", 1, 1, "binary file (NUL byte): not a text source"),
    ]
    assert rows(report) == [("KMS000", "big.yaml", 1, 1, None), ("KMS000", "utf16.template", 1, 1, None)]
    assert (report.notes, report.files) == ([], 2)
    named = api.lint([str(tmp_path / "package-lock.json"), str(tmp_path / "latin1.json")], Settings(max_file_bytes=400))
    assert (named.findings, named.usage_error) == ([], False)
    assert named.notes == [
        f"{tmp_path / 'latin1.json'}: skipped, not readable as text, and not a template, plan or policy",
        f"{tmp_path / 'package-lock.json'}: skipped, not readable as text, and not a template, plan or policy",
    ]


# --------------------------------------------------------------------------- KMS000 whatever --select says


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The installed console script in a fresh process (no configuration above ``cwd``'s repository)."""
    kmslint = Path(sys.executable).parent / "kmslint"
    return subprocess.run(
        [str(kmslint), *args], capture_output=True, text=True, check=False, timeout=120, cwd=cwd or Path.cwd()
    )


@pytest.fixture
def broken_tree(tmp_path: Path) -> Path:
    write(tmp_path / ".git" / "HEAD", "ref: refs/heads/main\n")  # the configuration search stops here
    write(tmp_path / "t.yaml", "Resources:\n  K:\n    Type: AWS::KMS::Key\n     Properties: {}\n")
    write(tmp_path / "key.json", policy(allow({"AWS": "arn:aws:iam::111122223333:role/App"}, "kms:Decrypt")))
    return tmp_path


KMS000_ROW = ("KMS000", "t.yaml", 4, 16)


def _found(result: subprocess.CompletedProcess[str]) -> list[tuple[str, str, int, int]]:
    doc = json.loads(result.stdout)
    return [(f["rule_id"], Path(f["file"]).name, f["line"], f["column"]) for f in doc["findings"]]


@pytest.mark.parametrize(
    ("args", "code", "found"),
    [
        ((), 1, [("KMS019", "key.json", 1, 1), KMS000_ROW]),
        (("--select", "KMS003"), 1, [KMS000_ROW]),
        (("--select", "wildcard-principal", "--fail-on", "critical"), 1, [KMS000_ROW]),
        (("--fail-on", "critical", "--ignore", "KMS019"), 1, [KMS000_ROW]),
        (("--ignore", "KMS000,KMS019"), 0, []),
        (("--select", "KMS003", "--ignore", "parse-error"), 0, []),
        (("--select", "KMS003", "--ignore", "KMS00"), 1, [KMS000_ROW]),  # a prefix does not name it
        (("--select", "KMS003", "--exit-zero"), 0, [KMS000_ROW]),
    ],
)
def test_kms000_is_reported_and_fails_whatever_select_and_fail_on_say(
    broken_tree: Path, args: tuple[str, ...], code: int, found: list[tuple[str, str, int, int]]
) -> None:
    result = _cli("--format", "json", *args, ".", cwd=broken_tree)
    assert (result.returncode, _found(result)) == (code, found), result.stderr


def test_a_configuration_that_ignores_kms000_survives_a_command_line_select(broken_tree: Path) -> None:
    """--select replaces the file's selection, but not its decision to ignore KMS000 by name."""
    write(broken_tree / ".kmslint.toml", 'ignore = ["KMS000"]\n')
    result = _cli("--format", "json", "--select", "KMS003", ".", cwd=broken_tree)
    assert (result.returncode, _found(result)) == (0, [])
    write(broken_tree / ".kmslint.toml", 'ignore = ["KMS00"]\n')
    result = _cli("--format", "json", "--select", "KMS003", ".", cwd=broken_tree)
    assert (result.returncode, _found(result)) == (1, [KMS000_ROW])


def test_sarif_lists_kms000_among_the_rules_that_ran(broken_tree: Path) -> None:
    result = _cli("--format", "sarif", "--select", "KMS003", ".", cwd=broken_tree)
    run = json.loads(result.stdout)["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["KMS000", "KMS003"]
    assert [r["ruleId"] for r in run["results"]] == ["KMS000"]


# --------------------------------------------------------------------------- key-policy-files


@pytest.mark.slow
def test_key_policy_files_are_relative_to_the_configuration_whoever_runs_it(tmp_path: Path) -> None:
    """Listed files are key policies whatever their actions and names, from .kmslint.toml or pyproject.toml."""
    repo = tmp_path / "repo"
    write(repo / ".git" / "HEAD", "ref: refs/heads/main\n")
    write(repo / "keys" / "archive.json", policy(deny("*", "kms:ScheduleKeyDeletion")))
    write(repo / "keys" / "legacy.policy", policy(allow("*", ["kms:Decrypt", "s3:GetObject"], Sid="Everyone")))
    write(repo / "other" / "archive.json", policy(deny("*", "kms:ScheduleKeyDeletion")))  # not listed
    expected = [
        ("KMS019", "keys/archive.json", 1, 1),
        ("KMS019", "keys/legacy.policy", 1, 1),
        ("KMS003", "keys/legacy.policy", 4, 5),
    ]
    for config, body in (
        (".kmslint.toml", 'key-policy-files = ["keys/*.json", "*.policy"]\n'),
        ("pyproject.toml", '[tool.kmslint]\nkey-policy-files = ["/keys/archive.json", "keys/*.policy"]\n'),
    ):
        for other in (".kmslint.toml", "pyproject.toml"):
            (repo / other).unlink(missing_ok=True)
        write(repo / config, body)
        for cwd, target in ((repo, "."), (tmp_path, "repo"), (repo / "keys", ".."), (repo / "other", "..")):
            result = _cli("--format", "json", target, cwd=cwd)
            doc = json.loads(result.stdout)
            found = [
                (
                    f["rule_id"],
                    (cwd / f["file"]).resolve().relative_to(repo.resolve()).as_posix(),
                    f["line"],
                    f["column"],
                )
                for f in doc["findings"]
            ]
            assert (result.returncode, found) == (1, expected), (config, cwd)
            assert doc["summary"]["files"] == 2


def test_key_policy_files_must_be_a_list_of_patterns(tmp_path: Path) -> None:
    write(tmp_path / ".kmslint.toml", 'key-policy-files = "keys/*.json"\n')
    result = _cli(".", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "kmslint: error: .kmslint.toml: key-policy-files: expected a list of gitignore-style path patterns,"
        ' relative to this file\'s directory, got the string "keys/*.json"\n'
    )
