"""Terraform configurations (``.tf`` and ``.tf.json``) into the model.

A directory is one configuration: every file of it is parsed, override files
(:mod:`kmslint.parsers.tf_override`) are merged into the blocks they override,
then references resolve across files (a key in ``main.tf`` whose policy is a data
source in ``policies.tf``).  Values are evaluated by
:mod:`kmslint.parsers.hcl_eval`; what cannot be known stays ``Unknown``.

The modules it calls are part of it (RULES.md, "Modules"): each instance of
a call whose source is on disk is evaluated with the call's arguments
(:mod:`kmslint.parsers.tf_modules`), its resources named with the module
path (``module.kms.aws_kms_key.this``).  A module directory is parsed once per
configuration however often it is called; its files join ``Project.files``
(the findings cache pins them), and the root configuration's call of each is
where its findings are reported from (``Project.resource_spans``).

Each resource instance of each module instance (``count``/``for_each``
expanded, see :func:`resource_views`) is a resource view;
:mod:`kmslint.parsers.tf_model` builds the model from the views, as it does
from a plan's.
"""

from __future__ import annotations

from pathlib import Path

from kmslint.model import Known, Location, NotFollowed, ParseError, Project, ProjectKind, Unknown, Value, known_str
from kmslint.parsers.common import (
    TF_LISTING,
    Budget,
    BudgetExceeded,
    ParseFailure,
    ParseOptions,
    comment_suppressions,
)
from kmslint.parsers.hcl_eval import Config, Evaluator
from kmslint.parsers.hcl_syntax import Block, ParsedFile, Src, parse_hcl, parse_tf_json
from kmslint.parsers.hcl_values import Scope
from kmslint.parsers.tf_model import (
    IDENTITY_POLICY_TYPES,
    KEY_ATTRS,
    KEY_TYPES,
    MODELLED_TYPES,
    OTHER_MODELLED,
    Builder,
    absent,
    split_ref,
    value_refs,
)
from kmslint.parsers.tf_modules import Instance, Tree
from kmslint.record import Record, field, replace

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (see kmslint.record)
if TYPE_CHECKING:
    from collections.abc import Callable

    from kmslint.parsers.tf_model import Arguments, ResourceView

    _DefaultTags = Callable[[Block], Value | None]


class _Resource(Record, eq=False):
    rtype: str
    rname: str
    block: Block

    @property
    def address(self) -> str:
        return f"{self.rtype}.{self.rname}"


class _Loaded(Record, eq=False):
    """A directory's files, parsed once per unit however many module instances read them."""

    files: list[ParsedFile] = field(default_factory=list)  # with override files merged into them
    resources: list[_Resource] = field(default_factory=list)
    # Override files as written: their own suppressions apply to the blocks they override.
    overrides: list[ParsedFile] = field(default_factory=list)
    # Its blocks by name, for every instance to evaluate with its own arguments.
    config: Config = field(default_factory=lambda: Config(Path(".")))
    modules: dict[str, Block] = field(default_factory=dict)
    outputs: dict[str, Block] = field(default_factory=dict)

    def add(self, parsed: ParsedFile, name: str) -> None:
        (self.overrides if is_override(name) else self.files).append(parsed)

    def register(self) -> None:
        """Merge the override files into the blocks they override, then index the blocks."""
        if self.overrides:
            from kmslint.parsers.tf_override import merge_overrides  # off the hot path: overrides are rare

            merge_overrides(self.files, self.overrides)
        for pf in self.files:
            for b in pf.blocks:
                _register(self.config, self, b)


def read_src(path: Path, opts: ParseOptions) -> Src:
    """A file's text through :meth:`ParseOptions.read_text` (size limits, encoding, editor buffers)."""
    text = opts.read_text(path)
    return Src(opts.display(path), text.encode("utf-8", "surrogatepass"), path)


def parse_file(path: Path, opts: ParseOptions) -> ParsedFile:
    src = read_src(path, opts)
    if path.name.endswith(".json"):
        return parse_tf_json(src, opts.max_depth, opts.budget)
    return parse_hcl(src, opts.max_depth, opts.budget)


