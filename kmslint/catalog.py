"""The rule catalogue: ``rules/*.yaml``, the only list of rules.

The YAML files ship inside the wheel as ``kmslint/_catalog``; in a source
checkout (editable install) they are read from ``rules/`` at the top of the
repository.  Loading uses libyaml when present and happens once per process.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from kmslint.model import Severity
from kmslint.record import Record, field

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from typing import Any

_PACKAGE_DIR = Path(__file__).resolve().parent


def catalog_dir() -> Path:
    """Where the rule YAML files are: the wheel's copy, else the source checkout's."""
    shipped = _PACKAGE_DIR / "_catalog"
    if shipped.is_dir() and any(shipped.glob("KMS*.yaml")):
        return shipped
    return _PACKAGE_DIR.parent / "rules"


class Example(Record, frozen=True):
    verdict: str  # bad | good
    format: str  # terraform | cloudformation | policy
    code: str
    title: str = ""


class Rule(Record, frozen=True):
    id: str
    slug: str
    kind: str  # check | engine
    severity: Severity
    enabled_by_default: bool
    summary: str
    why: str
    fix: str
    applies_to: tuple[str, ...] = ()
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    examples: tuple[Example, ...] = ()
    references: tuple[tuple[str, str], ...] = ()

    def option_default(self, name: str) -> Any:
        return self.options[name]["default"]


def _load_yaml(data: bytes) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(data, Loader=loader)  # noqa: S506 - a safe loader


def _rule(data: dict[str, Any]) -> Rule:
    return Rule(
        id=data["id"],
        slug=data["slug"],
        kind=data["kind"],
        severity=Severity.parse(data["default_severity"]),
        enabled_by_default=bool(data["enabled_by_default"]),
        summary=" ".join(str(data["summary"]).split()),
        why=str(data["why"]).strip(),
        fix=str(data["fix"]).strip(),
        applies_to=tuple(data.get("applies_to", ())),
        options=dict(data.get("options") or {}),
        examples=tuple(
            Example(e["verdict"], e["format"], e["code"], e.get("title", "")) for e in data.get("examples") or ()
        ),
        references=tuple((r["title"], r["url"]) for r in data.get("references") or ()),
    )


@lru_cache(maxsize=1)
def _loaded() -> tuple[dict[str, dict[str, Any]], str]:
    # Parsed once per process, and cached across processes (kmslint.cache): PyYAML's
    # import and the parse cost more than linting one file.
    from kmslint import cache

    return cache.catalog_documents(sorted(catalog_dir().glob("KMS*.yaml")), _load_yaml)


def raw_documents() -> dict[str, dict[str, Any]]:
    """Each rule file's data, keyed by file stem (tests validate these against the schema)."""
    return _loaded()[0]


def digest() -> str:
    """A hash of the catalogue's files (part of the findings cache key)."""
    return _loaded()[1]


@lru_cache(maxsize=1)
def rules() -> dict[str, Rule]:
    """All rules by ID, in ID order."""
    return {data["id"]: _rule(data) for data in raw_documents().values()}


def by_slug() -> dict[str, Rule]:
    return {r.slug: r for r in rules().values()}


def resolve(name: str) -> Rule | None:
    """A rule named by ID (any case) or slug."""
    table = rules()
    hit = table.get(name.strip().upper())
    return hit if hit is not None else by_slug().get(name.strip().lower())


def schema_path() -> Path:
    return catalog_dir() / "schema.json"
