"""Can a file matter at all?  A cheap look at its text that no escape can fool.

Most files a walk finds cannot hold anything a rule looks at, and parsing
them is most of the cost of a large run, so a file is skipped unparsed when
its text has none of the *markers* below.  Every finding comes from one of:

* a resource whose type is written literally -- a HCL block label, a
  CloudFormation ``Type``, a plan's ``type`` -- and is a KMS resource
  (``aws_kms_*``, ``AWS::KMS::*``) or an IAM identity policy: a policy
  resource (``aws_iam_*policy``, ``AWS::IAM::*Policy``), or the inline
  policies of a role, user, group or SAM function (``inline_policy``
  blocks, a ``Policies`` property);
* a Terraform ``module`` call whose module is on disk (it may declare keys):
  a local source (``./``, ``../``), or any source once ``terraform init``
  has installed the modules (the engine looks for ``.terraform/modules``;
  a registry module that is not installed cannot be read);
* a CloudFormation ``Fn::ForEach`` loop (its output may be any of the above);
* a raw key-policy JSON file, which names a ``kms:`` action.

The values inside such resources may be computed from anything, but their
types may not, which is what makes the test sound.  What the formats can
*escape* is decoded before looking: JSON and HCL ``\\uXXXX`` (and HCL
``\\UXXXXXXXX``), YAML ``\\xXX``, ``\\uXXXX``, ``\\UXXXXXXXX`` and a line
break escaped inside a double-quoted scalar (the break and the next line's
indentation vanish: ``"AWS:\\`` + newline + ``  :KMS::Key"`` is
``AWS::KMS::Key``).  Other escapes (``\\n``, ``\\t``, ``\\N``, ...) cannot
make a letter.  YAML tags, anchors and aliases never change the characters
of a scalar, so its text is in the file as written.  Decoding is a
superset: a backslash that is not an escape (in a YAML block scalar, say)
is decoded too, which at worst parses a file that did not need it.
"""

from __future__ import annotations

import re

# Markers, looked for in the lower-cased text: plain substrings first (``in`` is a fast
# search; an alternation of case-insensitive patterns costs several times more, measured on
# the benchmark trees), a pattern only where a substring needs its context.  Patterns are
# compiled when first used (``re`` caches them): most runs never need most of them, and
# start-up is most of a one-file lint.
_TF_IAM = r"aws_iam_(?:role_|user_|group_)?policy\b"
_CFN_IAM = r"aws::iam::\w*policy\b"
_TF_MODULE = r"\bmodule\s*[\"'\w{]"  # a block (`module "x" {`, `"module": {`), not `path.module`
_TF_LOCAL_SOURCE = r"\bsource\"?\s*[=:]\s*\"\.\.?[/\\]"  # `source = "./keys"`, `"source": "../keys"`


def _terraform(low: str) -> bool:
    """A Terraform key or policy resource, an ``inline_policy`` block, or a local module call."""
    return (
        "kms" in low
        or ("aws_iam_" in low and re.search(_TF_IAM, low) is not None)
        or "inline_policy" in low
        or (_calls_modules(low) and re.search(_TF_LOCAL_SOURCE, low) is not None)
    )


def _calls_modules(low: str) -> bool:
    return "module" in low and re.search(_TF_MODULE, low) is not None


def _template(low: str) -> bool:
    """A CloudFormation key or policy resource, ``Policies`` of a role or SAM function, a loop."""
    return (
        "kms" in low
        or ("aws::iam::" in low and re.search(_CFN_IAM, low) is not None)
        or "policies" in low
        or "fn::foreach" in low
    )


def _json(low: str) -> bool:
    """A template, a plan (Terraform types) or a key policy (a ``kms:`` action)."""
    return _template(low) or ("aws_iam_" in low and re.search(_TF_IAM, low) is not None) or "inline_policy" in low


_MARKERS = {"terraform": _terraform, "yaml": _template, "json": _json}
KINDS = tuple(_MARKERS)

# Keys a template, a plan or a key policy cannot do without, and the HCL blocks that declare
# resources (RULES.md: a file that does not parse and shows none of them is not IaC, and is
# skipped like any other such file; Terraform written in a .json file is a broken file).
_SIGNS = (
    r"(?m)AWSTemplateFormatVersion|Resources|Statement|planned_values|resource_changes|terraform_version"
    r"|^[ \t]*(?:resource|module)[ \t]+[\"\w]"
)

# An escape that can produce a letter, a colon or an asterisk, or an escaped line break.
_ESCAPE = r"\\(?:x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(?:\r\n|[\r\n\x85\u2028\u2029])[ \t]*)"


def might_matter(text: str, kind: str) -> bool:
    """Could ``text`` -- Terraform (``"terraform"``), a YAML template (``"yaml"``) or a
    JSON template, plan or key policy (``"json"``) -- hold anything a rule looks at?"""
    markers = _MARKERS[kind]
    if markers(text.lower()):
        return True
    return "\\" in text and markers(decoded(text).lower())


def calls_modules(text: str) -> bool:
    """Does Terraform ``text`` have a ``module`` block (any source)?"""
    return _calls_modules(text.lower()) or ("\\" in text and _calls_modules(decoded(text).lower()))


def shows_signs(text: str) -> bool:
    """Does ``text`` (YAML or JSON that did not parse) show a sign of being a template,
    a plan, a key policy or Terraform (a ``resource`` or ``module`` block)?  Escapes are
    decoded first, so a hidden ``Resources`` still counts."""
    return re.search(_SIGNS, text) is not None or ("\\" in text and re.search(_SIGNS, decoded(text)) is not None)


def decoded(text: str) -> str:
    """``text`` with every escape that could spell a marker decoded (see the module doc)."""
    if "\\" not in text:
        return text
    return re.sub(_ESCAPE, _decode, text)


def _decode(match: re.Match[str]) -> str:
    digits = match.group(1) or match.group(2) or match.group(3)
    if digits is None:
        return ""  # an escaped line break and the indentation after it
    point = int(digits, 16)
    return chr(point) if point <= 0x10FFFF else match.group(0)
