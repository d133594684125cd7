"""The rule catalogue: ``rules/*.yaml``, the only list of rules.

A lint reads the catalogue from ``kmslint/catalog.json``, generated from the
YAML files (``python -m kmslint.catalog_gen``; a test fails when it is
stale), so start-up parses no YAML and reads nothing outside the package:
no cache in the user's home that another job on the same machine could
have poisoned.  The YAML files themselves ship inside the wheel as
``kmslint/_catalog`` (:func:`catalog_dir`), for people and for the schema
tests; a lint never reads them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from kmslint.model import Severity
from kmslint.record import Record, field

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from typing import Any


def catalog_dir() -> Path:
    """Where the rule YAML files are: the wheel's copy, else the source checkout's (never read by a lint)."""
    package = Path(__file__).resolve().parent
    shipped = package / "_catalog"
    if shipped.is_dir() and any(shipped.glob("KMS*.yaml")):
        return shipped
    return package.parent / "rules"


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
def _built_in() -> dict[str, Any]:
    import json

    with open(os.path.join(os.path.dirname(__file__), "catalog.json"), "rb") as fh:
        data: dict[str, Any] = json.loads(fh.read())
    return data


def raw_documents() -> dict[str, dict[str, Any]]:
    """Each rule file's data, keyed by file stem, as built into the package."""
    docs: dict[str, dict[str, Any]] = _built_in()["documents"]
    return docs


def digest() -> str:
    """A sha256 of the built-in catalogue's data (part of the findings cache key)."""
    return str(_built_in()["digest"])


@lru_cache(maxsize=1)
def rules() -> dict[str, Rule]:
    """All rules by ID, in ID order."""
    return {data["id"]: _rule(data) for data in raw_documents().values()}


def by_slug() -> dict[str, Rule]:
    return {r.slug: r for r in rules().values()}


# --------------------------------------------------------------------------- names
#
# Every place that reads a rule's name (--select and the other options, the
# configuration, the selection, suppressions, `kmslint explain`) resolves it
# here: one rule by ID (any case) or slug; several by an ID prefix (``KMS00``)
# or ``ALL``.

ALL = "ALL"
ID_PREFIX = "KMS"


def resolve(name: str) -> Rule | None:
    """A rule named by ID (any case) or slug."""
    table = rules()
    hit = table.get(name.strip().upper())
    return hit if hit is not None else by_slug().get(name.strip().lower())


def is_group(name: str) -> bool:
    """``ALL``, or an ID prefix (``KMS00``) that some rule's ID starts with."""
    upper = name.strip().upper()
    return upper == ALL or (upper.startswith(ID_PREFIX) and any(rid.startswith(upper) for rid in rules()))


def specificity(rule: Rule, name: str) -> int:
    """How specifically ``name`` names ``rule``: 3 by ID or slug, 2 by ID prefix, 1 as ``ALL``, 0 not at all."""
    upper = name.strip().upper()
    if upper == rule.id or name.strip().lower() == rule.slug:
        return 3
    if upper == ALL:
        return 1
    return 2 if upper.startswith(ID_PREFIX) and rule.id.startswith(upper) else 0


def ids(names: Iterable[str]) -> set[str]:
    """The IDs of the rules named one by one (by ID or slug) among ``names``; other names give nothing."""
    return {r.id for r in (resolve(n) for n in names) if r is not None}


def unknown(names: Iterable[str]) -> set[str]:
    """The names that name no rule, not even as a group."""
    return {name for name in names if resolve(name) is None and not is_group(name)}


def did_you_mean(name: str) -> str:
    """`` (did you mean KMS009?)`` for the rule ID or slug nearest to ``name``; empty when none is near."""
    import difflib

    known = [n for r in rules().values() for n in (r.id, r.slug)]
    guess = difflib.get_close_matches(name.upper() if name.upper().startswith(ID_PREFIX) else name, known, n=1)
    return f" (did you mean {guess[0]}?)" if guess else ""


def name_problem(name: str, *, allow_groups: bool = True) -> str | None:
    """Why ``name`` names no rule (None when it does), in the configuration's words.

    With ``allow_groups``, ``ALL`` and ID prefixes such as ``KMS00`` are
    accepted (selection); without, only one rule's ID or slug is.
    """
    import json

    if resolve(name) is not None or (allow_groups and is_group(name)):
        return None
    if allow_groups:
        return (
            f"unknown rule {json.dumps(name)}; expected a rule ID, an ID prefix such as KMS00, a slug, or ALL"
            " (see `kmslint rules`)"
        )
    if is_group(name):
        return (
            f"{json.dumps(name)} names several rules; expected one rule ID or slug per entry"
            " (to skip whole files, use exclude)"
        )
    return f"unknown rule {json.dumps(name)}; expected a rule ID or slug (see `kmslint rules`)"


def schema_path() -> Path:
    return catalog_dir() / "schema.json"
