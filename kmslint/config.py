"""The configuration file: ``.kmslint.toml`` or ``[tool.kmslint]`` in ``pyproject.toml``.

Finding a configuration costs a few ``stat`` calls; only when a file exists
is it parsed (``tomllib``) and validated (with pydantic-core, pydantic's
validation engine, imported here and nowhere on the lint path).  Validation is complete before anything runs: an
unknown key, a wrong type, an unknown rule or rule option is a
:class:`ConfigError` naming the file, the key (as a dotted path) and what
was expected, which the CLI prints to stderr with exit code 2.

The configuration is data only: it never names a module, a plugin or a
command, and nothing in it is imported or run (kmslint runs on pull
requests, where the configuration is written by whoever opened them).

Command-line flags override the file (:func:`merge`).  The result of both is
a plain :class:`~kmslint.settings.Settings`.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

from kmslint.model import PARSE_ERROR, SEVERITY_NAMES, Severity
from kmslint.record import Record, replace
from kmslint.settings import PathIgnore, RequireCustomerManagedKey, Settings

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from typing import Any

KMSLINT_TOML = ".kmslint.toml"
PYPROJECT = "pyproject.toml"
# A configuration file larger than this is refused (real ones are a few KB; a
# pyproject.toml with every tool's settings, tens of KB).
MAX_BYTES = 1024 * 1024


# Top-level keys, as written in the file, with what each expects (for errors
# and for the reference table in the documentation).
KEYS: dict[str, str] = {
    "select": "a list of rule IDs, ID prefixes, slugs or ALL",
    "extend-select": "a list of rule IDs, ID prefixes, slugs or ALL",
    "ignore": "a list of rule IDs, ID prefixes, slugs or ALL",
    "severity": "a table of rule ID or slug = severity",
    "rules": "a table of rule ID or slug = a table of that rule's options",
    "account-id": "a 12-digit AWS account ID, as a string",
    "exclude": "a list of gitignore-style path patterns",
    "key-policy-files": "a list of gitignore-style path patterns, relative to this file's directory",
    "per-path-ignores": "a list of tables with path, rules and reason",
    "fail-on": "one of " + ", ".join(SEVERITY_NAMES),
    "strict": "true or false",
    "max-file-bytes": "a positive integer",
    "max-depth": "a positive integer",
    "allow-nothing-to-lint": "true or false",
    "require-customer-managed-key": "a table with everywhere, resource-types and tags (KMS022)",
}
CMK_KEYS: dict[str, str] = {
    "everywhere": "true or false",
    "resource-types": "a list of resource types (aws_sqs_queue, AWS::SQS::Queue)",
    "tags": "a table of tag key = a list of the values that ask for a customer managed key",
}
# A resource type as Terraform (aws_sqs_queue) or CloudFormation (AWS::SQS::Queue) writes it.
_RESOURCE_TYPE = re.compile(r"^(aws_[a-z0-9_]+|AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)$")
PER_PATH_KEYS: dict[str, str] = {
    "path": "a gitignore-style path pattern",
    "rules": "a list of rule IDs or slugs",
    "reason": "a non-empty string saying why",
}

Reporter = Callable[[tuple[str | int, ...], str], None]

_ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


class ConfigError(Exception):
    """An invalid configuration: one line per problem, each naming file and key."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


# --------------------------------------------------------------------------- finding the file


