"""Named settings a CloudFormation or SAM template writes with their values (KMS024).

* ``AWS::Lambda::Function`` and ``AWS::Serverless::Function``: each entry of
  ``Environment.Variables``; a SAM template's ``Globals.Function.Environment.Variables``
  are every SAM function's too (SAM merges them under the function's own, which win by
  name), reported where ``Globals`` writes them, once for each function they reach;
* ``AWS::ECS::TaskDefinition``: each ``{Name, Value}`` of a container definition's
  ``Environment``;
* ``AWS::SSM::Parameter`` of ``Type: String``: its ``Name`` and ``Value``.

A value counts as written only when the template writes it as a literal scalar: an
intrinsic function (``!Ref`` a parameter, whatever its default; ``!Sub``, ``!If``,
``!ImportValue``, ...) gives a value the deployment decides, an :class:`Unknown` here.
A setting is located at its name: the variable's key, the ``Name`` of an ECS environment
entry, the ``Name`` property of a parameter.
"""

from __future__ import annotations

from kmslint.model import Known, PlainSetting, Unknown, Value, known_str, to_plain

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (see kmslint.record)
if TYPE_CHECKING:
    from kmslint.parsers.cfn_sources import Entry
    from kmslint.parsers.cloudformation import _Reader, _Resource

LAMBDA = "AWS::Lambda::Function"
SAM_FUNCTION = "AWS::Serverless::Function"
ECS_TASK = "AWS::ECS::TaskDefinition"
SSM_PARAMETER = "AWS::SSM::Parameter"
MAX_SETTINGS = 10_000  # per template


def plain_settings(reader: _Reader, resources: list[_Resource], globals_entry: Entry | None) -> list[PlainSetting]:
    """The settings of the template's functions, task definitions and SSM parameters."""
    look = _Look(reader)
    shared = look.path(globals_entry, "Function", "Environment", "Variables") if globals_entry is not None else None
    out: list[PlainSetting] = []
    for r in resources:
        if len(out) >= MAX_SETTINGS:
            break
        if r.type in (LAMBDA, SAM_FUNCTION):
            own = look.path(look.prop(r, "Environment"), "Variables")
            mine = look.variables(r, own)
            out.extend(mine)
            if shared is not None and r.type == SAM_FUNCTION and look.readable(own):
                written = {s.name for s in mine} | look.names(own)
                out.extend(s for s in look.variables(r, shared) if s.name not in written)
        elif r.type == ECS_TASK:
            out.extend(look.containers(r))
        elif r.type == SSM_PARAMETER:
            out.extend(look.parameter(r))
    return out


class _Look:
    """Reads raw entries of the template through its source."""

    def __init__(self, reader: _Reader) -> None:
        self.reader = reader
        self.src = reader.src

    def prop(self, r: _Resource, name: str) -> Entry | None:
        return self.reader._props(r).get(name)

    def path(self, entry: Entry | None, *names: str) -> Entry | None:
        """The entry at ``names`` under ``entry`` (mappings only), None when a step is missing."""
        for name in names:
            if entry is None:
                return None
            entry = next((e for e in self.src.items(entry.node) or [] if e.name == name), None)
        return entry

    def readable(self, entry: Entry | None) -> bool:
        """Absent, or a mapping whose names are known (not an intrinsic function that may
        override any of the ``Globals``)."""
        return entry is None or self.src.items(entry.node) is not None

    def names(self, entry: Entry | None) -> set[str]:
        return {e.name for e in self.src.items(entry.node) or []} if entry is not None else set()

    def literal(self, entry: Entry | None) -> Value:
        """The value an entry writes when it is a literal scalar, else an Unknown."""
        if entry is None:
            return Known(None)
        raw = self.src.raw(entry.node)
        if isinstance(raw, Known) and raw.is_scalar:
            return raw
        return Unknown("a value given by an intrinsic function", raw.loc or entry.loc)

    def variables(self, r: _Resource, variables: Entry | None) -> list[PlainSetting]:
        if variables is None:
            return []
        out = []
        for e in self.src.items(variables.node) or []:
            value = self.literal(e)
            out.append(
                PlainSetting(
                    r.name, r.type, "cloudformation", "lambda-environment", e.name, value, e.key_loc, value.loc
                )
            )
        return out

    def containers(self, r: _Resource) -> list[PlainSetting]:
        definitions = self.prop(r, "ContainerDefinitions")
        out: list[PlainSetting] = []
        for container in self._elements(definitions):
            fields = {e.name: e for e in self.src.items(container) or []}
            container_name = known_str(self.src.raw(fields["Name"].node)) if "Name" in fields else None
            for item in self._elements(fields.get("Environment")):
                entry = {e.name: e for e in self.src.items(item) or []}
                name_entry = entry.get("Name")
                name = known_str(self.src.raw(name_entry.node)) if name_entry is not None else None
                if name is None or name_entry is None:
                    continue
                value = self.literal(entry.get("Value"))
                out.append(
                    PlainSetting(
                        r.name,
                        r.type,
                        "cloudformation",
                        "ecs-environment",
                        name,
                        value,
                        name_entry.loc,
                        value.loc,
                        container_name,
                    )
                )
        return out

    def _elements(self, entry: Entry | None) -> list[object]:
        return (self.src.elements(entry.node) or []) if entry is not None else []

    def parameter(self, r: _Resource) -> list[PlainSetting]:
        ptype = self.reader._prop(r, "Type")
        if ptype is None or known_str(ptype[0]) != "String":
            return []
        named = self.reader._prop(r, "Name")
        name = _name_text(named[0]) if named is not None else None
        name_entry = self.prop(r, "Name")
        if name is None or name_entry is None:
            return []
        value_entry = self.prop(r, "Value")
        if value_entry is None:
            return []
        value = self.literal(value_entry)
        return [PlainSetting(r.name, r.type, "cloudformation", "ssm-parameter", name, value, name_entry.loc, value.loc)]


def _name_text(value: Value) -> str | None:
    """A parameter name as the template writes it, ``${...}`` for what is not known."""
    if isinstance(value, Known) and not value.is_scalar:
        return None
    if isinstance(value, Unknown):
        return None
    text = to_plain(value)
    return text if isinstance(text, str) else None
