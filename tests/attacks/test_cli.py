"""Attacks on the command line, run as the real console script in a fresh process.

What depends on the process -- the output stream's encoding, closed or
broken standard streams, exit codes, signals, forks the system refuses, a
deleted current directory -- is tested through ``.venv/bin/kmslint`` itself,
and every run checks that no traceback reached the user.  Files kmslint
writes and reads (baseline, configuration) are attacked the way a pull
request can: planted symbolic links, FIFOs, ``/dev/zero``, huge and deeply
nested files, file names that look like options.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kmslint import fsio

# Each case runs the console script in a fresh process: the default local run leaves them to .ci/run.
pytestmark = pytest.mark.slow

CONSOLE_SCRIPT = Path(sys.executable).with_name("kmslint")
KMSLINT = [str(CONSOLE_SCRIPT)] if CONSOLE_SCRIPT.exists() else [sys.executable, "-m", "kmslint"]

OPEN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}],
}
KEY_TF = 'resource "aws_kms_key" "k" {\n  enable_key_rotation = true\n}\n'
KMS001 = (
    "KMS001 [medium] the key has no key policy, so AWS attaches the default policy, which lets any IAM policy"
    " in the account grant use of this key; write a key policy that names its administrators and users (aws_kms_key.k)"
)
KMS003_OPEN = (
    "KMS003 [critical] statement `{sid}` allows `*` to use this key; restrict it with a condition such as"
    " StringEquals on aws:PrincipalOrgID or kms:CallerAccount, or name the principals"
)


class Result:
    def __init__(self, code: int, out: bytes, err: bytes) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> dict[str, object]:
        doc: dict[str, object] = json.loads(self.out)
        return doc

    def rules(self) -> list[tuple[str, str, int]]:
        return [(f["rule_id"], f["file"], f["line"]) for f in self.json()["findings"]]  # type: ignore[index, union-attr]


def kmslint(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    stdin: int | bytes | None = subprocess.DEVNULL,
    argv: list[str] | None = None,
    traceback_ok: bool = False,
    timeout: float = 60,
    **popen: object,
) -> Result:
    """Run the console script; no traceback may reach stderr (unless the test asks for one)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHONIOENCODING", "KMSLINT_DEBUG"))}
    full_env.update(env or {})
    data = stdin if isinstance(stdin, bytes) else None
    popen.setdefault("stdout", subprocess.PIPE)
    popen.setdefault("stderr", subprocess.PIPE)
    proc = subprocess.run(
        [*(argv or KMSLINT), *args],
        cwd=cwd,
        env=full_env,
        input=data,
        stdin=None if data is not None else stdin,
        timeout=timeout,
        check=False,
        **popen,  # type: ignore[arg-type]
    )
    if not traceback_ok:
        assert b"Traceback" not in proc.stderr, proc.stderr.decode("utf-8", "replace")
    return Result(proc.returncode, proc.stdout, proc.stderr)


def python_kmslint(setup: str) -> list[str]:
    """argv running kmslint in a fresh interpreter after ``setup`` (to make the system refuse something)."""
    code = f"import sys\n{setup}\nfrom kmslint.entry import main\nsys.argv[0] = 'kmslint'\nmain()\n"
    return [sys.executable, "-c", code]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository directory (with a victim file beside it, outside) holding one open key policy."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "p.json").write_text(json.dumps(OPEN_POLICY))
    (tmp_path / "victim.sh").write_text("echo original\n")
    return root


# --------------------------------------------------------------------------- 1. writes


def test_a_planted_tmp_symlink_is_never_written_through(repo: Path) -> None:
    """A planted <baseline>.tmp symlink is never written through: the file it points to is untouched."""
    victim = repo.parent / "victim.sh"
    os.symlink("../victim.sh", repo / "kmslint-baseline.json.tmp")
    r = kmslint("--write-baseline", "kmslint-baseline.json", ".", cwd=repo)
    assert (r.code, r.out, r.err) == (0, b"", b"kmslint: wrote 2 findings to the baseline kmslint-baseline.json\n")
    assert victim.read_text() == "echo original\n"
    assert os.readlink(repo / "kmslint-baseline.json.tmp") == "../victim.sh"
    baseline = repo / "kmslint-baseline.json"
    assert baseline.is_file() and not baseline.is_symlink()
    assert [e["rule_id"] for e in json.loads(baseline.read_text())["findings"]] == ["KMS003", "KMS005"]
    assert sorted(p.name for p in repo.iterdir()) == ["kmslint-baseline.json", "kmslint-baseline.json.tmp", "p.json"]


def test_a_symlink_at_the_baseline_is_replaced_not_followed(repo: Path) -> None:
    """A symlink at the --write-baseline target is replaced by a regular file; the file it pointed to is untouched."""
    victim = repo.parent / "victim.sh"
    os.symlink("../victim.sh", repo / "kmslint-baseline.json")
    r = kmslint("--write-baseline", "kmslint-baseline.json", ".", cwd=repo)
    assert r.code == 0
    assert victim.read_text() == "echo original\n"
    baseline = repo / "kmslint-baseline.json"
    assert baseline.is_file() and not baseline.is_symlink()
    assert json.loads(baseline.read_text())["tool"] == "kmslint"


def test_a_dangling_planted_link_creates_nothing_outside(repo: Path) -> None:
    """A planted dangling link (<baseline>.tmp -> ../outside/new) never makes kmslint create a file outside."""
    (repo.parent / "outside").mkdir()
    os.symlink("../outside/new.sh", repo / "kmslint-baseline.json.tmp")
    os.symlink("../outside/new2.sh", repo / "kmslint-baseline.json")
    r = kmslint("--write-baseline", "kmslint-baseline.json", ".", cwd=repo)
    assert r.code == 0
    assert list((repo.parent / "outside").iterdir()) == []
    assert (repo / "kmslint-baseline.json").is_file()


