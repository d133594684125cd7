"""CloudFormation and SAM templates, YAML or JSON, into the model.

The template is read in two layers:

* a *source* gives the raw tree with locations (:mod:`kmslint.parsers.cfn_sources`):
  YAML through :mod:`kmslint.parsers.yamlpos`, JSON through
  :mod:`kmslint.parsers.jsonpos`.  A YAML short-form tag becomes the
  long form it stands for (``!Sub x`` is ``{"Fn::Sub": x}``), so both formats
  give the same raw values; an unknown tag (``!Rain::Embed``) is an
  :class:`~kmslint.model.Unknown`.  Of duplicate keys the last one wins, as
  in CloudFormation, and each later occurrence is recorded: the template is
  linted, and a key written twice inside a key policy (KMS013) or elsewhere in
  a key's or alias's definition (KMS015) is reported there.  A template that may hold ``Fn::ForEach`` loops
  (``AWS::LanguageExtensions``) is read through a
  :class:`~kmslint.parsers.cfn_sources.LoopSource`, which
  expands them, within bounds, into the resources and values they stand for.
* a :class:`~kmslint.parsers.cfn_intrinsics.Resolver` evaluates the intrinsic functions that can be
  evaluated statically (``Ref`` to parameters with a default and to pseudo
  parameters, ``Fn::Sub``, ``Fn::Join``, ``Fn::FindInMap`` with literal keys,
  ``Fn::Select``, ``Fn::Split``, ``Fn::GetAtt``, ``Fn::If``,
  ``Fn::ToJsonString``) into symbolic values; everything else is
  :class:`~kmslint.model.Unknown`.
* the ``Conditions`` section is read from its definitions, with the values the
  resolver gives (:mod:`kmslint.parsers.cfn_conditions`).  An ``Fn::If`` whose
  condition known values decide is read as the branch it takes; any other is a
  :class:`~kmslint.model.Conditional` that carries the condition space, so that
  only combinations the definitions allow are checked.  A resource whose
  ``Condition`` is decided false does not exist (nothing about it is read); one
  whose condition is undecided is read assuming it true (and what that forces a
  parameter to be), and the project records the condition for its findings to
  name.

A reference to a key (``!Ref Key``, ``!GetAtt Key.KeyId``, ``!GetAtt Key.Arn``,
``${Key}`` or ``${Key.Arn}``, an ARN built around one) links an alias, a replica
or a data store to that key, and to no other.  A policy written as JSON text
(a literal, ``Fn::Sub``, ``Fn::Join``) is read by
:mod:`kmslint.parsers.cfn_policy_text`, its unknown parts kept symbolic.  A
parameter without a default that says it is an account ID (by its name,
``Description`` or ``AllowedPattern``) means one.  SAM functions' and state
machines' ``Policies`` are read, inline documents and the policy templates that
grant KMS actions alike.  A template the CDK synthesized records each resource's
construct path (``aws:cdk:path``) for its findings' messages.

Nothing in the input is executed, and cfn-lint is never imported: its import
alone costs most of a second.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from pathlib import Path

from kmslint.model import (
    Alias,
    Conditional,
    DuplicateIndex,
    DuplicateKey,
    IdentityPolicy,
    Interpolated,
    KeyKind,
    KeyPolicy,
    KeyResource,
    Known,
    Location,
    Meaning,
    MultiRegionUse,
    Project,
    ProjectKind,
    Suppression,
    Unknown,
    UsageKind,
    Value,
    as_dict,
    as_list,
    known_str,
    pin,
    scalar,
)
from kmslint.parsers.cfn_intrinsics import Param, Resolver, branch_values, concat, is_pseudo, is_text, key_text
from kmslint.parsers.cfn_sources import PLACEHOLDER, Bound, Entry, JsonNode, JsonSource, LoopSource, YamlSource
from kmslint.parsers.common import DEFAULT_MAX_DEPTH, Budget, ParseFailure, ParseOptions, comment_suppressions
from kmslint.policy.datastores import CLOUDFORMATION_TYPES
from kmslint.record import Record, replace

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from kmslint.parsers.cfn_conditions import Space
    from kmslint.parsers.cfn_sources import Source
    from kmslint.parsers.common import Budget
    from kmslint.parsers.yamlpos import YamlDocument

# --------------------------------------------------------------------------- entry point


def parse_template(path: Path, text: str, opts: ParseOptions, *, is_json: bool) -> Project | None:
    """Read one template.

    Returns ``None`` when the file parses but is not a CloudFormation or SAM
    template; raises :class:`ParseFailure` when it is not valid YAML/JSON or
    is over a limit.
    """
    _check_size(text, opts.max_file_bytes)
    file = opts.display(path)
    try:
        if is_json:
            return _parse_json(text, file, opts)
        return _parse_yaml(text, file, opts)
    except RecursionError:
        raise ParseFailure(f"nested deeper than kmslint follows (--max-depth is {opts.max_depth})") from None


def _check_size(text: str, limit: int) -> None:
    size = len(text)
    if size * 4 > limit:
        size = len(text.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise ParseFailure(f"file is {size} bytes, over the {limit}-byte limit (--max-file-bytes)")


def _parse_json(text: str, file: str, opts: ParseOptions) -> Project | None:
    from kmslint.parsers import jsonpos

    try:
        doc = jsonpos.parse_document(text, file, max_depth=opts.max_depth)
    except jsonpos.JSONSyntaxError as exc:
        raise ParseFailure(f"invalid JSON: {exc.message}", exc.line, exc.column) from None
    source: Source = JsonSource(doc, text.split("\n"))
    if _has_loops(text):
        source = LoopSource(source, file)
    reader = _Reader(source, file, "kmslint" in text, opts.budget, _may_branch(text), opts.max_depth, CDK_PATH in text)
    return reader.read(JsonNode(doc.data, doc.root, doc.fallback))


def _parse_yaml(text: str, file: str, opts: ParseOptions) -> Project | None:
    from kmslint.parsers import yamlpos

    docs = yamlpos.load(text, file, max_depth=opts.max_depth)
    loops = _has_loops(text)
    branching = _may_branch(text)
    for doc in docs:
        source: Source = LoopSource(YamlSource(doc), file) if loops else YamlSource(doc)
        reader = _Reader(source, file, "kmslint" in text, opts.budget, branching, opts.max_depth, CDK_PATH in text)
        project = reader.read(doc.root)
        if project is not None:
            if "kmslint" in text:
                project.suppressions.extend(_comment_suppressions(doc, file, project, reader.copies))
            return project
    return None


def _has_loops(text: str) -> bool:
    """Could the template hold an ``Fn::ForEach`` loop (its key escaped or not)?  Only then is
    it read through :class:`LoopSource`, which costs a walk of every value read."""
    if "ForEach" in text:
        return True
    from kmslint.parsers import sniff

    return "\\" in text and "ForEach" in sniff.decoded(text)


def _may_branch(text: str) -> bool:
    """Could the template hold an ``Fn::If`` (``!If``, its key escaped or not)?  Only then are
    its conditions read for what its ``Fn::If`` may take (a resource's ``Condition`` is seen
    in the resource); reading them costs an import and a walk of the ``Conditions``."""
    if "Fn::If" in text or "!If" in text:
        return True
    from kmslint.parsers import sniff

    return "\\" in text and "Fn::If" in sniff.decoded(text)


def _comment_suppressions(
    doc: YamlDocument, file: str, project: Project, copies: dict[str, list[str]]
) -> list[Suppression]:
    """``# kmslint:ignore`` comments: only real comments, not ``#`` inside a string.

    Comments are found in YAML lines and handed over in editor lines (the two
    differ only where NEL, LS or PS characters break YAML lines).  ``copies``
    names, for a resource made by an ``Fn::ForEach``, every resource made from
    the same lines.
    """
    lines = doc.lines if doc.remap is None else doc.remap.editor_lines
    masked = list(lines)
    comment_lines: set[int] = set()
    for i, line in enumerate(doc.lines):
        if "kmslint" not in line:
            continue
        start = doc.comment_start(i + 1)
        if start is None:
            continue
        row, column = doc.point(i, start)
        comment_lines.add(row)
        masked[row - 1] = " " * (column - 1) + lines[row - 1][column - 1 :]
    if not comment_lines:
        return []
    spans = [(name, first, last) for name, (_f, first, last) in project.resource_spans.items()]
    found = comment_suppressions(masked, file, spans, comment_lines)
    if not copies:
        return found
    # The copies an Fn::ForEach makes of one resource share its lines: a comment there is each one's.
    return [replace(sup, resource=name) for sup in found for name in copies.get(sup.resource or "", [sup.resource])]


# --------------------------------------------------------------------------- the template

_KEY_TYPES = {"AWS::KMS::Key": KeyKind.KEY, "AWS::KMS::ReplicaKey": KeyKind.REPLICA}
_KEY_PROPERTIES = {
    "KeySpec": "key_spec",
    "KeyUsage": "key_usage",
    "Origin": "origin",
    "EnableKeyRotation": "rotation",
    "RotationPeriodInDays": "rotation_period",
    "MultiRegion": "multi_region",
    "PendingWindowInDays": "deletion_window",
    "BypassPolicyLockoutSafetyCheck": "bypass_lockout_check",
    "Enabled": "enabled",
}
_POLICY_DOCUMENT_TYPES = frozenset(
    (
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::RolePolicy",
        "AWS::IAM::UserPolicy",
        "AWS::IAM::GroupPolicy",
    )
)
_INLINE_POLICY_TYPES = frozenset(("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"))
_SAM_FUNCTION = "AWS::Serverless::Function"
_SAM_STATE_MACHINE = "AWS::Serverless::StateMachine"
_SAM_POLICY_TYPES = frozenset((_SAM_FUNCTION, _SAM_STATE_MACHINE))
# SAM policy templates that grant KMS actions, and the actions each grants on
# arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/${KeyId} (aws/serverless-application-model,
# samtranslator/policy_templates_data/policy_templates.json, version 0.0.1 as of November 2024).
_SAM_KMS_TEMPLATES: dict[str, tuple[str, ...]] = {
    "KMSDecryptPolicy": ("kms:Decrypt",),
    "KMSEncryptPolicy": ("kms:Encrypt",),
    "KMSEncryptPolicy_v2": (
        *("kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"),
        *("kms:GenerateDataKeyPair", "kms:GenerateDataKeyPairWithoutPlaintext"),
    ),
}
_SAM_TRANSFORM = "AWS::Serverless"
# Resources whose settings are written with their values (kmslint.parsers.cfn_settings): KMS024.
_SETTING_TYPES = frozenset(("AWS::Lambda::Function", _SAM_FUNCTION, "AWS::ECS::TaskDefinition", "AWS::SSM::Parameter"))
_LOOP_TRANSFORM = "AWS::LanguageExtensions"
STACK_ACCOUNT = "AWS::AccountId"
CDK_PATH = "aws:cdk:path"


class _Resource(Record):
    name: str
    type: str
    entry: Entry
    fields: dict[str, Entry]
    # The Properties entries, read when first needed; unreadable: Properties is not a mapping.
    props: dict[str, Entry] | None = None
    props_unreadable: bool = False
    # The conditions as its properties see them (its own Condition, if any, assumed true),
    # and what that Condition forces parameters to be (see _Reader._exists).
    view: Space | None = None
    pins: dict[str, str] | None = None

    def __init__(self, name: str, type: str, entry: Entry, fields: dict[str, Entry]) -> None:
        self.name = name
        self.type = type
        self.entry = entry
        self.fields = fields
        self.props = None
        self.props_unreadable = False
        self.view = None
        self.pins = None


class _Reader:
    """Reads one template document into a :class:`Project`."""

    def __init__(
        self,
        source: Source,
        file: str,
        suppressible: bool = True,
        budget: Budget | None = None,
        branching: bool = True,
        max_depth: int = DEFAULT_MAX_DEPTH,
        cdk: bool = False,
    ) -> None:
        self.src = source
        self.file = file
        self.budget = budget
        # The text may hold an Fn::If (see _may_branch): its conditions are read for it.
        self.branching = branching
        self.max_depth = max_depth
        # Construct paths (``aws:cdk:path`` metadata) are looked for only in a template that has one.
        self.cdk = cdk
        # Resource name -> the names of every resource an Fn::ForEach made from the same body.
        self.copies: dict[str, list[str]] = {}
        # Suppressions (a `kmslint` Metadata key, `kmslint:ignore` comments) and the
        # resource spans that comments are matched by need the word in the text.
        self.suppressible = suppressible

    def read(self, root: object) -> Project | None:
        try:
            return self._read(root)
        finally:
            if isinstance(self.src, LoopSource):
                self.src.resolver = None  # (source -> resolver -> mappings closure -> source)

    def _read(self, root: object) -> Project | None:
        top_items = self.src.items(root)
        if top_items is None:
            return None
        top = {e.name: e for e in top_items}
        self.types: dict[str, str] = {}
        loops = self.src if isinstance(self.src, LoopSource) else None
        if loops is not None:
            # A loop's collection may be a parameter or a mapping: resolvable before the resources are known.
            self.resolver = loops.resolver = self._resolver(top)
        resources = self._resources(top.get("Resources"))
        if not self._is_template(top, resources):
            return None
        self.resources = {r.name: r for r in resources}
        self.types.update((r.name, r.type) for r in resources)
        if loops is None:
            self.resolver = self._resolver(top)
        project = Project(kind=ProjectKind.CLOUDFORMATION, root=self.file, files=[self.file])
        self.resolver.duplicates = project.duplicate_keys
        project.condition_space = space = self._space(top.get("Conditions"), resources)
        # A resource whose Condition known values make false does not exist: nothing about it is checked.
        existing = [r for r in resources if self._exists(r, space, project)]
        project.resource_count = len(existing)
        for r in resources if self.suppressible else ():
            project.resource_spans[r.name] = (self.file, r.entry.key_loc.line, self.src.last_line(r.entry))
            project.suppressions.extend(self._metadata_suppressions(r))
        for r in existing if self.cdk else ():
            path = self._construct_path(r)
            if path:
                project.constructs[r.name] = path
        self._model(project, existing, top)
        twice = self.src.duplicates()
        if twice:  # rare: a template that writes a key twice
            project.duplicate_keys.extend(twice)
            index = DuplicateIndex(twice)
            for key in project.keys:
                key.duplicate_keys = self._settings_duplicates(self.resources[key.name], index)
            for alias in project.aliases:
                alias.duplicate_keys = self._settings_duplicates(self.resources[alias.name], index)
        if loops is not None:
            project.errors.extend(loops.errors)
        return project

    def _model(self, project: Project, existing: list[_Resource], top: dict[str, Entry]) -> None:
        """The model's records of the resources that exist: keys first (the others name them)."""
        for r in existing:
            if r.type in _KEY_TYPES:
                project.keys.append(self._key(r))
        for r in existing:
            if r.type == "AWS::KMS::Alias":
                project.aliases.append(self._alias(r))
            elif r.type in _POLICY_DOCUMENT_TYPES or r.type in _INLINE_POLICY_TYPES or r.type in _SAM_POLICY_TYPES:
                project.identity_policies.extend(self._identity_policies(r))
            elif r.type == "AWS::CloudTrail::Trail":
                from kmslint.parsers.trails import cfn_trail  # only a template with a trail pays

                project.trails.append(cfn_trail(r.name, r.entry.key_loc, partial(self._prop, r)))
        project.multi_region_uses.extend(self._multi_region_uses(existing, project.aliases))
        if any(r.type in _SETTING_TYPES for r in existing):
            from kmslint.parsers.cfn_settings import plain_settings

            project.plain_settings = plain_settings(self, existing, top.get("Globals"))
        if any(r.type in CLOUDFORMATION_TYPES for r in existing):
            from kmslint.parsers.key_uses import cloudformation_uses

            uses = cloudformation_uses(self, existing, project.aliases, _tags, top.get("Globals"))
            project.key_uses.extend(uses)
        if project.keys:  # KMS020: a service's use of a key of the template
            from kmslint.parsers.service_uses import cloudformation_service_uses

            project.service_uses = cloudformation_service_uses(self, existing, project.key_uses, project.aliases)

    def _settings_duplicates(self, r: _Resource, index: DuplicateIndex) -> tuple[DuplicateKey, ...]:
        """The keys written twice in a resource's definition (its value: a logical ID written
        twice is the Resources section's), except in its ``Metadata`` (not a setting) and in
        its key policy's value (whose duplicates are the policy's, KMS013)."""
        inside = index.inside(self.src.loc(r.entry.node))
        if not inside:
            return ()
        outside: list[Location] = []
        meta = r.fields.get("Metadata")
        if meta is not None:
            outside.append(meta.loc)
        policy = self._props(r).get("KeyPolicy") if r.type in _KEY_TYPES else None
        if policy is not None:
            outside.append(self.src.loc(policy.node))
        return tuple(d for d in inside if not any(o.contains(d.loc) for o in outside))

    def _resolver(self, top: dict[str, Entry]) -> Resolver:
        # The mappings are read when first needed, by a closure over the source and not
        # over this reader (reader -> resolver -> closure -> reader is a cycle, which would
        # keep every template's nodes until the garbage collector ran).
        src, mappings = self.src, top.get("Mappings")
        params = self._parameters(top.get("Parameters"))
        lines = src.lines()
        return Resolver(params, self.types, lambda: _mappings(src, mappings), self.budget, lines, self.max_depth)

    # -- conditions

    def _space(self, entry: Entry | None, resources: list[_Resource]) -> Space | None:
        """The template's conditions, read from their definitions with the values every
        property sees (kmslint.parsers.cfn_conditions); None when nothing in the template
        is conditional."""
        if not (self.branching and entry is not None) and not any("Condition" in r.fields for r in resources):
            return None
        from kmslint.parsers import cfn_conditions

        items = (self.src.items(entry.node) if entry is not None else None) or []
        definitions = {e.name: self.src.raw(e.node) for e in items}
        params = self.resolver.params

        def allowed(ref: str) -> tuple[str, ...] | None:
            param = params.get(ref)
            return param.allowed or None if param is not None else None

        return cfn_conditions.build(definitions, self.resolver.resolve, allowed, self.budget)

    def _exists(self, r: _Resource, space: Space | None, project: Project) -> bool:
        """Does the resource exist?  False when its ``Condition`` is decided false.  When its
        condition is undecided, its properties are read assuming it true, and the project
        records the condition for its findings to name."""
        r.view = space
        entry = r.fields.get("Condition")
        if entry is None or space is None:
            return True
        name = known_str(self.resolver.resolve(self.src.raw(entry.node)))
        if name is None:
            return True  # a name that cannot be read: as if it had none
        side = space.decided(name)
        if side is not None:
            return side
        r.view = space.assuming(name)
        r.pins = r.view.pins({})
        project.resource_conditions[r.name] = name
        return True

    # -- structure

    def _resources(self, entry: Entry | None) -> list[_Resource]:
        if entry is None:
            return []
        items = self.src.items(entry.node)
        if items is None:
            return []
        out = []
        bodies: dict[int, list[str]] = {}
        for e in items:
            if isinstance(e.node, Bound):
                self.copies[e.name] = bodies.setdefault(id(e.node.node), [])
                self.copies[e.name].append(e.name)
            fields = {f.name: f for f in self.src.items(e.node) or []}
            type_entry = fields.get("Type")
            rtype = (self.src.text(type_entry.node) if type_entry else None) or ""
            out.append(_Resource(e.name, rtype, e, fields))
        return out

    def _props(self, r: _Resource) -> dict[str, Entry]:
        if r.props is None:
            r.props = {}
            entry = r.fields.get("Properties")
            if entry is not None:
                items = self.src.items(entry.node)
                if items is None:
                    r.props_unreadable = not _is_null(self.src, entry.node)
                else:
                    r.props = {p.name: p for p in items}
                    # A loop over an unknown collection names properties nobody knows: any may be set.
                    r.props_unreadable = isinstance(self.src, LoopSource) and any(
                        re.search(PLACEHOLDER, name) for name in r.props
                    )
        return r.props

    def _is_template(self, top: dict[str, Entry], resources: list[_Resource]) -> bool:
        if "AWSTemplateFormatVersion" in top:
            return True
        if any(r.type.startswith("AWS::") for r in resources):
            return True
        transform = top.get("Transform")
        if transform is None:
            return False
        names = [known_str(v) for v in as_list(self.src.raw(transform.node))]
        return any(n is not None and (n.startswith(_SAM_TRANSFORM) or n == _LOOP_TRANSFORM) for n in names)

    def _parameters(self, entry: Entry | None) -> dict[str, Param]:
        out: dict[str, Param] = {}
        if entry is None:
            return out
        for p in self.src.items(entry.node) or []:
            fields = {f.name: f for f in self.src.items(p.node) or []}
            ptype = self.src.text(fields["Type"].node) if "Type" in fields else None
            default = self.src.raw(fields["Default"].node) if "Default" in fields else None
            allowed = self.src.raw(fields["AllowedValues"].node) if "AllowedValues" in fields else None
            param = _param(p.name, ptype or "String", default, allowed)
            if param.value is None and _is_account_id(p.name, *(self._field_text(fields, f) for f in _ACCOUNT_HINTS)):
                param = replace(param, meaning=Meaning.ACCOUNT_ID)
            out[p.name] = param
        return out

    def _field_text(self, fields: dict[str, Entry], name: str) -> str:
        """A field's text, empty when it is not set or not a string."""
        entry = fields.get(name)
        return (self.src.text(entry.node) or "") if entry is not None else ""

    # -- properties

    def _prop(self, r: _Resource, name: str, *, policy: bool = False) -> tuple[Value, Location] | None:
        """A resolved property and its span; None when it is not set (or is AWS::NoValue).
        A ``policy`` written as JSON text is read into a tree."""
        entry = self._props(r).get(name)
        if entry is None:
            if r.props_unreadable:
                props_loc = r.fields["Properties"].loc
                return Unknown("Properties cannot be resolved statically", props_loc), props_loc
            return None
        self.resolver.space = r.view
        raw = self.src.raw(entry.node)
        value = self.resolver.policy(raw) if policy else self.resolver.resolve(raw)
        if value is None:
            return None
        if r.pins:
            value = pin(value, r.pins)
        return value, entry.loc

    def _key(self, r: _Resource) -> KeyResource:
        key = KeyResource(name=r.name, kind=_KEY_TYPES[r.type], loc=r.entry.key_loc, syntax="cloudformation")
        key.account = pin(Unknown("the stack's account", None, Meaning.ACCOUNT_ID, ref=STACK_ACCOUNT), r.pins or {})
        self._place(key, r)
        for prop, attr in _KEY_PROPERTIES.items():
            found = self._prop(r, prop)
            if found is not None:
                setattr(key, attr, found[0])
                key.attr_locs[attr] = found[1]
        tags = self._prop(r, "Tags")
        if tags is not None:
            key.tags = _tags(tags[0], tags[1])
            key.attr_locs["tags"] = tags[1]
        policy = self._prop(r, "KeyPolicy", policy=True)
        if policy is not None:
            key.policy = KeyPolicy(document=policy[0], loc=policy[1], attached_by=r.name, key=key)
            key.attr_locs["policy"] = policy[1]
        if key.kind is KeyKind.REPLICA:
            primary = self._prop(r, "PrimaryKeyArn")
            if primary is not None:
                key.attr_locs["primary"] = primary[1]
                keys, _understood = self._key_refs(primary[0])
                if len(keys) == 1:
                    key.primary = next(iter(keys))
        return key

    def _place(self, key: KeyResource, r: _Resource) -> None:
        """Where quick fixes edit the key: none in a loop's template (one text, many resources) or
        where YAML counts line breaks that editors do not."""
        if isinstance(self.src, LoopSource) or self.src.lines() is None:
            return
        key.definition = self.src.loc(r.entry.node)
        props = r.fields.get("Properties")
        if props is not None and self.src.items(props.node) is not None:
            key.body = self.src.loc(props.node)
            key.written = frozenset(self._props(r))

    def _key_of(self, ref: str) -> str | None:
        """The key a reference names: ``Key`` (``!Ref``, ``${Key}``), ``Key.Arn`` or ``Key.KeyId``
        (``!GetAtt``, ``${Key.Arn}``), the key's two attributes; else None."""
        name, _, attr = ref.partition(".")
        if self.types.get(name) not in _KEY_TYPES or attr not in ("", "Arn", "KeyId"):
            return None
        return name

    def _key_refs(self, value: Value | None, aliases: dict[str, str] | None = None) -> tuple[set[str], bool]:
        """The keys (logical IDs) a key reference may resolve to, on any ``Fn::If`` branch, and
        whether the reference is understood.

        A reference to a key (or, given ``aliases``, to an alias of one, by reference, name or
        ARN) names it; a literal key ID or ARN names no key of the template (its ID is not
        known before the stack creates it).  Not understood: a part that may be anything (a
        parameter without a default, an imported value, an attribute of another resource), in
        a value that names no key of the template: it may be any key.
        """
        if value is None:
            return set(), True  # AWS::NoValue: no key
        if isinstance(value, Conditional):
            then, then_ok = self._key_refs(value.then, aliases)
            other, other_ok = self._key_refs(value.otherwise, aliases)
            return then | other, then_ok and other_ok
        keys: set[str] = set()
        understood = True
        parts: tuple[object, ...] = value.parts if isinstance(value, Interpolated) else (value,)
        for part in parts:
            if not isinstance(part, Unknown):
                continue
            ref = part.ref or ""
            name = self._key_of(ref)
            if name is None and aliases and part.meaning is Meaning.RESOURCE_ID:
                name = aliases.get(ref)
            if name is not None:
                keys.add(name)
            elif part.meaning in (Meaning.NOTHING, Meaning.RESOURCE_ID, Meaning.RESOURCE_ARN) and not is_pseudo(ref):
                understood = False
        text = known_str(value)
        if text is not None and aliases:
            name = text.rpartition(":")[2] if text.startswith("arn:") else text
            if name in aliases:
                keys.add(aliases[name])
        return keys, understood or bool(keys)

    def _alias(self, r: _Resource) -> Alias:
        name = self._prop(r, "AliasName")
        target = self._prop(r, "TargetKeyId")
        keys, understood = self._key_refs(target[0]) if target else (set(), True)
        alias = Alias(
            name=r.name,
            alias_name=name[0] if name else None,
            target=next(iter(keys)) if len(keys) == 1 else None,
            loc=r.entry.key_loc,
            targets=frozenset(keys),
            any_key=not understood,
        )
        if name:
            alias.attr_locs["alias_name"] = name[1]
        if target:
            alias.attr_locs["target"] = target[1]
        return alias

    def _identity_policies(self, r: _Resource) -> list[IdentityPolicy]:
        if r.type in _POLICY_DOCUMENT_TYPES:
            doc = self._prop(r, "PolicyDocument", policy=True)
            if not doc:
                return []
            from kmslint.parsers.cfn_identities import identities  # the access report's

            found = identities(r.type, lambda p: (self._prop(r, p) or (None,))[0], _types(self.resources))
            return [IdentityPolicy(r.name, doc[0], doc[1], identities=found)]
        if r.type in _SAM_POLICY_TYPES:
            return self._sam_policies(r)
        policies = self._prop(r, "Policies")
        if policies is None:
            return []
        items = _items(policies[0])
        written: list[Value | None] | None = None  # read only for a policy written as text
        out = []
        for i, item in enumerate(items):
            document = _map_value(item, lambda v: _member(v, "PolicyDocument"))
            if is_text(document):
                if written is None:
                    written = self._written_items(r, "Policies", len(items))
                document = self._inline_policy_text(item, written[i])
            if document is not None:
                out.append(IdentityPolicy(r.name, document, document.loc or item.loc or policies[1], own=True))
        return out

    def _written_items(self, r: _Resource, name: str, count: int) -> list[Value | None]:
        """The items of a list property as written, one per resolved item (Nones where the
        two cannot be paired: an item removed by ``AWS::NoValue``, a list from an intrinsic)."""
        entry = self._props(r).get(name)
        raw = self.src.raw(entry.node) if entry is not None else None
        if isinstance(raw, Known) and isinstance(raw.value, list) and len(raw.value) == count:
            return list(raw.value)
        return [None] * count

    def _inline_policy_text(self, item: Value, raw: Value | None) -> Value | None:
        """The ``PolicyDocument`` of an inline policy item written as JSON text, read into a tree:
        from how it is written when it can be (then placed character by character)."""
        written = _member(raw, "PolicyDocument")
        if written is not None and isinstance(item, Known):
            return self.resolver.policy(written)
        return _map_value(item, lambda v: self.resolver.read_resolved(_member(v, "PolicyDocument")))

    def _sam_policies(self, r: _Resource) -> list[IdentityPolicy]:
        """``Policies`` of a SAM function or state machine: inline documents, and the policy
        templates that grant KMS actions as the statement SAM makes of them (managed policy
        names and other templates are not read).

        SAM ignores ``Policies`` when the resource names its own ``Role``.
        """
        policies = self._prop(r, "Policies")
        if policies is None or self._prop(r, "Role") is not None:
            return []
        out = []
        for item in _items(policies[0]):
            inline = _map_value(item, lambda v: _inline_document(v) or self._sam_template(v))
            if inline is not None:
                out.append(IdentityPolicy(r.name, inline, inline.loc or policies[1]))
        return out

    def _sam_template(self, item: Value) -> Value | None:
        """The policy a SAM policy template item that grants KMS actions stands for
        (``KMSDecryptPolicy: {KeyId: ...}``: ``kms:Decrypt`` on that key of the stack's
        account and Region), located at the item; None for any other item."""
        fields = as_dict(item)
        if fields is None or len(fields) != 1:
            return None
        name, params = next(iter(fields.items()))
        actions = _SAM_KMS_TEMPLATES.get(name)
        if actions is None:
            return None
        loc = item.loc
        key_id = _member(params, "KeyId")
        if key_id is None:
            key_id = Unknown(f"{name} without a KeyId", loc)
        pseudo = [self.resolver.ref_name(p, loc) for p in ("AWS::Partition", "AWS::Region", "AWS::AccountId")]
        resource = concat(["arn:", pseudo[0], ":kms:", pseudo[1], ":", pseudo[2], ":key/", key_id], key_id.loc or loc)
        statement = {
            "Sid": Known(name, loc),  # SAM writes none; a message names the statement by its template
            "Effect": Known("Allow", loc),
            "Action": Known([Known(a, loc) for a in actions], loc),
            "Resource": resource,
        }
        return Known({"Statement": Known([Known(statement, loc)], loc)}, loc)

    def _multi_region_uses(self, resources: list[_Resource], aliases: list[Alias]) -> list[MultiRegionUse]:
        by_alias_name = {t: a.target for a in aliases if a.target and (t := known_str(a.alias_name))}
        by_alias_id = {a.name: a.target for a in aliases if a.target}
        by_name = {**by_alias_name, **by_alias_id}
        out: list[MultiRegionUse] = []
        global_members: set[str] = set()
        for r in resources:
            if r.type == "AWS::RDS::GlobalCluster":
                source = self._prop(r, "SourceDBClusterIdentifier")
                if source is not None:
                    global_members.update(n for n in _refs(source[0]) if self.types.get(n) == "AWS::RDS::DBCluster")
        for r in resources:
            if r.type == "AWS::DynamoDB::GlobalTable":
                replicas = self._prop(r, "Replicas")
                for replica in _items(replicas[0]) if replicas else []:
                    for plain in branch_values(replica):
                        sse = _member(plain, "SSESpecification")
                        for key in self._key_refs(_member(sse, "KMSMasterKeyId"), by_name)[0]:
                            out.append(MultiRegionUse(key, r.name, UsageKind.GLOBAL_TABLE))
            elif r.type == "AWS::RDS::DBCluster":
                member = r.name in global_members or self._prop(r, "GlobalClusterIdentifier") is not None
                kms = self._prop(r, "KmsKeyId")
                if member and kms is not None:
                    for key in self._key_refs(kms[0], by_name)[0]:
                        out.append(MultiRegionUse(key, r.name, UsageKind.GLOBAL_CLUSTER))
        return sorted(set(out), key=lambda u: (u.key, u.by))

    # -- suppressions

    def _construct_path(self, r: _Resource) -> str | None:
        """``Metadata: {aws:cdk:path: MyStack/DataKey/Resource}`` as a CDK user names the
        construct (``MyStack/DataKey``: ``Resource`` is the CDK's name for the L1 resource
        inside every construct); None without one."""
        meta = r.fields.get("Metadata")
        entry = next((e for e in self.src.items(meta.node) or [] if e.name == CDK_PATH), None) if meta else None
        path = self.src.text(entry.node) if entry is not None else None
        if not path:
            return None
        return path[: -len("/Resource")] if path.endswith("/Resource") else path

    def _metadata_suppressions(self, r: _Resource) -> list[Suppression]:
        """``Metadata: {kmslint: {ignore: [{id: KMS004, reason: ...}]}}`` on a resource."""
        meta = r.fields.get("Metadata")
        if meta is None:
            return []
        ours = next((e for e in self.src.items(meta.node) or [] if e.name == "kmslint"), None)
        if ours is None:
            return []
        config = self.src.raw(ours.node)
        ignore = as_dict(config)
        entries = as_list(ignore.get("ignore")) if ignore is not None else []
        out = []
        for entry in entries:
            fields = as_dict(entry)
            if fields is None:
                ids_value: Value | None = entry
                reason = ""
            else:
                ids_value = fields.get("id", fields.get("ids"))
                reason = _text(fields.get("reason"))
            ids = _rule_ids(ids_value)
            if ids:
                loc = entry.loc or ours.loc
                out.append(Suppression(r.name, ids, reason, loc, self.file))
        return out


