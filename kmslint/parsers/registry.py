"""Which parser reads which file: the one place that knows the formats.

A *format* is one way of writing what kmslint checks: Terraform HCL,
Terraform JSON, a plan, a CloudFormation template in YAML or in JSON, a raw
key policy, a map of named key policies.  Formats are declared by the
modules of :mod:`kmslint.parsers.formats`, each defining ``FORMATS``: a
tuple of :class:`Format` (one format, or the few forms of one, such as a
template's YAML and JSON), each saying what it claims and how it is read:

* ``suffixes``: the file names it may claim (discovery keeps a walked file
  only when some format may claim it);
* ``directory``: whether a directory's files of the format are read together
  as one configuration (Terraform), or each file on its own;
* ``reading``: how its text is read -- ``"terraform"``, ``"json"`` or
  ``"yaml"`` (:func:`reading_of` decides for a file that is not Terraform);
* ``markers``: what its text must hold to matter (the prefilter,
  :mod:`kmslint.parsers.sniff`);
* ``rule_markers``: more markers, each for one rule, that count only in a run
  where that rule is enabled (KMS022 reads data stores that name no key, which
  would make every run read most templates for a rule that is off by default);
* ``signs``: what shows that text which does not parse was meant to be this
  format (it is then a KMS000; otherwise the file is skipped as not IaC);
* ``claims``: a cheap look at the parsed content (a JSON file's top-level
  members, say), asked before its reader;
* ``read`` (or ``read_directory``): its parser, imported when first used.

**Adding a format is adding one module to** :mod:`kmslint.parsers.formats`:
the registry lists that package's modules when first asked (with
``os.scandir``: ``pkgutil`` imports ``inspect``, a cost every one-file lint
would pay) and nothing else names them.  Discovery asks the registry which
names to keep, and the engine what a file is: neither knows a format's
suffixes, markers, signs or structure.  (Every module is imported on a run's
first file, so they stay few and small: their parsers are imported by their
readers, when a file needs them.)

How a file that is not Terraform is read (:func:`read_file`):

1. as JSON when it starts as a JSON object or array does (unless it is named
   ``.yaml``/``.yml``), else as YAML: CloudFormation reads a YAML template
   whatever the file is called;
2. the formats of that reading are asked in their ``order`` (by content,
   not by name: a walk keeps only names some format may claim, and a file
   named on the command line is what its text says): the first that claims
   the content and reads a configuration from it wins;
3. text that is not JSON is read as YAML (a template in YAML flow syntax,
   ``{Resources: {...}}``, is one to CloudFormation); when no YAML format
   reads it either, the JSON error stands.

A file the configuration lists in ``key-policy-files`` is read as JSON by
the formats that may be listed (``listable``), whatever its name and its
actions say.
"""

from __future__ import annotations

import os
import sys

from kmslint.parsers import sniff
from kmslint.parsers.common import ParseFailure
from kmslint.record import Record, field

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path

    from kmslint.model import Project
    from kmslint.parsers.common import ParseOptions

READINGS = sniff.KINDS  # "terraform", "yaml", "json"


class Content:
    """A file's text as the formats of one reading look at it, parsed once and shared.

    ``top`` is a JSON object's top-level members (escapes decoded; None for
    other JSON and for YAML); ``data`` the whole JSON document as plain dicts
    and lists, built only when a format asks for it.
    """

    __slots__ = ("_data", "listed", "path", "text", "top")

    def __init__(self, path: Path, text: str, *, listed: bool, top: dict[str, object] | None = None) -> None:
        self.path = path
        self.text = text
        self.listed = listed  # the configuration lists it in key-policy-files
        self.top = top
        self._data: object = _UNREAD

    def data(self, max_depth: int) -> object:
        if self._data is _UNREAD:
            from kmslint.parsers import jsonpos

            self._data = jsonpos.check_syntax(self.text, max_depth)  # the reading `top` came from
        return self._data


_UNREAD = object()


class Format(Record, frozen=True):
    """One format: what it claims and how it is read (see the module doc)."""

    name: str  # in notes: "CloudFormation template (YAML)"
    reading: str  # "terraform", "json" or "yaml"
    suffixes: tuple[str, ...]  # endings of the file names a walk keeps for it
    order: int = 50  # formats of one reading are asked lowest first
    directory: bool = False  # a directory's files are one configuration
    markers: tuple[sniff.Marker, ...] = ()
    # (rule ID, markers): markers that count only in a run where that rule is enabled.
    rule_markers: tuple[tuple[str, tuple[sniff.Marker, ...]], ...] = ()
    signs: tuple[sniff.Sign, ...] = ()
    # A file format: is the content its own, at a cheap look (None: its reader decides)?
    claims: Callable[[Content, ParseOptions], bool] | None = None
    # A file format's reader: a configuration, or None when the content is not one after all.
    read: Callable[[Content, ParseOptions], Project | None] | None = None
    # Why a file close to this format is not one, for the note a named file gets (None: not close).
    explain: Callable[[Content, ParseOptions], str | None] | None = None
    # A directory format's reader.
    read_directory: Callable[[Path, list[Path], ParseOptions], Project] | None = None
    listable: bool = False  # key-policy-files may name its files
    # Its markers are part of what it is (a key policy names a kms: action), so a file the
    # prefilter skipped is not one of its files, whatever signs it shows (summary.files).
    marked_by_definition: bool = False


