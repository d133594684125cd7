"""Cheap looks at a file's text that no escape can fool: markers and signs.

Two questions are asked of a file's text before (or instead of) parsing it,
each with what the formats declare (:mod:`kmslint.parsers.registry`):

* **Can it matter at all?**  Most files a walk finds cannot hold anything a
  rule looks at, and parsing them is most of the cost of a large run, so a
  file is skipped unparsed when its text has none of its formats'
  :class:`Marker`\\ s.  Every finding comes from one of:

  - a resource whose type is written literally -- a HCL block label, a
    CloudFormation ``Type``, a plan's ``type`` -- and is a KMS resource
    (``aws_kms_*``, ``AWS::KMS::*``) or an IAM identity policy: a policy
    resource (``aws_iam_*policy``, ``AWS::IAM::*Policy``), or the inline
    policies of a role, user, group or SAM function (``inline_policy``
    blocks, a ``Policies`` property);
  - a Terraform ``module`` call whose module is on disk (it may declare
    keys): a local source (``./``, ``../``), or any source once ``terraform
    init`` has installed the modules (the Terraform format looks for
    ``.terraform/modules``; a registry module that is not installed cannot
    be read);
  - a resource whose settings are written with their values (KMS024): a Lambda
    function with an ``environment``, an ECS task definition, an SSM parameter with a
    ``String`` type;
  - a CloudTrail trail (``aws_cloudtrail``, ``AWS::CloudTrail::Trail``), whose
    selectors may leave KMS events out;
  - a CloudFormation ``Fn::ForEach`` loop (its output may be any of the above);
  - a raw key-policy JSON file, which names a ``kms:`` action.

  The values inside such resources may be computed from anything, but their
  types may not, which is what makes the test sound.

* **Does text that does not parse show a sign of being IaC?**  A file that
  is not valid YAML or JSON is a KMS000 only when it was meant to be a
  template, a plan or a policy (RULES.md): when one of its formats'
  :class:`Sign`\\ s is in it -- a word written *as a mapping key*
  (``"Resources":``, ``Resources:`` at a line's start), or an HCL block
  (``resource "aws_kms_key" ...`` at a line's start).  Signs are structure,
  not prose: "Resources" or "Statement" in a sentence is not one.

What the formats can *escape* is decoded before looking: JSON and HCL
``\\uXXXX`` (and HCL ``\\UXXXXXXXX``), YAML ``\\xXX``, ``\\uXXXX``,
``\\UXXXXXXXX`` and a line break escaped inside a double-quoted scalar (the
break and the next line's indentation vanish: ``"AWS:\\`` + newline +
``  :KMS::Key"`` is ``AWS::KMS::Key``).  Other escapes (``\\n``, ``\\t``,
``\\N``, ...) cannot make a letter.  YAML tags, anchors and aliases never
change the characters of a scalar, so its text is in the file as written.
Decoding is a superset: a backslash that is not an escape (in a YAML block
scalar, say) is decoded too, which at worst parses a file that did not need
it, or counts a sign that was not one.
"""

from __future__ import annotations

import re

from kmslint.record import Record

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from collections.abc import Iterable

# How a file's text is read (registry.Format.reading): the prefilter asks each reading's markers.
KINDS = ("terraform", "yaml", "json")


class Marker(Record, frozen=True):
    """Something a file must hold to matter: ``word`` in its lower-cased text and, only
    then looked for, every one of ``patterns`` (regular expressions on that same text).

    Plain substrings first: ``in`` is a fast search, where an alternation of
    case-insensitive patterns costs several times more (measured on the
    benchmark trees); a pattern only where a word needs its context.  Patterns
    are compiled when first used (``re`` caches them): most runs never need
    most of them, and start-up is most of a one-file lint.
    """

    word: str
    patterns: tuple[str, ...] = ()


class Sign(Record, frozen=True):
    """A structural sign of a format in text that may not parse: ``word`` (case as written)
    as a mapping key, YAML or JSON (``form="key"``: ``Resources:`` at a line's start or
    ``"Resources":``), as a JSON key only (``"json-key"``: a format written in JSON, whose
    keys are quoted, so a line of YAML prose is no sign of it), or as an HCL block keyword
    (``"block"``)."""

    word: str
    form: str = "key"


def matches(text: str, markers: tuple[Marker, ...]) -> bool:
    """Does ``text``, escapes decoded, hold one of ``markers``?"""
    if _has_marker(text.lower(), markers):
        return True
    return "\\" in text and _has_marker(decoded(text).lower(), markers)


