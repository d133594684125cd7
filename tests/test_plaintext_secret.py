"""KMS024 plaintext-secret: the name and value tests, hostile shapes, and the promise that the
value never appears in any output (the fixture cases are in fixtures/KMS024/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kmslint.cli import main
from kmslint.formatters import FORMATS
from kmslint.rules.kms024_plaintext_secret import name_words, secret_name, secret_value

# ---------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("DB_PASSWORD", ["db", "password"]),
        ("dbPassword", ["db", "password"]),
        ("db-password", ["db", "password"]),
        ("APIKey", ["api", "key"]),
        ("OAuth2Token", ["o", "auth", "2", "token"]),
        ("", []),
    ],
)
def test_name_words(name: str, words: list[str]) -> None:
    assert name_words(name) == words


SECRET_NAMES = (
    *("DB_PASSWORD", "dbPassword", "db-password", "DBPASSWORD", "password", "PASSWD", "DB_PWD"),
    *("SECRET", "CLIENT_SECRET", "clientSecret", "SECRET_KEY", "JWT_SECRET_KEY", "AWS_SECRET_ACCESS_KEY"),
    *("GITHUB_TOKEN", "authToken", "SLACK_BOT_TOKEN", "TOKEN2", "token_value"),
    *("API_KEY", "apiKey", "api-key", "APIKEY", "STRIPE_API_KEY", "x-api-key"),
    *("PRIVATE_KEY", "privateKey", "SSH_PRIVATE_KEY_PEM", "DB_CREDENTIALS", "creds", "PASSPHRASE"),
)


@pytest.mark.parametrize(
    "name",
    SECRET_NAMES,
)
def test_secret_names(name: str) -> None:
    assert secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        *("DB_PASSWORD_ARN", "SECRET_NAME", "SECRET_ID", "TOKEN_PATH", "TOKEN_TTL", "PASSWORD_LENGTH"),
        *("TOKEN_URL", "PASSWORD_MIN_LENGTH", "SECRET_VERSION", "API_KEY_PARAMETER", "TOKEN_HEADER"),
        *("TOKENIZER", "MAX_TOKENS", "SECRETS_PREFIX", "CREDENTIALS_PROVIDER", "PWD", "PUBLIC_KEY", "KEY"),
        *("DB_HOST", "LOG_LEVEL", "", "___", "123"),
    ],
)
def test_names_that_are_not_secrets(name: str) -> None:
    assert not secret_name(name)


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("/app/prod/db_password", True),
        ("/app/prod/api-key", True),
        ("/app/password/length", False),
        ("/prod/secrets/db_host", False),
        ("/app/token/", True),
        ("password", True),
    ],
)
def test_parameter_names_are_judged_by_their_last_segment(name: str, secret: bool) -> None:
    assert secret_name(name, path=True) is secret


# ---------------------------------------------------------------------- values


@pytest.mark.parametrize(
    "value",
    ["Tr0ub4dor-and-3", "sk_live_51Hx0aDqvPZ8", "ghp_9sKq2LrV7xYtBn4M", "aB3/xYz+9kLm==", "correct horse battery"],
)
def test_secret_values(value: str) -> None:
    assert secret_value(value)


@pytest.mark.parametrize(
    "value",
    [
        *(None, 42, 3.5, True, False, ["a"], {"a": "b"}),
        *("", "   ", "true", "False", "no", "123", "-1.5e3"),
        *("changeme", "CHANGE_ME", "placeholder", "TODO", "xxxxxxxx", "********", "your-api-key-here"),
        *("<db password>", "${DB_PASSWORD}", "$DB_PASSWORD", "{{resolve:secretsmanager:db}}", "{{ token }}"),
        *("arn:aws:secretsmanager:eu-west-1:111122223333:secret:db", "/app/prod/db", "prod/app/db"),
        *("https://auth.example.com/token", "GITHUB_TOKEN", "alias/app"),
    ],
)
def test_values_that_are_not_secrets(value: object) -> None:
    assert not secret_value(value)


def test_a_value_that_repeats_its_name_is_a_placeholder() -> None:
    assert not secret_value("db_password", "DB_PASSWORD")
    assert secret_value("db_password!", "DB_PASSWORD")


# ---------------------------------------------------------------------- hostile shapes


def _lint_json(tmp_path: Path, name: str, text: str) -> dict[str, object]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["--format", "json", "--select", "KMS024", "--exit-zero", str(path)])
    assert result.exception is None, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


@pytest.mark.parametrize(
    "properties",
    [
        "Environment: [a, b]",
        "Environment: {Variables: [DB_PASSWORD, x]}",
        "Environment: {Variables: {DB_PASSWORD: [x], API_KEY: {a: b}, TOKEN: null}}",
        "Environment: {Variables: !If [C, {DB_PASSWORD: x}, {}]}",
        "Environment: 12",
        "ContainerDefinitions: {Name: x}",
        "ContainerDefinitions: [[1], {Environment: {Name: DB_PASSWORD}}, {Environment: [1, [2], {Name: [x]}]}]",
        "Type: [String]\n      Name: {a: b}\n      Value: x",
        "Type: String\n      Name: /x/password\n      Value: [secret-list]",
    ],
)
@pytest.mark.parametrize("rtype", ["AWS::Lambda::Function", "AWS::ECS::TaskDefinition", "AWS::SSM::Parameter"])
def test_hostile_template_shapes_do_not_crash(tmp_path: Path, rtype: str, properties: str) -> None:
    text = (
        'AWSTemplateFormatVersion: "2010-09-09"\nConditions:\n  C: !Equals [a, b]\nResources:\n'
        f"  Thing:\n    Type: {rtype}\n    Properties:\n      {properties}\n"
    )
    data = _lint_json(tmp_path, "t.yaml", text)
    assert data["findings"] == []


@pytest.mark.parametrize(
    "body",
    [
        "environment { variables = [1, 2] }",
        "environment { variables = { DB_PASSWORD = [1], TOKEN = { a = 1 }, SECRET = null } }",
        "environment { variables = 7 }",
        "environment {}\n  environment { variables = {} }",
    ],
)
def test_hostile_terraform_shapes_do_not_crash(tmp_path: Path, body: str) -> None:
    text = f'resource "aws_lambda_function" "f" {{\n  {body}\n}}\n'
    text += 'resource "aws_ecs_task_definition" "t" {\n  container_definitions = "[1, {\\"environment\\": 5}]"\n}\n'
    text += 'resource "aws_ecs_task_definition" "u" {\n  container_definitions = "not json"\n}\n'
    text += 'resource "aws_ssm_parameter" "p" {\n  name = ["x"]\n  type = "String"\n  value = "x"\n}\n'
    data = _lint_json(tmp_path, "main.tf", text)
    assert data["findings"] == []


# ---------------------------------------------------------------------- the value is never shown

DISTINCTIVE = "Zq7-NEVER-SHOWN-9xK"


def test_the_value_appears_in_no_output_format(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'resource "aws_lambda_function" "f" {\n'
        "  environment {\n"
        f'    variables = {{ DB_PASSWORD = "{DISTINCTIVE}" }}\n'
        "  }\n"
        "}\n"
        'resource "aws_ssm_parameter" "p" {\n'
        '  name  = "/app/db_password"\n'
        '  type  = "String"\n'
        f'  value = "{DISTINCTIVE}"\n'
        "}\n",
        encoding="utf-8",
    )
    (tmp_path / "template.yaml").write_text(
        "Resources:\n"
        "  Task:\n"
        "    Type: AWS::ECS::TaskDefinition\n"
        "    Properties:\n"
        "      ContainerDefinitions:\n"
        "        - Name: app\n"
        "          Environment:\n"
        f"            - {{Name: API_TOKEN, Value: {DISTINCTIVE}}}\n",
        encoding="utf-8",
    )
    baseline = tmp_path / "baseline.json"
    runner = CliRunner()
    for fmt in sorted(FORMATS):
        result = runner.invoke(main, ["--format", fmt, "--select", "KMS024", "--show-suppressed", str(tmp_path)])
        assert result.exit_code == 1, (fmt, result.output)
        assert "KMS024" in result.output, fmt
        assert DISTINCTIVE not in result.output, fmt
        assert DISTINCTIVE.lower() not in result.output.lower(), fmt
    written = runner.invoke(main, ["--select", "KMS024", "--write-baseline", str(baseline), str(tmp_path)])
    assert written.exit_code == 0, written.output
    assert DISTINCTIVE not in written.output
    assert DISTINCTIVE not in baseline.read_text(encoding="utf-8")
    listed = runner.invoke(main, ["--format", "json", "--select", "KMS024", str(tmp_path)])
    findings = json.loads(listed.stdout)["findings"]
    assert sorted(f["resource"] for f in findings) == ["Task", "aws_lambda_function.f", "aws_ssm_parameter.p"]


def test_every_secret_name_passes_the_parsers_cheap_test() -> None:
    """The Terraform reader finds where a setting's name is written only for names its cheap
    test lets through: every name the rule calls a secret's must pass it."""
    from kmslint.parsers.tf_settings import MAY_NAME_A_SECRET
    from kmslint.rules import kms024_plaintext_secret as rule

    words = {*rule._SECRET_WORDS, *rule._GLUED, "pwd", *(a + b for a, b in rule._SECRET_PAIRS)}
    for word in words:
        assert MAY_NAME_A_SECRET.search(word), word
    for name in SECRET_NAMES:
        assert secret_name(name) and MAY_NAME_A_SECRET.search(name.lower()), name
