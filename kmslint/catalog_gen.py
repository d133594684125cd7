"""Build ``kmslint/catalog.json``, the rule catalogue built into the package, from ``rules/*.yaml``.

    python -m kmslint.catalog_gen           # rewrite kmslint/catalog.json
    python -m kmslint.catalog_gen --check   # exit 1 when it is out of date

``rules/*.yaml`` stay the only list of rules (DESIGN.md); this module turns
them into one JSON file inside the package, so that a lint parses no YAML
at start-up and reads nothing from, and writes nothing to, a cache in the
user's home (which every job of a shared CI runner could have poisoned).
``tests/test_catalog.py`` fails when the generated file is stale.

JSON rather than a generated Python module: reading and decoding it costs
about as much as unmarshalling a module's byte code, and much less than
compiling one where no ``.pyc`` can be written (an editable install, or
``PYTHONDONTWRITEBYTECODE``), and ``json`` is imported by every lint anyway.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from typing import Any

PACKAGE = Path(__file__).resolve().parent
SOURCE = PACKAGE.parent / "rules"
TARGET = PACKAGE / "catalog.json"


class CatalogError(ValueError):
    """A rule file that cannot be turned into the built-in catalogue."""


def load(source: Path = SOURCE) -> dict[str, dict[str, Any]]:
    """Each ``KMS*.yaml`` file's data by stem, in name order, read with PyYAML's safe loader."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    docs: dict[str, dict[str, Any]] = {}
    for path in sorted(source.glob("KMS*.yaml")):
        data = yaml.load(path.read_bytes(), Loader=loader)  # noqa: S506 - a safe loader
        if not isinstance(data, dict):
            raise CatalogError(f"{path.name}: not a mapping")
        _check_plain(data, f"rules/{path.stem}")
        docs[path.stem] = data
    if not docs:
        raise CatalogError(f"no KMS*.yaml files in {source}")
    return docs


def _check_plain(value: Any, where: str) -> None:
    """Refuse what JSON would change or cannot hold: a YAML date, set or binary, a non-string key."""
    if value is None or isinstance(value, bool | int | float | str):
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise CatalogError(f"{where}: key {k!r} is not a string")
            _check_plain(v, f"{where}/{k}")
        return
    if isinstance(value, list):
        for i, v in enumerate(value):
            _check_plain(v, f"{where}/{i}")
        return
    raise CatalogError(f"{where}: {type(value).__name__} value {value!r} is not plain data")


def digest_of(docs: dict[str, dict[str, Any]]) -> str:
    """A sha256 of the catalogue's data (not of its layout): part of the findings cache key."""
    canonical = json.dumps(docs, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def render(docs: dict[str, dict[str, Any]]) -> str:
    """The text of ``catalog.json`` for ``docs``: the same bytes for the same data, on every Python."""
    built = {
        "generated_by": "python -m kmslint.catalog_gen, from rules/*.yaml: do not edit",
        "digest": digest_of(docs),
        "documents": docs,
    }
    return json.dumps(built, ensure_ascii=False, indent=1) + "\n"


def main(argv: list[str]) -> int:
    check = argv == ["--check"]
    if argv and not check:
        print("usage: python -m kmslint.catalog_gen [--check]", file=sys.stderr)
        return 2
    try:
        text = render(load())
    except (CatalogError, OSError) as exc:
        print(f"kmslint.catalog_gen: {exc}", file=sys.stderr)
        return 2
    try:
        current = TARGET.read_text(encoding="utf-8")
    except FileNotFoundError:
        current = None
    if check:
        if current != text:
            print(f"{TARGET} is out of date: run python -m kmslint.catalog_gen", file=sys.stderr)
            return 1
        return 0
    if current != text:
        TARGET.write_text(text, encoding="utf-8")
        print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