# What a parameter says about itself, besides its name: whether it stands for an account ID.
_ACCOUNT_HINTS = ("Description", "AllowedPattern")


def _is_account_id(name: str, description: str, pattern: str) -> bool:
    from kmslint.policy.principals import names_account_id

    return names_account_id(name, description, pattern)


def _mappings(source: Source, entry: Entry | None) -> dict[str, Value]:
    if entry is None:
        return {}
    return as_dict(source.raw(entry.node)) or {}


def _is_null(source: Source, node: object) -> bool:
    raw = source.raw(node)
    return isinstance(raw, Known) and raw.value is None


def _param(name: str, ptype: str, default: Value | None, allowed: Value | None = None) -> Param:
    """What ``Ref`` to a parameter gives: its default, when it is a literal of the right shape
    (and, for a list parameter without one, the values its AllowedValues allow)."""
    if ptype.startswith("AWS::SSM::Parameter::"):
        return Param(None, f"parameter {name} is read from SSM when the stack is deployed")
    is_list = ptype == "CommaDelimitedList" or ptype.startswith("List<")
    if default is None or (isinstance(default, Known) and default.value is None):
        choices: list[str] = []
        for item in as_list(allowed) if is_list else []:
            text = key_text(item) if isinstance(item, Known) and item.is_scalar else None
            choices.extend(part.strip() for part in (text or "").split(",") if part.strip())
        return Param(
            None,
            f"parameter {name} has no default",
            tuple(dict.fromkeys(choices)),
            () if is_list else _allowed_texts(allowed),
        )
    if isinstance(default, Known) and default.is_scalar:
        v = default.value
        if is_list and isinstance(v, str):
            return Param(Known([Known(s, default.loc) for s in v.split(",")], default.loc), "")
        return Param(default, "")
    if (
        isinstance(default, Known)
        and isinstance(default.value, list)
        and all(isinstance(i, Known) and i.is_scalar for i in default.value)
    ):
        return Param(default, "")
    return Param(None, f"parameter {name} has a default that is not a literal")


