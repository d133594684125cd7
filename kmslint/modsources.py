"""Local module sources: the directories Terraform files load with ``module { source = "./x" }``.

The walk skips directories by name (``venv``, ``node_modules``) and by
``.gitignore``; Terraform does neither, so a module kept in ``./venv`` is
deployed all the same.  :mod:`kmslint.discovery` asks this module, only
when its walk skipped something, which directories the walked Terraform
files name as local sources, and lints those too.

A source is read as Terraform reads it: the ``source`` attribute of a
top-level ``module`` block (``.tf``, or ``.tf.json`` where ``"module"`` may
be spelled with escapes), evaluated as a constant expression -- string
escapes decoded (``"./\\u0076env"``), templates and conditionals of
constants resolved -- by kmslint's own parser and evaluator, with no
variables and no files readable.  A value starting ``./`` or ``../`` (or
``.\\``, ``..\\``) is local, and joined to the file's directory lexically, as
Terraform joins it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable
from pathlib import Path

from kmslint.model import Known
from kmslint.parsers.common import Budget, BudgetExceeded, ParseFailure, ParseOptions
from kmslint.record import Record, replace

_LOCAL = ("./", "../", ".\\", "..\\")
# Characters a directory name may hold that HCL or JSON spell differently in source text.
_SPELLED_OTHERWISE = frozenset('\\"$%\n\r\t\b\f/')
# What an interpolation of constants can turn into characters: strings, heredocs, numbers, true, false.
_CONSTANT_ATOM = re.compile(r'["<0-9]|\btrue\b|\bfalse\b')


class Candidate(Record, frozen=True):
    """A Terraform file to look for module sources in."""

    path: str
    scan_root: Path | None  # links are read only inside it
    # Parse it whatever its text names (a file inside a skipped directory may reach it with ../).
    always: bool = False


def local_sources(files: Iterable[Candidate], names: Collection[str] = ()) -> set[str]:
    """The absolute, normalised directories that ``files`` call as local modules.

    ``names``: the names of the directories of interest.  A file that
    cannot name any of them is not parsed (see :func:`could_name`); with no
    names every file that has a module block is.
    """
    plain = all(name and not (_SPELLED_OTHERWISE & set(name)) for name in names)
    options: dict[Path | None, ParseOptions] = {}
    out: set[str] = set()
    for file in files:
        opts = options.get(file.scan_root)
        if opts is None:
            opts = options[file.scan_root] = ParseOptions(scan_root=file.scan_root)
        for source in _sources(file.path, opts, names if plain and not file.always else ()):
            if source.startswith(_LOCAL):
                out.add(os.path.normpath(os.path.join(os.path.dirname(file.path), source.replace("\\", "/"))))
    return out


def could_name(text: str, names: Collection[str], is_json: bool) -> bool:
    """Could a module source written in ``text`` lead into a directory called one of ``names``?

    A source is joined to its file's directory lexically, so to lead into
    such a directory from outside it the source must hold its name as a
    path component (in any case: file systems may ignore case).  Its text
    holds the name as written unless escapes (``\\u0076``), template
    directives (``%{if}``) or interpolations of constants (``${"ve"}nv``,
    ``${true}``) assemble it; any of those means "maybe".  Linear in the
    text, whatever it holds.
    """
    if "\\u" in text or "\\U" in text or "%{" in text or any(name in text for name in names):
        return True
    folded = text.casefold()  # a case-insensitive file system takes ./VENV for venv
    if any(name.casefold() in folded for name in names):
        return True
    if is_json:
        return "${" in text
    pos = 0
    while True:
        start = text.find("${", pos)
        if start < 0:
            return False
        end = text.find("}", start)
        if end < 0:
            end = len(text)
        if _CONSTANT_ATOM.search(text, start, end):
            return True
        pos = end + 1  # interpolations are scanned once each, nested or not


def _sources(file: str, opts: ParseOptions, names: Collection[str]) -> list[str]:
    """The constant ``source`` values of the module blocks in one file."""
    try:
        text = opts.read_text(file)
    except ParseFailure:
        return []
    is_json = file.endswith(".json")
    if is_json:
        # JSON keys may be written with \\u escapes: only a file with neither cannot have a module.
        if "module" not in text and "\\u" not in text:
            return []
    elif "module" not in text or "source" not in text:
        return []  # HCL identifiers have no escapes: no module block here
    if names and not could_name(text, names, is_json):
        return []
    from kmslint.parsers.hcl_eval import Config, Evaluator
    from kmslint.parsers.terraform import parse_file
    from kmslint.parsers.tf_modules import SOURCE_STEPS

    path = Path(file)
    try:
        parsed = parse_file(path, replace(opts, sources={path: text}))
    except ParseFailure:
        return []
    # Terraform takes only a literal string for a source (escapes are all there is to
    # decode): a small budget per file, so a walk cannot be slowed by what Terraform refuses.
    evaluator = Evaluator(Config(path.parent), replace(opts, budget=Budget(steps=SOURCE_STEPS)))
    out: list[str] = []
    for block in parsed.blocks:
        if block.type != "module":
            continue
        try:
            value = evaluator.eval_attr(block, "source")
        except BudgetExceeded:
            # Terraform takes only a literal string there: an expression built to be costly
            # is a configuration Terraform refuses, not a module it loads.
            return out
        if isinstance(value, Known) and isinstance(value.value, str):
            out.append(value.value)
    return out
