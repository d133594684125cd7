"""Checks: one module per rule, each registered with :func:`check`.

A check reads the model of one configuration and yields
:class:`~kmslint.model.Violation` values; the engine turns them into
findings, applies suppressions and selection.  Checks never see file
formats, suppressions or configuration files.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable
from functools import lru_cache

from kmslint.model import Project, Violation
from kmslint.record import Record, field

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from typing import Any

    from kmslint.settings import RequireCustomerManagedKey


class RuleContext(Record, frozen=True):
    """What a check may know beyond the model: its options and the run's settings."""

    options: dict[str, Any] = field(default_factory=dict)
    account_id: str | None = None
    # [require-customer-managed-key] (KMS022); None: the configuration has no such table.
    require_customer_managed_key: RequireCustomerManagedKey | None = None

    def option(self, name: str) -> Any:
        return self.options[name]


CheckFn = Callable[[Project, RuleContext], Iterable[Violation]]

_REGISTRY: dict[str, CheckFn] = {}


def check(rule_id: str) -> Callable[[CheckFn], CheckFn]:
    """Register ``fn`` as the check for ``rule_id`` (one module, one rule)."""

    def register(fn: CheckFn) -> CheckFn:
        if rule_id in _REGISTRY and _REGISTRY[rule_id] is not fn:
            raise RuntimeError(f"two checks registered for {rule_id}")
        _REGISTRY[rule_id] = fn
        return fn

    return register


def checks_for(ids: Iterable[str]) -> dict[str, CheckFn]:
    """The checks of the rules ``ids``, importing only their modules (``kms022_*`` for KMS022):
    a rule that is off costs a run nothing."""
    wanted = {rid.lower() for rid in ids}
    for directory in __path__:
        for filename in sorted(os.listdir(directory)):
            stem, dot, ext = filename.partition(".")
            if stem[:6] in wanted and dot and ext == "py" and stem.isidentifier():
                importlib.import_module(f"{__name__}.{stem}")
    return {rid: fn for rid, fn in sorted(_REGISTRY.items()) if rid.lower() in wanted}


@lru_cache(maxsize=1)
def all_checks() -> dict[str, CheckFn]:
    """Import every ``kmsNNN_*`` module of this package and return the registry.

    The package directory is listed with ``os.listdir``: ``pkgutil`` imports
    ``inspect``, which costs a one-file lint ~8 ms.
    """
    for directory in __path__:
        for filename in sorted(os.listdir(directory)):
            stem, dot, ext = filename.partition(".")
            if filename.startswith("kms") and dot and ext == "py" and stem.isidentifier():
                importlib.import_module(f"{__name__}.{stem}")
    return dict(sorted(_REGISTRY.items()))
