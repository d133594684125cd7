"""Attacks on the output formats: text from the input is data (OUTPUT.md).

A Sid, a logical ID, a tag value, a condition key or a file name comes from a
pull request.  Whatever it holds -- terminal control sequences, bidi
controls, a lone surrogate, a newline followed by a workflow command, XML
that cannot be written -- every format must print its full report,
well-formed, with that text shown as data.  The formatters are tested here
directly (exact output); tests/attacks/test_cli.py runs the real process.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmslint import __version__, api
from kmslint.formatters import FORMATS, RenderContext, get, json_text, log_line, terminal, unsurrogate
from kmslint.formatters.github import annotation
from kmslint.formatters.sarif import artifact_uri
from kmslint.model import Finding, Severity
from kmslint.record import replace
from kmslint.settings import Settings

# What may never appear raw in the bytes of a JSON or XML report (their own escapes carry it).
RAW_UNSAFE_MACHINE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")

EVIL_SID = "A\x1b]0;pwned\x07\x1b]52;c;ZWNobyBwd25lZA==\x07\r\x1b[2K\x1b[1AOK\x9b31m\u202eB\ud800"


def finding(**changes: Any) -> Finding:
    base = Finding(
        file="infra/kms.tf",
        line=12,
        column=5,
        rule_id="KMS003",
        resource="aws_kms_key.shared",
        message="statement `Everyone` allows `*` to use this key",
        end_line=12,
        end_column=40,
        slug="wildcard-principal",
        severity=Severity.CRITICAL,
        content='{"Principal": "*"}',
    )
    return replace(base, **changes)


def render(fmt: str, findings: list[Finding], show_suppressed: bool = False) -> str:
    report = api.Report(findings=sorted(findings), files=1)
    return get(fmt)(report, RenderContext(__version__, show_suppressed=show_suppressed))


# --------------------------------------------------------------------------- the escaping itself


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain `Sid` é ☃ 日本", "plain `Sid` é ☃ 日本"),
        ("a\nb\rc\td", "a\\nb\\rc\\td"),
        ("\x1b[2K\x1b[1A", "\\x1b[2K\\x1b[1A"),
        ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),
        ("\x00\x7f\x85\x9b", "\\x00\\x7f\\x85\\x9b"),
        ("\u202eevil\u202c \u2066x\u2069", "\\u202eevil\\u202c \\u2066x\\u2069"),
        ("\u200e\u200f\u061c", "\\u200e\\u200f\\u061c"),
        ("line\u2028sep\u2029", "line\\u2028sep\\u2029"),
        ("\udcff\udcfe-policy.json", "\\xff\\xfe-policy.json"),
        ("A\ud800B\udfff", "A\\ud800B\\udfff"),
        ("zero\u200bwidth\u00adsoft\ufeffbom\u2060joiner", "zero\\u200bwidth\\xadsoft\\ufeffbom\\u2060joiner"),
        ("tag\U000e0041 private\ue000 nbsp\xa0", "tag\\U000e0041 private\\ue000 nbsp\\xa0"),
        ("x ##[error]forged ##[stop-commands]t", "x ##\\x5berror]forged ##\\x5bstop-commands]t"),
        ("#\u00ad#[add-mask]x", "#\\xad#[add-mask]x"),
    ],
)
def test_terminal_escapes_exactly_what_could_act(raw: str, shown: str) -> None:
    """Controls, bidi and invisible characters, lone surrogates and the runner's ##[ prefix are shown escaped."""
    assert terminal(raw) == shown


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("::error file=x::forged.tf:1:1: KMS001", "\\x3a:error file=x::forged.tf:1:1: KMS001"),
        ("  ::add-mask::x", "  \\x3a:add-mask::x"),
        ("infra/a::b.tf:1:1: KMS001", "infra/a::b.tf:1:1: KMS001"),
    ],
)
def test_log_line_cannot_start_a_workflow_command(line: str, shown: str) -> None:
    """A line that starts with input (a file name) cannot start a ::command:: in a GitHub Actions log."""
    assert log_line(line) == shown


def test_unsurrogate_only_touches_surrogates() -> None:
    """A lone surrogate becomes its escape (a non-UTF-8 name's byte as \\xff); nothing else changes."""
    assert unsurrogate("\x1b\u202e\udcff\ud800é") == "\x1b\u202e\\xff\\ud800é"
    assert unsurrogate("plain") == "plain"