def display_path(path: Path) -> str:
    """How a configuration file is named in messages: relative to the cwd when inside it."""
    try:  # the directory resolved, not the name: a configuration that is a link is named as the link
        return str((path.parent.resolve() / path.name).relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def _mentions_kmslint(path: Path) -> bool:
    """Could this ``pyproject.toml`` hold a ``[tool.kmslint]`` table?  (A cheap test before parsing.)"""
    from kmslint import fsio

    try:
        return b"kmslint" in _read_capped(path)
    except (fsio.TooLarge, fsio.LinkOutOfRepository):
        return True  # not to be looked into: loading it says why, rather than ignore a configuration
    except OSError:
        return False


def _read_capped(path: Path) -> bytes:
    """A configuration file's bytes: from a regular file only, at most :data:`MAX_BYTES` (kmslint.fsio).

    The file may come from a pull request: a link to ``/dev/zero`` or a FIFO
    must neither exhaust memory nor hang the run.
    """
    from kmslint import fsio

    if fsio.link_escapes(path):
        raise fsio.LinkOutOfRepository
    return fsio.read_regular(path, MAX_BYTES)


def _has_tool_table(path: Path) -> bool:
    if not _mentions_kmslint(path):
        return False
    try:
        data = _read_toml(path)
    except ConfigError:
        return True  # let loading it report the problem
    tool = data.get("tool")
    return isinstance(tool, dict) and "kmslint" in tool


def find_config(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The configuration that applies to ``start`` (a file or directory; default: the cwd).

    Walks up from ``start`` towards the filesystem root.  In each directory,
    ``.kmslint.toml`` wins over ``pyproject.toml``, which counts only when it
    has a ``[tool.kmslint]`` table.  The walk stops after the directory that
    holds ``.git`` (the repository root): a configuration outside the
    repository never applies to it.
    """
    try:
        here = Path(os.path.abspath(start if start is not None else os.getcwd()))
    except OSError:  # a relative path, and the current directory was deleted: nothing to find
        return None
    # os.path's tests, not Path's: they answer False for a name too long to stat, where Path raises.
    while not os.path.isdir(here):
        if here.parent == here:
            break
        here = here.parent  # a file, or a path that does not exist (yet)
    for directory in (here, *here.parents):
        candidate = directory / KMSLINT_TOML
        if os.path.isfile(candidate):
            return candidate
        candidate = directory / PYPROJECT
        if os.path.isfile(candidate) and _has_tool_table(candidate):
            return candidate
        if os.path.exists(directory / ".git"):
            return None
    return None


# --------------------------------------------------------------------------- reading and validating


def _read_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # tomli is the same parser, published before it joined the standard library as tomllib
        import tomli as tomllib

    from kmslint import fsio

    shown = display_path(path)
    try:
        raw = _read_capped(path)
    except fsio.LinkOutOfRepository:
        raise ConfigError([f"{shown}: a symbolic link to a file outside the repository: not read"]) from None
    except fsio.NotRegularFile:
        raise ConfigError([f"{shown}: cannot read the configuration file: not a regular file"]) from None
    except fsio.TooLarge:
        raise ConfigError([f"{shown}: cannot read the configuration file: over the {MAX_BYTES}-byte limit"]) from None
    except OSError as exc:
        raise ConfigError([f"{shown}: cannot read the configuration file: {exc.strerror or exc}"]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError([f"{shown}: not valid UTF-8, so not a TOML file"]) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{shown}: invalid TOML: {exc}"]) from None
    except RecursionError:  # tomllib recurses into nested arrays and inline tables
        raise ConfigError([f"{shown}: invalid TOML: arrays or tables nested too deeply"]) from None


def load(path: str | os.PathLike[str]) -> Settings:
    """Read and validate one configuration file into :class:`Settings` (raises :class:`ConfigError`)."""
    file = Path(path)
    shown = display_path(file)
    if not os.path.isfile(file):
        if os.path.exists(file):  # a FIFO, a device, a directory: never opened
            raise ConfigError([f"{shown}: cannot read the configuration file: not a regular file"])
        raise ConfigError([f"{shown}: no such configuration file"])
    data = _read_toml(file)
    prefix: tuple[str | int, ...] = ()
    if file.name == PYPROJECT:
        tool = data.get("tool")
        table = tool.get("kmslint") if isinstance(tool, dict) else None
        if table is None:
            raise ConfigError([f"{shown}: has no [tool.kmslint] table"])
        if not isinstance(table, dict):
            raise ConfigError([f"{shown}: tool.kmslint: expected a table, got {_describe(table)}"])
        data = table
        prefix = ("tool", "kmslint")
    return from_mapping(data, source=file, prefix=prefix)


def from_mapping(data: Mapping[str, Any], source: Path, prefix: tuple[str | int, ...] = ()) -> Settings:
    """Validate a configuration table (as parsed from TOML) into :class:`Settings`."""
    shown = display_path(source)
    problems: list[str] = []

    def report(loc: tuple[str | int, ...], message: str) -> None:
        problems.append(f"{shown}: {dotted((*prefix, *loc))}: {message}")

    from pydantic_core import ValidationError

    try:
        values: dict[str, Any] = _validator().validate_python(dict(data))
    except ValidationError as exc:
        order = {key: i for i, key in enumerate(data)}  # report in the order the file has its keys
        errors = sorted(exc.errors(include_url=False), key=lambda e: order.get(str(e["loc"][0]), len(order)))
        for err in errors:
            loc = tuple(err["loc"])
            report(loc, _explain(err, loc))
        raise ConfigError(problems) from None
    settings = _to_settings(values, source, report)
    if problems:
        raise ConfigError(problems)
    return settings


def dotted(loc: Iterable[str | int]) -> str:
    """``("rules", "KMS008", "minimum-days")`` -> ``rules.KMS008.minimum-days``; indexes as ``[0]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        text = part if _BARE_KEY.match(part) else json.dumps(part)
        out += f".{text}" if out else text
    return out or "(top level)"


def _describe(value: object) -> str:
    """``the string "30"``, ``the integer 30``, ``true``, ``a table``: what was found instead."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the string {json.dumps(value)}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__} value"


def _expected_for(loc: tuple[str | int, ...]) -> str:
    """What a key expects, from its position in the file."""
    if not loc:
        return "a table"
    head = loc[0]
    if head == "per-path-ignores":
        if len(loc) == 1:
            return KEYS["per-path-ignores"]
        if len(loc) == 2:
            return "a table with path, rules and reason"
        if len(loc) >= 3 and loc[2] in PER_PATH_KEYS:
            if loc[2] == "rules" and len(loc) == 4:
                return "a rule ID or slug, as a string"
            return PER_PATH_KEYS[str(loc[2])]
    if head in ("select", "extend-select", "ignore") and len(loc) == 2:
        return "a rule ID, ID prefix, slug or ALL, as a string"
    if head in ("exclude", "key-policy-files") and len(loc) == 2:
        return "a path pattern, as a string"
    if head == "severity" and len(loc) == 2:
        return "one of " + ", ".join(SEVERITY_NAMES)
    if head == "rules" and len(loc) == 2:
        return "a table of the rule's options"
    if head == "require-customer-managed-key" and len(loc) >= 2 and loc[1] in CMK_KEYS:
        if loc[1] == "resource-types" and len(loc) == 3:
            return "a resource type, as a string"
        if loc[1] == "tags" and len(loc) >= 3:
            return "a list of tag values, as strings" if len(loc) == 3 else "a tag value, as a string"
        return CMK_KEYS[str(loc[1])]
    return KEYS.get(str(head), "a valid value")


def _explain(err: Mapping[str, Any], loc: tuple[str | int, ...]) -> str:
    kind = err["type"]
    value = err.get("input")
    if kind == "extra_forbidden":
        tables = {"per-path-ignores": list(PER_PATH_KEYS), "require-customer-managed-key": list(CMK_KEYS)}
        known = tables.get(str(loc[0]), list(KEYS)) if len(loc) > 1 else list(KEYS)
        return _unknown_key(str(loc[-1]), known)
    if kind == "missing":
        return f"required key is missing; expected {_expected_for(loc)}"
    expected = _expected_for(loc)
    if kind == "string_too_short" and loc[-1] == "reason":
        return "a per-path ignore needs a reason; expected a non-empty string saying why"
    if kind == "too_short":
        return f"expected {expected}, with at least one item"
    if kind in ("greater_than_equal", "greater_than"):
        return f"expected {expected}, got {_describe(value)}"
    if kind == "string_type" and loc == ("account-id",) and isinstance(value, int) and not isinstance(value, bool):
        return f'expected {expected}, got {_describe(value)} (quote it: "{value:012d}")'
    if kind == "string_pattern_mismatch" and loc == ("account-id",):
        return f"expected {expected}, got {_describe(value)}"
    return f"expected {expected}, got {_describe(value)}"


def _unknown_key(key: str, known: Sequence[str]) -> str:
    import difflib

    hint = ""
    guess = difflib.get_close_matches(key.replace("_", "-"), known, n=1, cutoff=0.6)
    if guess:
        hint = f" (did you mean {guess[0]}?)"
    return f"unknown key{hint}; expected one of: {', '.join(known)}"


@lru_cache(maxsize=1)
def _validator() -> Any:
    """The schema of the file, as a pydantic-core validator built on first use.

    This is pydantic's own validation engine (the ``pydantic-core`` package
    every pydantic model compiles to), used directly: declaring the schema
    as a ``BaseModel`` means importing ``pydantic`` and generating the schema
    from type hints on every run, which costs about three times as much CPU
    at start-up (measured: ~235 ms against ~80 ms on the 2-core machine) for
    the same validation and the same error types.  Every scalar is strict:
    TOML has types, and ``"30"`` is not ``30``.
    """
    from pydantic_core import SchemaValidator
    from pydantic_core import core_schema as cs

    def text(**constraints: Any) -> Any:
        return cs.str_schema(strict=True, **constraints)

    def names() -> Any:
        return cs.list_schema(text(), strict=True)

    severity = cs.literal_schema(list(SEVERITY_NAMES))
    positive = cs.int_schema(ge=1, strict=True)
    per_path = cs.typed_dict_schema(
        {
            "path": cs.typed_dict_field(text(strip_whitespace=True, min_length=1)),
            "rules": cs.typed_dict_field(cs.list_schema(text(), min_length=1, strict=True)),
            "reason": cs.typed_dict_field(text(strip_whitespace=True, min_length=1)),
        },
        extra_behavior="forbid",
        total=True,
    )
    fields = {
        "select": names(),
        "extend-select": names(),
        "ignore": names(),
        "severity": cs.dict_schema(text(), severity, strict=True),
        "rules": cs.dict_schema(text(), cs.dict_schema(text(), cs.any_schema(), strict=True), strict=True),
        "account-id": text(pattern=_ACCOUNT_ID.pattern),
        "exclude": names(),
        "key-policy-files": names(),
        "per-path-ignores": cs.list_schema(per_path, strict=True),
        "fail-on": severity,
        "strict": cs.bool_schema(strict=True),
        "max-file-bytes": positive,
        "max-depth": positive,
        "allow-nothing-to-lint": cs.bool_schema(strict=True),
        "require-customer-managed-key": _cmk_schema(cs, names()),
    }
    schema = cs.typed_dict_schema(
        {name: cs.typed_dict_field(fields[name], required=False) for name in KEYS},  # KEYS: the one list
        extra_behavior="forbid",
        total=False,
    )
    return SchemaValidator(schema)


def _cmk_schema(cs: Any, names: Any) -> Any:
    """[require-customer-managed-key]: every key optional, none other allowed."""
    return cs.typed_dict_schema(
        {
            "everywhere": cs.typed_dict_field(cs.bool_schema(strict=True), required=False),
            "resource-types": cs.typed_dict_field(names, required=False),
            "tags": cs.typed_dict_field(cs.dict_schema(cs.str_schema(strict=True), names, strict=True), required=False),
        },
        extra_behavior="forbid",
        total=False,
    )


# --------------------------------------------------------------------------- semantics


def _option_names(spec: Mapping[str, Any]) -> dict[str, str]:
    """Config spelling -> catalogue name: ``minimum-days`` and ``minimum_days`` both name ``minimum_days``."""
    out: dict[str, str] = {}
    for name in spec:
        out[name.replace("_", "-")] = name
        out[name] = name
    return out


def _option_type_ok(kind: str, value: object) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    return isinstance(value, str)


_TYPE_WORDS = {"integer": "an integer", "string": "a string", "boolean": "true or false"}


def _rule_options(table: Mapping[str, Mapping[str, Any]], report: Reporter) -> dict[str, dict[str, Any]]:
    from kmslint import catalog

    options: dict[str, dict[str, Any]] = {}
    for rule_name, values in table.items():
        rule = catalog.resolve(rule_name)
        if rule is None:
            report(("rules", rule_name), f"unknown rule {json.dumps(rule_name)}; expected a rule ID or slug")
            continue
        names = _option_names(rule.options)
        chosen = options.setdefault(rule.id, {})
        for key, value in values.items():
            real = names.get(key)
            if real is None:
                if not rule.options:
                    report(("rules", rule_name, key), f"unknown option; {rule.id} has no options")
                else:
                    spelled = sorted({n.replace("_", "-") for n in rule.options})
                    report(("rules", rule_name, key), _unknown_key(key, spelled).replace("key", "option", 1))
                continue
            spec = rule.options[real]
            kind = str(spec.get("type", "string"))
            if not _option_type_ok(kind, value):
                report(("rules", rule_name, key), f"expected {_TYPE_WORDS.get(kind, kind)}, got {_describe(value)}")
                continue
            if real in chosen:
                report(("rules", rule_name, key), f"option {real} of {rule.id} is given twice")
                continue
            chosen[real] = value
        if not chosen:
            del options[rule.id]
    return options


def _to_settings(values: dict[str, Any], source: Path, report: Reporter) -> Settings:
    from kmslint import catalog

    for key in ("select", "extend-select", "ignore"):
        for i, name in enumerate(values.get(key, ())):
            problem = catalog.name_problem(name)
            if problem:
                report((key, i), problem)

    severity: dict[str, Severity] = {}
    for name, level in values.get("severity", {}).items():
        rule = catalog.resolve(name)
        if rule is None:
            report(("severity", name), f"unknown rule {json.dumps(name)}; expected a rule ID or slug")
            continue
        severity[rule.id] = Severity.parse(level)

    options = _rule_options(values.get("rules", {}), report)

    base = source.resolve().parent
    ignores: list[PathIgnore] = []
    for i, entry in enumerate(values.get("per-path-ignores", [])):
        ids: list[str] = []
        for j, name in enumerate(entry["rules"]):
            problem = catalog.name_problem(name, allow_groups=False)
            if problem:
                report(("per-path-ignores", i, "rules", j), problem)
                continue
            rule = catalog.resolve(name)
            if rule is not None and rule.id not in ids:
                ids.append(rule.id)
        ignores.append(PathIgnore(entry["path"], tuple(ids), entry["reason"], source=str(source.resolve())))

    cmk = _require_cmk(values.get("require-customer-managed-key"), report)
    changes: dict[str, Any] = {
        "select": frozenset(values["select"]) if "select" in values else None,
        "extend_select": frozenset(values.get("extend-select", ())),
        "ignore": frozenset(values.get("ignore", ())),
        "severity": severity,
        "options": options,
        "account_id": values.get("account-id"),
        "exclude": tuple(rebase_pattern(p, base) for p in values.get("exclude", ())),
        "key_policy_files": tuple(anchor_pattern(p, base) for p in values.get("key-policy-files", ())),
        "per_path_ignores": tuple(ignores),
        "config_file": display_path(source),
        "require_customer_managed_key": cmk,
    }
    if "fail-on" in values:
        changes["fail_on"] = Severity.parse(values["fail-on"])
    for key, attr in (
        ("strict", "strict"),
        ("max-file-bytes", "max_file_bytes"),
        ("max-depth", "max_depth"),
        ("allow-nothing-to-lint", "allow_nothing_to_lint"),
    ):
        if key in values:
            changes[attr] = values[key]
    return Settings(**changes)


def _require_cmk(table: Mapping[str, Any] | None, report: Reporter) -> RequireCustomerManagedKey | None:
    """The [require-customer-managed-key] table, its resource types checked for their shape."""
    if table is None:
        return None
    head = "require-customer-managed-key"
    types: set[str] = set()
    for i, rtype in enumerate(table.get("resource-types", ())):
        if not _RESOURCE_TYPE.match(rtype):
            report(
                (head, "resource-types", i),
                f"expected a resource type (aws_sqs_queue, AWS::SQS::Queue), got {_describe(rtype)}",
            )
        elif (problem := _store_type_problem(rtype)) is not None:
            report((head, "resource-types", i), problem)
        else:
            types.add(rtype)
    tags = {key: frozenset(values) for key, values in table.get("tags", {}).items()}
    for key, values in table.get("tags", {}).items():
        if not values:
            report(
                (head, "tags", key),
                "expected a list of the values that ask for a customer managed key, with at least one item",
            )
    cmk = RequireCustomerManagedKey(bool(table.get("everywhere", False)), frozenset(types), tags)
    if cmk.asks_for_nothing() and not table.get("resource-types"):
        report((head,), "asks for nothing; set everywhere = true, resource-types or tags")
    return cmk


def _store_type_problem(rtype: str) -> str | None:
    """Why a resource type cannot ask for a customer managed key (KMS022 knows no data store of
    that type), with the closest one it knows; None when it knows it."""
    import difflib

    from kmslint.policy.datastores import CLOUDFORMATION_TYPES, TERRAFORM_TYPES

    known = sorted(CLOUDFORMATION_TYPES if rtype.startswith("AWS::") else TERRAFORM_TYPES)
    if rtype in known:
        return None
    guess = difflib.get_close_matches(rtype, known, n=1, cutoff=0.6)
    if not guess:  # another spelling's case: aws::sqs::queue, AWS_SQS_QUEUE
        lower = {t.lower(): t for t in (*TERRAFORM_TYPES, *CLOUDFORMATION_TYPES)}
        guess = [lower[rtype.lower()]] if rtype.lower() in lower else []
    hint = f" (did you mean {guess[0]}?)" if guess else ""
    return f"unknown data store type {json.dumps(rtype)}{hint}; `kmslint explain KMS022` lists the types it knows"


_GLOB_SPECIAL = re.compile(r"([\\*?\[\]!#])")


def rebase_pattern(pattern: str, base: Path) -> str:
    """Anchor a gitignore-style pattern from a config file to the file's directory.

    A pattern with a slash before its end (``infra/legacy/``, ``/modules``)
    is relative to the directory holding the configuration, as in a
    ``.gitignore``; it becomes an absolute pattern so that it means the same
    whichever directory kmslint scans.  A pattern without one
    (``*.bak``, ``legacy/``) matches at any depth and is kept.
    """
    negate = pattern.startswith("!")
    body = pattern[1:] if negate else pattern
    if "/" not in body.rstrip("/"):
        return pattern
    root = _GLOB_SPECIAL.sub(r"\\\1", base.as_posix().rstrip("/"))
    rebased = f"{root}/{body.lstrip('/')}"
    return ("!" if negate else "") + rebased


def anchor_pattern(pattern: str, base: Path) -> str:
    """A gitignore-style pattern from a config file, as an absolute pattern below the file's directory.

    As in a ``.gitignore`` placed there: a pattern with a slash before its
    end (``keys/policy.json``) is relative to that directory, and one
    without (``*.key-policy.json``) matches at any depth below it -- never
    outside it, whichever directory kmslint scans.
    """
    negate = pattern.startswith("!")
    body = pattern[1:] if negate else pattern
    if "/" not in body.rstrip("/"):
        body = f"**/{body}"
    root = _GLOB_SPECIAL.sub(r"\\\1", base.as_posix().rstrip("/"))
    return ("!" if negate else "") + f"{root}/{body.lstrip('/')}"


# --------------------------------------------------------------------------- command line on top


class Overrides(Record, frozen=True):
    """What the command line says; ``None`` (or empty) means "not given", so the file decides."""

    select: frozenset[str] | None = None
    extend_select: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()
    account_id: str | None = None
    exclude: tuple[str, ...] = ()
    fail_on: Severity | None = None
    strict: bool | None = None
    show_suppressed: bool | None = None
    baseline: str | None = None
    allow_nothing_to_lint: bool | None = None


NO_OVERRIDES = Overrides()


def merge(base: Settings, cli: Overrides) -> Settings:
    """The file's settings with the command line on top.

    ``--select`` replaces the file's whole selection (its ``select``,
    ``extend-select`` and ``ignore``, except an ``ignore`` of KMS000 by ID or
    slug, which no selection brings back).  Otherwise ``--extend-select`` adds to
    the file's and re-enables a rule the file ignores by ID or slug, and
    ``--ignore`` adds to the file's.  ``--exclude`` patterns add to the file's
    ``exclude``.  Every other flag replaces the file's value.
    """
    from kmslint import catalog

    changes: dict[str, Any] = {}
    if cli.select is not None:
        # KMS000 is no rule one selects (kmslint.decide): the file's ignoring it by name stands.
        kept = frozenset(n for n in base.ignore if catalog.ids([n]) == {PARSE_ERROR})
        changes.update(select=cli.select, extend_select=cli.extend_select, ignore=cli.ignore | kept)
    else:
        ignore = base.ignore
        if cli.extend_select:
            wanted = catalog.ids(cli.extend_select)
            ignore = frozenset(n for n in ignore if not (catalog.ids([n]) & wanted))
            changes["extend_select"] = base.extend_select | cli.extend_select
        changes["ignore"] = ignore | cli.ignore
    if cli.exclude:
        changes["exclude"] = (*base.exclude, *cli.exclude)
    for attr in ("account_id", "fail_on", "strict", "show_suppressed", "baseline", "allow_nothing_to_lint"):
        value = getattr(cli, attr)
        if value is not None:
            changes[attr] = value
    return replace(base, **changes)


def settings_for(
    start: str | None,
    cli: Overrides = NO_OVERRIDES,
    *,
    config_file: str | None = None,
    use_config: bool = True,
) -> Settings:
    """The run's settings: the named or discovered configuration file, then the command line.

    ``start`` is where discovery begins (the first scanned path; None: the
    cwd).  Raises :class:`ConfigError` for an invalid file.
    """
    base = Settings()
    if config_file is not None:
        base = load(config_file)
    elif use_config:
        found = find_config(start)
        if found is not None:
            base = load(found)
    return merge(base, cli)


__all__ = [
    "KEYS",
    "ConfigError",
    "Overrides",
    "find_config",
    "from_mapping",
    "load",
    "merge",
    "rebase_pattern",
    "settings_for",
]
