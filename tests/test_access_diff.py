"""kmslint.access_diff: the changes between two access reports, rendered as text, Markdown and JSON.

The reports are hand-written documents of the agreed shape (the report
builder is another module); ``tests/data/access_diff/`` holds the main pair
and their diff as text, Markdown and JSON (golden files); the smaller cases
are written out here.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest

from kmslint import access_diff
from kmslint.access_diff import compute, render_json, render_markdown, render_text, widened
from tests.conftest import ROOT

DATA = ROOT / "tests" / "data" / "access_diff"
SCHEMA = ROOT / "docs" / "access-diff.schema.json"


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator() -> Any:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture
def diff() -> dict[str, Any]:
    return compute(load("base.json"), load("head.json"), base="main (1a2b3c4d)", head="the work tree")


def test_text(diff: dict[str, Any]) -> None:
    assert render_text(diff) == (DATA / "expected.txt").read_text(encoding="utf-8")


def test_markdown(diff: dict[str, Any]) -> None:
    assert render_markdown(diff) == (DATA / "expected.md").read_text(encoding="utf-8")


def test_json(diff: dict[str, Any], validator: Any) -> None:
    text = render_json(diff)
    assert text == (DATA / "expected.json").read_text(encoding="utf-8")
    validator.validate(json.loads(text))


def test_widened(diff: dict[str, Any]) -> None:
    assert widened(diff)
    assert diff["widened"] is True


def report(*keys: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "keys": list(keys)}


def key(
    name: str, access: list[dict[str, Any]], used_by: tuple[str, ...] = (), file: str = "main.tf"
) -> dict[str, Any]:
    uses = [{"resource": r, "type": r.split(".")[0], "file": "uses.tf", "line": i + 1} for i, r in enumerate(used_by)]
    return {"key": name, "file": file, "line": 1, "access": access, "used_by": uses}


def entry(principal: str, capability: str = "use", **more: Any) -> dict[str, Any]:
    doc = {
        "principal": principal,
        "kind": "principal",
        "capability": capability,
        "actions": ["kms:Decrypt"],
        "conditions": [],
        "source": {"via": "key-policy", "resource": "aws_kms_key.k", "file": "main.tf", "line": 5},
    }
    doc.update(more)
    return doc


ROLE = "arn:aws:iam::111122223333:role/app"


def test_no_change(validator: Any) -> None:
    old = report(key("aws_kms_key.k", [entry(ROLE)], ("aws_sqs_queue.q",)))
    moved_statement = copy.deepcopy(old)
    moved_statement["keys"][0]["access"][0]["source"] = {"via": "key-policy", "file": "other.tf", "line": 99}
    diff = compute(old, moved_statement)
    assert diff["keys"] == []
    assert diff["moved"] == []
    assert not widened(diff)
    assert render_text(diff) == (
        "Key access changes from base to head:\n"
        "no change\n"
        "\n"
        "Access: 0 added, 0 widened, 0 narrowed, 0 removed, 0 changed."
        " Keys: 0 added, 0 removed. Resources moved to another key: 0.\n"
    )
    assert render_markdown(diff) == (
        "## Key access changes\n"
        "\n"
        "From `base` to `head`.\n"
        "\n"
        "No change.\n"
        "\n"
        "Access: 0 added, 0 widened, 0 narrowed, 0 removed, 0 changed."
        " Keys: 0 added, 0 removed. Resources moved to another key: 0.\n"
    )
    validator.validate(json.loads(render_json(diff)))


@pytest.mark.parametrize(
    ("before", "after", "change", "reasons"),
    [
        ("account-root", "other-account", "widened", ["kind: account-root -> other-account"]),
        ("other-account", "wildcard", "widened", ["kind: other-account -> wildcard"]),
        ("principal", "unknown", "widened", ["kind: principal -> unknown"]),
        ("wildcard", "principal", "narrowed", ["kind: wildcard -> principal"]),
        ("unknown", "account-root", "changed", ["kind: unknown -> account-root"]),
        ("service", "principal", "changed", ["kind: service -> principal"]),
    ],
)
def test_a_kind_change(before: str, after: str, change: str, reasons: list[str]) -> None:
    diff = compute(report(key("k", [entry("p", kind=before)])), report(key("k", [entry("p", kind=after)])))
    [only] = diff["keys"][0]["access"]
    assert (only["change"], only["reasons"]) == (change, reasons)
    assert widened(diff) == (change == "widened")


def test_widening_and_narrowing_at_once_is_widened() -> None:
    old = entry(ROLE, actions=["kms:Decrypt"], conditions=["via s3"])
    new = entry(ROLE, actions=["kms:Encrypt"], conditions=["MFA"])
    diff = compute(report(key("k", [old])), report(key("k", [new])))
    [only] = diff["keys"][0]["access"]
    assert only["change"] == "widened"
    assert only["reasons"] == [
        "condition dropped: via s3",
        "action added: kms:Encrypt",
        "condition added: MFA",
        "action removed: kms:Decrypt",
    ]


def test_entries_of_one_principal_and_capability_are_one_access() -> None:
    # Through the key policy only with a condition, through an identity policy without one:
    # the access is unconditional.  Dropping the identity policy leaves the condition: narrowed.
    guarded = entry(ROLE, conditions=["via secretsmanager"])
    open_path = entry(ROLE, actions=["kms:Encrypt"], source={"via": "identity-policy", "file": "iam.tf", "line": 3})
    diff = compute(report(key("k", [guarded, open_path])), report(key("k", [guarded])))
    [only] = diff["keys"][0]["access"]
    assert only["change"] == "narrowed"
    assert only["reasons"] == ["condition added: via secretsmanager", "action removed: kms:Encrypt"]
    assert only["before"]["actions"] == ["kms:Decrypt", "kms:Encrypt"]
    assert only["before"]["conditions"] == []
    assert [s["file"] for s in only["before"]["sources"]] == ["iam.tf", "main.tf"]
    assert not widened(diff)


def test_keys_with_the_same_name_in_two_files_are_told_apart() -> None:
    a, b = (
        key("aws_kms_key.app", [entry(ROLE)], file="a/main.tf"),
        key("aws_kms_key.app", [entry(ROLE)], file="b/main.tf"),
    )
    b_wider = key("aws_kms_key.app", [entry(ROLE), entry("*", kind="wildcard")], file="b/main.tf")
    diff = compute(report(a, b), report(a, b_wider))
    assert [(k["key"], k["file"], k["status"]) for k in diff["keys"]] == [("aws_kms_key.app", "b/main.tf", "changed")]
    assert [c["principal"] for c in diff["keys"][0]["access"]] == ["*"]
    # A key that moved to another file, its name unique: the same key.
    assert compute(report(a), report(key("aws_kms_key.app", [entry(ROLE)], file="kms.tf")))["keys"] == []


def test_resources_moving_starting_and_stopping() -> None:
    old = report(key("a", [], ("aws_sqs_queue.q", "aws_s3_bucket.b")), key("gone", [], ("aws_sns_topic.t",)))
    new = report(key("a", [], ("aws_s3_bucket.c",)), key("b", [], ("aws_sqs_queue.q",)))
    diff = compute(old, new)
    assert diff["moved"] == [
        {
            "resource": "aws_sqs_queue.q",
            "type": "aws_sqs_queue",
            "file": "uses.tf",
            "line": 1,
            "from": ["a"],
            "to": ["b"],
        }
    ]
    by_key = {k["key"]: k for k in diff["keys"]}
    assert sorted(by_key) == ["a", "b", "gone"]
    assert (by_key["b"]["status"], by_key["b"]["access"], by_key["b"]["used_by_added"]) == ("added", [], [])
    assert [u["resource"] for u in by_key["a"]["used_by_added"]] == ["aws_s3_bucket.c"]
    assert [u["resource"] for u in by_key["a"]["used_by_removed"]] == ["aws_s3_bucket.b"]
    assert [u["resource"] for u in by_key["gone"]["used_by_removed"]] == ["aws_sns_topic.t"]
    assert not widened(diff)


HOSTILE: list[Any] = [
    None,
    [],
    "keys",
    {"keys": {"aws_kms_key.k": {}}},
    {"keys": [1, "x", None, {"key": 5}, {"key": ["k"]}]},
    {
        "keys": [
            {"key": "k", "file": 7, "line": "1", "access": "all", "used_by": {"resource": "r"}},
            {
                "key": "k2",
                "line": True,
                "access": [
                    {"principal": ["p"], "capability": "use"},
                    {"principal": "p", "capability": None},
                    {"principal": "p", "capability": "use", "actions": "kms:*", "conditions": [1, None, {}]},
                    {"principal": "p", "capability": "use", "kind": 7, "source": [], "actions": [["kms:Decrypt"]]},
                    {"principal": "q", "capability": "full", "source": {"file": {"x": 1}, "line": -3, "via": 1}},
                ],
                "used_by": [{"resource": None}, {"resource": "r", "type": 3, "line": 1.5}, 4],
            },
        ]
    },
]


@pytest.mark.parametrize("old", range(len(HOSTILE)))
@pytest.mark.parametrize("new", range(len(HOSTILE)))
def test_malformed_reports_are_read_leniently(old: int, new: int, validator: Any) -> None:
    diff = compute(HOSTILE[old], HOSTILE[new])
    validator.validate(json.loads(render_json(diff)))
    render_text(diff)
    render_markdown(diff)


def test_text_from_the_reports_cannot_act_on_a_terminal_or_a_pull_request(validator: Any) -> None:
    nasty = "arn:aws:iam::1:role/x\x1b[2J|`` <img src=x onerror=alert(1)> @octocat [a](http://e) \u202e\n## Owned"
    old = report(key("aws_kms_key.k", []))
    odd = entry(nasty, conditions=["org | `o`"])
    new = report(key("aws_kms_key.k", [odd, entry("p", "\x1b]52;c;e\x07")], (f"aws_s3_bucket.{nasty}",)))
    diff = compute(old, new)
    text = render_text(diff)
    assert "\x1b" not in text
    assert "\u202e" not in text
    assert "\\x1b[2J" in text
    markdown = render_markdown(diff)
    assert "\x1b" not in markdown
    assert "\u202e" not in markdown
    assert "\n## Owned" not in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("| **added**"))
    # Eight cells: every | of the input is escaped, every input text is inside a code span.
    assert row.replace("\\|", "").count("|") == 9
    assert "```arn:aws:iam::1:role/x\\x1b[2J\\|`` <img src=x onerror=alert(1)> @octocat" in row
    assert "\x1b" not in render_json(diff)
    assert "\\u202e" in render_json(diff)
    validator.validate(json.loads(render_json(diff)))


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("plain", "`plain`"),
        ("a`b", "``a`b``"),
        ("`a", "`` `a ``"),
        ("a|b", "`a\\|b`"),
        ("", "` `"),
        ("x\ny", "`x\\ny`"),
    ],
)
def test_code_span(text: str, span: str) -> None:
    assert access_diff.code(text) == span


def test_a_deny_statement_that_only_moved_changes_nothing() -> None:
    """The line in a Deny note is where the Deny is written: an edit above it moves it, and
    that is not a change of access (found on a real repository: a `count` added above)."""

    def report(conditions: list[str]) -> dict[str, Any]:
        entry = {"principal": "arn:aws:iam::111122223333:role/app", "kind": "principal", "capability": "use"}
        entry |= {"actions": ["kms:Decrypt"], "conditions": conditions, "source": {"file": "main.tf", "line": 9}}
        return {"version": 1, "keys": [{"key": "aws_kms_key.a", "file": "main.tf", "line": 1, "access": [entry]}]}

    moved = compute(
        report(["unless denied by statement 3 (line 38)"]), report(["unless denied by statement 3 (line 41)"])
    )
    assert moved["keys"] == []
    inside = "Decrypt only when unless denied by statement `Logs` (line {})"
    assert compute(report([inside.format(413)]), report([inside.format(420)]))["keys"] == []
    gone = compute(report(["unless denied by statement 3 (line 38)"]), report([]))
    [change] = gone["keys"][0]["access"]
    assert (change["change"], change["reasons"]) == (
        "widened",
        ["condition dropped: unless denied by statement 3 (line 38)"],
    )
    other = compute(report(["unless denied by statement 3 (line 38)"]), report(["unless denied by `NoMfa` (line 38)"]))
    [change] = other["keys"][0]["access"]
    assert change["change"] == "widened"
    assert change["reasons"] == [
        "condition dropped: unless denied by statement 3 (line 38)",
        "condition added: unless denied by `NoMfa` (line 38)",
    ]