def test_writing_the_baseline_over_a_directory_is_one_line(repo: Path) -> None:
    """A baseline that cannot be written is one line and exit 2, and no temporary file is left behind."""
    (repo / "taken").mkdir()
    r = kmslint("--write-baseline", "taken", "p.json", cwd=repo)
    assert (r.code, r.out) == (2, b"")
    assert r.err == b"kmslint: error: taken: cannot write the baseline: Is a directory\n"
    assert sorted(p.name for p in repo.iterdir()) == ["p.json", "taken"]


def test_write_atomic_cleans_up_when_the_rename_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """fsio.write_atomic leaves no temporary file when any step fails, and never touches an existing target."""
    target = tmp_path / "out.json"
    target.write_text("old")

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(PermissionError):
        fsio.write_atomic(target, b"new")
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
    assert target.read_text() == "old"


def test_write_atomic_never_opens_an_existing_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The temporary name is created O_EXCL|O_NOFOLLOW: a planted name (even a guessed one) is skipped, not opened."""
    victim = tmp_path / "victim"
    victim.write_text("original")
    names = iter([bytes.fromhex("0101010101010101"), bytes.fromhex("0202020202020202")])
    monkeypatch.setattr(os, "urandom", lambda _n: next(names))
    os.symlink(victim, tmp_path / ".kmslint-0101010101010101.tmp")  # the first name, guessed and planted
    fsio.write_atomic(tmp_path / "out.json", b"new")
    assert victim.read_text() == "original"
    assert (tmp_path / "out.json").read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".kmslint-0101010101010101.tmp", "out.json", "victim"]


# --------------------------------------------------------------------------- 1. reads


def test_read_regular_never_opens_what_is_not_a_regular_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """fsio.read_regular refuses a FIFO or a device (even through a link) without opening it."""
    os.mkfifo(tmp_path / "fifo")
    os.symlink("/dev/zero", tmp_path / "zero")
    opened: list[object] = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda *a, **k: opened.append(a[0]) or real_open(*a, **k))
    for name in ("fifo", "zero"):
        with pytest.raises(fsio.NotRegularFile):
            fsio.read_regular(tmp_path / name, 1 << 20)
    assert opened == []


def test_reads_are_capped_without_allocating_the_cap(tmp_path: Path) -> None:
    """Reading stops past the cap (TooLarge), and a cap of 10**18 bytes allocates only what the file holds."""
    import io

    (tmp_path / "small").write_bytes(b"x" * 1000)
    assert fsio.read_regular(tmp_path / "small", 10**18) == b"x" * 1000
    with pytest.raises(fsio.TooLarge):
        fsio.read_regular(tmp_path / "small", 999)
    assert fsio.read_stream(io.BytesIO(b"y" * 200_000), 10**18) == b"y" * 200_000
    with pytest.raises(fsio.TooLarge):
        fsio.read_stream(io.BytesIO(b"y" * 200_000), 199_999)


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "dev-urandom"])
def test_a_baseline_that_is_not_a_regular_file_is_refused_at_once(repo: Path, kind: str) -> None:
    """--baseline naming /dev/zero, a FIFO or a device (directly or by link) is refused at once, never read."""
    target = repo / "b.json"
    if kind == "fifo":
        os.mkfifo(target)
    else:
        os.symlink("/dev/zero" if kind == "dev-zero" else "/dev/urandom", target)
    r = kmslint("--baseline", "b.json", "p.json", cwd=repo, timeout=30)
    assert (r.code, r.out) == (2, b"")
    why = "not a regular file" if kind == "fifo" else "a symbolic link out of its repository"
    assert r.err == f"kmslint: error: b.json: cannot read the baseline: {why}\n".encode()
    if kind != "fifo":  # the same device through a link that stays inside: still never read
        os.mkfifo(repo / "fifo")
        os.unlink(target)
        os.symlink("fifo", target)
        r = kmslint("--baseline", "b.json", "p.json", cwd=repo, timeout=30)
        assert r.err == b"kmslint: error: b.json: cannot read the baseline: not a regular file\n"


def test_a_huge_or_deeply_nested_baseline_is_an_error(repo: Path) -> None:
    """A baseline over 32 MiB, or nested thousands deep, is one clear error (exit 2), not memory or a RecursionError."""
    with open(repo / "huge.json", "wb") as fh:
        fh.truncate(33 * 1024 * 1024)
    r = kmslint("--baseline", "huge.json", "p.json", cwd=repo)
    assert (r.code, r.err) == (
        2,
        b"kmslint: error: huge.json: cannot read the baseline: over the 33554432-byte limit\n",
    )
    (repo / "deep.json").write_text("[" * 100_000)
    r = kmslint("--baseline", "deep.json", "p.json", cwd=repo)
    assert (r.code, r.err) == (2, b"kmslint: error: deep.json: not a kmslint baseline (nested too deeply)\n")


@pytest.mark.parametrize("name", [".kmslint.toml", "pyproject.toml"])
@pytest.mark.parametrize("kind", ["dev-zero", "fifo"])
def test_a_planted_config_device_or_fifo_neither_hangs_nor_is_read(repo: Path, name: str, kind: str) -> None:
    """A discovered .kmslint.toml or pyproject.toml that is a FIFO or a link to /dev/zero is never opened."""
    (repo / ".git").mkdir()
    if kind == "fifo":
        os.mkfifo(repo / name)
    else:
        os.symlink("/dev/zero", repo / name)
    r = kmslint("--format", "json", "p.json", cwd=repo, timeout=30)
    assert r.code == 1
    assert r.rules() == [("KMS003", "p.json", 1), ("KMS005", "p.json", 1)]


@pytest.mark.parametrize("kind", ["dev-zero", "fifo"])
def test_a_named_config_device_or_fifo_is_one_line(repo: Path, kind: str) -> None:
    """--config naming a FIFO or /dev/zero is one error line and exit 2, at once."""
    if kind == "fifo":
        os.mkfifo(repo / "c.toml")
    else:
        os.symlink("/dev/zero", repo / "c.toml")
    r = kmslint("--config", "c.toml", "p.json", cwd=repo, timeout=30)
    assert (r.code, r.out) == (2, b"")
    assert r.err == b"kmslint: error: c.toml: cannot read the configuration file: not a regular file\n"


def test_a_huge_or_deeply_nested_config_is_one_line(repo: Path) -> None:
    """A configuration over 1 MiB, or nested thousands deep, is one error line (exit 2), not memory or a traceback."""
    (repo / ".git").mkdir()
    (repo / ".kmslint.toml").write_text("# padding\n" * 120_000)
    r = kmslint("p.json", cwd=repo)
    assert (r.code, r.out) == (2, b"")
    assert r.err == b"kmslint: error: .kmslint.toml: cannot read the configuration file: over the 1048576-byte limit\n"
    (repo / ".kmslint.toml").write_text("a = " + "[" * 50_000)
    r = kmslint("p.json", cwd=repo)
    assert (r.code, r.err) == (2, b"kmslint: error: .kmslint.toml: invalid TOML: arrays or tables nested too deeply\n")


# --------------------------------------------------------------------------- 2. KMS000 fails the gate


@pytest.mark.parametrize("fail_on", ["info", "low", "medium", "high", "critical"])
def test_kms000_fails_the_run_at_any_fail_on(tmp_path: Path, fail_on: str) -> None:
    """A file nobody could check (KMS000) fails the run whatever --fail-on says."""
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "broken.tf").write_text('resource "aws_kms_key" "k" {\n')
    r = kmslint("--format", "json", "--fail-on", fail_on, "infra", cwd=tmp_path)
    assert r.code == 1
    assert r.rules() == [("KMS000", "infra/broken.tf", 2)]


def test_kms000_opt_outs_are_explicit(tmp_path: Path) -> None:
    """Only --ignore KMS000 or --exit-zero let a KMS000 pass; a lowered severity does not."""
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "broken.tf").write_text('resource "aws_kms_key" "k" {\n')
    (tmp_path / ".kmslint.toml").write_text('[severity]\nKMS000 = "info"\n')
    assert kmslint("--fail-on", "critical", "infra", cwd=tmp_path).code == 1
    assert kmslint("--fail-on", "critical", "--ignore", "KMS000", "infra", cwd=tmp_path).code == 0
    assert kmslint("--fail-on", "critical", "--exit-zero", "infra", cwd=tmp_path).code == 0


# --------------------------------------------------------------------------- 3. output that crashes or lies

SURROGATE_POLICY = json.dumps(OPEN_POLICY).replace('"Open"', '"A\\ud800B"')


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "junit", "gitlab"])
def test_a_lone_surrogate_gives_a_full_report_in_every_format(tmp_path: Path, fmt: str) -> None:
    """A lone surrogate escape in a Sid reads as U+FFFD, as AWS reads it: the full report, valid UTF-8, exit 1."""
    (tmp_path / "p.json").write_text(SURROGATE_POLICY)
    r = kmslint("--format", fmt, "p.json", cwd=tmp_path)
    assert r.code == 1
    text = r.out.decode("utf-8")
    assert "A\ufffdB" in text
    if fmt == "json":
        assert [f["message"].split("`")[1] for f in r.json()["findings"]] == ["A\ufffdB", "A\ufffdB"]  # type: ignore[index, union-attr]
    elif fmt in ("sarif", "gitlab"):
        json.loads(text)
    elif fmt == "text":
        assert text.splitlines()[0] == "p.json:1:41: " + KMS003_OPEN.format(sid="A\ufffdB")


ENCODINGS = [
    {"PYTHONIOENCODING": "cp1252"},
    {"PYTHONIOENCODING": "ascii"},
    {"PYTHONIOENCODING": "latin-1"},
    {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"},
]
UNICODE_POLICY = json.dumps(OPEN_POLICY).replace('"Open"', '"\\u00dcn\\u00efc\\u00f6d\\u00e9 \\u2603 \\ud800"')


@pytest.mark.parametrize("env", ENCODINGS, ids=lambda e: ",".join(f"{k}={v}" for k, v in e.items()))
@pytest.mark.parametrize("fmt", ["json", "sarif", "junit", "gitlab"])
def test_machine_formats_are_utf8_whatever_the_stream_encoding(tmp_path: Path, env: dict[str, str], fmt: str) -> None:
    """json, sarif, junit and gitlab are the same UTF-8 bytes whatever stdout's encoding (cp1252, ascii, C locale)."""
    (tmp_path / "p.json").write_text(UNICODE_POLICY)
    expected = kmslint("--format", fmt, "p.json", cwd=tmp_path, env={"PYTHONIOENCODING": "utf-8"})
    r = kmslint("--format", fmt, "p.json", cwd=tmp_path, env=env)
    assert (r.code, r.out) == (1, expected.out)
    assert "Ünïcödé ☃ \ufffd" in r.out.decode("utf-8")


