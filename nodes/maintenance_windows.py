"""Weekly maintenance windows: is one open at a moment, and when does the
next one open. Pure functions over (weekday, start, minutes) so they are
tested without a database.

Times are wall-clock times in the cluster's timezone (Cluster.windows_timezone,
an IANA name, "UTC" by default): "Sunday 02:00 for 3 hours" opens at 02:00 on
the operators' clock, summer and winter, and lasts 3 real hours. On the night
the clocks skip an hour a start inside it is shifted by the gap (02:30 opens
at 03:30, as java.time and PostgreSQL read it), so the window still opens
that week; on the night they fall back a start in the repeated hour is its
first occurrence, and the window opens once. A window may run over midnight
(and over the week's end: Sunday 23:00 for 2 hours ends Monday 01:00). A
cluster with no window has no restriction: a rollout starts at once.
"""
import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.core.exceptions import ValidationError

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]  # datetime.weekday()
LONGEST = 7 * 24 * 60  # minutes: a window longer than a week would always be open


@dataclass(frozen=True)
class Window:
    weekday: int  # 0 = Monday
    start: datetime.time
    minutes: int

    def __str__(self):
        return f"{WEEKDAYS[self.weekday]} {self.start:%H:%M} for {self.minutes} min"


def validate_timezone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"{value!r} is not an IANA timezone name (e.g. UTC, Europe/Berlin).")


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"{name!r} is not an IANA timezone name.") from None


def _openings(window: Window, tz: ZoneInfo, local_date: datetime.date, days: range):
    """The window's openings and closings (aware, UTC) on the days around local_date."""
    for offset in days:
        day = local_date + datetime.timedelta(days=offset)
        if day.weekday() == window.weekday:
            # fold=0: a start the clocks skip is read with the offset before the jump
            # (shifted by the gap), a repeated one is its first occurrence. In UTC,
            # so that the minutes are real ones (aware arithmetic in one zone is wall-clock).
            opens = datetime.datetime.combine(day, window.start, tzinfo=tz).astimezone(datetime.timezone.utc)
            yield opens, opens + datetime.timedelta(minutes=window.minutes)


def open_window(windows, tz_name: str, now: datetime.datetime) -> "Window | None":
    """The window open at `now` (an aware datetime), or None."""
    tz = zone(tz_name)
    local_date = now.astimezone(tz).date()
    for window in windows:
        # An opening up to a week back may still be open (over midnight, over the week's end).
        for opens, closes in _openings(window, tz, local_date, range(-7, 1)):
            if opens <= now < closes:
                return window
    return None


def is_open(windows, tz_name: str, now: datetime.datetime) -> bool:
    """No window at all: always open."""
    windows = list(windows)
    return not windows or open_window(windows, tz_name, now) is not None


def next_opening(windows, tz_name: str, now: datetime.datetime) -> "datetime.datetime | None":
    """When the next window opens after `now`, as an aware datetime in the
    cluster's timezone; None when there is no window."""
    tz = zone(tz_name)
    later = [opens for window in windows for opens, _ in _openings(window, tz, now.astimezone(tz).date(), range(0, 8))
             if opens > now]
    return min(later).astimezone(tz) if later else None


def describe(windows, tz_name: str) -> str:
    windows = list(windows)
    if not windows:
        return "no maintenance window: rollouts start at once"
    return "; ".join(str(window) for window in windows) + f" ({tz_name})"
