"""What counts as "a fence started since the change" and "stayed up", against
a scripted supervisord (the integration tests use the sandbox's real one)."""
from datetime import datetime, timedelta, timezone

import pytest

from images.rollouts import fence_check
from images.rollouts.fence_check import NotVerified
from nodes.kato import KatoError
from nodes.supervisor import ProcessInfo

CHANGE = datetime(2026, 11, 29, 12, 0, 0, tzinfo=timezone.utc)


def fence(state="RUNNING", pid=100, started=CHANGE - timedelta(minutes=5), error=""):
    return ProcessInfo("fence", state, pid, started, error)


class ScriptedSupervisor:
    """Answers process_info with each entry in turn, then keeps the last."""

    def __init__(self, *answers):
        self.answers, self.calls = list(answers), 0

    def process_info(self, name):
        assert name == "fence"
        self.calls += 1
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    monkeypatch.setattr(fence_check, "POLL", 0)


def test_a_new_process_started_after_the_change_is_what_it_waits_for():
    new = fence(pid=200, started=CHANGE + timedelta(seconds=1))
    supervisor = ScriptedSupervisor(fence(), fence(state="STOPPING"), fence(state="STARTING", pid=200), new)
    assert fence_check.wait_for_new_fence(supervisor, since=CHANGE, pid_before=100, timeout=5) == (new, True)


@pytest.mark.parametrize("seen", [
    fence(pid=100, started=CHANGE + timedelta(seconds=5)),    # same pid: not a new process
    fence(pid=200, started=CHANGE - timedelta(seconds=30)),   # started before the change
    fence(state="STARTING", pid=200, started=CHANGE + timedelta(seconds=1)),
    fence(state="RUNNING", pid=None, started=None),
])
def test_anything_else_is_not_a_fence_started_since(seen):
    assert not fence_check.started_since(seen, CHANGE, pid_before=100)


def test_whole_seconds_are_tolerated():
    assert fence_check.started_since(fence(pid=200, started=CHANGE - timedelta(seconds=1)), CHANGE, 100)


def test_a_fence_that_keeps_its_process_times_out_unverified():
    # what a fence reloading inside itself would look like: the caller restarts it
    old = fence()
    assert fence_check.wait_for_new_fence(ScriptedSupervisor(old), since=CHANGE, pid_before=100, timeout=0) == (
        old, False)


def test_fatal_is_not_verified_and_says_supervisords_reason():
    with pytest.raises(NotVerified, match="fence is FATAL: Exited too quickly"):
        fence_check.wait_for_new_fence(ScriptedSupervisor(fence(state="FATAL", pid=None, error="Exited too quickly")),
                                       since=CHANGE, pid_before=100, timeout=5)


def test_the_health_wait_fails_on_a_new_pid_or_a_state_change():
    up = fence(pid=200)
    fence_check.watch(ScriptedSupervisor(up), up, 0)
    for later in (fence(pid=201), fence(state="BACKOFF", pid=None)):
        with pytest.raises(NotVerified, match="did not stay up"):
            fence_check.watch(ScriptedSupervisor(up, later), up, 5)


def test_settled_waits_out_a_restart_in_progress():
    supervisor = ScriptedSupervisor(fence(state="STOPPING"), fence(state="STARTING", pid=7), fence(pid=7))
    assert fence_check.settled(supervisor).state == "RUNNING" and supervisor.calls == 3


class Kato:
    def __init__(self, answer):
        self.answer = answer

    def process_ready(self, name):
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_kato_process_ready_is_a_second_signal_where_kato_has_it():
    assert fence_check.ready_note(Kato(True)) == "kato process ready fence: READY"
    assert "not available" in fence_check.ready_note(Kato(KatoError("usage: kato process {list,restart}")))
    with pytest.raises(NotVerified, match="NOT READY"):
        fence_check.ready_note(Kato(False))
