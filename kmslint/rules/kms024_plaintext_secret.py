"""KMS024 plaintext-secret: a secret written as a literal in a Lambda function's environment,
an ECS container's environment, or an SSM parameter of type ``String``.

Precision first: a setting is reported only when both tests say so.

* Its **name** says it holds a secret (:func:`secret_name`): split into words
  (``DB_PASSWORD``, ``dbPassword``, ``db-password``, ``DBPASSWORD`` are ``db password``;
  an SSM parameter's name is its last path segment), it *ends* in a secret word --
  ``password``, ``passwd``, ``passphrase``, ``secret``, ``token``, ``credentials``/``creds``,
  ``api key``, ``private key`` (also glued, ``dbpassword``, ``apikey``), ``pwd`` after
  another word -- optionally followed by words that still name the value itself (``key``,
  ``value``, ``string``, ``pem``, ``b64``, ``access key``: ``SECRET_KEY``,
  ``AWS_SECRET_ACCESS_KEY``, ``PRIVATE_KEY_PEM``) and a trailing number.  Any other last
  word makes the name point at or describe a secret, not hold one: ``DB_PASSWORD_ARN``,
  ``SECRET_NAME``, ``SECRET_ID``, ``TOKEN_PATH``, ``TOKEN_TTL``, ``PASSWORD_LENGTH``,
  ``TOKEN_URL``, ``SECRET_VERSION``, ``PASSWORD_PARAM``.
* Its **value** is a literal that can be a secret (:func:`secret_value`): a non-empty
  string that is none of these: a reference or anything not known statically; a number;
  a boolean (``true``, ``no``, ...); a placeholder (``changeme``, ``<db password>``,
  ``${DB_PASSWORD}``, ``$DB_PASSWORD``, ``{{resolve:...}}``, ``{{ var }}``, ``xxxx``,
  ``****``, ``TODO``, ``your-api-key-here``, the setting's own name); an ARN; an SSM
  parameter path (``/app/db/password``) or a Secrets Manager name (``prod/app/db``);
  a URL; the name of another variable (``GITHUB_TOKEN``).

The finding quotes the setting's name, never its value, and its content (baseline
fingerprint) is the resource, the kind of setting and the name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from kmslint.model import Known, PlainSetting, Project, Violation, clip
from kmslint.rules import RuleContext, check

# ---------------------------------------------------------------------- names

# A word that is a secret by itself, and the same glued to the words before it (dbpassword).
_SECRET_WORDS = ("password", "passwd", "passphrase", "secret", "token", "credentials", "credential", "creds")
_GLUED = ("password", "passwd", "passphrase", "secret", "token", "credentials", "apikey", "privatekey")
# Two words that are a secret together, and the first of them glued to the second.
_SECRET_PAIRS = (("api", "key"), ("private", "key"))
# Words after a secret word that still name the secret's value (SECRET_KEY, TOKEN_VALUE).
_VALUE_TAIL = frozenset(
    ("key", "value", "string", "str", "pem", "b64", "base64", "plain", "plaintext", "raw", "hex", "access", "text")
)
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def name_words(name: str) -> list[str]:
    """``dbPassword``, ``DB_PASSWORD``, ``db-password`` -> ``["db", "password"]``; digits are words."""
    words: list[str] = []
    for chunk in re.split(r"[^A-Za-z0-9]+", name):
        words.extend(w.lower() for w in _CAMEL.findall(chunk))
    return words


def secret_name(name: str, *, path: bool = False) -> bool:
    """Does the setting's name say that it holds a secret (see the module doc)?

    ``path``: an SSM parameter name, judged by its last path segment (``/app/db/password``).
    """
    if path:
        name = name.rstrip("/").rpartition("/")[2]
    words = name_words(name)
    while words and words[-1].isdigit():  # PASSWORD2, TOKEN_1
        words.pop()
    # Drop the words that still name the value (SECRET_KEY: "key"), but never the whole name.
    end = len(words)
    while end > 1 and words[end - 1] in _VALUE_TAIL:
        if _is_secret_end(words[:end]):
            break
        end -= 1
    return _is_secret_end(words[:end])


def _is_secret_end(words: list[str]) -> bool:
    """Do ``words`` end in a secret word (or pair)?"""
    if not words:
        return False
    last = words[-1]
    if last in _SECRET_WORDS:
        return True
    if last == "pwd":
        return len(words) > 1  # PWD alone is the working directory
    if len(words) >= 2 and (words[-2], last) in _SECRET_PAIRS:
        return True
    return last.endswith(_GLUED)


# ---------------------------------------------------------------------- values

_BOOLEANS = frozenset(("true", "false", "yes", "no", "on", "off", "y", "n", "enabled", "disabled"))
_PLACEHOLDERS = frozenset(
    (
        *("changeme", "change-me", "change_me", "changeit", "replaceme", "replace-me", "replace_me"),
        *("placeholder", "dummy", "example", "sample", "test", "testing", "todo", "tbd", "fixme", "none"),
        *("null", "nil", "undefined", "unset", "empty", "default", "redacted", "secret", "password"),
        *("token", "n/a", "na", "-", "notset", "not-set", "not_set", "override", "overwrite", "set-me", "setme"),
    )
)
_PLACEHOLDER_WORDS = ("changeme", "change-me", "change_me", "replace", "placeholder", "dummy", "example", "your-")
_TEMPLATE_MARKS = ("${", "{{", "}}", "$(", "%(", "#{", "<%")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_VARIABLE_NAME = re.compile(r"\$?[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")  # GITHUB_TOKEN, $DB_PASSWORD
_SHELL_REF = re.compile(r"\$[A-Za-z_][A-Za-z0-9_]*")
_SECRET_PATH = re.compile(r"[a-z0-9_.+=@-]+(?:/[a-z0-9_.+=@-]+)+/?")  # prod/app/db (lower case only)
_URL = re.compile(r"[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def secret_value(value: object, name: str = "") -> bool:
    """Can this literal be a secret (see the module doc)?  ``name`` is the setting's name (a
    value that repeats it is a placeholder)."""
    if not isinstance(value, str):
        return False  # a number, a boolean, null, a structure
    text = value.strip()
    low = text.lower()
    if not text or low in _BOOLEANS or low in _PLACEHOLDERS or _NUMBER.fullmatch(text):
        return False
    if len(set(low)) == 1:  # xxxxxx, ******, 000000
        return False
    if any(mark in text for mark in _TEMPLATE_MARKS) or (text.startswith("<") and text.endswith(">")):
        return False
    if any(word in low for word in _PLACEHOLDER_WORDS) or low.startswith(("your_", "my-", "my_", "insert")):
        return False
    if _SHELL_REF.fullmatch(text) or _VARIABLE_NAME.fullmatch(text):
        return False
    if low.startswith(("arn:", "/", "alias/", "ssm:", "secretsmanager:", "resolve:")) or _URL.match(text):
        return False
    if _SECRET_PATH.fullmatch(text):
        return False
    return not (name and low == name.strip().lower())


# ---------------------------------------------------------------------- the check


@check("KMS024")
def plaintext_secret(project: Project, ctx: RuleContext) -> Iterator[Violation]:
    for setting in project.plain_settings:
        value = setting.value
        if not isinstance(value, Known) or not secret_name(setting.name, path=setting.kind == "ssm-parameter"):
            continue
        if not secret_value(value.value, setting.name):
            continue
        yield Violation(
            setting.loc,
            setting.resource,
            _message(setting),
            content=f"{setting.resource}:{setting.kind}:{setting.container or ''}:{setting.name}",
        )


def _message(s: PlainSetting) -> str:
    """What is wrong and how to fix it, in the syntax the resource is written in; never the value."""
    name = clip(s.name)
    tf = s.syntax == "terraform"
    if s.kind == "ssm-parameter":
        if tf:
            return (
                f"SSM parameter `{name}` looks like a secret but is a plain `String`: its value is written in "
                'the configuration and stored unencrypted; make it `type = "SecureString"` with `key_id` set '
                "to a customer managed KMS key, and keep the value out of the code (set it outside Terraform, "
                "or from a generated `random_password`)"
            )
        return (
            f"SSM parameter `{name}` looks like a secret but is a plain `String`: its value is written in the "
            "template and stored unencrypted (CloudFormation cannot create a `SecureString`); keep it in an "
            "`AWS::SecretsManager::Secret` with a `KmsKeyId` (or a `SecureString` created outside the stack) "
            "and read it with a dynamic reference"
        )
    if s.kind == "ecs-environment":
        where = f"container `{clip(s.container)}`" if s.container else "a container definition"
        fix = (
            "move it to the container's `secrets` as `{ name, valueFrom }`"
            if tf
            else "move it to the container's `Secrets` as `{Name, ValueFrom}`"
        )
        return (
            f"environment variable `{name}` of {where} is a secret written as a literal: anyone who can read "
            f"the task definition can read it; store it in Secrets Manager (or an SSM `SecureString` "
            f"encrypted with a KMS key) and {fix} naming the secret's ARN"
        )
    fix = (
        "store it in Secrets Manager (`aws_secretsmanager_secret`, with `kms_key_id`) or an SSM `SecureString`, "
        "pass the function the secret's ARN or name, and read it at run time"
        if tf
        else "store it in Secrets Manager (`AWS::SecretsManager::Secret`, with `KmsKeyId`) or an SSM "
        "`SecureString`, pass the function the secret's ARN or name, and read it at run time"
    )
    return (
        f"environment variable `{name}` is a secret written as a literal: it is part of the function's "
        f"configuration, readable by anyone who may call `lambda:GetFunctionConfiguration`; {fix}"
    )
