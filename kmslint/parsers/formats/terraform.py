"""Terraform: HCL native syntax (``.tf``) and JSON syntax (``.tf.json``), read together.

All the ``.tf`` and ``.tf.json`` files of a directory are one configuration,
as Terraform reads them (:mod:`kmslint.parsers.terraform`).
"""

from __future__ import annotations

import os

from kmslint.parsers.registry import Format
from kmslint.parsers.sniff import Marker, Sign, matches

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (~5 ms; see kmslint.record)
if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from kmslint.model import Project
    from kmslint.parsers.common import ParseOptions

KMS = Marker("kms")  # a key, a key policy, an alias, a grant, a kms: action
IDENTITY_POLICY = Marker("aws_iam_", (r"aws_iam_(?:role_|user_|group_)?policy\b",))
INLINE_POLICY = Marker("inline_policy")  # the inline policies of an aws_iam_role
_MODULE_BLOCK = r"\bmodule\s*[\"'\w{]"  # a block (`module "x" {`, `"module": {`), not `path.module`
MODULE_CALL = Marker("module", (_MODULE_BLOCK,))
# A call of a module on disk: `source = "./keys"`, `"source": "../keys"`, also written as a
# constant expression (`source = true ? "./keys" : "x"`): a string starting ./ or ../ there.
# Such a configuration is evaluated for the modules it calls (kmslint.parsers.tf_modules).
LOCAL_MODULE_CALL = Marker("module", (_MODULE_BLOCK, r"\bsource\b", r"\"\.\.?[/\\]"))
MARKERS = (KMS, IDENTITY_POLICY, INLINE_POLICY, LOCAL_MODULE_CALL)


def read_directory(directory: Path, files: list[Path], opts: ParseOptions) -> Project:
    from kmslint.parsers import terraform

    return terraform.parse_directory(directory, files, opts)


def installed_modules(directory: Path, texts: Iterable[str]) -> bool:
    """Does the configuration call modules that ``terraform init`` installed?  They are on
    disk (``.terraform/modules``) whatever their source, so they may declare keys."""
    # os.path.isdir, not Path.is_dir: an unsearchable .terraform is "no", not a PermissionError.
    return any(matches(t, (MODULE_CALL,)) for t in texts) and os.path.isdir(directory / ".terraform" / "modules")


FORMATS = (
    Format(
        name="Terraform",
        reading="terraform",
        suffixes=(".tf",),
        directory=True,
        markers=MARKERS,
        signs=(Sign("resource", "block"), Sign("module", "block")),
        read_directory=read_directory,
        also_matters=installed_modules,
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