def _has_marker(low: str, markers: tuple[Marker, ...]) -> bool:
    # A loop, not any() over a generator: this runs on every file of a walk.
    for marker in markers:  # noqa: SIM110
        if marker.word in low and (not marker.patterns or _all_found(low, marker.patterns)):
            return True
    return False


def _all_found(low: str, patterns: tuple[str, ...]) -> bool:
    return all(re.search(p, low) is not None for p in patterns)


def shows(text: str, signs: tuple[Sign, ...]) -> bool:
    """Does ``text``, escapes decoded, show one of ``signs``?"""
    if _has_sign(text, signs):
        return True
    return "\\" in text and _has_sign(decoded(text), signs)


# Occurrences of one word looked at before answering "yes" (text built to make the look
# slow, say a million copies of the word on one line, is then a KMS000: when in doubt, report).
MAX_OCCURRENCES = 10_000
# A plain YAML key is written at most this far from its line's start (indentation, `- `, a tag).
MAX_KEY_INDENT = 256

# Patterns, compiled when first used (re.compile caches them): a lint that never meets a
# file which does not parse never needs them, and start-up is most of a one-file lint.
# Before a plain key on its line: indentation, flow or sequence punctuation, tags and anchors.
_KEY_LEAD = r"[ \t]*(?:[-?{\[,][ \t]*)*(?:[!&]\S*[ \t]+)*"
# After a plain key: the colon of a mapping (YAML wants it followed by a space, a line
# break or a flow indicator; `Resources:x` is one plain scalar).
_PLAIN_KEY_END = r"[ \t]*:(?![^\s,\]}])"
_QUOTED_KEY_END = r"\s*:"
_BLOCK_LEAD = r"[ \t]*"
_BLOCK_END = r"[ \t]+[\"\w]"  # `resource "aws_kms_key" "k" {`, `module kms {`


def _has_sign(text: str, signs: Iterable[Sign]) -> bool:
    # A loop, not any() over a generator: a walk asks this of every file the prefilter skips.
    for sign in signs:  # noqa: SIM110
        if sign.word in text and _sign_in(text, sign):
            return True
    return False


def _sign_in(text: str, sign: Sign) -> bool:
    """Is one of the occurrences of ``sign.word`` in ``text`` written as that sign?"""
    word = sign.word
    at = text.find(word)
    seen = 0
    while at >= 0:
        seen += 1
        if seen > MAX_OCCURRENCES:
            return True
        end = at + len(word)
        if _block_at(text, at, end) if sign.form == "block" else _key_at(text, at, end, sign.form == "key"):
            return True
        at = text.find(word, end)
    return False


def _line_lead(text: str, at: int) -> str | None:
    """The text between the start of ``at``'s line and ``at``, None when that is too far."""
    start = text.rfind("\n", max(0, at - MAX_KEY_INDENT), at) + 1
    if start == 0 and at > MAX_KEY_INDENT:
        return None
    return text[start:at]


def _key_at(text: str, at: int, end: int, plain: bool) -> bool:
    """Is the word at ``at:end`` a mapping key: quoted (JSON or YAML), or (``plain``) a plain YAML key?"""
    quote = text[at - 1] if at > 0 else ""
    if quote in ('"', "'"):
        return text[end : end + 1] == quote and re.compile(_QUOTED_KEY_END).match(text, end + 1) is not None
    if not plain or re.compile(_PLAIN_KEY_END).match(text, end) is None:
        return False
    lead = _line_lead(text, at)
    return lead is not None and re.fullmatch(_KEY_LEAD, lead) is not None


def _block_at(text: str, at: int, end: int) -> bool:
    """Is the word at ``at:end`` the keyword of an HCL block at the start of its line?"""
    if re.compile(_BLOCK_END).match(text, end) is None:
        return False
    lead = _line_lead(text, at)
    return lead is not None and re.fullmatch(_BLOCK_LEAD, lead) is not None


# An escape that can produce a letter, a colon or an asterisk, or an escaped line break.
_ESCAPE = r"\\(?:x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(?:\r\n|[\r\n\x85\u2028\u2029])[ \t]*)"


def decoded(text: str) -> str:
    """``text`` with every escape that could spell a marker or a sign decoded (see the module doc)."""
    if "\\" not in text:
        return text
    return re.sub(_ESCAPE, _decode, text)


def _decode(match: re.Match[str]) -> str:
    digits = match.group(1) or match.group(2) or match.group(3)
    if digits is None:
        return ""  # an escaped line break and the indentation after it
    point = int(digits, 16)
    return chr(point) if point <= 0x10FFFF else match.group(0)