def test_json_text_keeps_values_and_bytes_clean() -> None:
    """JSON output holds no raw C1/bidi/DEL character, is UTF-8, and parses back to the same value."""
    value = "x\x7f\x9b\u202e\u2028é\n\x1b"
    text = json_text({"v": value, "name": "\udcff.json", "sid": "A\ud800"})
    assert text == (
        '{\n  "v": "x\\u007f\\u009b\\u202e\\u2028é\\n\\u001b",\n  "name": "\\\\xff.json",\n  "sid": "A\\\\ud800"\n}\n'
    )
    text.encode("utf-8")
    assert json.loads(text) == {"v": value, "name": "\\xff.json", "sid": "A\\ud800"}


# --------------------------------------------------------------------------- text


def test_text_shows_a_hostile_sid_as_data() -> None:
    """A Sid cannot erase, move, retitle, recolour or reorder its own line in text output."""
    out = render("text", [finding(message=f"statement `{EVIL_SID}` allows `*` to use this key")])
    assert out == (
        "infra/kms.tf:12:5: KMS003 [critical] statement "
        "`A\\x1b]0;pwned\\x07\\x1b]52;c;ZWNobyBwd25lZA==\\x07\\r\\x1b[2K\\x1b[1AOK\\x9b31m\\u202eB\\ud800` "
        "allows `*` to use this key (aws_kms_key.shared)\n"
        "Found 1 finding (1 critical) in 1 file.\n"
    )


def test_text_escapes_every_field() -> None:
    """File name, resource and suppression reason are escaped in text output, as the message is."""
    f = finding(
        file="ev\nil\x1b[31m.tf",
        resource="aws_kms_key.a\rb",
        suppressed=True,
        suppression_reason="ok\x1b]52;c;AAAA\x07",
    )
    assert render("text", [f], show_suppressed=True) == (
        "ev\\nil\\x1b[31m.tf:12:5: KMS003 [critical] statement `Everyone` allows `*` to use this key "
        "(aws_kms_key.a\\rb) [suppressed: ok\\x1b]52;c;AAAA\\x07]\n"
        "No findings in 1 file, 1 suppressed.\n"
    )


def test_text_line_cannot_start_or_carry_a_workflow_command() -> None:
    """In text output (a choice for the Action's log) a file name cannot start a ::command:: nor a Sid hold ##[."""
    f = finding(file="::error file=README.md,line=1::forged.tf", message="x ##[add-mask]KMS003 ##[stop-commands]t")
    assert render("text", [f]) == (
        "\\x3a:error file=README.md,line=1::forged.tf:12:5: KMS003 [critical] "
        "x ##\\x5badd-mask]KMS003 ##\\x5bstop-commands]t (aws_kms_key.shared)\n"
        "Found 1 finding (1 critical) in 1 file.\n"
    )


def test_text_colour_codes_are_ours_only() -> None:
    """With --color the only escape sequences are kmslint's own colours; the input's are escaped."""
    report = api.Report(findings=[finding(message="m\x1b[8m")], files=1)
    out = get("text")(report, RenderContext(__version__, color=True))
    assert out == (
        "\x1b[1minfra/kms.tf:12:5:\x1b[0m KMS003 \x1b[1;31m[critical]\x1b[0m m\\x1b[8m (aws_kms_key.shared)\n"
        "Found 1 finding (1 critical) in 1 file.\n"
    )


# --------------------------------------------------------------------------- github


@pytest.mark.parametrize(
    ("message", "escaped"),
    [
        ("x\n::error file=fake.tf,line=1::forged", "x%0A::error file=fake.tf,line=1::forged"),
        ("x\r\n::add-mask::secret", "x%0D%0A::add-mask::secret"),
        ("x\n::stop-commands::tok\n::error::after", "x%0A::stop-commands::tok%0A::error::after"),
        ("x\x85::error::nel \u2028::error::ls", "x\\x85::error::nel \\u2028::error::ls"),
        ("100%0A encoded", "100%250A encoded"),
        ("\x1b[2K\u202e\ud800", "\\x1b[2K\\u202e\\ud800"),
    ],
)
def test_github_message_cannot_forge_a_command(message: str, escaped: str) -> None:
    """A message cannot end its annotation or forge a command (::add-mask::, ::error, ::stop-commands::)."""
    line = annotation(finding(message=message))
    assert line == (
        "::error file=infra/kms.tf,line=12,col=5,endColumn=40,title=KMS003 wildcard-principal::"
        f"[critical] {escaped} (aws_kms_key.shared)"
    )


