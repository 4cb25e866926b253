"""``python -m bench [--quick]``, or ``python -m bench profile ...``."""

from __future__ import annotations

import sys


def _main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "profile":
        from bench.profile import main as profile_main

        return profile_main(sys.argv[2:])
    from bench.run import main

    return main()


if __name__ == "__main__":
    raise SystemExit(_main())
