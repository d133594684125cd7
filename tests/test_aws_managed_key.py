"""KMS022 aws-managed-key: how the ``[require-customer-managed-key]`` table selects the rule,
is validated, reaches the check, and widens the prefilter only in runs where the rule is on.
(Its findings are the fixture cases under ``fixtures/KMS022``.)"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from kmslint import api, catalog, config, decide, exitcodes
from kmslint.cli import main
from kmslint.parsers import registry
from kmslint.policy.datastores import CFN, STORES, TF
from kmslint.settings import RequireCustomerManagedKey, Settings

QUEUE_TF = 'resource "aws_sqs_queue" "jobs" {\n  name = "jobs"\n}\n'
TABLE = "[require-customer-managed-key]\neverywhere = true\n"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _errors(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(config.ConfigError) as info:
        config.load(_write(tmp_path / ".kmslint.toml", text))
    return info.value.problems


# --------------------------------------------------------------------------- selection


def _on(settings: Settings) -> bool:
    return decide.is_enabled(catalog.rules()["KMS022"], settings)


CMK = RequireCustomerManagedKey(everywhere=True)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (Settings(), False),  # off by default
        (Settings(require_customer_managed_key=CMK), True),  # the table turns it on
        (Settings(require_customer_managed_key=CMK, ignore=frozenset({"KMS022"})), False),
        (Settings(require_customer_managed_key=CMK, ignore=frozenset({"aws-managed-key"})), False),
        (Settings(require_customer_managed_key=CMK, ignore=frozenset({"ALL"})), False),
        # As a rule on by default: a select that does not name it leaves it out, one that does keeps it.
        (Settings(require_customer_managed_key=CMK, select=frozenset({"KMS003"})), False),
        (Settings(require_customer_managed_key=CMK, select=frozenset({"KMS02"})), True),
        (Settings(extend_select=frozenset({"KMS022"})), True),  # selected with no table: on, asks nothing
    ],
)
def test_the_table_turns_the_rule_on_unless_it_is_ignored(settings: Settings, expected: bool) -> None:
    assert _on(settings) is expected


def test_the_table_in_a_file_turns_it_on_and_ignore_turns_it_off(tmp_path: Path) -> None:
    assert _on(config.load(_write(tmp_path / "a" / ".kmslint.toml", TABLE)))
    assert not _on(config.load(_write(tmp_path / "b" / ".kmslint.toml", f'ignore = ["KMS022"]\n{TABLE}')))
    with_cli = config.merge(
        config.load(tmp_path / "a" / ".kmslint.toml"), config.Overrides(ignore=frozenset({"KMS022"}))
    )
    assert not _on(with_cli)


def test_the_check_is_given_the_table() -> None:
    from kmslint.engine import _context

    rule = catalog.rules()["KMS022"]
    assert _context(rule, Settings(require_customer_managed_key=CMK)).require_customer_managed_key == CMK
    assert _context(rule, Settings()).require_customer_managed_key is None


# --------------------------------------------------------------------------- validation


def test_an_unknown_resource_type_is_an_error_with_a_guess(tmp_path: Path) -> None:
    problems = _errors(
        tmp_path, '[require-customer-managed-key]\nresource-types = ["aws_sqs_queues", "AWS::SQS::Queue"]\n'
    )
    assert len(problems) == 1
    assert "require-customer-managed-key.resource-types[0]" in problems[0]
    assert 'unknown data store type "aws_sqs_queues" (did you mean aws_sqs_queue?)' in problems[0]
    problems = _errors(tmp_path, '[require-customer-managed-key]\nresource-types = ["AWS::S3::Buckets"]\n')
    assert "(did you mean AWS::S3::Bucket?)" in problems[0]


def test_a_type_that_is_no_data_store_is_an_error(tmp_path: Path) -> None:
    problems = _errors(tmp_path, '[require-customer-managed-key]\nresource-types = ["aws_iam_role"]\n')
    assert 'unknown data store type "aws_iam_role"' in problems[0]
    assert "kmslint explain KMS022" in problems[0]


def test_every_type_of_the_data_table_is_accepted_and_documented(tmp_path: Path) -> None:
    types = sorted({row.rtype for row in STORES})
    listed = ", ".join(f'"{t}"' for t in types)
    settings = config.load(
        _write(tmp_path / ".kmslint.toml", f"[require-customer-managed-key]\nresource-types = [{listed}]\n")
    )
    assert settings.require_customer_managed_key is not None
    assert settings.require_customer_managed_key.resource_types == frozenset(types)
    fix = catalog.rules()["KMS022"].fix
    assert [t for t in types if f"`{t}`" not in fix] == []


def test_an_unknown_type_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path / ".kmslint.toml", '[require-customer-managed-key]\nresource-types = ["aws_sqs_queu"]\n')
    _write(tmp_path / "main.tf", QUEUE_TF)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["."])
    assert result.exit_code == exitcodes.ERROR
    assert "did you mean aws_sqs_queue?" in result.stderr


# --------------------------------------------------------------------------- the note


def test_selected_with_no_table_says_so_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("a", "b", "c"):
        _write(tmp_path / name / "main.tf", QUEUE_TF)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["--no-config", "--select", "KMS022", "."])
    assert result.exit_code == exitcodes.OK, result.stderr
    assert result.stderr.count("[require-customer-managed-key]") == 1
    assert result.stderr.startswith("kmslint: note: KMS022 is selected")
    quiet = CliRunner().invoke(main, ["--no-config", "."])
    assert "require-customer-managed-key" not in quiet.stderr


def test_with_the_table_it_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path / ".kmslint.toml", TABLE)
    _write(tmp_path / "main.tf", QUEUE_TF)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["."])
    assert result.exit_code == exitcodes.FINDINGS
    assert "main.tf:1:1: KMS022 [low] this aws_sqs_queue is encrypted with SSE-SQS" in result.stdout
    assert result.stderr == ""


# --------------------------------------------------------------------------- the prefilter


def test_its_markers_count_only_when_it_is_on(tmp_path: Path) -> None:
    """A queue that mentions no KMS is skipped unparsed unless KMS022 can report it."""
    assert not registry.might_matter(QUEUE_TF, "terraform")
    assert not registry.might_matter(QUEUE_TF, "terraform", frozenset({"KMS001", "KMS003"}))
    assert registry.might_matter(QUEUE_TF, "terraform", frozenset({"KMS001", "KMS022"}))
    assert registry.might_matter("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n", "yaml", frozenset({"KMS022"}))
    assert registry.might_matter('{"type": "aws_dynamodb_table"}', "json", frozenset({"KMS022"}))
    assert registry.markers_of("yaml") is registry.markers_of("yaml", frozenset({"KMS001"}))
    _write(tmp_path / "main.tf", QUEUE_TF)
    off = api.lint([str(tmp_path)], Settings(select=frozenset({"KMS022"})))
    assert off.files == 1 and off.findings == []
    on = api.lint([str(tmp_path)], Settings(require_customer_managed_key=CMK))
    assert [f.rule_id for f in on.findings] == ["KMS022"]


def test_a_configuration_calling_remote_modules_is_evaluated_for_its_stores(tmp_path: Path) -> None:
    """Module calls that are not on disk are only listed, unless something else matters."""
    _write(tmp_path / "main.tf", QUEUE_TF + 'module "vpc" {\n  source = "terraform-aws-modules/vpc/aws"\n}\n')
    on = api.lint([str(tmp_path)], Settings(require_customer_managed_key=CMK))
    assert [f.resource for f in on.findings] == ["aws_sqs_queue.jobs"]
    assert [n.module for n in on.not_followed] == ["vpc"]


def test_every_store_type_is_a_marker_when_it_is_on() -> None:
    for row in STORES:
        reading = "terraform" if row.syntax == TF else "yaml"
        assert row.syntax in (TF, CFN)
        text = (
            f'resource "{row.rtype}" "x" {{}}\n' if row.syntax == TF else f"Resources:\n  X:\n    Type: {row.rtype}\n"
        )
        assert registry.might_matter(text, reading, frozenset({"KMS022"})), row.rtype
        if row.syntax == TF:
            assert registry.might_matter(f'{{"type": "{row.rtype}"}}', "json", frozenset({"KMS022"})), row.rtype


# --------------------------------------------------------------------------- messages


def _messages(tmp_path: Path, name: str, text: str) -> list[str]:
    _write(tmp_path / name, text)
    report = api.lint([str(tmp_path)], Settings(require_customer_managed_key=CMK))
    return [f.message for f in report.findings if f.rule_id == "KMS022"]


def test_messages_name_the_key_and_the_fix_in_terraform(tmp_path: Path) -> None:
    found = _messages(
        tmp_path,
        "main.tf",
        """\
        resource "aws_sqs_queue" "q" {
          kms_master_key_id = "arn:aws:kms:${var.region}:${var.account}:alias/aws/sqs"
        }
        resource "aws_s3_bucket" "b" {
          bucket = "b"
        }
        resource "aws_dynamodb_table" "t" {
          name     = "t"
          hash_key = "id"
          server_side_encryption {
            enabled = false
          }
        }
        """,
    )
    assert found == [
        "this aws_sqs_queue is encrypted with the AWS managed key `alias/aws/sqs`, and the configuration asks for a "
        "customer managed key everywhere ([require-customer-managed-key]); name a customer managed key: "
        "`kms_master_key_id = aws_kms_key.<name>.arn`",
        "this aws_s3_bucket is encrypted with SSE-S3 (Amazon S3 managed keys), and the configuration asks for a "
        "customer managed key everywhere ([require-customer-managed-key]); add an "
        "aws_s3_bucket_server_side_encryption_configuration for this bucket and, in its "
        '`rule.apply_server_side_encryption_by_default` block, set `sse_algorithm = "aws:kms"` and name a customer '
        "managed key: `kms_master_key_id = aws_kms_key.<name>.arn`",
        "this aws_dynamodb_table is encrypted with a key DynamoDB owns (its default), and the configuration asks for "
        "a customer managed key everywhere ([require-customer-managed-key]); set `enabled = true` and name a "
        "customer managed key: `kms_key_arn = aws_kms_key.<name>.arn` in its `server_side_encryption` block",
    ]


def test_messages_use_the_template_syntax(tmp_path: Path) -> None:
    template = '{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}, "V": {"Type": "AWS::EC2::Volume",'
    template += ' "Properties": {"AvailabilityZone": "eu-west-1a", "Size": 8, "Encrypted": true}}}}\n'
    found = _messages(tmp_path, "template.json", template)
    assert found == [
        "this AWS::SQS::Queue is encrypted with SSE-SQS (keys Amazon SQS owns), and the configuration asks for a "
        "customer managed key everywhere ([require-customer-managed-key]); name a customer managed key: "
        '`KmsMasterKeyId` (the ARN of a customer managed key, `{"Fn::GetAtt": ["<Key>", "Arn"]}`)',
        "this AWS::EC2::Volume is encrypted with the account's default EBS key (the AWS managed key `alias/aws/ebs` "
        "unless the account names another), and the configuration asks for a customer managed key everywhere "
        "([require-customer-managed-key]); name a customer managed key: `KmsKeyId` (the ARN of a customer managed "
        'key, `{"Fn::GetAtt": ["<Key>", "Arn"]}`)',
    ]