@pytest.mark.parametrize(
    ("env", "sid"),
    [
        ({"PYTHONIOENCODING": "cp1252"}, "Ünïcödé \\u2603 \\ufffd".encode("cp1252")),
        ({"PYTHONIOENCODING": "ascii"}, b"\\xdcn\\xefc\\xf6d\\xe9 \\u2603 \\ufffd"),
        (
            {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"},
            b"\\xdcn\\xefc\\xf6d\\xe9 \\u2603 \\ufffd",
        ),
    ],
    ids=["cp1252", "ascii", "C-locale"],
)
@pytest.mark.parametrize("fmt", ["text", "github"])
def test_text_formats_use_the_stream_encoding_with_escapes(
    tmp_path: Path, env: dict[str, str], sid: bytes, fmt: str
) -> None:
    """text and github are written in stdout's encoding, with a backslash escape for what it cannot carry."""
    (tmp_path / "p.json").write_text(UNICODE_POLICY)
    r = kmslint("--format", fmt, "p.json", cwd=tmp_path, env=env)
    assert r.code == 1
    first = r.out.split(b"\n")[0]
    assert b"`" + sid + b"`" in first
    assert first.startswith(b"p.json:1:41: KMS003" if fmt == "text" else b"::error file=p.json,line=1,")


NON_UTF8_NAME = b"\xff\xfe-policy.json"


@pytest.mark.parametrize("named", [False, True], ids=["walked", "named"])
def test_a_non_utf8_file_name_is_reported_under_a_faithful_escaped_name(tmp_path: Path, named: bool) -> None:
    """A file name that is not UTF-8 is linted and reported in every format under an escaped name (\\xff), exit 1."""
    with open(os.path.join(os.fsencode(tmp_path), NON_UTF8_NAME), "w") as fh:
        fh.write(json.dumps(OPEN_POLICY))
    target = os.fsdecode(NON_UTF8_NAME) if named else "."
    text = kmslint("--format", "text", target, cwd=tmp_path)
    assert text.code == 1
    assert text.out.split(b"\n")[0] == ("\\xff\\xfe-policy.json:1:41: " + KMS003_OPEN.format(sid="Open")).encode()
    doc = kmslint("--format", "json", target, cwd=tmp_path)
    assert doc.rules() == [("KMS003", "\\xff\\xfe-policy.json", 1), ("KMS005", "\\xff\\xfe-policy.json", 1)]
    sarif = json.loads(kmslint("--format", "sarif", target, cwd=tmp_path).out)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]}
    assert uris == {"%FF%FE-policy.json"}
    gitlab = kmslint("--format", "gitlab", target, cwd=tmp_path)
    assert [i["location"]["path"] for i in json.loads(gitlab.out)] == ["\\xff\\xfe-policy.json"] * 2
    github = kmslint("--format", "github", target, cwd=tmp_path)
    assert github.out.startswith(b"::error file=\\xff\\xfe-policy.json,line=1,")
    junit = kmslint("--format", "junit", target, cwd=tmp_path)
    assert b'<testcase classname="\\xff\\xfe-policy.json"' in junit.out
    assert (gitlab.code, github.code, junit.code) == (1, 1, 1)


