"""The language server, end to end over stdio with a small JSON-RPC client, and its quick fixes.

The client below speaks LSP's base protocol (``Content-Length`` framed
JSON-RPC) to ``python -m kmslint lsp`` in a subprocess, as an editor does.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import pytest

from kmslint import lsp as kls
from kmslint.model import Finding
from tests.conftest import ROOT

pytest.importorskip("pygls", reason="the language server needs the lsp extra (pip install -e '.[lsp]')")


# --------------------------------------------------------------------------- a JSON-RPC client


class Client:
    def __init__(self, cwd: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kmslint", "lsp", *args],
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.inbox: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        self.notifications: list[tuple[float, dict[str, Any]]] = []
        self.next_id = 0
        assert self.proc.stdout is not None
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()

    def _read(self, stream: IO[bytes]) -> None:
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value.strip())
            assert length is not None
            self.inbox.put((time.monotonic(), json.loads(stream.read(length))))

    def send(self, message: dict[str, Any]) -> float:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()
        return time.monotonic()

    def notify(self, method: str, params: dict[str, Any]) -> float:
        return self.send({"method": method, "params": params})

    def _take(self, timeout: float) -> tuple[float, dict[str, Any]] | None:
        try:
            when, msg = self.inbox.get(timeout=timeout)
        except queue.Empty:
            return None
        if "method" in msg and "id" in msg:  # a request from the server: accept it
            self.send({"id": msg["id"], "result": None})
        elif "method" in msg:
            self.notifications.append((when, msg))
        return when, msg

    def request(self, method: str, params: dict[str, Any], timeout: float = 30) -> Any:
        self.next_id += 1
        my_id = self.next_id
        self.send({"id": my_id, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self._take(deadline - time.monotonic())
            if got is not None and got[1].get("id") == my_id and "method" not in got[1]:
                assert "error" not in got[1], got[1]
                return got[1].get("result")
        raise AssertionError(f"no answer to {method} in {timeout} s; stderr: {self.stderr()}")

    def diagnostics(self, uri: str, timeout: float = 30, after: float = 0.0) -> tuple[float, dict[str, Any]]:
        """The next publishDiagnostics for ``uri`` received after time ``after``."""
        deadline = time.monotonic() + timeout
        while True:
            for i, (when, msg) in enumerate(self.notifications):
                if msg["method"] == "textDocument/publishDiagnostics" and msg["params"]["uri"] == uri and when >= after:
                    del self.notifications[i]
                    return when, msg["params"]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no diagnostics for {uri} in {timeout} s; stderr: {self.stderr()}")
            self._take(min(remaining, 0.1))

    def drain(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self._take(max(end - time.monotonic(), 0.01))

    def published(self, uri: str) -> list[dict[str, Any]]:
        return [
            m["params"]
            for _, m in self.notifications
            if m["method"] == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri
        ]

    def stderr(self) -> str:
        if self.proc.poll() is None:
            return "(still running)"
        assert self.proc.stderr is not None
        return self.proc.stderr.read().decode(errors="replace")[-3000:]

    def initialize(self, root: Path) -> dict[str, Any]:
        result = self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root.as_uri(),
                "capabilities": {
                    "textDocument": {
                        "publishDiagnostics": {"versionSupport": True, "codeDescriptionSupport": True},
                        "hover": {"contentFormat": ["markdown", "plaintext"]},
                        "codeAction": {
                            "codeActionLiteralSupport": {"codeActionKind": {"valueSet": ["quickfix"]}},
                        },
                        "synchronization": {"didSave": True},
                    }
                },
            },
        )
        self.notify("initialized", {})
        assert isinstance(result, dict)
        return result

    def open(self, path: Path, text: str, language: str, version: int = 1) -> str:
        uri = path.as_uri()
        self.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": language, "version": version, "text": text}},
        )
        return uri

    def change(self, uri: str, version: int, text: str) -> float:
        return self.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]},
        )

    def close(self) -> int:
        try:
            if self.proc.poll() is None:
                self.request("shutdown", {}, timeout=10)
                self.notify("exit", {})
            return self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()


def apply_text_edits(text: str, edits: list[dict[str, Any]]) -> str:
    """Apply LSP TextEdits (ASCII text here, so UTF-16 units are characters)."""
    ordered = sorted(edits, key=lambda e: (e["range"]["start"]["line"], e["range"]["start"]["character"]))
    return kls.apply_edits(
        text,
        [
            kls.Edit(
                e["range"]["start"]["line"],
                e["range"]["start"]["character"],
                e["range"]["end"]["line"],
                e["range"]["end"]["character"],
                e["newText"],
            )
            for e in ordered
        ],
    )


KEY_WITHOUT_ROTATION = """\
resource "aws_kms_key" "orders" {
  description = "orders table"
}
"""

POLICY_TF = """\
data "aws_caller_identity" "current" {}

