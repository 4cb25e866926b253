"""The daemon's schedule in APScheduler's terms: the one module (with ``feeds.daemon``'s
scheduler) that speaks APScheduler, so that ``feeds.config`` checks a ``cron`` line by
building the very trigger ``feeds run`` will use."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

#: the time zone triggers are built in
SCHEDULE_TIMEZONE = "UTC"


def cron_trigger(expression: str) -> Any:
    """The APScheduler trigger for a five-field crontab line, as the daemon schedules it.

    APScheduler 3 counts numeric weekdays from Monday (``0`` = Monday); crontab counts them
    from Sunday (``0`` and ``7`` = Sunday).  Numeric weekdays are read as crontab does, by
    handing APScheduler their names.  ValueError when APScheduler refuses the line.
    """
    fields = expression.split()
    if len(fields) != 5:
        shown = repr(expression) if len(expression) <= 40 else f"{expression[:40]!r}…"
        raise ValueError(f"must have 5 fields like '*/10 * * * *', got {shown}")
    fields[4] = _crontab_weekdays(fields[4])
    return CronTrigger.from_crontab(" ".join(fields), timezone=SCHEDULE_TIMEZONE)


_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_ITEM = re.compile(r"^(?:(\*)|(\d{1,2})(?:-(\d{1,2}))?)(?:/(\d{1,2}))?$")


def _crontab_weekdays(field: str) -> str:
    """A crontab weekday field with numbers (``1-5``, ``0,6``, ``*/2``) as APScheduler's
    names (``mon,tue,wed,thu,fri``); a field without numbers, or one APScheduler should
    refuse in its own words, is left as it is."""
    if not any(c.isdigit() for c in field):
        return field
    days: set[int] = set()
    for item in field.split(","):
        match = _WEEKDAY_ITEM.match(item)
        if not match:
            return field
        star, first, last, step = match.groups()
        low = 0 if star else int(first)
        high = 6 if star else int(last if last is not None else first)
        if step is not None and star is None and last is None:
            high = 7  # "1/2" is "1-7/2"
        if high > 7 or low > high or (step is not None and int(step) == 0):
            return field
        days.update(d % 7 for d in range(low, high + 1, int(step or 1)))
    return ",".join(_WEEKDAYS[d] for d in sorted(days))


def interval_trigger(every: timedelta) -> Any:
    """Every ``every`` (whole seconds), with a jitter of a tenth of it, at most 5 minutes."""
    jitter = int(min(every.total_seconds() * 0.1, 300))
    return IntervalTrigger(seconds=int(every.total_seconds()), jitter=jitter or None,
                           timezone=SCHEDULE_TIMEZONE)