def parse_directory(directory: Path, files: list[Path], opts: ParseOptions) -> Project:
    """One Terraform configuration: every ``.tf``/``.tf.json`` file of ``directory``.

    Parsing and evaluating spend from ``opts.budget`` (one of its own when
    there is none).  When it runs out, the project keeps what was built and an
    error (KMS000) at the place evaluation gave up; the budget goes on to the
    checks with the project, exhausted.
    """
    if opts.budget is None:
        opts = replace(opts, budget=Budget())
    assert opts.budget is not None
    own = [opts.display(f) for f in files]
    project = Project(kind=ProjectKind.TERRAFORM, root=str(directory), files=list(own), budget=opts.budget)
    loaded = _Loaded(config=Config(directory))
    config = loaded.config
    ev = Evaluator(config, opts)

    def load(module_dir: Path) -> _Loaded:
        return _load_module(module_dir, opts, project)

    tree = Tree(directory, opts, load, project.not_followed, project.called, project.files_tried)
    try:
        for f in files:
            try:
                loaded.add(parse_file(f, opts), f.name)
            except ParseFailure as exc:
                project.errors.append(ParseError(opts.display(f), exc.line, exc.column, exc.message))
        loaded.register()
        config.var_overrides = _tfvars(directory, opts, project)
        tree.add_root(loaded, config, ev)
        tree.expand()
        _build(project, tree.instances)
    except BudgetExceeded as exc:
        project.gave_up = too_costly(exc, own)
        project.errors.append(project.gave_up)
    named: set[tuple[int, str]] = set()
    for inst in tree.instances or [Instance("", "", directory, loaded, config, ev, frozenset(), ())]:
        _collect(project, inst, named)
    tree.release()
    return project


def list_calls(directory: Path, files: list[Path], calling: list[Path], opts: ParseOptions) -> Project:
    """A configuration whose only use to the rules is that it calls modules none of which is on
    disk (:mod:`kmslint.parsers.formats.terraform` tells): its calls, listed as not followed
    (OUTPUT.md, ``summary.not_followed``) from the text of the files that hold them
    (``calling``), without parsing or evaluating a configuration that declares nothing a rule
    reads (parsing them cost more than the rest of a 1,000-file run's new work)."""
    project = Project(kind=ProjectKind.TERRAFORM, root=str(directory), files=[opts.display(f) for f in files])
    for f in calling:
        text = opts.sources.get(f)
        if text is None:
            continue
        shown = opts.display(f)
        found = _json_calls(text) if f.name.endswith(".json") else _hcl_calls(text)
        for line, name, source in found[:MAX_LISTED_CALLS]:
            project.not_followed.append(NotFollowed(shown, line, name, source, shown))
    return project


# Calls listed from one file's text, at most (a real file has a few).
MAX_LISTED_CALLS = 1000
_CALL_RE = r'^[ \t]*module[ \t]+(?:"((?:[^"\\\n]|\\.)*)"|([A-Za-z_][\w-]*))[ \t]*\{'
_SOURCE_RE = r'^[ \t]*source[ \t]*=[ \t]*"((?:[^"\\\n]|\\.)*)"'
_TOP_RE = r"^(?:resource|data|module|locals|variable|output|provider|terraform|moved|import|check|removed)\b"


def _hcl_calls(text: str) -> list[tuple[int, str, str]]:
    """``(line, name, source)`` of each ``module`` block: its ``source`` when it is written as a
    plain string before the next top-level block (else "")."""
    import json
    import re
    from bisect import bisect_left

    tops = [m.start() for m in re.finditer(_TOP_RE, text, re.M)]
    source_re = re.compile(_SOURCE_RE, re.M)
    out: list[tuple[int, str, str]] = []
    line, counted = 1, 0
    for m in re.finditer(_CALL_RE, text, re.M):
        line += text.count("\n", counted, m.start())
        counted = m.start()
        i = bisect_left(tops, m.end())
        found = source_re.search(text, m.end(), tops[i] if i < len(tops) else len(text))
        source = ""
        if found is not None:
            try:
                source = json.loads(f'"{found.group(1)}"')
            except ValueError:
                source = found.group(1)
        out.append((line, m.group(1) if m.group(1) is not None else m.group(2), source))
        if len(out) >= MAX_LISTED_CALLS:
            break
    return out


