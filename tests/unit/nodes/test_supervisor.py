"""supervisord's getProcessInfo record as the console reads it (nodes/supervisor.py)."""
from datetime import datetime, timedelta, timezone

import pytest

from nodes.supervisor import ProcessInfo, SupervisorError, parse_process_info

CONSOLE_NOW = datetime(2026, 11, 29, 15, 0, 0, tzinfo=timezone.utc)


def record(**fields):
    # What supervisor 4's rpcinterface returns (the node's clock: epoch seconds).
    base = {"name": "fence", "group": "fence", "description": "pid 4242, uptime 0:01:40", "start": 1_900_000_000,
            "stop": 0, "now": 1_900_000_100, "state": 20, "statename": "RUNNING", "spawnerr": "",
            "exitstatus": 0, "logfile": "/x", "stdout_logfile": "/x", "stderr_logfile": "", "pid": 4242}
    base.update(fields)
    return base


def test_a_running_fence_with_its_start_on_the_console_clock():
    info = parse_process_info(record(), "n:9001", console_now=CONSOLE_NOW)
    # started 100 s before supervisord's `now`: whatever the node's clock says, that is 100 s ago here
    assert info == ProcessInfo("fence", "RUNNING", 4242, CONSOLE_NOW - timedelta(seconds=100), "")
    assert info.running


def test_a_node_clock_far_off_does_not_move_the_start():
    skewed = record(start=1_000_000_000, now=1_000_000_100)
    assert parse_process_info(skewed, "n:9001", console_now=CONSOLE_NOW).started == CONSOLE_NOW - timedelta(seconds=100)


def test_a_fatal_fence_has_no_pid_and_keeps_its_spawn_error():
    info = parse_process_info(record(statename="FATAL", state=200, pid=0, spawnerr="Exited too quickly"),
                              "n:9001", console_now=CONSOLE_NOW)
    assert (info.state, info.pid, info.spawn_error, info.running) == ("FATAL", None, "Exited too quickly", False)


def test_never_started_has_no_start_time():
    assert parse_process_info(record(start=0, pid=0, statename="STOPPED"), "n:9001",
                              console_now=CONSOLE_NOW).started is None


def test_an_unknown_state_counts_as_not_running():
    info = parse_process_info(record(statename="SLEEPING"), "n:9001", console_now=CONSOLE_NOW)
    assert (info.state, info.running) == ("UNKNOWN", False)


@pytest.mark.parametrize("broken", ["yes", {}, record(pid="x"), {"name": "fence", "statename": "RUNNING"}])
def test_anything_else_is_a_clear_error(broken):
    with pytest.raises(SupervisorError, match="n:9001 returned no process record"):
        parse_process_info(broken, "n:9001", console_now=CONSOLE_NOW)