class Registry(Record):
    """Every format, and what the hot paths ask of them, computed once."""

    formats: tuple[Format, ...]
    by_reading: dict[str, tuple[Format, ...]] = field(default_factory=dict)
    markers: dict[str, tuple[sniff.Marker, ...]] = field(default_factory=dict)
    signs: tuple[sniff.Sign, ...] = ()
    # By reading, the signs of the file formats a file may belong to without any marker (a
    # template without a key): a file the prefilter skipped that shows one counts as read.
    unmarked_signs: dict[str, tuple[sniff.Sign, ...]] = field(default_factory=dict)
    suffixes: tuple[str, ...] = ()
    directory_suffixes: tuple[str, ...] = ()
    # By reading, rule ID -> the markers its formats add when it is enabled.
    rule_markers: dict[str, dict[str, tuple[sniff.Marker, ...]]] = field(default_factory=dict)
    # (reading, enabled rules that add markers) -> every marker that counts then.
    markers_with: dict[tuple[str, frozenset[str]], tuple[sniff.Marker, ...]] = field(default_factory=dict)


_registry: Registry | None = None


def registry() -> Registry:
    """The formats of :mod:`kmslint.parsers.formats`, loaded on first use."""
    global _registry
    if _registry is None:
        _registry = _build(_load_formats())
    return _registry


def _load_formats() -> list[Format]:
    from kmslint.parsers import formats

    found: list[Format] = []
    for directory in formats.__path__:
        for name in sorted(_module_names(directory)):
            # __import__, not importlib.import_module: the console script has not imported
            # importlib, and importing it costs a one-file lint more than every format here.
            qualified = f"{formats.__name__}.{name}"
            __import__(qualified)
            declared = getattr(sys.modules[qualified], "FORMATS", None)
            if not (isinstance(declared, tuple) and declared and all(isinstance(f, Format) for f in declared)):
                raise TypeError(f"{qualified} defines no FORMATS (a tuple of kmslint.parsers.registry.Format)")
            found.extend(declared)
    return found


def _module_names(directory: str) -> set[str]:
    """The modules of a package directory: ``x.py``, or only ``x.pyc`` in a sourceless install."""
    names: set[str] = set()
    with os.scandir(directory) as entries:
        for entry in entries:
            stem, dot, ext = entry.name.partition(".")
            if dot and ext in ("py", "pyc") and stem.isidentifier() and not stem.startswith("_"):
                names.add(stem)
    return names


def _build(formats: list[Format]) -> Registry:
    ordered = tuple(sorted(formats, key=lambda f: (f.order, f.name)))
    by_reading = {r: tuple(f for f in ordered if f.reading == r) for r in READINGS}
    # Each marker and sign once (formats share some), in the formats' order: the commonest first.
    markers = {r: tuple(dict.fromkeys(m for f in by_reading[r] for m in f.markers)) for r in READINGS}
    signs = tuple(dict.fromkeys(s for f in ordered for s in f.signs))
    unmarked = {
        r: tuple(
            dict.fromkeys(s for f in by_reading[r] if not (f.directory or f.marked_by_definition) for s in f.signs)
        )
        for r in READINGS
    }
    directory = tuple(dict.fromkeys(s for f in ordered if f.directory for s in f.suffixes))
    # Longest first: `x.tf.json` is Terraform before it is JSON.
    suffixes = tuple(sorted(dict.fromkeys(s for f in ordered for s in f.suffixes), key=len, reverse=True))
    by_rule: dict[str, dict[str, tuple[sniff.Marker, ...]]] = {r: {} for r in READINGS}
    for f in ordered:
        for rule, extra in f.rule_markers:
            found = by_rule[f.reading]
            found[rule] = tuple(dict.fromkeys((*found.get(rule, ()), *extra)))
    return Registry(ordered, by_reading, markers, signs, unmarked, suffixes, directory, by_rule)


# --------------------------------------------------------------------------- what discovery asks


def suffixes() -> tuple[str, ...]:
    """Every file-name ending some format may claim (discovery keeps only those)."""
    return registry().suffixes


def directory_suffixes() -> tuple[str, ...]:
    """The endings of formats whose files a directory reads together (Terraform's)."""
    return registry().directory_suffixes


# --------------------------------------------------------------------------- what the engine asks


def reading_of(path: Path, text: str) -> str:
    """How a file that is not Terraform is read: ``"json"`` when it starts as a JSON object
    or array does (unless it is named ``.yaml``/``.yml``), else ``"yaml"``.  Not by the
    ``.json`` name alone: CloudFormation reads a YAML template whatever the file is called."""
    if text.lstrip()[:1] in ("{", "[") and not path.name.lower().endswith((".yaml", ".yml")):
        return "json"
    return "yaml"


