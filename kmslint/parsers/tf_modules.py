"""Terraform module calls, evaluated as Terraform evaluates them (RULES.md, "Modules").

A configuration is a tree of *module instances*: the root directory, and
for each ``module "x"`` call whose source is on disk one instance per
element of its ``count``/``for_each`` (one when it has neither, one with
``count``/``each`` unknown when they are unknown), each evaluated with the
call's arguments as its variables.  A source is on disk when it is a local
path (``./``, ``../``: joined to the caller's directory lexically, as
Terraform joins it, and inside the scan root, as ``file()`` reads) or when
``terraform init`` recorded the call in ``.terraform/modules/modules.json``
of the root directory.  Anything else (a registry, git or S3 source not
installed, a path that does not exist or leaves the scan root, a call that
would recurse) is *not followed*: its outputs are unknown, and the call is
recorded (OUTPUT.md, ``summary.not_followed``).

Where findings go: an argument keeps the location where its value is
written, through any number of calls, so a rule reports the caller's
literal; a value taken from a caller's variable default is located at the
argument that passes it (a default counts as written where it is used).

Budgets: a call chain is at most :data:`MAX_MODULE_DEPTH` calls deep, a
call has at most :data:`MAX_CALL_INSTANCES` instances and a unit at most
:data:`MAX_MODULE_INSTANCES`; past any of these the configuration is "too
costly" (KMS000), never silently cut.  Every evaluation spends from the
unit's budget.  A cycle (``a`` calls ``b`` calls ``a``) is not followed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from kmslint.model import Known, Location, NotFollowed, Unknown, Value
from kmslint.parsers.common import TF_LISTING, Budget, BudgetExceeded, ParseFailure, ParseOptions
from kmslint.parsers.hcl_eval import Config, Evaluator
from kmslint.parsers.hcl_syntax import Attr, Block
from kmslint.parsers.hcl_values import Scope, with_loc
from kmslint.record import Record, field, replace

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from kmslint.parsers.terraform import _Loaded

# Calls in one chain (root -> a -> b ...): real trees nest three or four deep.
MAX_MODULE_DEPTH = 32
# Instances of one call (its count or for_each), and of every call of a unit together.
MAX_CALL_INSTANCES = 1_000
MAX_MODULE_INSTANCES = 2_000
# Evaluation steps one module call's source may take (kmslint.modsources reads sources so too).
SOURCE_STEPS = 10_000
# Where terraform init records the modules it installed, in the root directory.
MANIFEST = ".terraform/modules/modules.json"
# A modules.json larger than this is not read (terraform init writes a few KB).
MAX_MANIFEST_BYTES = 4 << 20

_LOCAL = ("./", "../", ".\\", "..\\")
# Arguments of a module block that are Terraform's, not the module's variables.
_META = frozenset({"source", "version", "count", "for_each", "providers", "depends_on"})


class Instance(Record, eq=False):
    """One module instance: the root configuration, or one instance of a module call."""

    prefix: str  # "" for the root, else "module.a." / "module.a.module.b."
    label: str  # the same with instance keys: module.a["x"].module.b[0]
    directory: Path
    loaded: _Loaded
    config: Config
    ev: Evaluator
    own: frozenset[str]  # display names of its directory's files
    chain: tuple[Path, ...]  # directories of the calls leading here, itself last (cycle guard)
    key_path: str = ""  # modules.json key: "" for the root, "a", "a.b"
    key: str | int | None = None  # its count.index or each.key; None: the call's only instance
    # Span of the root configuration's module block this instance descends from: findings
    # in a module's files belong to the file that calls it (kmslint.engine._reported).
    anchor: tuple[str, int, int] | None = None
    children: dict[str, list[Instance]] = field(default_factory=dict)
    values: dict[str, Value | None] = field(default_factory=dict)


class Tree:
    """The module instances of one unit, created on demand and each once."""

    def __init__(
        self,
        root: Path,
        opts: ParseOptions,
        load: Callable[[Path], _Loaded],
        not_followed: list[NotFollowed],
        called: set[str] | None = None,
        tried: list[tuple[str, str]] | None = None,
    ) -> None:
        self.root = root
        # Pins for the findings cache (Project.files_tried): what the calls' sources depend on.
        self.tried = tried if tried is not None else []
        self.opts = opts
        self._load = load
        self._dirs: dict[Path, _Loaded] = {}
        self.not_followed = not_followed
        self.called = called if called is not None else set()  # directories followed, resolved
        self.instances: list[Instance] = []
        self._manifest: dict[str, Path] | None = None
        self._busy: set[tuple[int, str]] = set()
        self._root_real: Path | None = None

    def add_root(self, loaded: _Loaded, config: Config, ev: Evaluator) -> Instance:
        config.modules = self._hook(len(self.instances))
        # Its own files and place in the chain are only asked about once a call is followed
        # (own: see terraform._Args.attr_loc; the chain: _create), so not worked out here.
        inst = Instance("", "", self.root, loaded, config, ev, frozenset(), ())
        self.instances.append(inst)
        return inst

    def expand(self) -> None:
        """Create every instance of every call, to any depth (each call once)."""
        i = 0
        while i < len(self.instances):
            inst = self.instances[i]
            for name in inst.loaded.modules:
                self.children(inst, name)
            i += 1

    def release(self) -> None:
        """Break the cycles of a finished tree (each Config's ``modules`` hook reaches the tree,
        which holds every instance), so its objects are freed by reference counting alone
        (see tests/test_cycles.py)."""
        for inst in self.instances:
            inst.config.modules = None
            inst.children.clear()
            inst.values.clear()
        self.instances.clear()
        self._dirs.clear()

    def _hook(self, index: int) -> Callable[[str, Location], Value | None]:
        def call(name: str, loc: Location) -> Value | None:
            return self.value(self.instances[index], name, loc)

        return call

    # ------------------------------------------------------------------ calls

    def value(self, inst: Instance, name: str, loc: Location) -> Value | None:
        """``module.NAME`` in ``inst``: the call's outputs (a list for ``count``, a map for
        ``for_each``), or None when the call is not followed (then it stays unknown)."""
        if name in inst.values:
            return inst.values[name]
        kids = self.children(inst, name)
        block = inst.loaded.modules.get(name)
        if kids is None or block is None:
            return None
        inst.values[name] = None  # an output that reads itself through the call stays unknown
        ref = f"{inst.prefix}module.{name}"
        got: Value
        if block.attr("count") is None and block.attr("for_each") is None:
            got = self._outputs(kids[0], loc) if kids else Unknown(f"`{ref}`", loc, ref=ref)
        else:
            got = self._repeated(inst, block, kids, loc, ref)
        inst.values[name] = got
        return got

    def _repeated(self, inst: Instance, block: Block, kids: list[Instance], loc: Location, ref: str) -> Value:
        if any(k.key is None for k in kids):
            return Unknown(f"the instances of `{ref}` are not known", loc, ref=ref)
        if block.attr("count") is not None:
            return Known([self._outputs(k, loc) for k in kids], loc)
        return Known({str(k.key): self._outputs(k, loc) for k in kids}, loc)

    def _outputs(self, inst: Instance, loc: Location) -> Value:
        outs: dict[str, Value] = {}
        for name, block in inst.loaded.outputs.items():
            attr = block.attr("value")
            v = inst.ev.eval(attr.expr) if attr is not None else None
            ref = f"{inst.prefix}output.{name}"
            outs[name] = v if v is not None else Unknown(f"output `{name}`", loc, ref=ref)
        return Known(outs, loc)

    def children(self, inst: Instance, name: str) -> list[Instance] | None:
        """The instances of call ``name`` in ``inst`` (created on first use); None: not followed."""
        if name in inst.children:
            return inst.children[name]
        block = inst.loaded.modules.get(name)
        if block is None:
            return None
        busy = (id(inst), name)
        if busy in self._busy:
            return None  # its own arguments read its outputs: a cycle Terraform refuses
        self._busy.add(busy)
        try:
            kids = self._create(inst, name, block)
        finally:
            self._busy.discard(busy)
        if kids is not None:
            inst.children[name] = kids
        return kids

    def _create(self, inst: Instance, name: str, block: Block) -> list[Instance] | None:
        key_path = f"{inst.key_path}.{name}" if inst.key_path else name
        text = self._source(inst, block)
        directory = self._directory(inst, key_path, text)
        if directory is None or directory in inst.chain or directory == self._resolved_root():
            anchor = self._anchor_file(inst, block)
            self.not_followed.append(NotFollowed(block.loc.file, block.loc.line, key_path, text or "", anchor))
            return None
        if len(inst.chain) > MAX_MODULE_DEPTH:
            stop = BudgetExceeded(f"module calls nest deeper than {MAX_MODULE_DEPTH} levels")
            stop.where = block.header
            raise stop
        loaded = self._dirs.get(directory)
        if loaded is None:
            loaded = self._dirs[directory] = self._load(directory)
            self.called.add(str(directory))
        out: list[Instance] = []
        for key, scope in self._repetitions(inst, block):
            out.append(self._instance(inst, name, key_path, block, directory, loaded, key, scope))
        return out

    def _source(self, inst: Instance, block: Block) -> str | None:
        """A call's ``source``: Terraform takes a literal string only (escapes decoded), so it is
        evaluated as :mod:`kmslint.modsources` reads it, without variables and on a small budget
        of its own; an expression built to be costly is a configuration Terraform refuses."""
        evaluator = Evaluator(Config(inst.directory), replace(self.opts, budget=Budget(steps=SOURCE_STEPS)))
        try:
            source = evaluator.eval_attr(block, "source")
        except BudgetExceeded:
            return None
        return source.value if isinstance(source, Known) and isinstance(source.value, str) else None

    def _repetitions(self, inst: Instance, block: Block) -> list[tuple[str | int | None, Scope | None]]:
        """``(instance key, scope binding count/each)`` for each instance of a call: one per
        known element, none for an empty collection, one with them unknown otherwise."""
        attr = block.attr("count") or block.attr("for_each")
        if attr is None:
            return [(None, None)]
        where = attr.loc
        value = inst.ev.eval(attr.expr)
        plain = value.value if isinstance(value, Known) else None
        if attr is block.attr("count"):
            if not isinstance(plain, int | float) or isinstance(plain, bool):
                return [(None, Scope({"count": Unknown("count.index is not known", where, ref="count")}))]
            n = max(0, int(plain))
            self._bound(n, where)
            return [(i, Scope({"count": Known({"index": Known(i, where)}, where)})) for i in range(n)]
        items = _each_items(plain)
        if items is None:
            return [(None, Scope({"each": Unknown("each is not known", where, ref="each")}))]
        self._bound(len(items), where)
        return [(k, Scope({"each": Known({"key": Known(k, where), "value": v}, where)})) for k, v in items]

    def _bound(self, n: int, where: Location) -> None:
        if n > MAX_CALL_INSTANCES or len(self.instances) + n > MAX_MODULE_INSTANCES:
            stop = BudgetExceeded(
                f"a module call has over {MAX_CALL_INSTANCES:,} instances"
                if n > MAX_CALL_INSTANCES
                else f"the configuration has over {MAX_MODULE_INSTANCES:,} module instances"
            )
            stop.where = where
            raise stop
        if self.opts.budget is not None:
            self.opts.budget.spend(n)

    def _instance(
        self,
        parent: Instance,
        name: str,
        key_path: str,
        block: Block,
        directory: Path,
        loaded: _Loaded,
        key: str | int | None,
        scope: Scope | None,
    ) -> Instance:
        if len(self.instances) >= MAX_MODULE_INSTANCES:
            self._bound(1, block.header)
        args: dict[str, Value] = {}
        for arg, attr in block.attrs.items():
            if arg in _META:
                continue
            v = parent.ev.eval(attr.expr, scope)
            if v is None:
                continue
            if scope is not None and _per_instance(attr):
                # `x = each.value` takes each instance's value from one collection: the argument
                # is where they are written as this call's, so that the instances' findings
                # meet at one place and merge (RULES.md, "Instances"), as a resource's do.
                args[arg] = with_loc(v, attr.loc)
            else:
                args[arg] = _written_at(v, parent.config, attr.loc)
        prefix = f"{parent.prefix}module.{name}."
        config = replace(loaded.config, var_overrides=args, prefix=prefix, modules=self._hook(len(self.instances)))
        ev = Evaluator(config, self.opts)
        own = frozenset(pf.src.display for pf in loaded.files)
        anchor = parent.anchor or (block.loc.file, block.loc.line, block.loc.end_line)
        suffix = "" if key is None else f"[{json.dumps(key)}]"
        label = f"{parent.label}module.{name}{suffix}."
        chain = (*parent.chain, directory)
        inst = Instance(prefix, label, directory, loaded, config, ev, own, chain, key_path, key, anchor)
        self.instances.append(inst)
        return inst

    def _resolved_root(self) -> Path | None:
        if self._root_real is None:
            try:
                self._root_real = self.root.resolve()
            except (OSError, RuntimeError, ValueError):
                self._root_real = self.root
        return self._root_real

    @staticmethod
    def _anchor_file(inst: Instance, block: Block) -> str:
        return inst.anchor[0] if inst.anchor is not None else block.loc.file

    # ------------------------------------------------------------------ sources

    def _directory(self, inst: Instance, key_path: str, source: str | None) -> Path | None:
        """Where a call's module is on disk, or None (not followed)."""
        if source is not None and (source.startswith(_LOCAL) or source in (".", "..")):
            joined = Path(os.path.normpath(os.path.join(str(inst.directory), source.replace("\\", "/"))))
            found = self._usable(joined)
            if found is None and self._inside(joined):
                self.tried.append((str(joined), TF_LISTING))  # not there yet: creating it is a change
            return found
        installed = self.manifest().get(key_path)
        return self._usable(installed) if installed is not None else None

    def _inside(self, directory: Path) -> bool:
        root = self.opts.scan_root
        try:
            return root is not None and directory.resolve().is_relative_to(root.resolve())
        except (OSError, RuntimeError, ValueError):
            return False

    def _usable(self, directory: Path) -> Path | None:
        """``directory`` when it is a directory inside the scan root (symlinks resolved)."""
        root = self.opts.scan_root
        if root is None:
            return None
        try:
            resolved = directory.resolve()
            if not resolved.is_relative_to(root.resolve()) or not resolved.is_dir():
                return None
        except (OSError, RuntimeError, ValueError):
            return None
        return resolved

    def manifest(self) -> dict[str, Path]:
        """``.terraform/modules/modules.json`` of the root: call key -> directory, read
        defensively (it is input too: anything unexpected is skipped)."""
        if self._manifest is None:
            self._manifest = _read_manifest(self.root, self.opts)
            self.tried.append((str(self.root), MANIFEST))  # terraform init writing it is a change
        return self._manifest