def _json_calls(text: str) -> list[tuple[int, str, str]]:
    """The same from a ``.tf.json`` file's ``"module"`` object (each call at its name's line)."""
    import json

    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return []
    modules = data.get("module") if isinstance(data, dict) else None
    out: list[tuple[int, str, str]] = []
    for name, call in modules.items() if isinstance(modules, dict) else ():
        calls = call if isinstance(call, list) else [call]
        for c in calls[:MAX_LISTED_CALLS]:
            source = c.get("source") if isinstance(c, dict) else None
            at = text.find(json.dumps(name))
            out.append((text.count("\n", 0, at) + 1 if at >= 0 else 1, name, source if isinstance(source, str) else ""))
    return out[:MAX_LISTED_CALLS]


def _collect(project: Project, inst: Instance, named: set[tuple[int, str]]) -> None:
    """What one module instance's evaluation read and found, into the project."""
    for read in inst.ev.files_read:  # what the result depends on, even when it is a KMS000
        if read not in project.files:
            project.files.append(read)
    project.files_tried.extend(inst.ev.files_tried)  # the findings cache pins each, read or not
    project.duplicate_keys.extend(inst.ev.duplicate_keys)  # in heredocs and files read as JSON
    if (id(inst.loaded), inst.prefix) not in named:  # for_each instances share their names
        named.add((id(inst.loaded), inst.prefix))
        _suppressions(project, inst.loaded, inst.prefix)


def _load_module(directory: Path, opts: ParseOptions, project: Project) -> _Loaded:
    """A module directory's ``.tf``/``.tf.json`` files, parsed (each directory once per unit).

    Each is something the result depends on, parsed or not: it joins
    ``project.files`` (its KMS000 is reported through the calls) and the findings
    cache pins it (``files_tried``).
    """
    loaded = _Loaded(config=Config(directory))
    project.files_tried.append((str(directory), TF_LISTING))  # a file added to it is a change
    try:
        names = sorted(p.name for p in directory.iterdir())
    except OSError:
        names = []
    for name in names:
        if not name.endswith((".tf", ".tf.json")):
            continue
        path = directory / name
        try:
            if not path.is_file():
                continue
            shown = opts.display(path)
            if shown not in project.files:
                project.files.append(shown)
                project.files_tried.append((str(directory), name))
            loaded.add(parse_file(path, opts), name)
        except ParseFailure as exc:
            project.errors.append(ParseError(opts.display(path), exc.line, exc.column, exc.message))
        except OSError:
            continue
    loaded.register()
    return loaded


def is_override(name: str) -> bool:
    """Is this file name one Terraform reads as an override file (``override.tf``,
    ``*_override.tf`` and their ``.tf.json`` forms; see :mod:`kmslint.parsers.tf_override`)?"""
    for ext in (".tf", ".tf.json"):
        if name.endswith(ext):
            stem = name[: -len(ext)]
            return stem == "override" or stem.endswith("_override")
    return False


def too_costly(exc: BudgetExceeded, own: list[str]) -> ParseError:
    """The KMS000 of a configuration whose evaluation ran out of budget.

    It is reported where evaluation gave up when that is in one of the
    configuration's own files, else at the attribute whose value was being
    computed (a template read by ``templatefile()`` belongs to it), else at
    the top of the first file.
    """
    place = next((loc for loc in (exc.where, exc.root) if loc is not None and loc.file in own), None)
    inner = exc.where if exc.where is not None and exc.where is not place else None
    also = f" (in {inner.file}, line {inner.line})" if inner is not None else ""
    message = (
        f"this configuration is too costly to evaluate: kmslint gave up here{also} because {exc.why},"
        " so it is not checked; simplify the expression (nested for expressions, large shared values,"
        " templates) or lint the plan JSON (terraform show -json)"
    )
    if place is None:
        return ParseError(own[0] if own else "", 1, 1, message)
    return ParseError(place.file, place.line, place.column, message)


