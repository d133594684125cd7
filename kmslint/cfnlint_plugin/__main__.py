"""``python -m kmslint.cfnlint_plugin`` prints the directory to give ``cfn-lint --append-rules``."""

from kmslint.cfnlint_plugin import RULES_DIR

print(RULES_DIR)
