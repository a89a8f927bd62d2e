"""When a weekly maintenance window is open, and when the next opens
(nodes/maintenance_windows.py): wall-clock times in the cluster's timezone,
a window over midnight and over the week's end, none at all."""
import datetime

import pytest
from django.core.exceptions import ValidationError

from nodes.maintenance_windows import Window, describe, is_open, next_opening, open_window, validate_timezone

UTC = datetime.timezone.utc
SUNDAY_LATE = Window(6, datetime.time(23, 0), 180)  # Sunday 23:00 to Monday 02:00
TUESDAY_NIGHT = Window(1, datetime.time(22, 30), 120)  # Tuesday 22:30 to Wednesday 00:30


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    """2026-11-30 is a Monday: day 0 = Monday."""
    return datetime.datetime(2026, 11, 30, hour, minute, tzinfo=UTC) + datetime.timedelta(days=day)


def test_no_window_means_always_open_and_no_next_opening():
    assert is_open([], "UTC", at(2, 12))
    assert next_opening([], "UTC", at(2, 12)) is None
    assert describe([], "UTC") == "no maintenance window: rollouts start at once"


def test_a_window_over_midnight_and_the_weeks_end_is_open_on_both_sides():
    windows = [SUNDAY_LATE]
    assert is_open(windows, "UTC", at(6, 23, 30))  # Sunday night
    assert is_open(windows, "UTC", at(7, 1, 59))  # Monday morning of the next week
    assert not is_open(windows, "UTC", at(7, 2, 0))  # closes at 02:00 (end excluded)
    assert not is_open(windows, "UTC", at(6, 22, 59))
    assert open_window(windows, "UTC", at(0, 0, 30)) == SUNDAY_LATE  # this Monday: last Sunday's window


def test_a_window_over_midnight_on_a_weekday():
    assert is_open([TUESDAY_NIGHT], "UTC", at(2, 0, 15))  # Wednesday 00:15
    assert not is_open([TUESDAY_NIGHT], "UTC", at(2, 0, 30))
    assert not is_open([TUESDAY_NIGHT], "UTC", at(3, 0, 15))  # Thursday 00:15: Wednesday has no window


def test_next_opening_is_the_soonest_window_in_the_clusters_timezone():
    assert next_opening([SUNDAY_LATE, TUESDAY_NIGHT], "UTC", at(0, 12)) == at(1, 22, 30)
    assert next_opening([SUNDAY_LATE, TUESDAY_NIGHT], "UTC", at(2, 12)) == at(6, 23)
    # Inside a window, the next opening is the next one, not the one open now.
    assert next_opening([TUESDAY_NIGHT], "UTC", at(1, 23)) == at(8, 22, 30)


def test_times_are_wall_clock_in_the_clusters_timezone():
    berlin = Window(0, datetime.time(2, 0), 60)  # Monday 02:00-03:00 in Berlin: 01:00-02:00 UTC in winter
    assert is_open([berlin], "Europe/Berlin", at(0, 1, 30))
    assert not is_open([berlin], "Europe/Berlin", at(0, 2, 30))
    assert not is_open([berlin], "UTC", at(0, 1, 30))
    summer = datetime.datetime(2026, 6, 1, 0, 30, tzinfo=UTC)  # a Monday; Berlin is UTC+2 in summer
    assert is_open([berlin], "Europe/Berlin", summer)


def test_an_unknown_timezone_is_refused():
    with pytest.raises(ValidationError, match="not an IANA timezone name"):
        validate_timezone("Mars/Olympus")
    validate_timezone("Europe/Berlin")
