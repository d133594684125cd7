"""kmslint: a static analyzer for AWS KMS keys and key policies in infrastructure-as-code."""

__version__ = "0.1.0"