resource "aws_kms_key_policy" "orders" {
  key_id = aws_kms_key.orders.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "KeyAdministrators"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/KeyAdmin" }
      Action    = ["kms:PutKeyPolicy", "kms:Describe*"]
      Resource  = "*"
    }]
  })
}
"""

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  SharedKey:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: true
      BypassPolicyLockoutSafetyCheck: true
      MultiRegion: true
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Sid: KeyAdministrators
            Effect: Allow
            Principal: {AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/KeyAdmin"}
            Action: ["kms:PutKeyPolicy", "kms:Describe*"]
            Resource: "*"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "main.tf").write_text("# saved version\n")
    (tmp_path / "infra" / "policy.tf").write_text(POLICY_TF)
    (tmp_path / "stacks").mkdir()
    return tmp_path


@pytest.mark.slow
def test_language_server_end_to_end(project: Path) -> None:
    client = Client(project)
    try:
        init = client.initialize(project)
        caps = init["capabilities"]
        assert init["serverInfo"]["name"] == "kmslint"
        assert caps["hoverProvider"]
        assert caps["codeActionProvider"]["codeActionKinds"] == ["quickfix"]

        # Open: diagnostics at once; the key's policy comes from policy.tf on disk, so no KMS001.
        main = project / "infra" / "main.tf"
        uri = client.open(main, KEY_WITHOUT_ROTATION, "terraform")
        _, params = client.diagnostics(uri)
        assert params["version"] == 1
        [diag] = params["diagnostics"]
        assert diag["code"] == "KMS002"
        assert diag["source"] == "kmslint"
        assert diag["severity"] == 1  # Error: KMS002 is high
        assert diag["codeDescription"]["href"].endswith("/docs/rules.md#kms002-rotation-disabled")
        assert diag["range"]["start"] == {"line": 0, "character": 0}
        assert "enable_key_rotation" in diag["message"]

        # Hover on the diagnostic: the rule's explanation.
        hover = client.request(
            "textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 3}}
        )
        assert hover["contents"]["kind"] == "markdown"
        assert "KMS002 rotation-disabled" in hover["contents"]["value"]
        assert "Why it matters" in hover["contents"]["value"]
        assert "How to fix" in hover["contents"]["value"]
        # Only the examples in the document's own syntax: a screenful, not every syntax's.
        assert "(terraform)" in hover["contents"]["value"]
        assert "(cloudformation)" not in hover["contents"]["value"]
        assert len(hover["contents"]["value"].splitlines()) < 45
        nothing = client.request(
            "textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": 2, "character": 0}}
        )
        assert nothing is None

        # Code action: enable rotation, applied as the editor would, then typed in as a change.
        actions = client.request(
            "textDocument/codeAction",
            {"textDocument": {"uri": uri}, "range": diag["range"], "context": {"diagnostics": [diag]}},
        )
        [action] = actions
        assert action["title"] == "Enable automatic key rotation"
        assert action["kind"] == "quickfix"
        assert action["diagnostics"][0]["code"] == "KMS002"
        fixed = apply_text_edits(KEY_WITHOUT_ROTATION, action["edit"]["changes"][uri])
        assert "  enable_key_rotation = true\n" in fixed

        # Change: debounced (300 ms by default).
        sent = client.change(uri, 2, fixed)
        when, params = client.diagnostics(uri, after=sent)
        assert params["version"] == 2
        assert params["diagnostics"] == []
        assert when - sent >= 0.25

        # A burst of changes is linted once, at its last version.
        client.notifications.clear()
        start = client.change(uri, 3, KEY_WITHOUT_ROTATION)
        client.change(uri, 4, fixed)
        client.change(uri, 5, KEY_WITHOUT_ROTATION)
        _, params = client.diagnostics(uri, after=start)
        client.drain(0.8)
        assert [p["version"] for p in [params, *client.published(uri)]] == [5]
        assert [d["code"] for d in params["diagnostics"]] == ["KMS002"]

        # Close: diagnostics cleared.
        client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        _, params = client.diagnostics(uri)
        assert params["diagnostics"] == []
    finally:
        code = client.close()
    assert code == 0


@pytest.mark.slow
def test_save_lints_at_once_and_cloudformation_quick_fixes(project: Path) -> None:
    client = Client(project, "--debounce-ms", "5000")
    try:
        client.initialize(project)
        template = project / "stacks" / "kms.yaml"
        uri = client.open(template, TEMPLATE, "yaml")
        _, params = client.diagnostics(uri)
        diags = params["diagnostics"]
        codes = sorted(d["code"] for d in diags)
        assert "KMS009" in codes and "KMS004" in codes, codes
        by_code = {d["code"]: d for d in diags}
        assert by_code["KMS009"]["range"]["start"]["line"] == 6
        assert by_code["KMS004"]["severity"] == 2  # Warning: KMS004 is medium

        whole = {"start": {"line": 0, "character": 0}, "end": {"line": 20, "character": 0}}
        actions = client.request(
            "textDocument/codeAction",
            {"textDocument": {"uri": uri}, "range": whole, "context": {"diagnostics": diags}},
        )
        titles = sorted(a["title"] for a in actions)
        assert titles == [
            "Add the kmslint:multi-region-justification tag (then write the reason)",
            "Remove BypassPolicyLockoutSafetyCheck (keep the lockout safety check)",
        ]
        edits = [e for a in actions for e in a["edit"]["changes"][uri]]
        fixed = apply_text_edits(TEMPLATE, edits)
        assert "BypassPolicyLockoutSafetyCheck" not in fixed
        assert '- Key: "kmslint:multi-region-justification"' in fixed

        # With a 5 s debounce, a change alone publishes nothing for a while...
        client.notifications.clear()
        sent = client.change(uri, 2, fixed)
        client.drain(1.0)
        assert client.published(uri) == []
        # ... and a save lints at once.
        client.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
        when, params = client.diagnostics(uri, after=sent)
        assert when - sent < 4.0
        assert params["version"] == 2
        assert sorted(d["code"] for d in params["diagnostics"]) == sorted(
            c
            for c in codes
            if c != "KMS009"  # KMS004 stays until the placeholder is replaced by a reason
        )
    finally:
        assert client.close() == 0


@pytest.mark.slow
def test_configuration_applies_and_a_bad_one_is_reported(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()  # the repository root: configuration lookup stops here
    good = tmp_path / "good"
    bad = tmp_path / "bad"
    for d in (good, bad):
        d.mkdir()
    (good / ".kmslint.toml").write_text('ignore = ["KMS002"]\n')
    (bad / ".kmslint.toml").write_text("select = 3\n")
    client = Client(tmp_path)
    try:
        client.initialize(tmp_path)
        uri = client.open(good / "main.tf", KEY_WITHOUT_ROTATION, "terraform")
        _, params = client.diagnostics(uri)
        assert [d["code"] for d in params["diagnostics"]] == ["KMS001"]  # KMS002 ignored by the config
        uri = client.open(bad / "main.tf", KEY_WITHOUT_ROTATION, "terraform")
        _, params = client.diagnostics(uri)
        assert [d["code"] for d in params["diagnostics"]] == ["KMS001", "KMS002"]  # defaults
        shown = [m["params"] for _, m in client.notifications if m["method"] == "window/showMessage"]
        assert len(shown) == 1 and "select" in shown[0]["message"], shown
    finally:
        assert client.close() == 0


@pytest.mark.slow
def test_missing_pygls_is_a_clear_error(tmp_path: Path) -> None:
    fake = tmp_path / "fake" / "pygls"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('raise ImportError("no pygls here")\n')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(fake.parent), str(ROOT)])}
    proc = subprocess.run(
        [sys.executable, "-m", "kmslint", "lsp"],
        cwd=tmp_path,
        env=env,
        input=b"",
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "pip install 'kmslint[lsp]'" in proc.stderr.decode()


# --------------------------------------------------------------------------- quick fixes, without a server


def lint(path: str, text: str, select: str = "ALL") -> list[Finding]:
    from kmslint.settings import Settings

    return kls.lint_text(path, text, Settings(select=frozenset({select})))


def fix_and_relint(tmp_path: Path, name: str, text: str, rule: str) -> str:
    """Apply the one fix offered for ``rule``; the fixed text must parse and no longer have that
    finding (KMS004's fix adds a placeholder, which keeps it until the reason is written)."""
    path = str(tmp_path / name)
    [target] = [f for f in lint(path, text) if f.rule_id == rule]
    [fix] = kls.fixes_for(target, text)
    fixed = kls.apply_edits(text, fix.edits)
    after = lint(path, fixed)
    if rule == "KMS004":
        [still] = [f for f in after if f.rule_id == rule]
        assert "tag is still a placeholder; write the reason there" in still.message
        reason = fixed.replace(kls.JUSTIFICATION_PLACEHOLDER, "replicated for the orders global table")
        assert rule not in {f.rule_id for f in lint(path, reason)}, reason
    else:
        assert rule not in {f.rule_id for f in after}, fixed
    assert "KMS000" not in {f.rule_id for f in after}, fixed
    return fixed


@pytest.mark.parametrize(
    ("name", "text", "rule", "expected"),
    [
        (
            "main.tf",
            'resource "aws_kms_key" "a" {\n  description         = "a"\n  enable_key_rotation = false\n}\n',
            "KMS002",
            'resource "aws_kms_key" "a" {\n  description         = "a"\n  enable_key_rotation = true\n}\n',
        ),
        (
            "main.tf",
            'resource "aws_kms_key" "a" {}\n',
            "KMS002",
            'resource "aws_kms_key" "a" {\n  enable_key_rotation = true\n}\n',
        ),
        (
            "main.tf",
            '  resource "aws_kms_key" "a" { } # to do\n',
            "KMS002",
            '  resource "aws_kms_key" "a" {\n    enable_key_rotation = true\n  } # to do\n',
        ),
        (
            "main.tf",
            'resource "aws_kms_key" "a" {\n    description = "a"\n}\n',
            "KMS002",
            'resource "aws_kms_key" "a" {\n    enable_key_rotation = true\n    description = "a"\n}\n',
        ),
        (
            "main.tf",
            'resource "aws_kms_key" "a" {\n  enable_key_rotation = true\n'
            "  bypass_policy_lockout_safety_check = true # why not\n}\n",
            "KMS009",
            'resource "aws_kms_key" "a" {\n  enable_key_rotation = true\n}\n',
        ),
        (
            "main.tf",
            'resource "aws_kms_key" "a" {\n  enable_key_rotation = true\n  multi_region        = true\n}\n',
            "KMS004",
            'resource "aws_kms_key" "a" {\n  enable_key_rotation = true\n  multi_region        = true\n'
            '  tags = {\n    "kmslint:multi-region-justification" = "TODO: say why this key must be multi-Region"\n'
            "  }\n}\n",
        ),
        (
            "main.tf",
            'resource "aws_kms_key" "a" {\n  enable_key_rotation = true\n  multi_region        = true\n'
            '  tags = {\n    team = "orders"\n  }\n}\n',
            "KMS004",
            'resource "aws_kms_key" "a" {\n  enable_key_rotation = true\n  multi_region        = true\n'
            '  tags = {\n    "kmslint:multi-region-justification" = "TODO: say why this key must be multi-Region"\n'
            '    team = "orders"\n  }\n}\n',
        ),
        (
            "t.yaml",
            "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: false # off\n",
            "KMS002",
            "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: true # off\n",
        ),
        (
            "t.yaml",
            "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      Description: x\n",
            "KMS002",
            "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: true\n"
            "      Description: x\n",
        ),
        (
            "t.yaml",
            "Resources:\n  Key:\n    Type: AWS::KMS::Key\n",
            "KMS002",
            "Resources:\n  Key:\n    Properties:\n      EnableKeyRotation: true\n    Type: AWS::KMS::Key\n",
        ),
        (
            "t.yaml",
            "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: true\n"
            "      MultiRegion: true\n      Tags:\n      - Key: team\n        Value: orders\n",
            "KMS004",
            "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: true\n"
            '      MultiRegion: true\n      Tags:\n      - Key: "kmslint:multi-region-justification"\n'
            '        Value: "TODO: say why this key must be multi-Region"\n      - Key: team\n        Value: orders\n',
        ),
        (
            "t.yaml",
            "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: true\n"
            "      MultiRegion: true\n",
            "KMS004",
            "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: true\n"
            '      MultiRegion: true\n      Tags:\n        - Key: "kmslint:multi-region-justification"\n'
            '          Value: "TODO: say why this key must be multi-Region"\n',
        ),
        (
            "t.json",
            '{\n  "Resources": {\n    "Key": {\n      "Type": "AWS::KMS::Key",\n      "Properties": {\n'
            '        "EnableKeyRotation": true,\n        "BypassPolicyLockoutSafetyCheck": true\n'
            "      }\n    }\n  }\n}\n",
            "KMS009",
            '{\n  "Resources": {\n    "Key": {\n      "Type": "AWS::KMS::Key",\n      "Properties": {\n'
            '        "EnableKeyRotation": true\n      }\n    }\n  }\n}\n',
        ),
        (
            "t.json",
            '{\n  "Resources": {\n    "Key": {\n      "Type": "AWS::KMS::Key",\n      "Properties": {\n'
            '        "Description": "x"\n      }\n    }\n  }\n}\n',
            "KMS002",
            '{\n  "Resources": {\n    "Key": {\n      "Type": "AWS::KMS::Key",\n      "Properties": {\n'
            '        "EnableKeyRotation": true,\n        "Description": "x"\n      }\n    }\n  }\n}\n',
        ),
        (
            "t.json",
            '{\n  "Resources": {\n    "Key": {\n      "Type": "AWS::KMS::Key",\n      "Properties": {\n'
            '        "EnableKeyRotation": "false"\n      }\n    }\n  }\n}\n',
            "KMS002",
            '{\n  "Resources": {\n    "Key": {\n      "Type": "AWS::KMS::Key",\n      "Properties": {\n'
            '        "EnableKeyRotation": true\n      }\n    }\n  }\n}\n',
        ),
    ],
)
def test_quick_fix(tmp_path: Path, name: str, text: str, rule: str, expected: str) -> None:
    assert fix_and_relint(tmp_path, name, text, rule) == expected


JSON_KEY = (
    '{\n  "Resources": {\n    "K": {\n      "Type": "AWS::KMS::Key",\n      "Properties": {\n%s\n      }\n'
    "    }\n  }\n}\n"
)


@pytest.mark.parametrize(
    ("name", "text", "rule", "expected"),
    [
        # Properties written on one line: the entry goes in after the brace.
        (
            "t.json",
            '{"Resources": {"K": {"Type": "AWS::KMS::Key", "Properties": {}}}}\n',
            "KMS002",
            '{"Resources": {"K": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": true}}}}\n',
        ),
        # No Properties at all: they are added, first in the resource.
        (
            "t.json",
            '{\n  "Resources": {\n    "K": {\n      "Type": "AWS::KMS::Key"\n    }\n  }\n}\n',
            "KMS002",
            '{\n  "Resources": {\n    "K": {\n      "Properties": {"EnableKeyRotation": true},\n'
            '      "Type": "AWS::KMS::Key"\n    }\n  }\n}\n',
        ),
        # A YAML flow mapping takes a JSON entry, which YAML reads too.
        (
            "t.yaml",
            "Resources:\n  K:\n    Type: AWS::KMS::Key\n    Properties: {Description: x}\n",
            "KMS002",
            'Resources:\n  K:\n    Type: AWS::KMS::Key\n    Properties: {"EnableKeyRotation": true, Description: x}\n',
        ),
        # A comment after the block's brace.
        (
            "main.tf",
            'resource "aws_kms_key" "a" { # note\n  description = "a"\n}\n',
            "KMS002",
            'resource "aws_kms_key" "a" { # note\n  enable_key_rotation = true\n  description = "a"\n}\n',
        ),
        # JSON tags: a new Tags entry before MultiRegion (so the comma is right), or an item first in the list.
        (
            "t.json",
            JSON_KEY % '        "EnableKeyRotation": true,\n        "MultiRegion": true',
            "KMS004",
            JSON_KEY
            % (
                '        "EnableKeyRotation": true,\n        "Tags": [{"Key": "kmslint:multi-region-justification", '
                '"Value": "TODO: say why this key must be multi-Region"}],\n        "MultiRegion": true'
            ),
        ),
        (
            "t.json",
            JSON_KEY % '        "EnableKeyRotation": true,\n        "MultiRegion": true,\n        "Tags": [\n'
            '          {"Key": "team", "Value": "x"}\n        ]',
            "KMS004",
            JSON_KEY
            % (
                '        "EnableKeyRotation": true,\n        "MultiRegion": true,\n        "Tags": [\n'
                '          {"Key": "kmslint:multi-region-justification", "Value": "TODO: say why this key must be '
                'multi-Region"},\n          {"Key": "team", "Value": "x"}\n        ]'
            ),
        ),
        # The only property removed: an empty object stays valid JSON.
        (
            "t.json",
            JSON_KEY % '        "BypassPolicyLockoutSafetyCheck": true',
            "KMS009",
            JSON_KEY.replace("%s\n", ""),
        ),
    ],
)
def test_quick_fix_placed_by_the_model(tmp_path: Path, name: str, text: str, rule: str, expected: str) -> None:
    assert fix_and_relint(tmp_path, name, text, rule) == expected


def test_no_fix_where_the_value_is_not_written_there(tmp_path: Path) -> None:
    """A value from elsewhere (a variable, a caller, a condition) is not edited at the attribute,
    nor is a key whose text is not where a person edits it (plan JSON, .tf.json)."""
    conditional = (
        "Conditions:\n  East: !Equals [!Ref AWS::Region, us-east-1]\nResources:\n  K:\n    Type: AWS::KMS::Key\n"
    )
    cases = [
        (
            "main.tf",
            'variable "r" {\n  default = false\n}\nresource "aws_kms_key" "a" {\n  enable_key_rotation = var.r\n}\n',
        ),
        ("t.yaml", conditional + "    Properties:\n      EnableKeyRotation: !If [East, false, true]\n"),
        # rotation must not be switched on for a key that may be asymmetric
        ("t.yaml", conditional + "    Properties:\n      KeySpec: !If [East, SYMMETRIC_DEFAULT, HMAC_256]\n"),
        ("main.tf.json", '{"resource": {"aws_kms_key": {"a": {"description": "a"}}}}\n'),
        (
            "plan.json",
            '{"format_version": "1.2", "planned_values": {"root_module": {"resources": [{"address": "aws_kms_key.a",'
            ' "mode": "managed", "type": "aws_kms_key", "name": "a", "values": {"enable_key_rotation": false}}]}},'
            ' "resource_changes": [{"address": "aws_kms_key.a", "mode": "managed", "type": "aws_kms_key",'
            ' "name": "a", "change": {"actions": ["create"], "after": {"enable_key_rotation": false}}}]}\n',
        ),
    ]
    for name, text in cases:
        path = str(tmp_path / name)
        targets = [f for f in lint(path, text) if f.rule_id == "KMS002"]
        assert targets, text
        assert all(kls.fixes_for(f, text) == [] for f in targets), text


def test_no_fix_for_a_module_key_from_its_caller(tmp_path: Path) -> None:
    """The caller's literal is where the finding is; the key's block is in another file."""
    (tmp_path / "kms").mkdir()
    (tmp_path / "kms" / "main.tf").write_text(
        'variable "multi" {}\nresource "aws_kms_key" "k" {\n'
        "  enable_key_rotation = true\n  multi_region = var.multi\n}\n"
    )
    text = 'module "kms" {\n  source = "./kms"\n  multi  = true\n}\n'
    (tmp_path / "main.tf").write_text(text)
    path = str(tmp_path / "main.tf")
    [target] = [f for f in lint(path, text) if f.rule_id == "KMS004"]
    assert kls.fixes_for(target, text) == []


def test_no_second_placeholder_tag(tmp_path: Path) -> None:
    text = (
        "Resources:\n  K:\n    Type: AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: true\n"
        "      MultiRegion: true\n      Tags:\n        - Key: kmslint:multi-region-justification\n"
        "          Value: TODO\n"
    )
    path = str(tmp_path / "t.yaml")
    [target] = [f for f in lint(path, text) if f.rule_id == "KMS004"]
    assert kls.fixes_for(target, text) == []


def test_no_fix_where_a_line_edit_is_not_safe(tmp_path: Path) -> None:
    cases = [
        # a one-line tags map: a person decides how to lay it out.
        (
            "main.tf",
            'resource "aws_kms_key" "a" {\n  enable_key_rotation = true\n  multi_region = true\n'
            '  tags = { team = "x" }\n}\n',
            "KMS004",
        ),
        # the only property: removing it would leave `Properties:` empty.
        (
            "t.yaml",
            "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n"
            "      BypassPolicyLockoutSafetyCheck: true\n",
            "KMS009",
        ),
    ]
    for name, text, rule in cases:
        path = str(tmp_path / name)
        [target] = [f for f in lint(path, text) if f.rule_id == rule]
        assert kls.fixes_for(target, text) == [], text


def test_crlf_text_keeps_its_line_endings(tmp_path: Path) -> None:
    text = 'resource "aws_kms_key" "a" {\r\n  description = "a"\r\n}\r\n'
    fixed = fix_and_relint(tmp_path, "main.tf", text, "KMS002")
    assert fixed == 'resource "aws_kms_key" "a" {\r\n  enable_key_rotation = true\r\n  description = "a"\r\n}\r\n'


def test_diagnostic_columns_are_utf16() -> None:
    pytest.importorskip("lsprotocol")
    line = '{"Sid": "\U0001f600é", "x": 1}'
    f = Finding(
        file="p.json",
        line=1,
        column=line.index("x") + 1,
        rule_id="KMS003",
        resource="",
        message="m",
        end_line=1,
        end_column=len(line) + 1,
        slug="wildcard-principal",
        severity=kls.Severity.CRITICAL,
    )
    diag = kls.to_diagnostic(f, [line])
    assert diag.range.start.character == line.index("x") + 1  # the emoji is two UTF-16 units
    assert diag.range.end.character == len(line) + 1
    assert diag.severity is not None and diag.severity.value == 1


def test_display_path() -> None:
    assert kls.display_path("/work/x/main.tf", "/work") == os.path.join("x", "main.tf")
    assert kls.display_path("/elsewhere/main.tf", "/work") == "/elsewhere/main.tf"


# --------------------------------------------------------------------------- framing, without a server


def _frames(reader: kls.FrameReader) -> list[bytes]:
    """The bodies pygls would get from ``reader``, read as pygls reads them."""
    bodies = []
    while True:
        header = reader.readline()
        if not header:
            return bodies
        assert header.startswith(b"Content-Length: ") and header.endswith(b"\r\n")
        assert reader.readline() == b"\r\n"
        bodies.append(reader.read(int(header[16:-2])))


def _framed(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


FRAMING_CASES = {
    "none": (b"", [], []),
    "content-type-first": (b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n", [], []),
    "huge": (
        b"Content-Length: 99999999999999999999\r\n\r\n{}",
        [],
        [
            "dropped a message: 99999999999999999999 bytes, over the 1000-byte limit",
            "dropped 2 bytes that were not a message",
        ],
    ),
    "negative": (b"Content-Length: -5\r\n\r\n{}", [], ["dropped 24 bytes that were not a message"]),
    "duplicated": (
        b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
        [],
        ["dropped a message: Content-Length given twice", "dropped 2 bytes that were not a message"],
    ),
    "empty": (b"Content-Length: 0\r\n\r\n", [], ["dropped a message: an empty message"]),
    "endless-header-line": (
        b"Content-Length: 2\r\nX-" + b"y" * 2000 + b"\r\n\r\n{}",
        [],
        ["dropped a message: a header block that does not end", "dropped 2008 bytes that were not a message"],
    ),
    "message-inside-a-broken-line": (
        b"Content-Length: 2\r\n{not a header}Content-Length: 2\r\n\r\n{}",
        [b"{}"],
        ["dropped a message: a broken header line", "dropped 14 bytes that were not a message"],
    ),
}


@pytest.mark.parametrize("case", sorted(FRAMING_CASES))
def test_frame_reader_drops_what_is_not_a_message(case: str) -> None:
    """Whatever precedes a well-formed message is dropped with a report, and the message comes through whole."""
    import io

    before, found, reports = FRAMING_CASES[case]
    said: list[str] = []
    body = b'{"jsonrpc": "2.0", "method": "initialized", "params": {}}'
    reader = kls.FrameReader(io.BytesIO(before + _framed(body) + _framed(b"[1]")), limit=1000, report=said.append)
    assert _frames(reader) == [*found, body, b"[1]"]
    assert said == reports


def test_frame_reader_skips_an_over_large_message_in_chunks() -> None:
    """A message over the limit is skipped while reading at most a chunk at a time, and the next one is served."""
    import io

    class Stream(io.RawIOBase):
        """A stream that counts the largest read asked of it."""

        def __init__(self, data: bytes) -> None:
            self.data = memoryview(data)
            self.largest = 0

        def readable(self) -> bool:
            return True

        def read1(self, n: int = -1) -> bytes:
            self.largest = max(self.largest, n)
            out, self.data = bytes(self.data[:n]), self.data[n:]
            return out

    body = b'{"text": "' + b"x" * (8 << 20) + b'"}'
    stream = Stream(_framed(body) + _framed(b"{}"))
    said: list[str] = []
    reader = kls.FrameReader(stream, limit=1 << 20, report=said.append)
    assert _frames(reader) == [b"{}"]
    assert stream.largest <= 1 << 16
    assert said == [
        f"dropped a message: {len(body)} bytes, over the 1048576-byte limit",
        f"dropped {len(body)} bytes that were not a message",
    ]