def _register(config: Config, loaded: _Loaded, b: Block) -> None:
    if b.type == "resource" and len(b.labels) >= 2:
        key = (b.labels[0], b.labels[1])
        # A duplicate address (Terraform rejects it) is linted too, not hidden; references
        # resolve to the first definition.
        config.resources.setdefault(key, b)
        loaded.resources.append(_Resource(b.labels[0], b.labels[1], b))
    elif b.type == "data" and len(b.labels) >= 2:
        config.data.setdefault((b.labels[0], b.labels[1]), b)
    elif b.type == "variable" and b.labels:
        config.variables.setdefault(b.labels[0], b)
    elif b.type == "locals":
        for name, attr in b.attrs.items():
            config.locals.setdefault(name, attr)
    elif b.type == "module" and b.labels:
        loaded.modules.setdefault(b.labels[0], b)
    elif b.type == "output" and b.labels:
        loaded.outputs.setdefault(b.labels[0], b)


def _tfvars(directory: Path, opts: ParseOptions, project: Project) -> dict[str, Value]:
    """Variable values from ``terraform.tfvars`` and ``*.auto.tfvars`` (and their ``.json`` forms)."""
    try:
        names = sorted(p.name for p in directory.iterdir() if p.is_file())
    except OSError:
        return {}
    ordered: list[str] = [n for n in ("terraform.tfvars", "terraform.tfvars.json") if n in names]
    ordered += [n for n in names if n.endswith((".auto.tfvars", ".auto.tfvars.json"))]
    out: dict[str, Value] = {}
    ev = Evaluator(Config(directory), opts)  # spends from the configuration's budget
    for name in ordered:
        path = directory / name
        try:
            src = read_src(path, opts)
            if name.endswith(".json"):
                values = _tfvars_json(src, opts, ev)
            else:
                pf = parse_hcl(src, opts.max_depth, opts.budget)
                values = {}
                for attr_name, attr in pf.attrs.items():
                    v = ev.eval(attr.expr)
                    if v is not None:
                        values[attr_name] = v
        except ParseFailure as exc:
            project.errors.append(ParseError(opts.display(path), exc.line, exc.column, exc.message))
            continue
        out.update(values)
    project.files_tried.extend(ev.files_tried)
    return out


def _tfvars_json(src: Src, opts: ParseOptions, ev: Evaluator) -> dict[str, Value]:
    from kmslint.parsers import jsonpos

    try:
        value = jsonpos.parse(src.data.decode("utf-8"), src.display, max_depth=opts.max_depth)
    except jsonpos.JSONSyntaxError as exc:
        raise ParseFailure(f"invalid JSON: {exc.message}", exc.line, exc.column) from None
    if isinstance(value, Known) and isinstance(value.value, dict):
        return dict(value.value)
    return {}