def _allowed_texts(allowed: Value | None) -> tuple[str, ...]:
    """A parameter's AllowedValues as the strings ``Fn::Equals`` compares; none at all when
    one of them is not a literal scalar (the parameter is then free)."""
    texts = [key_text(item) if isinstance(item, Known) and item.is_scalar else None for item in as_list(allowed)]
    if any(t is None for t in texts):
        return ()
    return tuple(dict.fromkeys(t for t in texts if t is not None))


def _tags(value: Value, loc: Location) -> Value:
    """CloudFormation ``[{Key, Value}]`` tags as a mapping value keyed by tag key."""
    if not isinstance(value, Known) or not isinstance(value.value, list):
        return Unknown("tags that cannot be resolved statically", loc)
    out: dict[str, Value] = {}
    for item in value.value:
        fields = as_dict(item)
        if fields is None:
            return Unknown("tags that cannot be resolved statically", loc)
        name = known_str(fields.get("Key"))
        if name is None:
            return Unknown("a tag whose key cannot be resolved statically", loc)
        out[name] = fields.get("Value") or Known("", item.loc)
    return Known(out, value.loc or loc)  # where the list is: quick fixes add a tag to it


def _items(value: Value) -> list[Value]:
    """A list's items, a single value as itself."""
    if isinstance(value, Known) and isinstance(value.value, list):
        return list(value.value)
    return [value]


