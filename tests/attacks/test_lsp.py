"""Attacks on the language server: it keeps serving, in bounded time and memory, whatever comes in.

Every test drives the real server (``python -m kmslint lsp``) over stdio
with the JSON-RPC client of tests/test_lsp.py, or with raw bytes where the
framing itself is the attack, and checks that no traceback reaches stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.test_lsp import KEY_WITHOUT_ROTATION, Client

pytest.importorskip("pygls", reason="the language server needs the lsp extra (pip install -e '.[lsp]')")

pytestmark = pytest.mark.slow


def frame(message: dict[str, object]) -> bytes:
    body = json.dumps({"jsonrpc": "2.0", **message}).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


INITIALIZE = frame(
    {"id": 1, "method": "initialize", "params": {"processId": None, "rootUri": None, "capabilities": {}}}
)
SHUTDOWN = frame({"id": 2, "method": "shutdown"})
EXIT = frame({"method": "exit"})


def answers(stdout: bytes) -> list[object]:
    """The ids of the responses in the server's output, in order."""
    ids = []
    rest = stdout
    while rest:
        head, _, rest = rest.partition(b"\r\n\r\n")
        (length,) = [int(v) for k, _, v in (h.partition(b":") for h in head.split(b"\r\n")) if k == b"Content-Length"]
        message, rest = json.loads(rest[:length]), rest[length:]
        if "method" not in message:
            ids.append(message.get("id"))
    return ids


