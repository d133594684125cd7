"""The AWS KMS actions, as data, and IAM-style action matching.

Source: AWS Service Authorization Reference, "Actions, resources, and
condition keys for AWS Key Management Service" (actions and permission-only
actions), as read on 2026-11-28.  ``kms:ReEncryptFrom`` and
``kms:ReEncryptTo`` are the two permissions behind the ``ReEncrypt`` API.
``kms:Encapsulate`` and ``kms:Decapsulate`` (ML-KEM keys) are the permissions
the AWS KMS API Reference names for the Encapsulate and Decapsulate APIs.
"""

from __future__ import annotations

from functools import lru_cache

ACTIONS_SOURCE = "AWS Service Authorization Reference: list_kms (actions), read 2026-11-28"

KMS_ACTIONS: tuple[str, ...] = (
    "kms:CancelKeyDeletion",
    "kms:ConnectCustomKeyStore",
    "kms:CreateAlias",
    "kms:CreateCustomKeyStore",
    "kms:CreateGrant",
    "kms:CreateKey",
    "kms:Decapsulate",
    "kms:Decrypt",
    "kms:DeleteAlias",
    "kms:DeleteCustomKeyStore",
    "kms:DeleteImportedKeyMaterial",
    "kms:DeriveSharedSecret",
    "kms:DescribeCustomKeyStores",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:DisconnectCustomKeyStore",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:Encapsulate",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateMac",
    "kms:GenerateRandom",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:GetParametersForImport",
    "kms:GetPublicKey",
    "kms:ImportKeyMaterial",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListKeys",
    "kms:ListResourceTags",
    "kms:ListRetirableGrants",
    "kms:PutKeyPolicy",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:ReplicateKey",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:Sign",
    "kms:SynchronizeMultiRegionKey",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateCustomKeyStore",
    "kms:UpdateKeyDescription",
    "kms:UpdatePrimaryRegion",
    "kms:Verify",
    "kms:VerifyMac",
)

KMS_ACTION_SET = frozenset(KMS_ACTIONS)
_BY_LOWER = {a.lower(): a for a in KMS_ACTIONS}

# --------------------------------------------------------------------------- action groups
# Named groups the rules ask about; every name is in KMS_ACTIONS (a test checks).

# Key administration (RULES.md, KMS006): changing who may do what with the key,
# its lifecycle and its aliases.  Grant operations are not administration.
ADMIN_ACTIONS: tuple[str, ...] = (
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:DisableKey",
    "kms:EnableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKeyRotation",
    "kms:UpdateKeyDescription",
    "kms:CreateAlias",
    "kms:UpdateAlias",
    "kms:DeleteAlias",
    "kms:ImportKeyMaterial",
    "kms:DeleteImportedKeyMaterial",
    "kms:ReplicateKey",
    "kms:UpdatePrimaryRegion",
)

# Cryptographic use (RULES.md, KMS006); ``kms:GenerateDataKey*`` written out.
CRYPTO_USE_ACTIONS: tuple[str, ...] = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:Sign",
    "kms:GenerateMac",
    "kms:DeriveSharedSecret",
)

# The AWS KMS Developer Guide's "cryptographic operations" that use a key
# (GenerateRandom uses none): CRYPTO_USE_ACTIONS plus verification and ML-KEM.
CRYPTOGRAPHIC_OPERATIONS: tuple[str, ...] = (
    *CRYPTO_USE_ACTIONS,
    "kms:Verify",
    "kms:VerifyMac",
    "kms:Encapsulate",
    "kms:Decapsulate",
)

# Operations on a key's grants.
GRANT_ACTIONS: tuple[str, ...] = (
    "kms:CreateGrant",
    "kms:ListGrants",
    "kms:RetireGrant",
    "kms:RevokeGrant",
)

# Actions whose misuse destroys data or locks everyone out (RULES.md, KMS007).
DESTRUCTIVE_ACTIONS: tuple[str, ...] = ("kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:DisableKey")


def canonical(action: str) -> str | None:
    """The catalogue spelling of a KMS action name, matched case-insensitively."""
    return _BY_LOWER.get(action.strip().lower())


@lru_cache(maxsize=1 << 16)
def matches(pattern: str, action: str) -> bool:
    """Does the policy's action ``pattern`` cover ``action`` (``kms:Create*`` covers ``kms:CreateGrant``)?

    IAM wildcards: ``*`` matches any run of characters, ``?`` any one
    character, case ignored.  Matched in O(len(pattern) * len(action)): as a
    regular expression, a pattern from the input such as ``kms:*?*?*?*?*?*?*?*?*?*?Z``
    backtracks exponentially (16 s for one action).  Cached: the rules ask
    the same few questions many times.
    """
    return _glob(pattern.strip().casefold(), action.casefold())


def _glob(p: str, s: str) -> bool:
    i = j = 0
    star = -1  # position in p just after the last '*' seen
    mark = 0  # position in s that '*' has matched up to
    while j < len(s):
        if i < len(p) and (p[i] == "?" or (p[i] == s[j] and p[i] != "*")):
            i += 1
            j += 1
        elif i < len(p) and p[i] == "*":
            i += 1
            star, mark = i, j
        elif star >= 0:
            mark += 1  # let the last '*' take one more character
            i, j = star, mark
        else:
            return False
    while i < len(p) and p[i] == "*":
        i += 1
    return i == len(p)


@lru_cache(maxsize=1024)
def expand(pattern: str) -> frozenset[str]:
    """The KMS actions a pattern covers."""
    return frozenset(a for a in KMS_ACTIONS if matches(pattern, a))


def is_kms_pattern(text: str) -> bool:
    """A pattern that could name a KMS action (``kms:...``, ``*``)."""
    t = text.strip().lower()
    return t.startswith("kms:") or set(t) <= {"*", "?"} or (":" not in t and "*" in t)


def is_unknown_kms_action(text: str) -> bool:
    """``kms:Foo`` without wildcards that names no KMS action (a typo matches nothing)."""
    t = text.strip()
    if not t.lower().startswith("kms:") or "*" in t or "?" in t:
        return False
    return canonical(t) is None