def _member(value: Value | None, name: str) -> Value | None:
    fields = as_dict(value)
    return fields.get(name) if fields is not None else None


def _map_value(value: Value | None, fn: Callable[[Value], Value | None]) -> Value | None:
    """``fn`` applied under ``Fn::If`` branches: a conditional item gives a conditional result."""
    if value is None:
        return None
    if isinstance(value, Conditional):
        then = _map_value(value.then, fn)
        otherwise = _map_value(value.otherwise, fn)
        if then is None and otherwise is None:
            return None
        return Conditional(value.condition, then, otherwise, value.loc, value.space)
    return fn(value)


def _inline_document(value: Value) -> Value | None:
    """A SAM policy item that is an inline document (a mapping with ``Statement``)."""
    fields = as_dict(value)
    if fields is not None and "Statement" in fields:
        return value
    return None


def _refs(value: Value) -> set[str]:
    out: set[str] = set()
    for v in branch_values(value):
        if isinstance(v, Unknown) and v.ref and v.meaning in (Meaning.RESOURCE_ID, Meaning.RESOURCE_ARN):
            out.add(v.ref.partition(".")[0] if v.meaning is Meaning.RESOURCE_ARN else v.ref)
    return out


def _text(value: Value | None) -> str:
    v = scalar(value)
    return "" if v is None or isinstance(v, bool) else str(v).strip()


def _rule_ids(value: Value | None) -> tuple[str, ...]:
    texts: list[str] = []
    for item in as_list(value):
        v = scalar(item)
        if isinstance(v, str):
            texts.extend(t for t in re.split(r"[\s,]+", v) if t)
    return tuple(t.upper() if t.upper().startswith("KMS") else t.lower() for t in texts)


def _types(resources: dict[str, _Resource]) -> dict[str, str]:
    """The template's resource types by logical ID."""
    return {name: r.type for name, r in resources.items()}