def _read_manifest(root: Path, opts: ParseOptions) -> dict[str, Path]:
    path = root / MANIFEST
    try:
        if not path.is_file():
            return {}
        text = replace(opts, max_file_bytes=min(opts.max_file_bytes, MAX_MANIFEST_BYTES)).read_text(path)
        data = json.loads(text)
    except (OSError, ValueError, RecursionError, ParseFailure):  # a broken manifest is no manifest
        return {}
    modules = data.get("Modules") if isinstance(data, dict) else None
    out: dict[str, Path] = {}
    if not isinstance(modules, list):
        return out
    for entry in modules[:MAX_MODULE_INSTANCES]:
        if not isinstance(entry, dict):
            continue
        key, where = entry.get("Key"), entry.get("Dir")
        if isinstance(key, str) and key and isinstance(where, str) and where and "\x00" not in where:
            out.setdefault(key, root / where)
    return out


def _written_at(v: Value, caller: Config, attr_loc: Location) -> Value:
    """An argument's value, located where it is written: a value that is a caller's variable
    default counts as written at the argument that passes it (RULES.md, "Where a finding is
    reported"); any other keeps its own location (a literal, wherever it is)."""
    loc = v.loc
    if loc is None:
        return v
    for block in caller.variables.values():
        span = block.loc
        if span.file == loc.file and span.line <= loc.line <= span.end_line:
            return with_loc(v, attr_loc)
    return v


def _per_instance(attr: Attr) -> bool:
    """Does an argument's expression read ``each`` or ``count`` (as written, not evaluated)?"""
    expr = attr.expr
    if expr.node is not None:
        data = expr.src.data[expr.node.start_byte : expr.node.end_byte]
    elif expr.json is not None:  # .tf.json: the references are inside "${...}" strings
        from kmslint.model import to_plain

        data = json.dumps(to_plain(expr.json)).encode("utf-8", "surrogatepass")
    else:
        return False
    return b"each." in data or b"count." in data


def _each_items(plain: object) -> list[tuple[str, Value]] | None:
    """``(each.key, each.value)`` of a known ``for_each`` (a map, or a set of strings), in
    Terraform's order (by key); None when they are not all known."""
    if isinstance(plain, dict):
        return sorted(plain.items())
    if not isinstance(plain, list):
        return None
    items: dict[str, Value] = {}
    for v in plain:
        if not (isinstance(v, Known) and isinstance(v.value, str)):
            return None
        items[v.value] = v
    return sorted(items.items())


__all__ = ["MAX_CALL_INSTANCES", "MAX_MODULE_DEPTH", "MAX_MODULE_INSTANCES", "Instance", "Tree"]