class _Args:
    """A block's arguments, evaluated in its scope (each one once: the builder asks several times)."""

    def __init__(self, block: Block, ev: Evaluator, scope: Scope | None, own: frozenset[str] = frozenset()) -> None:
        self.block = block
        self.ev = ev
        self.scope = scope
        # A module instance's own files (display names): a value written anywhere else was
        # written by a caller (empty at the root, whose values are all its own).
        self.own = own
        self._values: dict[str, Value | None] = {}

    def attr(self, name: str) -> Value | None:
        values = self._values
        if name in values:
            return values[name]
        a = self.block.attrs.get(name)
        value = values[name] = None if a is None else self.ev.eval(a.expr, self.scope)
        return value

    def attr_loc(self, name: str) -> Location | None:
        """Where the argument's value is written (RULES.md, "Where a finding is reported"): in a
        module, the caller's literal when a caller passed it, else the argument."""
        a = self.block.attrs.get(name)
        if a is None:
            return None
        if self.own:
            value = self.attr(name)
            loc = value.loc if value is not None else None
            if loc is not None and loc.file not in self.own and loc.file.endswith(_WRITTEN_IN):
                return loc
        return a.loc

    def literal(self, name: str) -> bool:
        value = self.attr(name)
        return isinstance(value, Known) and isinstance(value.value, str)

    def refs(self, name: str) -> list[str]:
        """The references the argument's value was written as, from the root module
        (``module.a.aws_kms_key.k.arn``), each with the literal instance index it names
        (``aws_kms_key.keys["b"].arn``), which evaluation leaves out."""
        refs = value_refs(self.attr(name))
        a = self.block.attr(name)
        node = a.expr.node if a is not None else None
        if not refs or a is None or node is None or node.end_byte - node.start_byte > MAX_INDEXED_TEXT:
            return refs
        if a.expr.src.data.find(b"[", node.start_byte, node.end_byte) < 0:
            return refs  # most references name no instance: no text to decode
        text = a.expr.src.text(node)
        return [_with_index(ref, text) for ref in refs]

    def nested(self, name: str) -> list[Arguments] | None:
        """Its nested blocks of one type (``dynamic`` ones expanded); None when a ``dynamic``
        block over an unknown collection may stand for any number of them."""
        items = self.ev.expand_blocks(self.block, name, self.scope)
        if any(not isinstance(item, Block) for item, _scope, _where in items):
            return None
        return [_Args(item, self.ev, scope, self.own) for item, scope, _where in items if isinstance(item, Block)]


class _View(_Args):
    """One instance of a resource block (:class:`kmslint.parsers.tf_model.ResourceView`)."""

    def __init__(
        self, r: _Resource, ev: Evaluator, scope: Scope | None, module: str, tags: _DefaultTags, own: frozenset[str]
    ) -> None:
        super().__init__(r.block, ev, scope, own)
        self.rtype = r.rtype
        self.module = module
        self.address = f"{module}.{r.address}" if module else r.address
        self.header = r.block.header
        self.index = ""  # its count/for_each index, set by resource_views
        self.module_instance = module
        self._blocks: dict[str, list[Arguments]] = {}
        self._default_tags = tags

    @property
    def body(self) -> Location | None:
        """The block from its ``{`` to its ``}`` (None in ``.tf.json``: quick fixes edit HCL only)."""
        block = self.block
        if block.is_json:
            return None
        header, whole = block.header, block.loc
        return Location(whole.file, header.end_line, max(header.end_column - 1, 1), whole.end_line, whole.end_column)

    def blocks(self, name: str) -> list[Arguments]:
        found = self._blocks.get(name)
        if found is None:  # expanded once: the builder asks twice for a role's inline policies
            found = self._blocks[name] = [
                _Args(item, self.ev, scope, self.own)
                for item, scope, _ in self.ev.expand_blocks(self.block, name, self.scope)
                if isinstance(item, Block)
            ]
        return found

    def tags(self) -> tuple[Value | None, Location | None]:
        own = self.attr("tags")
        if absent(own):
            own = None
        defaults = self._default_tags(self.block)
        loc = self.attr_loc("tags") if own is not None else None
        if defaults is None:
            return own, loc
        if not (isinstance(defaults, Known) and isinstance(defaults.value, dict)):
            return (own if own is not None else defaults), loc  # unknown default tags may hold a justification
        if own is None:
            return defaults, loc
        if isinstance(own, Known) and isinstance(own.value, dict):
            return Known({**defaults.value, **own.value}, own.loc), loc
        return own, loc


# Instances read of one resource: past this many, its ``count``/``for_each`` is read as
# unknown (one instance, ``count.index``/``each`` unknown, as when the collection is not
# known).  Nothing is hidden that way: a finding that does not depend on the instance
# still shows, once; one that does is not invented from an unknown value.
MAX_INSTANCES = 256
# How many resources deep a for_each over another resource's instances is followed
# (``a`` over ``b`` over ``c`` ...); deeper, the collection is read as unknown.
MAX_FOR_EACH_CHAIN = 16


