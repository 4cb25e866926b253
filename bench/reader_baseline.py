"""The ``reader`` library (lemon24/reader) updating the same remote feeds: a baseline.

Run with the interpreter of a virtualenv holding ``reader`` (the bench makes one, see
``bench.scenarios.reader_env``), not the project's: ``python reader_baseline.py DB URLS PASS
WORKERS``.  ``URLS`` is a file of one URL a line.  Pass ``1`` adds every URL to a new
database ``DB`` (timed apart: setup, like the baselines' record generation; the import and
``make_reader`` stay in, as our start-up does) and calls
``update_feeds()``; pass ``2`` calls ``update_feeds(scheduled=False)`` on the same database
(every feed fetched again: conditional requests, all 304 from the bench's server).  Prints
one JSON line: ``setup_s`` (adding), ``import_s``, ``update_s``.

Standalone on purpose: it imports nothing from the bench or ``feeds``.
"""

from __future__ import annotations

import json
import sys
import time


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[2] not in ("1", "2"):
        print("usage: reader_baseline.py DB URLS {1,2} WORKERS", file=sys.stderr)
        return 2
    db, urls_file, which, workers = argv[0], argv[1], argv[2], int(argv[3])
    started = time.perf_counter()
    from reader import make_reader

    reader = make_reader(db)
    adding = time.perf_counter()
    if which == "1":
        with open(urls_file, encoding="utf-8") as fh:
            for url in fh.read().split():
                reader.add_feed(url, exist_ok=True)
    ready = time.perf_counter()
    if which == "1":
        reader.update_feeds(workers=workers)
    else:
        reader.update_feeds(scheduled=False, workers=workers)
    finished = time.perf_counter()
    reader.close()
    print(json.dumps({"setup_s": ready - adding, "import_s": adding - started,
                      "update_s": finished - ready}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
