"""KMS018 weak-rsa-encryption-key: RSA_2048 used for encryption."""

from __future__ import annotations

from collections.abc import Iterator

from kmslint.model import Project, Violation
from kmslint.policy.keyspec import spec_and_usage
from kmslint.rules import RuleContext, check
from kmslint.rules._common import key_variants, with_branch


@check("KMS018")
def weak_rsa_encryption_key(project: Project, ctx: RuleContext) -> Iterator[Violation]:
    for key in project.keys:
        for branch, values in key_variants(key, "key_spec", "key_usage"):
            spec, usage_text = spec_and_usage(values)
            if spec != "RSA_2048" or usage_text != "ENCRYPT_DECRYPT":
                continue  # another spec, signing, or unknown
            usage = values["key_usage"]
            yield Violation(
                key.where("key_spec"),
                key.name,
                with_branch(
                    "this RSA_2048 key encrypts data (key usage ENCRYPT_DECRYPT"
                    + (", the default" if usage is None else "")
                    + "); 2048-bit RSA gives about 112 bits of security and is the first to go as attacks "
                    "improve. Use RSA_3072 or RSA_4096, or a symmetric key if the data stays in AWS",
                    branch,
                ),
                content=f"{key.name}:RSA_2048",
            )
            break
