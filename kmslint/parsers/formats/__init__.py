"""The formats kmslint reads, one module each (see :mod:`kmslint.parsers.registry`).

Each module defines ``FORMAT``, a :class:`~kmslint.parsers.registry.Format`,
and imports its parser only when it reads a file: the registry imports every
module here on a run's first file.
"""
