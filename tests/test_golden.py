"""Every output format, byte for byte, on one input set (``fixtures/golden/input/``).

The CLI runs from the repository root on the relative path, as a user
would.  ``pytest --update-golden`` rewrites ``fixtures/golden/expected.*``
from the current output; review the diff before committing it.

The rule selection is pinned so that adding a rule to the catalogue does
not change these files; messages and rule docs still do (refresh them then).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from kmslint.formatters import FORMATS
from tests.conftest import FIXTURES, ROOT

GOLDEN = FIXTURES / "golden"
INPUT = "fixtures/golden/input"
SELECT = "KMS000,KMS001,KMS002,KMS003,KMS004,KMS900"


def run_cli(fmt: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "kmslint",
            "--format",
            fmt,
            "--select",
            SELECT,
            "--show-suppressed",
            "--no-color",
            INPUT,
        ],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        check=False,
    )


def test_golden_covers_every_format() -> None:
    expected = {p.name.removeprefix("expected.") for p in GOLDEN.glob("expected.*")}
    assert expected == set(FORMATS)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_golden(fmt: str, update_golden: bool) -> None:
    proc = run_cli(fmt)
    assert proc.returncode == 1, proc.stderr.decode()
    path = GOLDEN / f"expected.{fmt}"
    if update_golden:
        path.write_bytes(proc.stdout)
    assert path.exists(), f"{path} is missing: run `pytest tests/test_golden.py --update-golden`"
    expected = path.read_bytes()
    assert proc.stdout == expected, (
        f"--format {fmt} output differs from {path.relative_to(ROOT)}; if the change is intended, "
        "run `pytest tests/test_golden.py --update-golden` and review the diff"
    )


def test_golden_output_is_free_of_machine_specifics() -> None:
    """No absolute paths, no timestamps: the files are the same on every machine."""
    for path in GOLDEN.glob("expected.*"):
        text = path.read_text(encoding="utf-8")
        assert str(ROOT) not in text, path.name
        assert "timestamp" not in text.lower(), path.name
        assert "startTimeUtc" not in text, path.name