def test_stderr_notes_are_escaped(tmp_path: Path) -> None:
    """A note on stderr quoting a hostile file name shows its control characters escaped."""
    name = "\x1b]0;pwned\x07\x1b[2K.json"
    (tmp_path / name).write_text('{"name": "x"}')
    r = kmslint(name, cwd=tmp_path)
    assert r.code == 0
    assert r.err == b"kmslint: \\x1b]0;pwned\\x07\\x1b[2K.json: skipped, nothing KMS-related in it\n"


# --------------------------------------------------------------------------- 4. text from the input is data


def test_terminal_sequences_never_reach_the_terminal(tmp_path: Path) -> None:
    """No escape sequence, BEL, CR, C1 control or bidi control from a Sid reaches stdout or stderr in text format."""
    evil = "\\u001b]0;pwned\\u0007\\u001b]52;c;ZWNobyBwd25lZA==\\u0007\\r\\u001b[2K\\u001b[1AOK\\u009b31m\\u202e"
    (tmp_path / "p.json").write_text(json.dumps(OPEN_POLICY).replace('"Open"', f'"{evil}"'))
    r = kmslint("p.json", cwd=tmp_path)
    assert r.code == 1
    for raw in (b"\x1b", b"\x07", b"\r", b"\xc2\x9b", "\u202e".encode()):
        assert raw not in r.out + r.err
    sid = "\\x1b]0;pwned\\x07\\x1b]52;c;ZWNobyBwd25lZA==\\x07\\r\\x1b[2K\\x1b[1AOK\\x9b31m\\u202e"
    assert r.out.split(b"\n")[0] == ("p.json:1:41: " + KMS003_OPEN.format(sid=sid)).encode()


def test_github_output_cannot_be_forged_from_a_sid(tmp_path: Path) -> None:
    """A Sid holding a newline and workflow commands stays inside its own annotation line."""
    evil = "x\\n::error file=fake.tf,line=1::forged\\r\\n::add-mask::abc\\n::stop-commands::tok"
    (tmp_path / "p.json").write_text(json.dumps(OPEN_POLICY).replace('"Open"', f'"{evil}"'))
    r = kmslint("--format", "github", "p.json", cwd=tmp_path)
    lines = r.out.decode().split("\n")
    assert [line[:16] for line in lines] == ["::error file=p.j", "::error file=p.j", "kmslint: 2 findi", ""]
    assert "statement `x%0A::error file=fake.tf,line=1::forged%0D%0A::add-mask::abc%0A::stop-commands::tok`" in lines[0]


# --------------------------------------------------------------------------- 5. no traceback reaches a user


@pytest.mark.parametrize(
    ("arg", "error"),
    [
        ("--jobs=+-5", "Error: Invalid value for '--jobs' / '-j': '+-5' is not a valid integer range."),
        ("-j+-1", "Error: Invalid value for '--jobs' / '-j': '+-1' is not a valid integer range."),
        ("--max-depth=+-1", "Error: Invalid value for '--max-depth': '+-1' is not a valid integer range."),
        ("--max-file-bytes=1e3", "Error: Invalid value for '--max-file-bytes': '1e3' is not a valid integer range."),
        ("--jobs=-1", "Error: Invalid value for '--jobs' / '-j': -1 is not in the range x>=0."),
    ],
)
def test_malformed_integer_options_are_usage_errors(repo: Path, arg: str, error: str) -> None:
    """A malformed integer option (--jobs=+-5) is click's usage error, exit 2, never a traceback."""
    r = kmslint(arg, "p.json", cwd=repo)
    assert (r.code, r.out) == (2, b"")
    assert r.err.decode().splitlines()[-1] == error


