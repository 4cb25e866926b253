"""``python -m feeds``."""

from .cli import entry

entry()