def raw_session(cwd: Path, middle: bytes, timeout: float = 60) -> tuple[list[object], str, int, int]:
    """Send initialize, ``middle``, shutdown and exit as raw bytes; (answered ids, stderr, exit code, peak RSS kB)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "kmslint", "lsp"],
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out: list[bytes] = []
    err: list[bytes] = []
    assert proc.stdout is not None and proc.stderr is not None and proc.stdin is not None
    readers = [
        threading.Thread(target=lambda: out.append(proc.stdout.read()), daemon=True),  # type: ignore[union-attr]
        threading.Thread(target=lambda: err.append(proc.stderr.read()), daemon=True),  # type: ignore[union-attr]
    ]
    for t in readers:
        t.start()
    peak = [0]

    def watch() -> None:
        while proc.poll() is None:
            try:
                status = Path(f"/proc/{proc.pid}/status").read_text()
            except OSError:
                return
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peak[0] = max(peak[0], int(line.split()[1]))
            time.sleep(0.05)

    threading.Thread(target=watch, daemon=True).start()
    try:
        proc.stdin.write(INITIALIZE)
        for start in range(0, len(middle), 1 << 20):
            proc.stdin.write(middle[start : start + (1 << 20)])
        proc.stdin.write(SHUTDOWN + EXIT)
        proc.stdin.close()
        code = proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for t in readers:
        t.join(timeout=10)
    stderr = b"".join(err).decode(errors="replace")
    assert "Traceback" not in stderr, stderr
    return answers(b"".join(out)), stderr, code, peak[0]


HOVER_NOWHERE = frame(
    {
        "id": 3,
        "method": "textDocument/hover",
        "params": {"textDocument": {"uri": "file:///nowhere/main.tf"}, "position": {"line": 0, "character": 0}},
    }
)

MALFORMED = {
    "huge-length": b"Content-Length: 99999999999999999999\r\n\r\n{}",
    "longer-than-any-int": b"Content-Length: " + b"9" * 5000 + b"\r\n\r\n{}",
    "over-the-limit-and-lying": b"Content-Length: 999999999999\r\n\r\n" + frame({"method": "x"}),
    "negative": b'Content-Length: -5\r\n\r\n{"a": 1}',
    "not-a-number": b'Content-Length: 0x10\r\n\r\n{"a": 1}',
    "duplicated-different": b'Content-Length: 3\r\nContent-Length: 8\r\n\r\n{"a": 1}',
    "duplicated-same": b'Content-Length: 8\r\nContent-Length: 8\r\n\r\n{"a": 1}',
    "missing": b'Content-Type: application/json\r\n\r\n{"a": 1}',
    "empty": b"Content-Length: 0\r\n\r\n",
    "endless-header-line": b"X-Filler: " + b"a" * (4 << 20) + b"\r\n\r\n",
    "endless-header-block": b"Content-Length: 8\r\n" + b"X-A: b\r\n" * 100_000 + b'\r\n{"a": 1}',
    "garbage": bytes(range(256)) * 64,
    "not-json": b"Content-Length: 5\r\n\r\n{bad}",
    "json-not-an-object": b"Content-Length: 2\r\n\r\n[]",
    "nested-json": b"Content-Length: 200000\r\n\r\n" + b"[" * 100_000 + b"]" * 100_000,
    "params-of-the-wrong-type": frame({"id": 4, "method": "textDocument/hover", "params": "x"}),
    "header-before-length": b'Content-Type: x\r\nContent-Length: 8\r\n\r\n{"a": 1}',
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_malformed_frame_is_dropped_and_the_next_message_served(tmp_path: Path, name: str) -> None:
    """A huge, negative, non-numeric, duplicated or missing Content-Length, or garbage, neither kills nor derails it."""
    ids, _, code, _ = raw_session(tmp_path, MALFORMED[name] + HOVER_NOWHERE)
    assert ids[0] == 1
    assert ids[-2:] == [3, 2]  # the request after the bad frame, then shutdown
    assert code == 0


def test_an_over_large_message_is_discarded_in_bounded_memory(tmp_path: Path) -> None:
    """A 200 MB message is skipped without being held in memory, and the next request is answered."""
    from kmslint.lsp import MAX_MESSAGE_BYTES

    text = "x" * (200 << 20)
    huge = frame(
        {
            "method": "textDocument/didOpen",
            "params": {
                "textDocument": {
                    "uri": (tmp_path / "big.json").as_uri(),
                    "languageId": "json",
                    "version": 1,
                    "text": text,
                }
            },
        }
    )
    assert len(huge) > MAX_MESSAGE_BYTES
    ids, stderr, code, peak_kb = raw_session(tmp_path, huge + HOVER_NOWHERE, timeout=180)
    assert ids == [1, 3, 2]
    assert code == 0
    assert f"over the {MAX_MESSAGE_BYTES}-byte limit" in stderr
    assert 0 < peak_kb < 200 * 1024  # the message alone is 200 MB


def test_a_request_about_a_file_never_opened_reads_nothing(tmp_path: Path) -> None:
    """Hover or code actions naming a document the editor never opened (a FIFO, /dev/zero) read nothing from disk."""
    fifo = tmp_path / "pipe.tf"
    os.mkfifo(fifo)
    client = Client(tmp_path)
    try:
        client.initialize(tmp_path)
        for uri in (fifo.as_uri(), "file:///dev/zero"):
            start = time.monotonic()
            hover = client.request(
                "textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}
            )
            actions = client.request(
                "textDocument/codeAction",
                {
                    "textDocument": {"uri": uri},
                    "range": {"start": {"line": 0, "character": 0}, "end": {"line": 9, "character": 0}},
                    "context": {"diagnostics": []},
                },
            )
            assert (hover, actions) == (None, None)
            assert time.monotonic() - start < 5
    finally:
        assert client.close() == 0
    assert "Traceback" not in client.stderr()


# --------------------------------------------------------------------------- documents


def template(keys: int) -> str:
    parts = ['AWSTemplateFormatVersion: "2010-09-09"\nResources:\n']
    for n in range(keys):
        parts.append(
            f"  Key{n}:\n"
            "    Type: AWS::KMS::Key\n"
            "    Properties:\n"
            "      BypassPolicyLockoutSafetyCheck: true\n"
            "      MultiRegion: true\n"
            "      KeyPolicy:\n"
            '        Version: "2012-10-17"\n'
            "        Statement:\n"
            "          - Sid: Admin\n"
            "            Effect: Allow\n"
            '            Principal: {AWS: "arn:aws:iam::111122223333:role/KeyAdmin"}\n'
            '            Action: ["kms:PutKeyPolicy", "kms:Describe*"]\n'
            '            Resource: "*"\n'
        )
    return "".join(parts)


KEY_LINES = 13  # lines per key in template()
BIG = 1810  # keys: a 700 KB template


def expected_actions(uri: str, n: int) -> list[tuple[str, list[tuple[int, int, int, int, str]]]]:
    """The quick fixes for key ``n`` of template(): rotation, the lockout check, the justification tag."""
    header = 2 + KEY_LINES * n  # 0-based line of `  KeyN:`
    props = header + 2
    return [
        ("Enable automatic key rotation", [(props + 1, 0, props + 1, 0, "      EnableKeyRotation: true\n")]),
        (
            "Remove BypassPolicyLockoutSafetyCheck (keep the lockout safety check)",
            [(props + 1, 0, props + 2, 0, "")],
        ),
        (
            "Add the kmslint:multi-region-justification tag (then write the reason)",
            [
                (
                    props + 3,
                    0,
                    props + 3,
                    0,
                    '      Tags:\n        - Key: "kmslint:multi-region-justification"\n'
                    '          Value: "TODO: say why this key must be multi-Region"\n',
                )
            ],
        ),
    ]


def published(params: dict[str, object]) -> list[tuple[object, int, int, int]]:
    """(code or message, line, character, severity) of each published diagnostic."""
    return [
        (d.get("code") or d["message"], d["range"]["start"]["line"], d["range"]["start"]["character"], d["severity"])
        for d in params["diagnostics"]  # type: ignore[attr-defined]
    ]


def expected_published(keys: int) -> list[tuple[object, int, int, int]]:
    """The first 1,000 findings of template(keys), then one note standing for the rest."""
    from kmslint.lsp import MAX_DIAGNOSTICS

    every = []
    for n in range(keys):
        props = 4 + KEY_LINES * n
        every += [("KMS002", props - 2, 2, 1), ("KMS009", props + 1, 6, 1), ("KMS004", props + 2, 6, 2)]
    every.sort(key=lambda d: (d[1], d[2]))
    hidden = len(every) - MAX_DIAGNOSTICS
    note = (
        f"{hidden} more findings from here on are not shown (at most {MAX_DIAGNOSTICS} per document):"
        " run kmslint on the file to see them all"
    )
    first_hidden = every[MAX_DIAGNOSTICS]
    return [*every[:MAX_DIAGNOSTICS], (note, first_hidden[1], first_hidden[2], 3)]


def actions_of(reply: list[dict[str, object]], uri: str) -> list[tuple[str, list[tuple[int, int, int, int, str]]]]:
    out = []
    for action in reply:
        edits = action["edit"]["changes"][uri]  # type: ignore[index]
        out.append(
            (
                action["title"],
                [
                    (
                        e["range"]["start"]["line"],
                        e["range"]["start"]["character"],
                        e["range"]["end"]["line"],
                        e["range"]["end"]["character"],
                        e["newText"],
                    )
                    for e in edits
                ],
            )
        )
    return out


def code_actions(client: Client, uri: str, first: int, last: int, timeout: float = 30) -> list[dict[str, object]]:
    result = client.request(
        "textDocument/codeAction",
        {
            "textDocument": {"uri": uri},
            "range": {"start": {"line": first, "character": 0}, "end": {"line": last, "character": 0}},
            "context": {"diagnostics": []},
        },
        timeout=timeout,
    )
    assert isinstance(result, list)
    return result


def test_code_actions_on_a_700_kb_template_are_fast(tmp_path: Path) -> None:
    """Quick fixes for a 700 KB template with thousands of findings come back in well under a second per request."""
    from kmslint.lsp import MAX_CODE_ACTIONS

    text = template(BIG)
    assert len(text) > 700_000
    client = Client(tmp_path)
    try:
        client.initialize(tmp_path)
        uri = client.open(tmp_path / "big.yaml", text, "yaml")
        _, params = client.diagnostics(uri, timeout=120)
        assert published(params) == expected_published(BIG)
        # One resource, in the middle of the document: exactly its three fixes.
        start = time.monotonic()
        reply = code_actions(client, uri, 2 + KEY_LINES * 900, 2 + KEY_LINES * 900 + 4)
        assert time.monotonic() - start < 3
        assert actions_of(reply, uri) == expected_actions(uri, 900)
        # The whole document: the first fixes, at most MAX_CODE_ACTIONS (fewer if the time budget runs out).
        start = time.monotonic()
        reply = code_actions(client, uri, 0, len(text.split("\n")))
        assert time.monotonic() - start < 5
        got = actions_of(reply, uri)
        wanted = [a for n in range(BIG) for a in expected_actions(uri, n)]
        assert got and got == wanted[: len(got)]
        assert len(got) <= MAX_CODE_ACTIONS
    finally:
        assert client.close() == 0
    assert "Traceback" not in client.stderr()


@pytest.mark.parametrize("limit", ["config", "default"])
def test_a_document_over_the_size_limit_gets_one_diagnostic_and_is_not_linted(tmp_path: Path, limit: str) -> None:
    """A document over max_file_bytes (configured, or the 4 MiB default) gets one KMS000 diagnostic saying so."""
    if limit == "config":
        (tmp_path / ".kmslint.toml").write_text("max-file-bytes = 2000\n")
        text, size_limit = template(6), 2000
    else:
        text, size_limit = template(11_000), 4 * 1024 * 1024
    size = len(text.encode())
    assert size > size_limit
    client = Client(tmp_path)
    try:
        client.initialize(tmp_path)
        uri = client.open(tmp_path / "big.yaml", text, "yaml")
        _, params = client.diagnostics(uri, timeout=120)
        assert [(d["code"], d["severity"], d["range"]["start"], d["message"]) for d in params["diagnostics"]] == [
            (
                "KMS000",
                1,
                {"line": 0, "character": 0},
                f"the document is {size} bytes, over the {size_limit}-byte limit (max_file_bytes): not linted",
            )
        ]
        assert code_actions(client, uri, 0, 40) == []
        hover = client.request(
            "textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": 4, "character": 8}}
        )
        assert hover is None
    finally:
        assert client.close() == 0
    assert "Traceback" not in client.stderr()


def test_a_slow_lint_does_not_hold_up_requests_on_other_documents(tmp_path: Path) -> None:
    """While a large document is linted, requests on other documents answer at once (or within 2 s, without it)."""
    client = Client(tmp_path)
    small = tmp_path / "small.tf"
    big_text = template(10_000)  # just under 4 MiB: seconds of linting
    assert len(big_text.encode()) < 4 * 1024 * 1024
    try:
        client.initialize(tmp_path)
        small_uri = client.open(small, KEY_WITHOUT_ROTATION, "terraform")
        _, params = client.diagnostics(small_uri)
        assert [d["code"] for d in params["diagnostics"]] == ["KMS001", "KMS002"]
        big_uri = client.open(tmp_path / "big.yaml", big_text, "yaml")
        time.sleep(0.5)  # its lint has started
        start = time.monotonic()
        hover = client.request(
            "textDocument/hover", {"textDocument": {"uri": small_uri}, "position": {"line": 0, "character": 3}}
        )
        reply = code_actions(client, small_uri, 0, 2)
        assert time.monotonic() - start < 1.5
        assert "KMS002 rotation-disabled" in hover["contents"]["value"]
        assert [a["title"] for a in reply] == ["Enable automatic key rotation"]
        # Edited meanwhile: its new lint waits behind the large one, and requests do not.
        fixed = KEY_WITHOUT_ROTATION.replace("{\n", "{\n  enable_key_rotation = true\n", 1)
        client.change(small_uri, 2, fixed)
        start = time.monotonic()
        for uri, line in ((small_uri, 0), (big_uri, 2)):
            hover = client.request(
                "textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": line, "character": 3}}
            )
            actions = client.request(
                "textDocument/codeAction",
                {
                    "textDocument": {"uri": uri},
                    "range": {"start": {"line": 0, "character": 0}, "end": {"line": 3, "character": 0}},
                    "context": {"diagnostics": []},
                },
            )
            # Not linted yet (None: not waited for), or linted already: never an answer about the old text.
            if uri == small_uri:
                assert actions is None or "Enable automatic key rotation" not in [a["title"] for a in actions]
                assert hover is None or "KMS002" not in hover["contents"]["value"]
        assert time.monotonic() - start < 4 * 2 + 2  # each request waits at most 2 s for its own lint
        _, params = client.diagnostics(big_uri, timeout=180)
        assert published(params) == expected_published(10_000)
        _, params = client.diagnostics(small_uri, timeout=60)
        assert [d["code"] for d in params["diagnostics"]] == ["KMS001"]
    finally:
        assert client.close() == 0
    assert "Traceback" not in client.stderr()


def test_a_document_with_a_lone_surrogate_still_gets_its_diagnostics(tmp_path: Path) -> None:
    """A lone UTF-16 surrogate (JSON can carry one) in a document does not stop its diagnostics or hover."""
    client = Client(tmp_path)
    try:
        client.initialize(tmp_path)
        # json.dumps writes the lone surrogate as the escape \ud800, as an editor would.
        uri = client.open(
            tmp_path / "main.tf", 'resource "aws_kms_key" "a\ud800b" {\n  description = "a"\n}\n', "terraform"
        )
        _, params = client.diagnostics(uri)
        assert [(d["code"], d["range"]["start"], d["range"]["end"]) for d in params["diagnostics"]] == [
            ("KMS001", {"line": 0, "character": 0}, {"line": 0, "character": 30}),
            ("KMS002", {"line": 0, "character": 0}, {"line": 0, "character": 30}),
        ]
        hover = client.request(
            "textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 27}}
        )
        assert "KMS002 rotation-disabled" in hover["contents"]["value"]
    finally:
        assert client.close() == 0
    assert "Traceback" not in client.stderr()
