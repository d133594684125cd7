"""The words that matter in the findings of the intrinsics, reference and SAM fixtures: what a
user reads must say why (the reference is one principal, the template is a SAM template's, the
account root came from the stack's ID)."""

from __future__ import annotations

from pathlib import Path

from kmslint import api
from kmslint.settings import Settings
from tests.conftest import FIXTURES


def findings(case: str, rule: str) -> dict[tuple[str, int, str], str]:
    report = api.lint([str(FIXTURES / case)], Settings(select=frozenset({"ALL"})))
    return {
        (Path(f.file).name, f.line, f.resource): f.message
        for f in report.findings
        if f.rule_id == rule and not f.suppressed
    }


def test_a_reference_principal_is_named_as_one_principal_whatever_its_value() -> None:
    got = findings("KMS006/fail_cfn_parameter_principal", "KMS006")
    ref = got[("template.yaml", 25, "RefKey")]
    assert ref.startswith("`${AdminRole}` (one principal, whatever value it is given) both administers this key")
    assert "in statement `Administration`" in ref and "in statement `Use`" in ref
    arn = got[("template.yaml", 67, "ArnKey")]
    assert arn.startswith("`arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${AdminRoleName}` both administers")
    assert "whatever value" not in arn  # a known ARN shape is named as it is
    tf = findings("KMS006/fail_tf_variable_principal", "KMS006")
    assert tf[("main.tf", 38, "aws_kms_key.admin")].startswith("`${var.admin_role_arn}` (one principal")


def test_the_account_piece_of_the_stack_id_is_the_account_root() -> None:
    got = findings("KMS001/fail_cfn_account_from_stack_id", "KMS001")
    assert got[("template.yaml", 15, "ShortFormKey")].startswith(
        "the key policy is the AWS default policy: statement `AccountRoot` gives the account root `kms:*`"
    )


def test_policy_text_findings_name_the_statement_inside_the_text() -> None:
    got = findings("KMS001/fail_cfn_policy_text_with_pseudo_parameters", "KMS001")
    assert "statement `Enable IAM User Permissions` gives the account root" in got[("template.yaml", 17, "BlockKey")]
    invalid = findings("KMS013/fail_cfn_policy_text_invalid_whatever_its_parts", "KMS013")
    assert invalid[("template.yaml", 18, "BrokenKey")].startswith("the policy is not valid JSON")


def test_sam_policy_templates_are_named_by_their_template() -> None:
    got = findings("KMS012/fail_sam_state_machines_and_policy_templates", "KMS012")
    message = got[("template.yaml", 27, "AuditFlow")]
    assert message.startswith("statement `KMSDecryptPolicy` allows `kms:Decrypt` on every KMS key")
    assert "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*" in message
    assert got[("template.yaml", 18, "OrderFlow")].startswith("statement 1 allows `kms:Decrypt` on every KMS key")