# The longest expression whose text is searched for a reference's literal index.
MAX_INDEXED_TEXT = 4096

# The files a caller writes a module's argument in (a value read by file() is located in
# the file it was read from, and reported there by the statement it is in).
_WRITTEN_IN = (".tf", ".tf.json", ".tfvars", ".tfvars.json")


def _with_index(ref: str, text: str) -> str:
    """``ref`` with the literal index ``text`` writes after its resource (``aws_kms_key.k["b"]``;
    a reference from inside a module, ``module.a.aws_kms_key.k``, is written without its path)."""
    import re

    split = split_ref(ref)
    if split is None or "[" in ref:
        return ref
    path, rtype, rname = split
    head = f"{rtype}.{rname}"
    start = len(path) + 1 if path else 0
    m = re.search(re.escape(head) + r'\s*\[\s*("(?:[^"\\\n]|\\.)*"|[0-9]+)\s*\]', text)
    if m is None:
        return ref
    return f"{ref[: start + len(head)]}[{m.group(1)}]{ref[start + len(head) :]}"


def resource_views(
    loaded: _Loaded,
    ev: Evaluator,
    scope: Scope | None,
    module: str,
    providers: _Providers | None = None,
    own: frozenset[str] = frozenset(),
    module_instance: str | None = None,
) -> list[ResourceView]:
    """The resources of one module instance (``module``: its path, "" for the root), one view
    per resource instance, their arguments evaluated by ``ev`` in ``scope``.  ``providers``
    are the root configuration's (a module's resources use them); ``own``, a module
    instance's files (see :meth:`_Args.attr_loc`); ``module_instance``, its path with the
    indexes of its calls (``module.a["x"]``) when it differs from ``module``.

    ``count`` and ``for_each`` over known collections are expanded (RULES.md,
    "Instances"): each instance sees its own ``count.index`` or ``each.key`` and
    ``each.value``.  ``count = 0`` or an empty collection makes no instance; an unknown
    one makes one instance that knows nothing of its index.
    """
    if providers is None:
        providers = _Providers(loaded, ev)
    expander = _Instances(loaded, ev, scope, module)
    views: list[ResourceView] = []
    for r in loaded.resources:
        if r.rtype not in MODELLED_TYPES:
            continue  # nothing the model reads (an instance count of it is worked out if asked)
        for index, inner in expander.of(r):
            view = _View(r, ev, inner, module, providers.default_tags, own)
            view.index = index
            if module_instance is not None:
                view.module_instance = module_instance
            views.append(view)
    return views


