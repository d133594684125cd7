"""Resource semantics: which KMS keys a policy's ``Resource`` element reaches."""

from __future__ import annotations

from kmslint.model import Interpolated, Known, Value
from kmslint.policy.actions import matches

# Two key IDs with nothing in common: a resource pattern that matches both
# matches every key ID.
_SAMPLE_KEYS = ("key/1234abcd-12ab-34cd-56ef-1234567890ab", "key/mrk-fedcba9876543210fedcba9876543210")
_PLACEHOLDER = "\x00"


def _text(value: Value) -> str | None:
    """A resource as text, with unknown parts as a placeholder; None when nothing is known."""
    if isinstance(value, Known) and isinstance(value.value, str):
        return value.value.strip()
    if isinstance(value, Interpolated):
        return value.literal_text(_PLACEHOLDER).strip()
    return None


def reaches_all_keys(value: Value) -> bool | None:
    """Does this ``Resource`` entry cover every KMS key (of some account and Region)?

    ``*`` does, and so does a KMS key ARN pattern whose key part is a
    wildcard (``arn:aws:kms:*:111122223333:key/*``), whatever its Region
    and account say.  None when the entry cannot be read.
    """
    text = _text(value)
    if text is None:
        return None
    if set(text) <= {"*"} and text:
        return True
    parts = text.split(":", 5)
    if len(parts) < 6 or parts[0].lower() != "arn":
        return False if _PLACEHOLDER not in text else None
    service, resource = parts[2], parts[5]
    if _PLACEHOLDER in service or _PLACEHOLDER in resource:
        return None
    if not matches(service, "kms"):
        return False
    return all(matches(resource, sample) for sample in _SAMPLE_KEYS)


def not_resource_reaches_all_keys(values: list[Value]) -> bool | None:
    """A ``NotResource`` list reaches every key when none of its entries could name a KMS key."""
    unknown = False
    for value in values:
        text = _text(value)
        if text is None or _PLACEHOLDER in text:
            unknown = True
            continue
        if "*" in text and ":" not in text:
            return False  # "*" or a bare pattern: excludes everything, or cannot tell
        parts = text.split(":", 5)
        if len(parts) >= 3 and matches(parts[2], "kms"):
            return False
    return None if unknown else True
