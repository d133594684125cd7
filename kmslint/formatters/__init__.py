"""Output formats, keyed by ``--format`` name and imported only when chosen."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Protocol

from kmslint.api import Report

FORMATS: dict[str, str] = {
    "text": "kmslint.formatters.text",
    "json": "kmslint.formatters.json",
}


@dataclass(frozen=True, slots=True)
class RenderContext:
    version: str
    show_suppressed: bool = False
    color: bool = False


class Formatter(Protocol):
    def __call__(self, report: Report, ctx: RenderContext) -> str: ...


def get(name: str) -> Formatter:
    module = importlib.import_module(FORMATS[name])
    render: Formatter = module.render
    return render