@pytest.mark.parametrize(
    "args",
    [
        ["--max-depth", "99999999999999999999"],
        ["--max-file-bytes", "99999999999999999999"],
        ["--jobs", "99999999999999999999"],
        ["--jobs=٣"],
    ],
    ids=["max-depth", "max-file-bytes", "jobs", "jobs-arabic-indic"],
)
def test_huge_integer_options_still_lint(repo: Path, args: list[str]) -> None:
    """Absurdly large limits lint as usual: no overflow, no allocation of the limit's size."""
    r = kmslint("--format", "json", *args, "p.json", cwd=repo)
    assert r.code == 1
    assert r.rules() == [("KMS003", "p.json", 1), ("KMS005", "p.json", 1)]
    r = kmslint(
        "--format", "json", *args, "--stdin-filename", "p.json", "-", cwd=repo, stdin=json.dumps(OPEN_POLICY).encode()
    )
    assert r.code == 1
    assert r.rules() == [("KMS003", "p.json", 1), ("KMS005", "p.json", 1)]


def many_units(root: Path, count: int = 80) -> None:
    for i in range(count):
        (root / f"d{i:03d}").mkdir(parents=True)
        (root / f"d{i:03d}" / "main.tf").write_text(KEY_TF)


REFUSALS = {
    "fork": "import os\ndef refuse():\n    raise BlockingIOError(11, 'Resource unavailable')\nos.fork = refuse",
    "pipe": "import os\ndef refuse():\n    raise OSError(24, 'Too many open files')\nos.pipe = refuse",
    "second-fork": (
        "import os\nreal = os.fork\ncalls = []\n"
        "def second():\n    calls.append(1)\n    if len(calls) > 1:\n        raise BlockingIOError(11, 'no')\n"
        "    return real()\nos.fork = second"
    ),
}


@pytest.mark.parametrize("refused", list(REFUSALS))
def test_a_refused_fork_lints_in_this_process(tmp_path: Path, refused: str) -> None:
    """When the system refuses a fork or a pipe (ulimit -u, EMFILE), the same report comes from fewer processes."""
    many_units(tmp_path)
    expected = kmslint("--format", "json", "--jobs", "1", ".", cwd=tmp_path)
    r = kmslint("--format", "json", "--jobs", "3", ".", cwd=tmp_path, argv=python_kmslint(REFUSALS[refused]))
    assert (r.code, r.out, r.err) == (1, expected.out, b"")
    assert len(r.rules()) == 80


@pytest.mark.skipif(os.geteuid() == 0, reason="root is not bound by RLIMIT_NPROC")
def test_ulimit_u_lints_in_this_process(tmp_path: Path) -> None:
    """Under `ulimit -u` (fork fails with EAGAIN) the run still lints every unit, in one process."""
    import resource

    many_units(tmp_path)
    expected = kmslint("--format", "json", "--jobs", "1", ".", cwd=tmp_path)

    def no_more_processes() -> None:
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))

    r = kmslint("--format", "json", "--jobs", "2", ".", cwd=tmp_path, preexec_fn=no_more_processes)
    assert (r.code, r.out) == (1, expected.out)