def might_matter(text: str, reading: str, rules: frozenset[str] = frozenset()) -> bool:
    """Could ``text``, read so, hold anything a rule looks at (the formats' markers, and those
    of the enabled ``rules`` that add some)?"""
    return sniff.matches(text, markers_of(reading, rules))


def markers_of(reading: str, rules: frozenset[str] = frozenset()) -> tuple[sniff.Marker, ...]:
    """The markers of a reading in a run whose enabled rules are ``rules``."""
    reg = registry()
    if not rules:
        return reg.markers[reading]
    extra = reg.rule_markers[reading]
    adding = rules.intersection(extra) if extra else frozenset()
    if not adding:
        return reg.markers[reading]
    found = reg.markers_with.get((reading, adding))
    if found is None:
        more = (m for rule in sorted(adding) for m in extra[rule])
        found = reg.markers_with[reading, adding] = tuple(dict.fromkeys((*reg.markers[reading], *more)))
    return found


def rule_markers(reading: str, rules: frozenset[str]) -> tuple[sniff.Marker, ...]:
    """Only the markers the enabled ``rules`` add to a reading (none for most runs)."""
    extra = registry().rule_markers[reading]
    return tuple(dict.fromkeys(m for rule in sorted(rules.intersection(extra)) for m in extra[rule])) if extra else ()


def shows_signs(text: str) -> bool:
    """Does ``text`` show a sign of some format (it is then a KMS000 when it does not parse)?"""
    return sniff.shows(text, registry().signs)


def is_unmarked_iac(text: str, reading: str) -> bool:
    """Is ``text``, read so, which the prefilter skipped, all the same a file of some format
    (a template or a plan without anything KMS-related: it counts as read, in summary.files)?"""
    return sniff.shows(text, registry().unmarked_signs[reading])


def directory_matters(texts: Iterable[str], rules: frozenset[str] = frozenset()) -> bool:
    """Could a directory whose files (of the directory formats) hold ``texts`` matter (in a
    run whose enabled rules are ``rules``)?"""
    markers = markers_of("terraform", rules)
    return any(sniff.matches(t, markers) for t in texts)


def read_directory(directory: Path, files: list[Path], opts: ParseOptions) -> Project:
    """The configuration of a directory's files (:func:`directory_suffixes`)."""
    for fmt in registry().formats:
        if fmt.read_directory is not None and any(f.name.lower().endswith(fmt.suffixes) for f in files):
            return fmt.read_directory(directory, files, opts)
    raise ParseFailure("no format reads this directory")  # discovery made it a unit: not reached


class Read(Record):
    """What reading a file gave: a configuration, or why it is none (for a named file's note)."""

    project: Project | None
    why: str

    def __init__(self, project: Project | None, why: str = "") -> None:  # one per file read: no generic init
        self.project = project
        self.why = why


NOT_IAC = "not a Terraform, CloudFormation or key-policy file"


def read_file(path: Path, text: str, opts: ParseOptions, *, listed: bool = False, reading: str | None = None) -> Read:
    """Read a file that is not Terraform (see the module doc); ``reading``, when the caller
    already asked :func:`reading_of`.

    Raises :class:`ParseFailure` when its text is not valid JSON or YAML (or
    is past a limit); whether that is a KMS000 is the caller's to decide
    (:func:`shows_signs`).
    """
    if listed:
        reading = "json"
    elif reading is None:
        reading = reading_of(path, text)
    if reading == "yaml":
        return _ask(registry().by_reading["yaml"], Content(path, text, listed=False), opts)
    from kmslint.parsers import jsonpos

    try:
        top = jsonpos.members(text, opts.max_depth)
    except jsonpos.JSONSyntaxError as exc:
        not_json = ParseFailure(f"invalid JSON: {exc.message}", exc.line, exc.column)
        if exc.limit or listed:
            raise not_json from None
        # YAML flow syntax (`{Resources: {...}}`) is a template to CloudFormation, not broken JSON.
        try:
            found = _ask(registry().by_reading["yaml"], Content(path, text, listed=False), opts)
        except ParseFailure:
            raise not_json from None
        if found.project is None:
            raise not_json from None
        return found
    formats = registry().by_reading["json"]
    if listed:
        formats = tuple(f for f in formats if f.listable)
    return _ask(formats, Content(path, text, listed=listed, top=top), opts)


def _ask(formats: tuple[Format, ...], content: Content, opts: ParseOptions) -> Read:
    """The first of ``formats`` that claims and reads ``content``.

    By content, not by name: a walk keeps only the names some format may
    claim, and a file named on the command line is what its text says.
    """
    for fmt in formats:
        if fmt.read is None or (fmt.claims is not None and not fmt.claims(content, opts)):
            continue
        project = fmt.read(content, opts)
        if project is not None:
            return Read(project)
    for fmt in formats:
        why = fmt.explain(content, opts) if fmt.explain is not None else None
        if why:
            return Read(None, why)
    return Read(None, NOT_IAC)


__all__ = [
    "Content",
    "Format",
    "Read",
    "directory_matters",
    "directory_suffixes",
    "markers_of",
    "might_matter",
    "read_directory",
    "read_file",
    "reading_of",
    "registry",
    "shows_signs",
    "suffixes",
]