def test_github_properties_cannot_end_the_command() -> None:
    """A file name or resource with `::`, `,`, `%`, newlines or controls cannot end an annotation's properties."""
    f = finding(file="a::error file=x,line=1::\n::add-mask::y\x1b.tf", resource="r::\n::stop-commands::z")
    assert render("github", [f]) == (
        "::error file=a%3A%3Aerror file=x%2Cline=1%3A%3A%0A%3A%3Aadd-mask%3A%3Ay\\x1b.tf,line=12,col=5,endColumn=40,"
        "title=KMS003 wildcard-principal::[critical] statement `Everyone` allows `*` to use this key "
        "(r::%0A::stop-commands::z)\n"
        "kmslint: 1 finding (1 critical) in 1 file.\n"
    )


def test_github_suppression_reason_is_escaped() -> None:
    """A suppression reason quoted in a github notice is escaped like the message."""
    f = finding(suppressed=True, suppression_reason="r\n::error::x\x1b")
    assert annotation(f).endswith("(aws_kms_key.shared) [suppressed: r%0A::error::x\\x1b]")


# --------------------------------------------------------------------------- machine formats


def _hostile() -> list[Finding]:
    return [
        finding(
            file="\udcff\x1b.json",
            message=f"statement `{EVIL_SID}` allows `*`",
            resource="Key\u202e\n<&>]]>",
        ),
        finding(
            file="ok.json",
            line=3,
            rule_id="KMS000",
            slug="parse-error",
            severity=Severity.HIGH,
            message="bad \x00\x0b\ufffe\uffff",
            resource="",
        ),
        finding(file="s.json", suppressed=True, suppression_reason="why\x07\ud800"),
    ]


def test_json_report_is_valid_utf8_and_faithful() -> None:
    """The JSON report is valid UTF-8 JSON whatever the input; values read back as given (surrogates escaped)."""
    out = render("json", _hostile(), show_suppressed=True)
    data = out.encode("utf-8")
    assert not RAW_UNSAFE_MACHINE.search(out)
    doc = json.loads(data)
    assert [(f["file"], f["message"], f["resource"], f["suppression_reason"]) for f in doc["findings"]] == [
        ("ok.json", "bad \x00\x0b\ufffe\uffff", None, None),
        ("s.json", "statement `Everyone` allows `*` to use this key", "aws_kms_key.shared", "why\x07\\ud800"),
        ("\\xff\x1b.json", f"statement `{unsurrogate(EVIL_SID)}` allows `*`", "Key\u202e\n<&>]]>", None),
    ]


def test_sarif_is_valid_utf8_and_the_uri_names_the_very_file() -> None:
    """SARIF stays valid UTF-8 JSON; a non-UTF-8 file name's URI is percent-encoded from its bytes."""
    out = render("sarif", _hostile())
    assert not RAW_UNSAFE_MACHINE.search(out)
    doc = json.loads(out.encode("utf-8"))
    results = doc["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results] == [
        "ok.json",
        "%FF%1B.json",
    ]
    assert results[1]["message"]["text"] == f"statement `{unsurrogate(EVIL_SID)}` allows `*` (Key\u202e\n<&>]]>)"
    assert artifact_uri("/srv/\udcff dir/\ud800.tf") == "file:///srv/%FF%20dir/%ED%A0%80.tf"


def test_gitlab_is_valid_utf8_json() -> None:
    """GitLab Code Quality output stays valid UTF-8 JSON with the input text as data."""
    out = render("gitlab", _hostile())
    assert not RAW_UNSAFE_MACHINE.search(out)
    issues = json.loads(out.encode("utf-8"))
    assert [(i["location"]["path"], i["description"]) for i in issues] == [
        ("ok.json", "KMS000 parse-error: bad \x00\x0b\ufffe\uffff"),
        (
            "\\xff\x1b.json",
            f"KMS003 wildcard-principal: statement `{unsurrogate(EVIL_SID)}` allows `*` (Key\u202e\n<&>]]>)",
        ),
    ]


