"""``python -m kmslint.cfnlint_plugin`` prints the directory to give ``cfn-lint --append-rules``."""

import sys

from kmslint.cfnlint_plugin import CFN_LINT, RULES_DIR

if not CFN_LINT:
    print(
        "kmslint: cfn-lint is not installed in this Python; install it (pip install cfn-lint) to use the plugin",
        file=sys.stderr,
    )
    sys.exit(1)
print(RULES_DIR)
