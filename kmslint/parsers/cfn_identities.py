"""Which IAM identities (roles, users, groups) a CloudFormation identity policy resource is
attached to, for the access report (:mod:`kmslint.access`).

``AWS::IAM::Policy`` and ``AWS::IAM::ManagedPolicy`` name them in ``Roles``, ``Users`` and
``Groups``; ``AWS::IAM::RolePolicy`` (``RoleName``), ``UserPolicy`` (``UserName``) and
``GroupPolicy`` (``GroupName``) name one.  They are recorded only when every item is a ``Ref``
to a role, user or group of the template: a name written out, a parameter or an import leaves
the policy's identities unknown (none), never partly known.
"""

from __future__ import annotations

from kmslint.model import Meaning, Unknown, Value, as_list

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (see kmslint.record)
if TYPE_CHECKING:
    from collections.abc import Callable

_PROPERTIES = {
    "AWS::IAM::Policy": ("Roles", "Users", "Groups"),
    "AWS::IAM::ManagedPolicy": ("Roles", "Users", "Groups"),
    "AWS::IAM::RolePolicy": ("RoleName",),
    "AWS::IAM::UserPolicy": ("UserName",),
    "AWS::IAM::GroupPolicy": ("GroupName",),
}
_IDENTITY_TYPES = frozenset(("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"))


def identities(rtype: str, prop: Callable[[str], Value | None], types: dict[str, str]) -> tuple[str, ...]:
    """The identities a policy resource of type ``rtype`` names; ``prop`` gives a resolved
    property (None: not set), ``types`` the template's resource types by logical ID."""
    out: set[str] = set()
    for name in _PROPERTIES.get(rtype, ()):
        for item in as_list(prop(name)):
            ref = item.ref if isinstance(item, Unknown) and item.meaning is Meaning.RESOURCE_ID else None
            if ref is None or types.get(ref) not in _IDENTITY_TYPES:
                return ()
            out.add(ref)
    return tuple(sorted(out))
