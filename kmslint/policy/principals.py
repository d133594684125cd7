"""Principal normalisation and classification.

A statement's ``Principal`` may be ``"*"``, ``{"AWS": ...}``, ``{"Service":
...}``, ``{"Federated": ...}`` or ``{"CanonicalUser": ...}``, each a string or
a list.  :func:`principal_entries` flattens that into :class:`PrincipalEntry`
values; :func:`classify` says what one entry is; :func:`is_reference` whether an
unknown one is written as a reference (one principal, whatever its value), and
:func:`names_account_id` whether a parameter or variable stands for an account ID
(then it is an account root).
"""

from __future__ import annotations

import enum
import re
from itertools import pairwise

from kmslint.model import (
    Conditional,
    Interpolated,
    Known,
    Location,
    Meaning,
    Unknown,
    Value,
    as_dict,
    as_list,
)
from kmslint.record import Record, field


class PrincipalClass(enum.Enum):
    WILDCARD = "wildcard"  # everyone: "*", {"AWS": "*"}, any value containing '*'
    ACCOUNT_ROOT = "account-root"  # arn:<p>:iam::<acct>:root, a bare account ID, ${AWS::AccountId}
    SERVICE = "service"  # {"Service": "logs.amazonaws.com"}
    SPECIFIC = "specific"  # a role, user, federated or canonical user, another resource's ARN
    UNKNOWN = "unknown"  # cannot be told statically


class PrincipalEntry(Record, frozen=True):
    """One principal: its type (``*`` for a bare ``"Principal": "*"``) and value."""

    ptype: str  # "*", "AWS", "Service", "Federated", "CanonicalUser", or as written
    value: Value
    loc: Location | None
    # What classify() found, once: a reading shared by many keys is asked again for each.
    klass: PrincipalClass | None = field(default=None, compare=False, repr=False)

    def __init__(self, ptype: str, value: Value, loc: Location | None) -> None:  # one per principal: kept plain
        object.__setattr__(self, "ptype", ptype)
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "loc", loc)
        object.__setattr__(self, "klass", None)

    @property
    def identity(self) -> str:
        """A stable text for this principal, to group statements naming the same one."""
        v = self.value
        if isinstance(v, Known):
            return f"{self.ptype}:{v.value}"
        if isinstance(v, Unknown):
            return f"{self.ptype}:${{{v.ref or v.reason}}}"
        if isinstance(v, Interpolated):
            text = "".join(p if isinstance(p, str) else "${" + (p.ref or p.reason) + "}" for p in v.parts)
            return f"{self.ptype}:{text}"
        return f"{self.ptype}:?"


_ROOT_ARN = re.compile(r"arn:[^:]+:iam::[^:]*:root", re.IGNORECASE)
_ACCOUNT_ID = re.compile(r"\d{12}")
_ACCOUNT_ARN = re.compile(r"arn:[^:]+:iam::(\d{12}):", re.IGNORECASE)


def principal_entries(principal: Value | None) -> list[PrincipalEntry]:
    """Flatten a ``Principal`` value.  An unknown principal is one UNKNOWN entry."""
    if principal is None:
        return []
    if isinstance(principal, Known) and isinstance(principal.value, str):
        ptype = "*" if principal.value.strip() == "*" else "AWS"
        return [PrincipalEntry(ptype, principal, principal.loc)]
    mapping = as_dict(principal)
    if mapping is None:
        if isinstance(principal, Known) and isinstance(principal.value, list):
            # Not valid IAM, but read as a list of AWS principals.
            return [PrincipalEntry("AWS", v, v.loc or principal.loc) for v in principal.value]
        return [PrincipalEntry("AWS", principal, principal.loc)]
    out: list[PrincipalEntry] = []
    for ptype, values in mapping.items():
        for v in as_list(values):
            out.append(PrincipalEntry(ptype, v, v.loc or values.loc or principal.loc))
    return out


def classify(entry: PrincipalEntry) -> PrincipalClass:
    """What the principal is (worked out once per entry)."""
    klass = entry.klass
    if klass is None:
        if entry.ptype == "*":
            klass = PrincipalClass.WILDCARD
        else:
            klass = classify_value(entry.value, service=entry.ptype.lower() == "service")
        object.__setattr__(entry, "klass", klass)
    return klass


