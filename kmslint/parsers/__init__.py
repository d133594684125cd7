"""Parsers: the only code that knows HCL, YAML and JSON."""
