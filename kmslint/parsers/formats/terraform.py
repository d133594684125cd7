"""Terraform: HCL native syntax (``.tf``) and JSON syntax (``.tf.json``), read together.

All the ``.tf`` and ``.tf.json`` files of a directory are one configuration,
as Terraform reads them (:mod:`kmslint.parsers.terraform`).
"""

from __future__ import annotations

from kmslint.parsers.registry import Format
from kmslint.parsers.sniff import Marker, Sign

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from pathlib import Path

    from kmslint.model import Project
    from kmslint.parsers.common import ParseOptions

KMS = Marker("kms")  # a key, a key policy, an alias, a grant, a kms: action
IDENTITY_POLICY = Marker("aws_iam_", (r"aws_iam_(?:role_|user_|group_)?policy\b",))
INLINE_POLICY = Marker("inline_policy")  # the inline policies of an aws_iam_role
_MODULE_BLOCK = r"\bmodule\s*[\"'\w{]"  # a block (`module "x" {`, `"module": {`), not `path.module`
# Any module call: one on disk is evaluated for the keys it declares (kmslint.parsers.tf_modules),
# and one that is not (a registry or git source) may declare keys too, so the run must say
# it was not followed (OUTPUT.md, summary.not_followed) even where nothing else mentions KMS.
MODULE_CALL = Marker("module", (_MODULE_BLOCK,))
MARKERS = (KMS, IDENTITY_POLICY, INLINE_POLICY, MODULE_CALL)


def read_directory(directory: Path, files: list[Path], opts: ParseOptions) -> Project:
    from kmslint.parsers import terraform

    return terraform.parse_directory(directory, files, opts)


FORMATS = (
    Format(
        name="Terraform",
        reading="terraform",
        suffixes=(".tf",),
        directory=True,
        markers=MARKERS,
        signs=(Sign("resource", "block"), Sign("module", "block")),
        read_directory=read_directory,
    ),
    # No signs: only its name makes a file Terraform JSON (a `"resource"` key is in many
    # JSON files), and a .tf.json file that does not parse is a KMS000 whatever it holds.
    Format(
        name="Terraform JSON",
        reading="terraform",
        suffixes=(".tf.json",),
        directory=True,
        markers=MARKERS,
        read_directory=read_directory,
    ),
)