def test_junit_is_well_formed_xml_whatever_the_input() -> None:
    """JUnit output parses as XML: illegal characters replaced, surrogates escaped, C1/bidi as references."""
    out = render("junit", _hostile(), show_suppressed=True)
    assert not RAW_UNSAFE_MACHINE.search(out)
    root = ET.fromstring(out.encode("utf-8"))
    cases = root.findall("./testsuite/testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("ok.json", "KMS000 parse-error at line 3"),
        ("s.json", "KMS003 wildcard-principal in aws_kms_key.shared at line 12"),
        ("\\xff\ufffd.json", "KMS003 wildcard-principal in Key\u202e\n<&>]]> at line 12"),
    ]
    error = cases[0].find("error")
    assert error is not None
    assert error.get("message") == "bad \ufffd\ufffd\ufffd\ufffd"
    skipped = cases[1].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "suppressed: why\ufffd\\ud800"
    failure = cases[2].find("failure")
    assert failure is not None
    assert failure.get("message") == (
        "statement `A\ufffd]0;pwned\ufffd\ufffd]52;c;ZWNobyBwd25lZA==\ufffd\r\ufffd[2K\ufffd[1AOK\x9b31m\u202eB\\ud800`"
        " allows `*` (Key\u202e\n<&>]]>)"
    )
    assert "&#xd;\ufffd[2K\ufffd[1AOK&#x9b;31m&#x202e;B\\ud800" in out


def test_machine_formats_printed_in_a_github_log_carry_no_workflow_command() -> None:
    """JSON, SARIF, GitLab and JUnit reports hold no ##[ and no line starting with ::, losslessly."""
    f = finding(message="a\n  ::error::x ##[add-mask]KMS003", resource="##[stop-commands]t")
    for fmt in ("json", "sarif", "gitlab", "junit"):
        out = render(fmt, [f])
        assert "##[" not in out, fmt
        assert not any(line.lstrip().startswith("::") for line in out.split("\n")), fmt
    doc = json.loads(render("json", [f]))
    assert (doc["findings"][0]["message"], doc["findings"][0]["resource"]) == (
        "a\n  ::error::x ##[add-mask]KMS003",
        "##[stop-commands]t",
    )
    failure = ET.fromstring(render("junit", [f]).encode()).find("./testsuite/testcase/failure")
    assert failure is not None and failure.text is not None
    assert failure.text.split("\n")[1:] == ["a", "  ::error::x ##[add-mask]KMS003", "resource: ##[stop-commands]t"]


# --------------------------------------------------------------------------- fuzz

PIECES = [
    "\x1b[2K",
    "\x1b]0;t\x07",
    "\x1b]52;c;QQ==\x07",
    "\r",
    "\n",
    "\t",
    "\x00",
    "\x08",
    "\x7f",
    "\x85",
    "\x9b",
    "\u061c",
    "\u200e",
    "\u202e",
    "\u2066",
    "\u2069",
    "\u2028",
    "\ud800",
    "\udfff",
    "\udcff",
    "\ufffe",
    "\n::error file=x.tf,line=1::forged",
    "::add-mask::s",
    "::stop-commands::t",
    "%0A",
    "##[error]x",
    "##[stop-commands]t",
    "::",
    " ::warning::w",
    "\u200b",
    "\u00ad",
    "\U000e0041",
    "\xa0",
    "%",
    ",",
    ":",
    "<",
    "&",
    "]]>",
    '"',
    "\\",
    "é",
    "☃",
    "Sid",
]
hostile_text = st.lists(st.sampled_from(PIECES) | st.text(max_size=3), min_size=1, max_size=6).map("".join)


@st.composite
def findings(draw: st.DrawFn) -> Finding:
    sev = draw(st.sampled_from(list(Severity)))
    suppressed = draw(st.booleans())
    return finding(
        file=draw(hostile_text),
        message=draw(hostile_text),
        resource=draw(st.just("") | hostile_text),
        severity=sev,
        suppressed=suppressed,
        suppression_reason=draw(hostile_text) if suppressed else None,
        line=draw(st.integers(1, 5)),
    )