def test_the_process_pool_falls_back_when_it_cannot_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pool that cannot start its processes leaves the work to this process."""
    from kmslint import api

    many_units(tmp_path, 70)
    expected = api.lint([str(tmp_path)], jobs=1)

    class Refused:
        def __init__(self, *_args: object, **_kwargs: object) -> None:
            raise OSError(11, "Resource temporarily unavailable")

    import concurrent.futures

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Refused)
    assert api.lint([str(tmp_path)], jobs=2).findings == expected.findings


DELETE_CWD_AND_LINT = """
import os, sys
os.chdir(sys.argv[1])
os.rmdir(sys.argv[1])
from kmslint.entry import main
sys.argv = ["kmslint", *sys.argv[2:]]
main()
"""


@pytest.mark.parametrize(
    "extra", [[], ["--cache-dir", "CACHE"], ["--format", "text"], ["--write-baseline", "BASE"], ["--jobs", "2"]]
)
def test_a_deleted_current_directory_still_lints_absolute_paths(tmp_path: Path, extra: list[str]) -> None:
    """With the current directory deleted, absolute paths are linted as usual (display names, cache, baseline)."""
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "main.tf").write_text(KEY_TF)
    gone = tmp_path / "gone"
    gone.mkdir()
    extra = [str(tmp_path / "cache") if a == "CACHE" else str(tmp_path / "b.json") if a == "BASE" else a for a in extra]
    fmt = [] if "--format" in extra else ["--format", "json"]
    args = [*fmt, *extra, str(tmp_path / "t"), str(tmp_path / "t" / "main.tf")]
    argv = [sys.executable, "-c", DELETE_CWD_AND_LINT, str(gone)]
    r = kmslint(*args, cwd=tmp_path, argv=argv)
    if "--write-baseline" in extra:
        assert (r.code, r.err) == (0, f"kmslint: wrote 1 finding to the baseline {tmp_path / 'b.json'}\n".encode())
    elif "--format" in extra:
        assert (r.code, r.out) == (
            1,
            f"{tmp_path}/t/main.tf:1:1: {KMS001}\nFound 1 finding (1 medium) in 1 file.\n".encode(),
        )
    else:
        assert r.code == 1
        assert r.rules() == [("KMS001", f"{tmp_path}/t/main.tf", 1)]


def test_a_closed_stdout_keeps_the_exit_code(repo: Path) -> None:
    """With stdout closed (>&-) the report is dropped, the exit code still says what was found, stderr stays quiet."""
    r = kmslint("p.json", cwd=repo, stdout=None, argv=["/bin/sh", "-c", 'exec "$0" "$@" >&-', *KMSLINT])
    assert (r.code, r.err) == (1, b"")


def test_a_closed_stderr_changes_nothing_else(repo: Path) -> None:
    """With stderr closed (2>&-) the report and exit code are as usual; notes are dropped, never sent to stdout."""
    r = kmslint(
        "--format", "json", "p.json", "missing", cwd=repo, argv=["/bin/sh", "-c", 'exec "$0" "$@" 2>&-', *KMSLINT]
    )
    assert r.code == 2
    assert r.rules() == [("KMS003", "p.json", 1), ("KMS005", "p.json", 1)]


def test_a_full_stdout_is_one_line_and_exit_2(repo: Path) -> None:
    """When the report cannot be written (stdout on a full disk), one line says so and the run exits 2."""
    for fmt in ("text", "json"):
        with open("/dev/full", "wb") as full:
            r = kmslint("--format", fmt, "p.json", cwd=repo, stdout=full)
        assert (r.code, r.err) == (2, b"kmslint: error: cannot write the report: No space left on device\n")


def test_a_reader_that_goes_away_ends_the_run_quietly(tmp_path: Path) -> None:
    """`kmslint | head -c 1`: the reader leaving ends the run with exit 1 and nothing on stderr."""
    many_units(tmp_path, 60)
    proc = subprocess.Popen([*KMSLINT, "."], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(1)
    proc.stdout.close()
    err = proc.stderr.read()
    assert (proc.wait(timeout=60), err) == (1, b"")


@pytest.mark.parametrize("how", ["closed", "directory-fd"])
def test_an_unreadable_stdin_is_kms000_and_exit_2(repo: Path, how: str) -> None:
    """A closed stdin (<&-), or one that cannot be read, is one KMS000 line and exit 2."""
    if how == "closed":
        r = kmslint(
            "--stdin-filename",
            "x.json",
            "-",
            cwd=repo,
            stdin=None,
            argv=["/bin/sh", "-c", 'exec "$0" "$@" <&-', *KMSLINT],
        )
        assert (r.code, r.err) == (2, b"x.json:1:1: KMS000 cannot read stdin: it is closed\n")
    else:
        # A write-only descriptor: Python starts (a directory would stop the interpreter itself), reading fails.
        fd = os.open(repo / "w.txt", os.O_WRONLY | os.O_CREAT)
        try:
            r = kmslint("--stdin-filename", "x.json", "-", cwd=repo, stdin=fd)
        finally:
            os.close(fd)
        assert (r.code, r.err) == (2, b"x.json:1:1: KMS000 cannot read stdin: Bad file descriptor\n")


def wait_until_reading_stdin(pid: int, seconds: float = 30) -> None:
    """Until the process blocks reading its stdin pipe (Linux says so in wchan), else a fixed wait."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/wchan") as fh:
                if "pipe" in fh.read():
                    return
        except OSError:
            time.sleep(2)
            return
        time.sleep(0.02)


@pytest.mark.parametrize("command", [[], ["check"]], ids=["fast-path", "click"])
def test_ctrl_c_exits_130_quietly(repo: Path, command: list[str]) -> None:
    """Ctrl-C (SIGINT) ends kmslint with exit code 130 and no traceback, through either command-line path."""
    proc = subprocess.Popen(
        [*KMSLINT, *command, "--stdin-filename", "x.json", "-"],
        cwd=repo,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # As a terminal would: a test run started in the background (`.ci/run &`) has SIGINT
        # ignored, and a child that inherits that never sees Ctrl-C.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    wait_until_reading_stdin(proc.pid)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, out, err.strip()) == (130, b"", b"")


BOOM = (
    "from kmslint import engine\n"
    "def boom(*_a, **_k):\n    raise RuntimeError('boom \\x1b[2K' + 'x' * 400)\n"
    "engine.lint_unit = boom\n"
    "import kmslint.parallel\nkmslint.parallel.lint_unit = boom"
)


@pytest.mark.parametrize("command", [[], ["check"]], ids=["fast-path", "click"])
def test_an_unforeseen_failure_is_one_line_and_exit_2(repo: Path, command: list[str]) -> None:
    """An unexpected exception is one escaped line ("internal error ... please report it") and exit 2, no traceback."""
    r = kmslint(*command, "p.json", cwd=repo, argv=python_kmslint(BOOM))
    assert (r.code, r.out) == (2, b"")
    shown = "RuntimeError: boom \\x1b[2K" + "x" * (300 - len("RuntimeError: boom \\x1b[2K")) + "..."
    assert (
        r.err
        == f"kmslint: internal error: {shown}; please report it (set KMSLINT_DEBUG=1 for the traceback)\n".encode()
    )


def test_kmslint_debug_shows_the_traceback(repo: Path) -> None:
    """With KMSLINT_DEBUG=1 the one line is followed by the traceback, for the bug report."""
    r = kmslint("p.json", cwd=repo, argv=python_kmslint(BOOM), env={"KMSLINT_DEBUG": "1"}, traceback_ok=True)
    assert r.code == 2
    lines = r.err.decode().splitlines()
    assert lines[0].startswith("kmslint: internal error: RuntimeError: boom \\x1b[2K")
    assert lines[0].endswith("...; please report it")
    assert lines[1] == "Traceback (most recent call last):"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--format", "x\x1b]0;pwn\x07"], "Error: Invalid value for '--format': 'x\\x1b]0;pwn\\x07' is not one of"),
        (["--x\x1b]0;pwn\x07"], "Error: No such option '--x\\x1b]0;pwn\\x07'."),
        (
            ["--account-id", "1\x1b]0;pwn\x07"],
            "Error: --account-id: expected a 12-digit AWS account ID, got '1\\x1b]0;pwn\\x07'",
        ),
        (["--account-id", "12345678901"], "Error: --account-id: expected a 12-digit AWS account ID, got '12345678901'"),
        (["--select", "K\x1b]0;pwn\x07"], "Error: unknown rule(s): K\\x1b]0;pwn\\x07 (see `kmslint rules`)"),
    ],
    ids=["format", "option", "account-id", "account-id-short", "select"],
)
def test_usage_errors_show_arguments_escaped(repo: Path, args: list[str], error: str) -> None:
    """A usage error quoting an argument shows its control characters escaped; exit 2."""
    r = kmslint(*args, "p.json", cwd=repo)
    assert (r.code, r.out) == (2, b"")
    assert b"\x1b" not in r.err and b"\x07" not in r.err
    assert r.err.decode().splitlines()[-1].startswith(error)


