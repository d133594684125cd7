"""docs/terraform-functions.md and the evaluator's function registry say the same thing."""

from __future__ import annotations

import re
from pathlib import Path

from kmslint.parsers.hcl_eval import FUNCTIONS
from kmslint.parsers.tf_functions import NOT_EVALUATED

DOC = Path(__file__).resolve().parent.parent / "docs" / "terraform-functions.md"
ROW = re.compile(r"^\| `([a-z0-9]+)` \| ([^|]+) \|", re.M)


def table() -> dict[str, str]:
    rows = ROW.findall(DOC.read_text(encoding="utf-8"))
    names = [name for name, _ in rows]
    assert len(names) == len(set(names)), "a function is listed twice"
    return {name: status.strip() for name, status in rows}


def test_every_function_marked_evaluated_is_registered() -> None:
    evaluated = {name for name, status in table().items() if status == "yes"}
    assert evaluated == set(FUNCTIONS)


def test_every_function_not_evaluated_says_why_as_the_code_does() -> None:
    rows = table()
    others = {name: status for name, status in rows.items() if status != "yes"}
    assert set(others) == set(NOT_EVALUATED)
    for name, status in others.items():
        assert NOT_EVALUATED[name].startswith(status + ": "), name
        assert name not in FUNCTIONS


def test_the_table_covers_terraforms_builtins() -> None:
    # A sample from each family of Terraform 1.10's built-ins: none may go missing.
    for name in ("coalesce", "one", "try", "can", "templatestring", "cidrsubnets", "uuidv5", "timestamp", "yamldecode"):
        assert name in table(), name


def test_the_deferred_module_defines_exactly_the_deferred_names() -> None:
    """In a fresh process: importing tf_functions_more replaces every stand-in and adds no name
    (a name it defines that DEFERRED lacks would be unreachable until another one is called)."""
    import subprocess
    import sys

    code = (
        "from kmslint.parsers.hcl_eval import FUNCTIONS\n"
        "from kmslint.parsers.tf_functions import DEFERRED\n"
        "before = dict(FUNCTIONS)\n"
        "import kmslint.parsers.tf_functions_more\n"
        "assert set(FUNCTIONS) == set(before), set(FUNCTIONS) ^ set(before)\n"
        "changed = {n for n in FUNCTIONS if FUNCTIONS[n] is not before[n]}\n"
        "assert changed == set(DEFERRED), changed ^ set(DEFERRED)\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


def test_linting_a_file_that_calls_no_rare_function_does_not_import_them(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "main.tf").write_text(
        'resource "aws_kms_key" "k" {\n  enable_key_rotation = coalesce(null, true)\n'
        "  policy = jsonencode({ Statement = concat([], []) })\n}\n"
    )
    code = (
        "import sys\nfrom kmslint import api\nfrom kmslint.settings import Settings\n"
        f"api.lint([{str(tmp_path)!r}], Settings(), jobs=1)\n"
        "print('kmslint.parsers.tf_functions_more' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