def check_output(fmt: str, out: str, report: api.Report) -> None:
    """The format-specific promises: well-formed, escaped, one line per finding where lines matter."""
    visible = report.visible(show_suppressed=True)
    if fmt in ("text", "github"):
        assert all(c.isprintable() or c == "\n" for c in out), fmt
        assert "##[" not in out, fmt
        lines = out.split("\n")
        assert lines[-1] == ""
        assert len(lines) == len(visible) + 2, fmt  # one per finding, the summary, the final newline
        if fmt == "text":
            assert not any(line.lstrip().startswith("::") for line in lines), fmt
        if fmt == "github":
            for line, f in zip(lines, visible, strict=False):
                command = (
                    "notice"
                    if f.suppressed
                    else {"critical": "error", "high": "error", "info": "notice"}.get(f.severity.label, "warning")
                )
                assert line.startswith(f"::{command} file="), line
                props, sep, _message = line[2:].partition("::")
                assert sep and "\n" not in props
                assert props.count("title=") == 1
        return
    out.encode("utf-8")  # strict: no surrogate reached the output
    assert not RAW_UNSAFE_MACHINE.search(out), fmt
    assert "##[" not in out, fmt
    assert not any(line.lstrip().startswith("::") for line in out.split("\n")), fmt
    if fmt == "junit":
        ET.fromstring(out.encode("utf-8"))
    elif fmt in ("json", "sarif", "gitlab"):
        json.loads(out)
    # A format added later gets the promises above until it says how it is parsed.


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(findings(), min_size=1, max_size=4))
def test_fuzzed_findings_every_format(found: list[Finding]) -> None:
    """Any text in any field a finding quotes gives a well-formed, escaped report in every format."""
    report = api.Report(findings=sorted(set(found)), files=1)
    for fmt in FORMATS:
        out = get(fmt)(report, RenderContext(__version__, show_suppressed=True))
        check_output(fmt, out, report)


def name_bytes(text: str) -> bytes:
    """A file name made of ``text`` (lone surrogates as the bytes that are not UTF-8), ending in .json."""
    raw = text.encode("utf-8", "surrogatepass").replace(b"/", b"_").replace(b"\x00", b"_")[:200]
    return raw + b".json"


@pytest.mark.slow
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    logical_id=hostile_text,
    sid=hostile_text,
    tag=hostile_text,
    condition_key=hostile_text,
    operator=hostile_text,
    action=hostile_text,
    name=hostile_text,
)
def test_fuzzed_inputs_end_to_end(
    tmp_path_factory: pytest.TempPathFactory,
    logical_id: str,
    sid: str,
    tag: str,
    condition_key: str,
    operator: str,
    action: str,
    name: str,
) -> None:
    """Hostile Sids, logical IDs, tags, condition keys and file names, linted for real, give well-formed output."""
    root = tmp_path_factory.mktemp("fuzz")
    statement = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": "*",
        "Action": ["kms:*", f"kms:{action}"],
        "Resource": "*",
        "Condition": {operator: {condition_key: "x"}},
    }
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            logical_id: {
                "Type": "AWS::KMS::Key",
                "Properties": {
                    "MultiRegion": True,
                    "Tags": [{"Key": "Team", "Value": tag}],
                    "KeyPolicy": {"Version": "2012-10-17", "Statement": [statement]},
                },
            }
        },
    }
    policy = {"Version": "2012-10-17", "Statement": [dict(statement, Condition={})]}
    # json.dumps writes a lone surrogate as "\ud800": the very input a pull request can send.
    (root / "template.json").write_text(json.dumps(template), encoding="ascii")
    path = os.path.join(os.fsencode(root), name_bytes(name))
    with open(path, "w", encoding="ascii") as fh:
        fh.write(json.dumps(policy))
    report = api.lint([str(root)], Settings(extend_select=frozenset({"ALL"})))
    assert {f.rule_id for f in report.findings} >= {"KMS003"}
    for fmt in FORMATS:
        out = get(fmt)(report, RenderContext(__version__, show_suppressed=True))
        check_output(fmt, out, report)
    lines = get("text")(report, RenderContext(__version__)).splitlines()[:-1]
    shown = [f"{terminal(f.file)}:{f.line}:{f.column}: {f.rule_id} " for f in report.visible()]
    assert [line[: len(start)] for line, start in zip(lines, shown, strict=True)] == shown


def test_a_file_named_with_a_colon_cannot_start_a_workflow_command_in_text() -> None:
    """A file named ":" would start its text line with "::" (a command in a GitHub log): its first colon is escaped."""
    found = Finding(
        file=":",
        line=1,
        column=5,
        rule_id="KMS003",
        resource="",
        message="m",
        end_line=1,
        end_column=9,
        slug="wildcard-principal",
        severity=Severity.CRITICAL,
    )
    out = get("text")(api.Report(findings=[found], files=1), RenderContext(__version__))
    assert out.splitlines()[0] == "\\x3a:1:5: KMS003 [critical] m"