def classify_value(value: Value, *, service: bool = False) -> PrincipalClass:
    if isinstance(value, Conditional):
        return PrincipalClass.UNKNOWN
    if isinstance(value, Unknown):
        if value.meaning is Meaning.ACCOUNT_ID:
            return PrincipalClass.ACCOUNT_ROOT
        if value.meaning in (Meaning.RESOURCE_ARN, Meaning.RESOURCE_ID):
            return PrincipalClass.SPECIFIC
        return PrincipalClass.UNKNOWN
    if isinstance(value, Interpolated):
        return _classify_interpolated(value, service=service)
    value = _number_as_text(value)
    if not isinstance(value.value, str):
        # A mapping, a list or a boolean where a principal's text belongs: an intrinsic a raw
        # policy file leaves unevaluated (`{"Fn::Sub": "arn:...:root"}`, which a deployment tool
        # fills in) or nothing AWS accepts -- either way not a principal anyone can name.
        return PrincipalClass.UNKNOWN
    text = value.value.strip()
    if "*" in text:
        return PrincipalClass.WILDCARD
    if service:
        return PrincipalClass.SERVICE
    if _ROOT_ARN.fullmatch(text) or _ACCOUNT_ID.fullmatch(text):
        return PrincipalClass.ACCOUNT_ROOT
    return PrincipalClass.SPECIFIC


def _classify_interpolated(value: Interpolated, *, service: bool) -> PrincipalClass:
    literal = "".join(p for p in value.parts if isinstance(p, str))
    if "*" in literal:
        return PrincipalClass.WILDCARD
    if service:
        return PrincipalClass.SERVICE
    if len(value.parts) == 1 and isinstance(value.parts[0], Unknown):
        return classify_value(value.parts[0])  # "${AWS::AccountId}" alone
    # arn:<x>:iam::<y>:root is an account root whatever the partition x and
    # the account y turn out to be, as long as ":root" itself is literal.
    last = value.parts[-1] if value.parts else ""
    if isinstance(last, str) and last.lower().endswith(":root") and _ROOT_ARN.fullmatch(value.literal_text("0")):
        return PrincipalClass.ACCOUNT_ROOT
    if value.literal_text("").strip().lower().startswith("arn:"):
        return PrincipalClass.SPECIFIC
    return PrincipalClass.UNKNOWN


def is_account_root(entry: PrincipalEntry) -> bool:
    return classify(entry) is PrincipalClass.ACCOUNT_ROOT


# The account part of a root ARN whose unknown parts are written as markers (no ":" in them);
# compiled when first used (``re`` caches it): most runs never ask whose root a principal is.
_ROOT_ACCOUNT = r"(?i)arn:[^:]*:iam::([^:]*):root"
_MARK = "\x00"


def root_account(entry: PrincipalEntry) -> str | None:
    """Which account an account-root principal is the root of, as text to compare: its digits
    when literal (``arn:aws:iam::111122223333:root`` and ``111122223333`` are one account,
    whatever the partition), else the expression as written (``${AWS::AccountId}``,
    ``${data.aws_caller_identity.current.account_id}``), so that two principals written as
    the same expression are the same account and two different expressions are not known to
    be.  None for a principal that is not an account root."""
    if classify(entry) is not PrincipalClass.ACCOUNT_ROOT:
        return None
    value = entry.value
    if isinstance(value, Interpolated) and len(value.parts) == 1 and isinstance(value.parts[0], Unknown):
        value = value.parts[0]  # "${AWS::AccountId}" alone
    if isinstance(value, Unknown):
        return _written(value)
    if isinstance(value, Known):
        text = str(_number_as_text(value).value).strip()
        found = re.fullmatch(_ROOT_ACCOUNT, text)
        return found.group(1) if found else text
    if isinstance(value, Interpolated):
        return _interpolated_account(value)
    return None


