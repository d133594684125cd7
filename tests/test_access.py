"""``kmslint access``: the report of who can act on each key (kmslint.access, kmslint.accesscmd).

Each case of ``fixtures/access/`` holds its inputs and its exact reports, ``expected.txt``
and ``expected.json`` (``pytest tests/test_access.py --update-golden`` rewrites them; read
the diff).  The JSON is checked against ``docs/access.schema.json``.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from kmslint.cli import main
from tests.conftest import FIXTURES, ROOT

CASES = FIXTURES / "access"
SCHEMA = json.loads((ROOT / "docs" / "access.schema.json").read_text(encoding="utf-8"))


def run(args: list[str], cwd: Path) -> tuple[int, str, str]:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cwd)
        result = CliRunner().invoke(main, ["access", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
@pytest.mark.parametrize(("fmt", "golden"), [("text", "expected.txt"), ("json", "expected.json")])
def test_case(case: str, fmt: str, golden: str, update_golden: bool) -> None:
    code, out, err = run([".", "--format", fmt], CASES / case)
    assert code == 0, err
    path = CASES / case / golden
    if update_golden:
        path.write_text(out, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run `pytest tests/test_access.py --update-golden`"
    assert out == path.read_text(encoding="utf-8")
    if fmt == "json":
        jsonschema.Draft202012Validator(SCHEMA).validate(json.loads(out))


def _report(case: str) -> dict[str, dict]:
    code, out, _ = run([".", "--format", "json"], CASES / case)
    assert code == 0
    return {k["key"]: k for k in json.loads(out)["keys"]}


def test_acceptance_lists_what_a_reviewer_would() -> None:
    keys = _report("tf_acceptance")
    app = keys["aws_kms_key.app"]
    got = {(e["principal"], e["kind"], e["capability"], e["source"]["via"]) for e in app["access"]}
    assert got == {
        ("arn:aws:iam::${data.aws_caller_identity.current.account_id}:root", "account-root", "full", "key-policy"),
        ("arn:aws:iam::111122223333:role/key-admin", "principal", "administer", "key-policy"),
        ("arn:aws:iam::111122223333:role/key-admin", "principal", "delegate", "key-policy"),
        ("aws_iam_role.app", "principal", "use", "identity-policy"),
        ("arn:aws:iam::444455556666:root", "other-account", "use", "key-policy"),
        ("logs.eu-west-1.amazonaws.com", "service", "use", "key-policy"),
        ("${var.pipeline_role}", "unknown", "delegate", "key-policy"),
        ("aws_iam_role.worker", "principal", "use", "grant"),
        ("aws_iam_user_policy.ops", "unknown", "full", "identity-policy"),
    }
    # The role's inline policy names the key by its alias ARN, which gives nothing on the key.
    worker = [e for e in app["access"] if e["principal"] == "aws_iam_role.worker"]
    assert [e["source"]["via"] for e in worker] == ["grant"]
    via = next(e for e in app["access"] if e["principal"] == "aws_iam_role.app" and e["capability"] == "use")
    # The role's use comes from the policy attached to it (without conditions) and from the key
    # policy (with some): the entry is the wider, and says what is given only under conditions.
    assert via["conditions"] == [
        "GenerateDataKey, GenerateDataKeyPair, GenerateDataKeyPairWithoutPlaintext, GenerateDataKeyWithoutPlaintext"
        " only when org o-abc123; via secretsmanager"
    ]
    assert via["actions"] == [
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyPair",
        "kms:GenerateDataKeyPairWithoutPlaintext",
        "kms:GenerateDataKeyWithoutPlaintext",
    ]
    assert via["source"] == {"via": "identity-policy", "resource": "aws_iam_policy.app", "file": "iam.tf", "line": 28}
    assert [u["resource"] for u in app["used_by"]] == ["aws_secretsmanager_secret.db"]
    module_key = keys["module.logs_key.aws_kms_key.this"]
    assert module_key["file"] == "modules/kms/main.tf"
    assert [u["resource"] for u in module_key["used_by"]] == ["module.logs_key.aws_cloudwatch_log_group.this"]
    assert "aws_kms_key.this" not in keys  # the module is read through its call only
    # A policy inside the module names the module's key by its own (module-local) reference.
    reader = next(e for e in module_key["access"] if e["principal"] == "module.logs_key.aws_iam_role.reader")
    assert (reader["kind"], reader["capability"], reader["actions"]) == (
        "principal",
        "use",
        ["kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo"],
    )
    assert reader["source"]["file"] == "modules/kms/main.tf"


def test_unknown_principals_are_listed_as_unknown() -> None:
    keys = _report("unknown_principals")
    kinds = {(e["principal"], e["kind"]) for k in keys.values() for e in k["access"]}
    assert ("${var.readers}", "unknown") in kinds
    assert ("${var.role}", "unknown") in kinds
    assert ("${var.policy}", "unknown") in kinds


def test_hostile_input_is_escaped_in_text() -> None:
    code, out, _ = run(["."], CASES / "hostile")
    assert code == 0
    assert "\x1b" not in out and "\u202e" not in out
    assert "\\x1b" in out


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = run(["nowhere"], tmp_path)
    assert code == 2
    assert "nowhere" in err


def test_unparsable_file_is_a_note(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('resource "aws_kms_key" "k" {\n', encoding="utf-8")
    (tmp_path / "other.json").write_text('{"Resources": {"K": {"Type": "AWS::KMS::Key"}}}\n', encoding="utf-8")
    code, out, err = run(["."], tmp_path)
    assert code == 0
    assert "KMS000" in err and "main.tf" in err
    assert "K  (other.json:1)" in out


def test_output_file(tmp_path: Path) -> None:
    code, out, _ = run([str(CASES / "raw_policy"), "--format", "json", "--output", str(tmp_path / "a.json")], tmp_path)
    assert code == 0 and out == ""
    jsonschema.Draft202012Validator(SCHEMA).validate(json.loads((tmp_path / "a.json").read_text(encoding="utf-8")))


def test_bad_account_id_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = run([".", "--account-id", "12"], tmp_path)
    assert code == 2
    assert "12-digit" in err


def _junk(rng: random.Random, depth: int = 0) -> object:
    """A value of any shape: what a hostile template may put anywhere."""
    choices: list[object] = [
        "*",
        "kms:*",
        "kms:Decrypt",
        "arn:aws:iam::111122223333:root",
        "\x1b[31m\u202e",
        12,
        1.5,
        True,
        None,
        "",
        {"Ref": "AWS::AccountId"},
        {"Fn::GetAtt": ["Key", "Arn"]},
    ]
    if depth < 3:
        choices.append([_junk(rng, depth + 1) for _ in range(rng.randrange(3))])
        choices.append({rng.choice(["AWS", "Service", "StringEquals", "Bool", "x"]): _junk(rng, depth + 1)})
    return rng.choice(choices)


def _statement(rng: random.Random) -> object:
    names = ["Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"]
    st = {name: _junk(rng) for name in rng.sample(names, rng.randrange(len(names)))}
    if rng.random() < 0.7:
        st["Effect"] = "Allow"
    if rng.random() < 0.6:
        st["Action"] = rng.choice(["kms:*", ["kms:Decrypt", 7], "kms:Create*", ["kms:Put*", {"x": 1}]])
    return st if rng.random() < 0.9 else _junk(rng)


def test_hostile_input_never_crashes(tmp_path: Path) -> None:
    from kmslint import accesscmd
    from kmslint.settings import Settings

    rng = random.Random(17)
    validator = jsonschema.Draft202012Validator(SCHEMA)
    entries = 0
    for i in range(60):
        statements = [_statement(rng) for _ in range(rng.randrange(4))]
        template = {
            "Resources": {
                "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": statements}}},
                "Role": {
                    "Type": "AWS::IAM::Role",
                    "Properties": {"Policies": [{"PolicyDocument": {"Statement": [_statement(rng)]}}]},
                },
                "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"KmsMasterKeyId": _junk(rng)}},
            }
        }
        case = tmp_path / str(i)
        case.mkdir()
        (case / "template.json").write_text(json.dumps(template), encoding="utf-8")
        loaded = accesscmd.load([str(case)], Settings())
        doc = accesscmd.report(loaded.projects, Settings())
        validator.validate(json.loads(accesscmd.render_json(doc)))
        text = accesscmd.render_text(doc)
        assert "\x1b" not in text and "\u202e" not in text
        entries += sum(len(k["access"]) for k in doc["keys"])
    assert entries > 30  # the junk reached the report, not only the parsers' errors
