"""kmslint's CloudFormation checks inside cfn-lint.

    cfn-lint --append-rules kmslint.cfnlint_plugin template.yaml
    cfn-lint --append-rules "$(python -m kmslint.cfnlint_plugin)" template.yaml

The first form names this package (cfn-lint imports it); the second names
its directory (cfn-lint loads the rule file in it).  Either way, kmslint's
findings appear as cfn-lint rules ``E9nnn``/``W9nnn``/``I9nnn`` (KMS003 is
E9003); see :mod:`kmslint.cfnlint_plugin.kmslint_rules`.

This package imports cfn-lint; nothing on kmslint's own lint path imports it.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

RULES_DIR = Path(__file__).resolve().parent
# Without cfn-lint this package only says so (python -m kmslint.cfnlint_plugin), with no traceback.
CFN_LINT = find_spec("cfnlint") is not None

__all__ = ["CFN_LINT", "RULES_DIR"]

if CFN_LINT:
    from kmslint.cfnlint_plugin import kmslint_rules as _rules

    # cfn-lint's module loader instantiates the rule classes it finds on this module.
    globals().update(_rules.RULE_CLASSES)
    __all__ += list(_rules.RULE_CLASSES)