def _interpolated_account(value: Interpolated) -> str | None:
    """The account part of ``arn:${P}:iam::${A}:root``, its unknown parts written as ``${ref}``."""
    if any(_MARK in p for p in value.parts if isinstance(p, str)):
        return None  # a NUL in the text: not an ARN anyone writes, and it would confuse the markers
    marked = "".join(p if isinstance(p, str) else f"{_MARK}{i}{_MARK}" for i, p in enumerate(value.parts))
    found = re.fullmatch(_ROOT_ACCOUNT, marked.strip())
    if found is None:
        return None
    out: list[str] = []
    for n, piece in enumerate(found.group(1).split(_MARK)):  # text, index, text, index, ..., text
        part = value.parts[int(piece)] if n % 2 else piece
        out.append(_written(part) if isinstance(part, Unknown) else part)
    return "".join(out)


def _written(part: Unknown) -> str:
    return "${" + (part.ref or part.reason) + "}"


def is_reference(entry: PrincipalEntry) -> bool:
    """Is an unknown principal written as a reference (a parameter, a variable, an attribute,
    an imported value), or a string built only from such?  Two principals written as the same
    reference are one principal, whatever its value (RULES.md, "Unknown value"), so a rule
    that compares principals can count it as one.  A reference that stands for an account ID
    means an account root, and a pseudo parameter none at all: neither counts here."""
    if classify(entry) is not PrincipalClass.UNKNOWN:
        return False
    v = entry.value
    parts = v.parts if isinstance(v, Interpolated) else (v,)
    unknowns = [p for p in parts if isinstance(p, Unknown)]
    return bool(unknowns) and all(
        p.ref and p.meaning is Meaning.NOTHING and not p.ref.startswith("AWS::") for p in unknowns
    )


# The words of a parameter or variable standing for an account ID (`TrustedAccountId`,
# `security_account`, `AccountNumber`), and the last words of one that is not, whatever
# else its name says (`AccountRoleArn`).
# Patterns are compiled when first used (``re`` caches them): this module is imported by every
# lint, and only a parameter or variable without a default is ever asked about.
_WORDS = r"[A-Z]{2,}s(?![a-z])|[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+"  # IDs, ARNs: one word
_ACCOUNT_PAIRS = frozenset(
    (first, second) for first in ("account", "acct") for second in ("id", "ids", "number", "numbers", "no")
)
_NOT_ACCOUNT_LAST = frozenset(
    (
        *("arn", "arns", "name", "names", "role", "roles", "user", "users"),
        *("principal", "principals", "email", "alias", "path"),
    )
)
_ACCOUNT_WORDS = (
    r"(?i)\baccount\s*(ids?|numbers?|no)\b|\b(id|number)\s+of\s+(the\s+|an?\s+)?(aws\s+)?accounts?\b"
    r"|\b12[- ]digits?\b"
)
# An account ID in a regular expression, as AllowedPattern and validation blocks write it.
_ACCOUNT_REGEX = r"\\d\{12\}|\[0-9\]\{12\}"


def names_account_id(name: str, description: str = "", pattern: str = "") -> bool:
    """Does a parameter or variable stand for an AWS account ID, by its allowed pattern
    (``^\\d{12}$``, a comma-separated list of such), its name or its description?  Its
    value is then an account root wherever it is a principal."""
    words = [w.lower() for w in re.findall(_WORDS, name)]
    if words and words[-1] in _NOT_ACCOUNT_LAST:
        return False
    if pattern and re.search(_ACCOUNT_REGEX, pattern) and not re.sub(_ACCOUNT_REGEX, "", pattern).strip("^$()*+?,|"):
        return True
    if words and words[-1] in ("account", "accounts"):
        return True
    if any(pair in _ACCOUNT_PAIRS for pair in pairwise(words)):
        return True
    return bool(description and re.search(_ACCOUNT_WORDS, description))


def _number_as_text(value: Known) -> Known:
    """An account ID written as a YAML/JSON number (``AWS: 111122223333``) is the same text to IAM."""
    if isinstance(value.value, int) and not isinstance(value.value, bool):
        return Known(str(value.value), value.loc)
    return value


def account_of(entry: PrincipalEntry) -> str | None:
    """The literal 12-digit account a principal belongs to, when it is written literally."""
    v = entry.value
    if isinstance(v, Known):
        v = _number_as_text(v)
    if isinstance(v, Known) and isinstance(v.value, str) and entry.ptype != "Service":
        text = v.value.strip()
        if _ACCOUNT_ID.fullmatch(text):
            return text
        m = _ACCOUNT_ARN.match(text)
        if m:
            return m.group(1)
    return None
