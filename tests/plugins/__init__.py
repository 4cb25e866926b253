"""Plug-ins that exist only for ``tests/test_tables.py``: each is what a new output
format, reader kind or source kind needs besides its one table line."""
