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


# Daylight saving time, Europe/Berlin 2026: the clocks jump from 02:00 to 03:00
# on Sunday 29 March and fall back from 03:00 to 02:00 on Sunday 25 October.
SPRING_FORWARD_NIGHT = Window(6, datetime.time(2, 0), 30)  # Sunday 02:00 for 30 min: 02:00-02:59 never shows


def test_a_window_in_the_hour_the_clocks_skip_still_opens_for_its_length():
    # 02:00 local does not exist that night: the window opens when the clock jumps
    # (03:00 CEST = 01:00 UTC), as a skipped time is read shifted by the gap, for
    # its 30 minutes; it must not be skipped until the next week.
    sunday = datetime.datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    assert next_opening([SPRING_FORWARD_NIGHT], "Europe/Berlin", sunday) == datetime.datetime(2026, 3, 29, 1, 0,
                                                                                              tzinfo=UTC)
    assert not is_open([SPRING_FORWARD_NIGHT], "Europe/Berlin", datetime.datetime(2026, 3, 29, 0, 59, tzinfo=UTC))
    assert is_open([SPRING_FORWARD_NIGHT], "Europe/Berlin", datetime.datetime(2026, 3, 29, 1, 0, tzinfo=UTC))
    assert is_open([SPRING_FORWARD_NIGHT], "Europe/Berlin", datetime.datetime(2026, 3, 29, 1, 29, tzinfo=UTC))
    assert not is_open([SPRING_FORWARD_NIGHT], "Europe/Berlin", datetime.datetime(2026, 3, 29, 1, 30, tzinfo=UTC))
    # Said as the clock on the wall shows it then: 03:00 CEST.
    assert f"{next_opening([SPRING_FORWARD_NIGHT], 'Europe/Berlin', sunday):%H:%M %Z}" == "03:00 CEST"


def test_a_window_in_the_hour_the_clocks_repeat_opens_once_for_its_length():
    # Sunday 02:30 for 60 min on 25 October: 02:30 comes twice (CEST, then CET).
    # The window is the first 02:30 (00:30 UTC) for 60 minutes, not a second time.
    fall_back = Window(6, datetime.time(2, 30), 60)
    assert not is_open([fall_back], "Europe/Berlin", datetime.datetime(2026, 10, 25, 0, 29, tzinfo=UTC))
    assert is_open([fall_back], "Europe/Berlin", datetime.datetime(2026, 10, 25, 0, 30, tzinfo=UTC))
    assert is_open([fall_back], "Europe/Berlin", datetime.datetime(2026, 10, 25, 1, 29, tzinfo=UTC))
    assert not is_open([fall_back], "Europe/Berlin", datetime.datetime(2026, 10, 25, 1, 45, tzinfo=UTC))