def test_explain_shows_an_unknown_rule_escaped(repo: Path) -> None:
    """`kmslint explain` with a hostile rule name shows it escaped; exit 2."""
    r = kmslint("explain", "\x1b[2J\x9b", cwd=repo)
    assert (r.code, r.out) == (2, b"")
    assert r.err.decode().splitlines()[-1] == "Error: unknown rule '\\x1b[2J\\x9b' (see `kmslint rules`)"


@pytest.mark.parametrize(
    "planted",
    [
        ["--write-baseline=x.json"],
        ["--exclude=*.json"],
        ["--config=c.json"],
        ["--baseline=b.json"],
        ["--exit-zero"],
        ["-j2.json"],
    ],
)
def test_a_file_named_like_an_option_is_linted_not_obeyed(repo: Path, planted: list[str]) -> None:
    """A file named like an option (--write-baseline=x.json, which pre-commit passes as is) is a path."""
    for name in planted:
        (repo / name).write_text(json.dumps(OPEN_POLICY))
    (repo / "c.json").write_text('ignore = ["ALL"]\n')  # what --config=c.json would load
    (repo / "b.json").write_text(json.dumps({"version": 1, "tool": "kmslint", "findings": []}))
    r = kmslint("--format", "json", "--fail-on", "high", *planted, "p.json", cwd=repo)
    assert r.code == 1
    expected = [(rule, name, 1) for name in sorted([*planted, "p.json"]) for rule in ("KMS003", "KMS005")]
    assert r.rules() == expected
    assert not (repo / "x.json").exists()


def test_an_option_value_that_names_a_file_stays_a_value(repo: Path) -> None:
    """Only arguments in an option's place become paths: `--exclude -x.json` still excludes, and `--` works as usual."""
    (repo / "-x.json").write_text(json.dumps(OPEN_POLICY))
    r = kmslint("--format", "json", "--exclude", "-x.json", ".", cwd=repo)
    assert r.rules() == [("KMS003", "p.json", 1), ("KMS005", "p.json", 1)]
    r = kmslint("--format", "json", "--", "-x.json", cwd=repo)
    assert r.rules() == [("KMS003", "-x.json", 1), ("KMS005", "-x.json", 1)]


@pytest.mark.parametrize(
    ("name", "code", "first_line"),
    [
        (
            ".",
            0,
            b"Nothing linted: no Terraform, CloudFormation or key-policy file read; 1 file skipped (not IaC).",
        ),  # named "." the buffer is no Terraform, and Terraform in it no template
        ("a" * 300 + ".tf", 1, ("a" * 300 + ".tf:1:1: " + KMS001).encode()),
        ("sub/" + "b" * 300 + "/main.tf", 1, ("sub/" + "b" * 300 + "/main.tf:1:1: " + KMS001).encode()),
    ],
    ids=["directory", "300-byte-name", "300-byte-directory"],
)
def test_odd_stdin_filenames_lint_without_a_traceback(repo: Path, name: str, code: int, first_line: bytes) -> None:
    """--stdin-filename naming a directory or a path with a 300-byte component lints the buffer, no traceback."""
    r = kmslint("--stdin-filename", name, "-", cwd=repo, stdin=KEY_TF.encode())
    assert r.code == code
    assert r.out.split(b"\n")[0] == first_line


@pytest.mark.parametrize("fmt", ["sarif", "text"])
def test_output_replaces_a_planted_link_instead_of_following_it(repo: Path, fmt: str) -> None:
    """--output-file (the Action's SARIF file) replaces a link committed under that name; its target is untouched."""
    victim = repo.parent / "victim.sh"
    os.symlink("../victim.sh", repo / "kmslint.sarif")
    r = kmslint("--format", fmt, "--output-file", "kmslint.sarif", "p.json", cwd=repo)
    assert (r.code, r.out, r.err) == (1, b"", b"")
    assert victim.read_text() == "echo original\n"
    written = repo / "kmslint.sarif"
    assert written.is_file() and not written.is_symlink()
    expected = kmslint("--format", fmt, "--no-color", "p.json", cwd=repo, env={"PYTHONIOENCODING": "utf-8"})
    assert written.read_bytes() == expected.out


def test_output_that_cannot_be_written_is_one_line(repo: Path) -> None:
    """An --output-file that cannot be written is one error line and exit 2."""
    (repo / "taken").mkdir()
    r = kmslint("--output-file", "taken", "p.json", cwd=repo)
    assert (r.code, r.out, r.err) == (2, b"", b"kmslint: error: cannot write the report to taken: Is a directory\n")


