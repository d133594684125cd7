"""The catalogue (``rules/*.yaml``), the checks and the fixtures match one to one.

``rules/*.yaml`` is the only list of rules.  Each file validates against
``rules/schema.json`` and is named by its ID; IDs and slugs are unique; every
``kind: check`` rule has exactly one registered check (in a module named
``kmsNNN_<slug>``) and fixture cases that pass and fail; ``kind: engine``
rules have no check; every registered check has a rule.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from kmslint import catalog
from kmslint.rules import all_checks
from tests.conftest import FIXTURES

RULE_FILES = sorted(catalog.catalog_dir().glob("KMS*.yaml"))


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.name}: not a mapping"
    return data


DOCS = {p.stem: _load(p) for p in RULE_FILES}
CHECK_RULES = sorted(rid for rid, d in DOCS.items() if d.get("kind") == "check")
ENGINE_RULES = sorted(rid for rid, d in DOCS.items() if d.get("kind") == "engine")


def _validator() -> Any:
    from jsonschema import Draft202012Validator

    schema = json.loads(catalog.schema_path().read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_the_catalogue_is_where_the_package_reads_it() -> None:
    assert RULE_FILES, f"no rule files in {catalog.catalog_dir()}"
    assert sorted(catalog.rules()) == sorted(DOCS)


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.stem for p in RULE_FILES])
def test_rule_file_validates_against_the_schema(path: Path) -> None:
    errors = sorted(_validator().iter_errors(DOCS[path.stem]), key=lambda e: list(e.absolute_path))
    messages = [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors]
    assert messages == [], f"{path.name} does not match rules/schema.json"


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.stem for p in RULE_FILES])
def test_file_name_is_the_rule_id(path: Path) -> None:
    assert DOCS[path.stem].get("id") == path.stem


def test_slugs_are_unique() -> None:
    counts = Counter(d.get("slug") for d in DOCS.values())
    assert {slug: n for slug, n in counts.items() if n > 1} == {}


def test_no_slug_looks_like_an_id_or_all() -> None:
    # Selection resolves names by ID, prefix, slug or ALL: a slug must not be mistaken for one of the others.
    # It may start with "kms-" (RULES.md names kms-activity-not-logged): no ID or ID prefix has a hyphen.
    assert [s for d in DOCS.values() if (s := str(d.get("slug"))).upper() in DOCS or catalog.is_group(s)] == []
    assert catalog.is_group("kms-activity-not-logged") is False
    assert catalog.resolve("KMS-ACTIVITY-NOT-LOGGED") == catalog.resolve("KMS023")  # as a suppression reads it


def test_check_rules_are_exactly_the_registered_checks() -> None:
    registered = set(all_checks())
    assert sorted(set(CHECK_RULES) - registered) == [], "kind: check rules with no registered check"
    assert sorted(registered - set(CHECK_RULES)) == [], "registered checks with no kind: check rule file"


@pytest.mark.parametrize("rule_id", CHECK_RULES)
def test_check_module_is_named_by_id_and_slug(rule_id: str) -> None:
    fn = all_checks().get(rule_id)
    assert fn is not None, f"{rule_id}: no check registered"
    slug = str(DOCS[rule_id]["slug"])
    expected = f"kmslint.rules.kms{rule_id[3:]}_{slug.replace('-', '_')}"
    assert fn.__module__ == expected


@pytest.mark.parametrize("rule_id", ENGINE_RULES)
def test_engine_rules_have_no_check(rule_id: str) -> None:
    assert rule_id not in all_checks()


@pytest.mark.parametrize("rule_id", CHECK_RULES)
def test_check_rule_has_pass_and_fail_fixtures(rule_id: str) -> None:
    folder = FIXTURES / rule_id
    cases = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    assert [c for c in cases if c.startswith("pass_")], f"fixtures/{rule_id}/ has no pass_ case"
    assert [c for c in cases if c.startswith("fail_")], f"fixtures/{rule_id}/ has no fail_ case"


def test_every_fixture_folder_names_a_rule() -> None:
    folders = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir() and p.name.startswith("KMS"))
    assert [f for f in folders if f not in DOCS] == []


@pytest.mark.parametrize("rule_id", CHECK_RULES)
def test_check_rule_has_bad_and_good_examples_in_terraform_and_cloudformation(rule_id: str) -> None:
    doc = DOCS[rule_id]
    have = {(e.get("verdict"), e.get("format")) for e in doc.get("examples") or ()}
    wanted = {
        (verdict, fmt)
        for fmt in ("terraform", "cloudformation")
        if fmt in (doc.get("applies_to") or ("terraform", "cloudformation"))
        for verdict in ("bad", "good")
    }
    assert sorted(wanted - have) == []


@pytest.mark.parametrize("rule_id", sorted(DOCS))
def test_every_rule_has_a_bad_and_a_good_example(rule_id: str) -> None:
    verdicts = {e.get("verdict") for e in DOCS[rule_id].get("examples") or ()}
    assert verdicts == {"bad", "good"}


@pytest.mark.parametrize("rule_id", sorted(DOCS))
def test_options_defaults_have_their_declared_type(rule_id: str) -> None:
    kinds = {"integer": int, "string": str, "boolean": bool}
    for name, spec in (DOCS[rule_id].get("options") or {}).items():
        default = spec["default"]
        assert default is None or (
            isinstance(default, kinds[spec["type"]]) and not (spec["type"] == "integer" and isinstance(default, bool))
        ), f"{rule_id} option {name}: default {default!r} is not of type {spec['type']}"


def test_the_built_in_catalogue_is_generated_from_the_rule_files() -> None:
    """The catalogue a lint reads (kmslint/catalog.json) is exactly what kmslint.catalog_gen makes of rules/*.yaml."""
    from kmslint import catalog_gen

    current = catalog_gen.TARGET.read_text(encoding="utf-8")
    assert current == catalog_gen.render(catalog_gen.load(catalog_gen.SOURCE)), (
        "kmslint/catalog.json is stale: run python -m kmslint.catalog_gen"
    )
    assert catalog.raw_documents() == DOCS


def test_the_generator_notices_an_edited_rule_file(tmp_path: Path) -> None:
    """Editing a rule file changes the generated catalogue and its digest, so the staleness test can fail."""
    from kmslint import catalog_gen

    for path in RULE_FILES:
        (tmp_path / path.name).write_bytes(path.read_bytes())
    before = catalog_gen.render(catalog_gen.load(tmp_path))
    edited = tmp_path / "KMS003.yaml"
    edited.write_text(edited.read_text(encoding="utf-8").replace("default_severity: critical", "default_severity: low"))
    after = catalog_gen.render(catalog_gen.load(tmp_path))
    assert json.loads(after)["documents"]["KMS003"]["default_severity"] == "low"
    assert json.loads(after)["digest"] != json.loads(before)["digest"]
    assert json.loads(before)["digest"] == catalog.digest()


def test_the_generator_refuses_data_that_is_not_plain(tmp_path: Path) -> None:
    """A YAML value that is not JSON-like data (a date) is refused, not written as something else."""
    from kmslint import catalog_gen

    (tmp_path / "KMS999.yaml").write_text("id: KMS999\nadded: 2024-01-01\n")
    with pytest.raises(catalog_gen.CatalogError, match=r"rules/KMS999/added: date value"):
        catalog_gen.render(catalog_gen.load(tmp_path))


def test_the_check_command_fails_on_a_stale_catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`python -m kmslint.catalog_gen --check` exits 1 when the module does not match the YAML, 0 when it does."""
    from kmslint import catalog_gen

    target = tmp_path / "catalog.json"
    monkeypatch.setattr(catalog_gen, "TARGET", target)
    target.write_text("stale\n", encoding="utf-8")
    assert catalog_gen.main(["--check"]) == 1
    assert catalog_gen.main([]) == 0
    assert catalog_gen.main(["--check"]) == 0
    assert target.read_text(encoding="utf-8") == catalog_gen.render(catalog_gen.load())
