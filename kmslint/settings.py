"""The settings of one run: what the CLI and the config file decide.

A plain record (kmslint.record) so the lint path never imports pydantic; ``config.py``
validates a configuration file into one of these.
"""

from __future__ import annotations

from kmslint.model import Severity
from kmslint.parsers.common import DEFAULT_MAX_DEPTH, DEFAULT_MAX_FILE_BYTES
from kmslint.record import Record, field

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from typing import Any


class PathIgnore(Record, frozen=True):
    """Config per-path ignore: these rules, in files matching this pattern, for this reason."""

    pattern: str
    rules: tuple[str, ...]
    reason: str
    source: str = ""  # the config file it came from


class RequireCustomerManagedKey(Record, frozen=True):
    """Where the configuration asks for customer managed keys (KMS022): every data store, those of
    these resource types (Terraform or CloudFormation spelling), or those whose tags match
    (tag key -> the values that ask for one)."""

    everywhere: bool = False
    resource_types: frozenset[str] = frozenset()
    tags: dict[str, frozenset[str]] = field(default_factory=dict)

    def asks_for_nothing(self) -> bool:
        return not (self.everywhere or self.resource_types or self.tags)


class Settings(Record, frozen=True):
    # Rule IDs or slugs; "ALL" selects every rule.  None: the rules enabled by default.
    select: frozenset[str] | None = None
    extend_select: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()
    severity: dict[str, Severity] = field(default_factory=dict)  # rule id -> severity
    options: dict[str, dict[str, Any]] = field(default_factory=dict)  # rule id -> option -> value
    account_id: str | None = None
    exclude: tuple[str, ...] = ()
    # Files read as key policies whatever their actions: absolute gitignore-style patterns
    # (config.anchor_pattern), each relative to the configuration file that gave it.
    key_policy_files: tuple[str, ...] = ()
    per_path_ignores: tuple[PathIgnore, ...] = ()
    fail_on: Severity = Severity.LOW
    strict: bool = False
    show_suppressed: bool = False
    # A directory given that holds nothing to lint is no error (OUTPUT.md, "Exit codes").
    allow_nothing_to_lint: bool = False
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH
    config_file: str | None = None
    # [require-customer-managed-key] (KMS022); None: not configured.
    require_customer_managed_key: RequireCustomerManagedKey | None = None
    # A baseline file (kmslint.baseline): findings recorded in it are not reported.
    baseline: str | None = None