class _Instances:
    """The instances of each resource of a module instance: (index, scope binding count/each)."""

    def __init__(self, loaded: _Loaded, ev: Evaluator, scope: Scope | None, module: str = "") -> None:
        self.prefix = f"{module}." if module else ""  # references evaluated in it start with it
        self.by_name: dict[str, _Resource] = {}
        for r in loaded.resources:
            self.by_name.setdefault(r.address, r)  # references resolve to the first definition
        self.ev = ev
        self.scope = scope
        self._chain = 0  # resources whose for_each is another resource, being worked out
        self._done: dict[int, list[tuple[str, Scope | None]]] = {}  # by id(): duplicates are two

    def of(self, r: _Resource) -> list[tuple[str, Scope | None]]:
        if id(r) in self._done:
            return self._done[id(r)]
        self._done[id(r)] = [("", self.scope)]  # while it is being worked out (for_each over itself)
        found = self._expand(r)
        if len(found) > 1:  # each instance is evaluated again: paid for (one resource costs what it did)
            self.ev.budget.spend(len(found))
        self._done[id(r)] = found
        return found

    def _expand(self, r: _Resource) -> list[tuple[str, Scope | None]]:
        count = r.block.attr("count")
        if count is not None:
            return self._count(self.ev.eval(count.expr, self.scope), count.loc)
        for_each = r.block.attr("for_each")
        if for_each is not None:
            return self._for_each(self.ev.eval(for_each.expr, self.scope), for_each.loc)
        return [("", self.scope)]

    def _bind(self, name: str, fields: dict[str, Value], loc: Location) -> Scope:
        return Scope({name: Known(fields, loc)}, self.scope)

    def _count(self, n: Value | None, loc: Location) -> list[tuple[str, Scope | None]]:
        value = n.value if isinstance(n, Known) else None
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            return [("", self.scope)]
        if value <= 0:
            return []
        if value > MAX_INSTANCES:
            return [("", self.scope)]
        return [(f"[{i}]", self._bind("count", {"index": Known(i, loc)}, loc)) for i in range(int(value))]

    def _for_each(self, coll: Value | None, loc: Location) -> list[tuple[str, Scope | None]]:
        pairs: list[tuple[str, Value]] = []
        if isinstance(coll, Known) and isinstance(coll.value, dict):
            pairs = sorted(coll.value.items())  # Terraform orders a map's instances by key
        elif isinstance(coll, Known) and isinstance(coll.value, list):
            texts = [known_str(item) for item in coll.value]
            if None in texts:
                return [("", self.scope)]  # a set of what is not all known strings
            pairs = [(t, Known(t, loc)) for t in sorted({t for t in texts if t is not None})]
        elif isinstance(coll, Unknown) and coll.ref:
            return self._over_resource(coll.ref, loc)
        else:
            return [("", self.scope)]
        if len(pairs) > MAX_INSTANCES:
            return [("", self.scope)]
        return [(_key_index(k), self._bind("each", {"key": Known(k, loc), "value": v}, loc)) for k, v in pairs]

    def _over_resource(self, ref: str, loc: Location) -> list[tuple[str, Scope | None]]:
        """``for_each = aws_kms_key.keys``: one instance for each of that resource's, whose
        ``each.value`` refers to it (so that ``each.value.key_id`` names the key)."""
        other = self.by_name.get(ref[len(self.prefix) :]) if ref.startswith(self.prefix) else None
        if other is None or self._chain >= MAX_FOR_EACH_CHAIN:
            return [("", self.scope)]
        self._chain += 1
        try:
            theirs = self.of(other)
        finally:
            self._chain -= 1
        out: list[tuple[str, Scope | None]] = []
        for index, _scope in theirs:
            if not index.startswith('["'):
                return [("", self.scope)]
            value = Unknown(f"`{ref}{index}` is known after apply", loc, ref=ref)
            out.append((index, self._bind("each", {"key": Known(_key_of_index(index), loc), "value": value}, loc)))
        return out


def _key_index(key: str) -> str:
    """The index of a for_each instance in an address: ``["a"]``."""
    return '["' + key.replace("\\", "\\\\").replace('"', '\\"') + '"]'


def _key_of_index(index: str) -> str:
    """The key of a for_each instance from its index: ``["a"]`` -> ``a``."""
    return index[2:-2].replace('\\"', '"').replace("\\\\", "\\")