@pytest.mark.parametrize("name", [".kmslint.toml", "pyproject.toml"])
def test_a_config_link_out_of_the_repository_is_not_read(tmp_path: Path, name: str) -> None:
    """A discovered configuration that links out of its repository (to ~/.aws/credentials, say) is refused, exit 2."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "p.json").write_text(json.dumps(OPEN_POLICY))
    (tmp_path / "secret.toml").write_text('[tool.kmslint]\nignore = ["ALL"]\n')
    os.symlink("../secret.toml", repo / name)
    r = kmslint("p.json", cwd=repo)
    assert (r.code, r.out) == (2, b"")
    assert r.err == f"kmslint: error: {name}: a symbolic link to a file outside the repository: not read\n".encode()


def test_a_config_link_inside_the_repository_is_read(tmp_path: Path) -> None:
    """A configuration that links to a file inside its repository is read as usual."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "ci").mkdir()
    (repo / "p.json").write_text(json.dumps(OPEN_POLICY))
    (repo / "ci" / "kmslint.toml").write_text('ignore = ["KMS005"]\n')
    os.symlink("ci/kmslint.toml", repo / ".kmslint.toml")
    r = kmslint("--format", "json", "p.json", cwd=repo)
    assert (r.code, r.rules()) == (1, [("KMS003", "p.json", 1)])


def test_a_baseline_link_out_of_the_repository_is_not_read(tmp_path: Path) -> None:
    """A baseline replaced by a link out of its repository is refused (exit 2); one inside is read."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "p.json").write_text(json.dumps(OPEN_POLICY))
    assert kmslint("--write-baseline", "ci/../real.json", "p.json", cwd=repo).code == 2  # no such directory
    assert kmslint("--write-baseline", "real.json", "p.json", cwd=repo).code == 0
    (tmp_path / "outside.json").write_text((repo / "real.json").read_text())
    os.symlink("../outside.json", repo / "b.json")
    r = kmslint("--baseline", "b.json", "p.json", cwd=repo)
    assert (r.code, r.err) == (
        2,
        b"kmslint: error: b.json: cannot read the baseline: a symbolic link out of its repository\n",
    )
    os.symlink("real.json", repo / "inside.json")
    r = kmslint("--baseline", "inside.json", "p.json", cwd=repo)
    assert (r.code, r.out) == (0, b"No findings in 1 file, 2 suppressed.\n")


@pytest.mark.parametrize("option", ["--write-baseline", "--output-file"])
def test_a_planted_directory_link_out_of_the_repository_is_not_written_through(tmp_path: Path, option: str) -> None:
    """A file is never written through a directory link (reports -> ~/.config) leading out of its repository."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "p.json").write_text(json.dumps(OPEN_POLICY))
    outside = tmp_path / "outside"
    (outside / ".git").mkdir(parents=True)  # even into another repository
    os.symlink("../outside", repo / "reports")
    r = kmslint(option, "reports/out.json", "p.json", cwd=repo)
    message = "a symbolic link on the way leads out of the repository"
    expected = (
        f"kmslint: error: reports/out.json: cannot write the baseline: {message}\n"
        if option == "--write-baseline"
        else f"kmslint: error: cannot write the report to reports/out.json: {message}\n"
    )
    assert (r.code, r.err) == (2, expected.encode())
    assert sorted(p.name for p in outside.iterdir()) == [".git"]
    (repo / "ci").mkdir()
    os.symlink("ci", repo / "inside")  # a link that stays inside: written as asked
    assert kmslint(option, "inside/out.json", "p.json", cwd=repo).code in (0, 1)
    assert (repo / "ci" / "out.json").is_file()


def test_a_baseline_of_non_utf8_names_and_surrogate_sids_round_trips(tmp_path: Path) -> None:
    """A baseline of a non-UTF-8-named file with a lone-surrogate Sid is valid UTF-8 and matches its findings."""
    (tmp_path / "src").mkdir()
    with open(os.path.join(os.fsencode(tmp_path / "src"), NON_UTF8_NAME), "w") as fh:
        fh.write(SURROGATE_POLICY)
    r = kmslint("--write-baseline", "b.json", "src", cwd=tmp_path)
    assert (r.code, r.err) == (0, b"kmslint: wrote 2 findings to the baseline b.json\n")
    entries = json.loads((tmp_path / "b.json").read_bytes().decode("utf-8"))["findings"]
    assert [(e["rule_id"], e["file"]) for e in entries] == [
        ("KMS003", "src/\udcff\udcfe-policy.json"),
        ("KMS005", "src/\udcff\udcfe-policy.json"),
    ]
    r = kmslint("--baseline", "b.json", "src", cwd=tmp_path)
    assert (r.code, r.out) == (0, b"No findings in 1 file, 2 suppressed.\n")


def test_text_output_in_a_github_log_cannot_issue_workflow_commands(tmp_path: Path) -> None:
    """Text output and notes (the Action's log with format: text) never start ::command:: nor carry ##[command]."""
    name = "::error file=README.md,line=1::forged.json"
    (tmp_path / name).write_text(json.dumps(OPEN_POLICY).replace('"Open"', '"x ##[add-mask]KMS003"'))
    r = kmslint("--stdin-filename", "::warning::y.tf", "-", cwd=tmp_path, stdin=b"\xff")
    assert (r.code, r.err) == (2, b"\\x3a:warning::y.tf:1:1: KMS000 not valid UTF-8 (byte 0xff)\n")
    r = kmslint(name, cwd=tmp_path)
    assert r.code == 1
    sid = "x ##\\x5badd-mask]KMS003"
    assert r.out.decode().split("\n")[
        0
    ] == "\\x3a:error file=README.md,line=1::forged.json:1:41: " + KMS003_OPEN.format(sid=sid)
    assert b"##[" not in r.out + r.err
