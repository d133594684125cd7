"""kmslint: a static analyzer for AWS KMS keys and key policies in infrastructure-as-code."""

__version__ = "0.1.0"

# The one place the project's address is written: SARIF informationUri/helpUri,
# the LSP's and cfn-lint's rule links (kmslint.formatters), and pyproject's
# [project.urls] (a test holds them equal).
HOMEPAGE = "https://github.com/kmslint/kmslint"