class _Providers:
    """The ``provider "aws"`` blocks of a configuration: which one a resource uses, the account they state."""

    def __init__(self, loaded: _Loaded, ev: Evaluator) -> None:
        self.loaded = loaded
        self.ev = ev
        self._aws: list[tuple[str | None, Block]] | None = None

    def blocks(self) -> list[Block]:
        return [b for pf in self.loaded.files for b in pf.blocks if b.type == "provider" and b.labels[:1] == ["aws"]]

    def account(self) -> Value | None:
        """The account the configuration states (``allowed_account_ids`` of the one aws provider)."""
        found: list[Value] = []
        for b in self.blocks():
            ids = self.ev.eval_attr(b, "allowed_account_ids")
            if isinstance(ids, Known) and isinstance(ids.value, list) and len(ids.value) == 1:
                found.append(ids.value[0])
            else:
                return None
        texts = {known_str(v) for v in found}
        if len(texts) == 1 and None not in texts:
            return found[0]
        return None

    def region(self) -> Value | None:
        """The Region the configuration states: the one literal ``region`` of its aws providers."""
        found = {known_str(self.ev.eval_attr(b, "region")) for b in self.blocks()}
        return Known(found.pop()) if len(found) == 1 and None not in found else None

    def provider(self, block: Block) -> Block | None:
        """The ``provider "aws"`` block a resource uses (its ``provider = aws.alias``, else the default one)."""
        alias = None
        attr = block.attr("provider")
        if attr is not None:
            if attr.expr.node is not None:
                text = attr.expr.src.text(attr.expr.node).strip()
            else:
                text = known_str(self.ev.eval(attr.expr)) or ""
            head, _, alias = text.partition(".")
            if head != "aws":
                return None
        if self._aws is None:  # once per configuration, not once per resource
            self._aws = [(known_str(self.ev.eval_attr(b, "alias")) or None, b) for b in self.blocks()]
        found = None
        for b_alias, b in self._aws:
            if b_alias == (alias or None):
                if found is not None:
                    return None  # duplicate provider configurations: not one answer
                found = b
        return found

    def default_tags(self, block: Block) -> Value | None:
        """The tags the provider's ``default_tags`` add to every resource it creates."""
        provider = self.provider(block)
        if provider is None:
            return None
        defaults = next(iter(provider.children("default_tags")), None)
        return None if defaults is None else self.ev.eval_attr(defaults, "tags")


def _build(project: Project, instances: list[Instance]) -> None:
    """The model of a configuration's resources, those of every module instance with them,
    and where each resource and data source is (a module's: at the root's call of it)."""
    root = instances[0]
    providers = _Providers(root.loaded, root.ev)  # a module's resources use the root's providers
    views: list[ResourceView] = []
    spanned: set[str] = set()
    for inst in instances:
        if inst.prefix not in spanned:  # instances of one call share their names
            spanned.add(inst.prefix)
            _spans(project, inst)
        views += resource_views(inst.loaded, inst.ev, None, inst.prefix[:-1], providers, inst.own, inst.label[:-1])
    Builder(project, views, providers.account(), providers.region()).build()


def _spans(project: Project, inst: Instance) -> None:
    for pf in inst.loaded.files:
        for b in pf.blocks:
            if b.type in ("resource", "data") and len(b.labels) >= 2:
                name = f"{b.labels[0]}.{b.labels[1]}"
                if b.type == "data":
                    name = "data." + name
                span = (b.loc.file, b.loc.line, b.loc.end_line)
                if inst.anchor is not None:
                    span = inst.anchor  # reported with the file that calls the module
                project.resource_spans.setdefault(inst.prefix + name, span)


def _suppressions(project: Project, loaded: _Loaded, prefix: str = "") -> None:
    """Inline suppressions of a directory's files, on its resources as named in one module
    instance (``prefix``: each instance of a module is suppressed by the comments in it)."""
    for pf in [*loaded.files, *loaded.overrides]:
        if not pf.comment_lines:
            continue
        spans: list[tuple[str, int, int]] = []
        for b in pf.blocks:
            if b.type == "resource" and len(b.labels) >= 2:
                spans.append((f"{prefix}{b.labels[0]}.{b.labels[1]}", b.loc.line, b.loc.end_line))
            elif b.type == "data" and len(b.labels) >= 2:
                spans.append((f"{prefix}data.{b.labels[0]}.{b.labels[1]}", b.loc.line, b.loc.end_line))
        lines = pf.src.data.decode("utf-8", "replace").split("\n")
        for lineno, text in pf.comment_text.items():
            if 1 <= lineno <= len(lines):
                lines[lineno - 1] = "// " + text
        project.suppressions.extend(comment_suppressions(lines, pf.src.display, spans, pf.comment_lines))


__all__ = [
    "IDENTITY_POLICY_TYPES",
    "KEY_ATTRS",
    "KEY_TYPES",
    "OTHER_MODELLED",
    "Location",
    "parse_directory",
    "parse_file",
    "resource_views",
]
