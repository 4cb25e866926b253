"""``python -m feeds``."""

from .cli import main

raise SystemExit(main())
