"""What a KMS key's settings mean: the facts about keys the rules and the parsers share.

From the AWS KMS API Reference (CreateKey: ``KeySpec``, ``KeyUsage``,
``Origin``, ``CustomKeyStoreId``; ``EnableKeyRotation``,
``RotationPeriodInDays``, ``PendingWindowInDays``) and the Developer Guide's
key spec reference.  A setting left unset has its default
(:data:`DEFAULT_SPEC`, :data:`DEFAULT_USAGE`, :data:`DEFAULT_ORIGIN`).
"""

from __future__ import annotations

from kmslint.model import KeyKind, Value, known_str

DEFAULT_SPEC = "SYMMETRIC_DEFAULT"
DEFAULT_USAGE = "ENCRYPT_DECRYPT"
DEFAULT_ORIGIN = "AWS_KMS"
# The origin of imported key material; the Terraform resources that hold it have no origin
# argument, their kind says it (aws_kms_external_key, aws_kms_replica_external_key).
IMPORTED_ORIGIN = "EXTERNAL"
IMPORTED_KINDS = frozenset({KeyKind.EXTERNAL, KeyKind.REPLICA_EXTERNAL})

# Which key usages each key spec accepts.  Specs missing here (a newer one) are not judged.
_RSA = frozenset({"ENCRYPT_DECRYPT", "SIGN_VERIFY"})
_NIST = frozenset({"SIGN_VERIFY", "KEY_AGREEMENT"})
_SIGN = frozenset({"SIGN_VERIFY"})
_MAC = frozenset({"GENERATE_VERIFY_MAC"})
VALID_USAGES: dict[str, frozenset[str]] = {
    "SYMMETRIC_DEFAULT": frozenset({"ENCRYPT_DECRYPT"}),
    "RSA_2048": _RSA,
    "RSA_3072": _RSA,
    "RSA_4096": _RSA,
    "ECC_NIST_P256": _NIST,
    "ECC_NIST_P384": _NIST,
    "ECC_NIST_P521": _NIST,
    "ECC_NIST_EDWARDS25519": _SIGN,
    "ECC_SECG_P256K1": _SIGN,
    "HMAC_224": _MAC,
    "HMAC_256": _MAC,
    "HMAC_384": _MAC,
    "HMAC_512": _MAC,
    "SM2": frozenset({"ENCRYPT_DECRYPT", "SIGN_VERIFY", "KEY_AGREEMENT"}),
    "ML_DSA_44": _SIGN,
    "ML_DSA_65": _SIGN,
    "ML_DSA_87": _SIGN,
    "ML_KEM_512": frozenset({"ENCAPSULATE_DECAPSULATE"}),
    "ML_KEM_768": frozenset({"ENCAPSULATE_DECAPSULATE"}),
    "ML_KEM_1024": frozenset({"ENCAPSULATE_DECAPSULATE"}),
}
KNOWN_USAGES = frozenset().union(*VALID_USAGES.values())

# The days AWS accepts, inclusive: a rotation period, a deletion waiting period.
ROTATION_DAYS = (90, 2560)
DELETION_DAYS = (7, 30)


def spec_and_usage(values: dict[str, Value | None]) -> tuple[str | None, str | None]:
    """A key's spec and usage (``values["key_spec"]``, ``values["key_usage"]``), an unset one
    as its default; None for one whose value is not known."""
    spec, usage = values["key_spec"], values["key_usage"]
    return (
        DEFAULT_SPEC if spec is None else known_str(spec),
        DEFAULT_USAGE if usage is None else known_str(usage),
    )


def is_imported(kind: KeyKind, origin: Value | None) -> bool:
    """Does a key of this kind and origin hold imported key material?"""
    return kind in IMPORTED_KINDS or known_str(origin) == IMPORTED_ORIGIN


def rotatable(values: dict[str, Value | None]) -> bool | None:
    """Can AWS rotate this key automatically?  None when a setting is unknown.

    Symmetric encryption keys (spec ``SYMMETRIC_DEFAULT`` or unset, usage
    ``ENCRYPT_DECRYPT`` or unset) with AWS-generated material (origin
    ``AWS_KMS`` or unset) outside custom key stores can; nothing else can.
    (The key's kind is the caller's to judge: a replica follows its primary.)
    """
    expected = {"key_spec": DEFAULT_SPEC, "key_usage": DEFAULT_USAGE, "origin": DEFAULT_ORIGIN}
    for attr, wanted in expected.items():
        value = values.get(attr)
        if value is None:
            continue
        text = known_str(value)
        if text is None:
            return None
        if text != wanted:
            return False
    store = values.get("custom_key_store")
    if store is not None:
        text = known_str(store)
        if text is None:
            return None  # an unresolved store ID may be empty or not
        if text.strip():
            return False
    return True
