"""The fence restart audit is written ahead (images/rollouts/audit.py): the
row exists before the restart command is sent, is completed once after, and
an open row shows "outcome unknown" until someone looks at the node. The
restart step is driven with a fake node (kato and supervisord stubbed); the
sandbox tests (tests/integration/rollouts/test_audit_write_ahead.py) do it
for real."""
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from images.models.rollout import Phase, Rollout, RolloutStep, StepStatus
from images.rollouts import audit, steps
from nodes import ssh
from nodes.admin import restart_history
from nodes.kato import KatoError
from nodes.models import Cluster, FenceRestart, Node
from nodes.models.fence_restart import AppendOnlyError, Outcome
from nodes.supervisor import ProcessInfo

pytestmark = pytest.mark.django_db

TARGET, PREVIOUS = "reg:5000/app:2", "reg:5000/app:1"


@pytest.fixture
def step():
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11", kato_behaviour="3.0")
    Node.objects.create(cluster=cluster, address="10.0.0.11", roles=["primary"])
    dea = Node.objects.create(cluster=cluster, address="10.0.0.21", roles=["dea"])
    rollout = Rollout.objects.create(cluster=cluster, target_image=TARGET, target_pull=TARGET, previous_image=PREVIOUS,
                                     requested_by_username="ops", reason="CVE-2026-1 fix", status="activating")
    return RolloutStep.objects.create(rollout=rollout, node=dea, phase=Phase.RESTART, image=TARGET,
                                      status=StepStatus.RUNNING, attempt=1, started_at=timezone.now())


class FakeNode:
    """fence under a fake supervisord; kato's restart starts a new fence
    unless told to fail or to lose the connection."""

    def __init__(self, *, restart_error=None, error_after_restart=None):
        self.fence = ProcessInfo("fence", "RUNNING", 100, timezone.now() - timedelta(hours=1))
        self.restarts = 0
        self.fence_fails = True  # a kato error leaves fence FATAL; False: kato failed before touching fence
        self.restart_error, self.error_after_restart = restart_error, error_after_restart

    def process_info(self, name):
        if self.restarts and self.error_after_restart:
            raise self.error_after_restart
        return self.fence

    def process_restart(self, name, *, timeout=None):
        self.restarts += 1
        if self.restart_error:
            if isinstance(self.restart_error, KatoError) and self.fence_fails:  # fence stopped, did not come back
                self.fence = ProcessInfo("fence", "FATAL", 0, timezone.now())
            raise self.restart_error
        self.fence = ProcessInfo("fence", "RUNNING", 200 + self.restarts, timezone.now())
        return SimpleNamespace(exit_code=0, stdout="fence: stopped\nfence: started")


@pytest.fixture
def node(monkeypatch):
    fake = FakeNode()
    monkeypatch.setattr(steps, "Kato", lambda session: fake)
    monkeypatch.setattr(steps, "Supervisor", lambda session: fake)
    return fake


def test_write_ahead_row_is_open_with_who_why_and_images(step):
    row = audit.write_ahead(step, image_before=PREVIOUS)
    stored = FenceRestart.objects.get(pk=row.pk)
    assert stored.is_open and stored.outcome == Outcome.UNKNOWN
    assert (stored.requested_by_username, stored.reason, stored.node_address, stored.image_before,
            stored.image_after, stored.correlation_id) == ("ops", "CVE-2026-1 fix", "10.0.0.21", PREVIOUS, TARGET,
                                                           step.rollout_id)
    assert stored.get_outcome_display() == "outcome unknown"


def test_a_row_is_completed_once_and_then_refuses_another_outcome(step):
    row = audit.write_ahead(step, image_before=PREVIOUS)
    audit.complete(row, outcome=Outcome.SUCCEEDED, exit_code=0, output="verified")
    with pytest.raises(AppendOnlyError):
        audit.complete(FenceRestart.objects.get(pk=row.pk), outcome=Outcome.FAILED, output="rewritten")
    stored = FenceRestart.objects.get(pk=row.pk)
    assert (stored.outcome, stored.output_excerpt, stored.is_open) == (Outcome.SUCCEEDED, "verified", False)


def test_an_open_row_shows_outcome_unknown_on_the_audit_node_and_rollout_pages(step, admin_client):
    audit.write_ahead(step, image_before=PREVIOUS)
    changelist = admin_client.get(reverse("admin:nodes_fencerestart_changelist"))
    assert changelist.status_code == 200 and "outcome unknown" in changelist.content.decode()
    assert "outcome unknown" in str(restart_history.table(step.node))
    page = admin_client.get(reverse("admin:images_rollout_change", args=[step.rollout_id]))
    assert page.status_code == 200
    cell = page.content.decode().split('class="restart-audit">', 1)[1].split("</td>", 1)[0]
    assert "outcome unknown" in cell


@pytest.mark.parametrize("fence, outcome", [
    (lambda since: ProcessInfo("fence", "RUNNING", 300, since + timedelta(seconds=3)), Outcome.SUCCEEDED),
    (lambda since: ProcessInfo("fence", "FATAL", None, since + timedelta(seconds=3)), Outcome.FAILED),
    (lambda since: ProcessInfo("fence", "RUNNING", 100, since - timedelta(hours=1)), Outcome.NOT_RESTARTED),
    (lambda since: ProcessInfo("fence", "STOPPED", None, since - timedelta(hours=1)), Outcome.NOT_RESTARTED),
])
def test_resolve_completes_an_open_row_with_what_the_node_shows(step, fence, outcome):
    row = audit.write_ahead(step, image_before=PREVIOUS)
    assert audit.resolve(row, fence(row.started_at), 100, how="recovery") == outcome
    stored = FenceRestart.objects.get(pk=row.pk)
    assert stored.outcome == outcome and not stored.is_open and stored.output_excerpt.startswith("recovery: ")


def test_an_error_in_verification_after_the_restart_completes_the_row(step, node):
    node.error_after_restart = OperationalError("database is locked")
    with pytest.raises(OperationalError):
        steps.restart(step, session=None)
    assert node.restarts == 1
    row = FenceRestart.objects.get()
    assert row.outcome == Outcome.UNVERIFIED and not row.is_open
    assert "database is locked" in row.output_excerpt


def test_a_connection_lost_after_sending_leaves_the_row_open(step, node):
    node.restart_error = ssh.ConnectionLost("connection closed by the node", "10.0.0.21", 22)
    with pytest.raises(ssh.ConnectionLost):
        steps.restart(step, session=None)
    row = FenceRestart.objects.get()
    assert row.is_open and row.get_outcome_display() == "outcome unknown"


def test_a_failed_restart_command_completes_its_row_failed(step, node):
    node.restart_error = KatoError("fence: ERROR (spawn error)")
    with pytest.raises(steps.StepFailed):
        steps.restart(step, session=None)
    row = FenceRestart.objects.get()
    assert (row.outcome, row.is_open, row.output_excerpt) == (Outcome.FAILED, False, "fence: ERROR (spawn error)")


def test_the_retry_completes_a_row_whose_restart_never_happened_then_writes_its_own(step, node):
    """The lost attempt wrote its row and the restart never reached fence:
    the retry records 'not restarted' and opens a fresh row for its restart."""
    lost = audit.write_ahead(step, image_before=PREVIOUS)
    step.attempt = 2
    # The retry's own kato fails before touching fence: no verification, and
    # its row says so (the same fence runs), not a failed restart.
    node.restart_error, node.fence_fails = KatoError("Error: supervisor not answering"), False
    with pytest.raises(steps.StepFailed):
        steps.restart(step, session=None)
    rows = list(FenceRestart.objects.order_by("id"))
    assert [(r.pk, r.outcome) for r in rows] == [(lost.pk, Outcome.NOT_RESTARTED), (rows[1].pk, Outcome.NOT_RESTARTED)]
    assert node.restarts == 1
    assert not any(r.is_open for r in rows)


def test_the_retry_does_not_restart_again_when_the_lost_restart_failed(step, node):
    lost = audit.write_ahead(step, image_before=PREVIOUS)
    step.fence_pid_before = 100
    node.fence = ProcessInfo("fence", "FATAL", None, timezone.now() + timedelta(seconds=1))
    step.attempt = 2
    with pytest.raises(steps.StepFailed, match="not running"):
        steps.restart(step, session=None)
    assert node.restarts == 0
    assert list(FenceRestart.objects.values_list("pk", "outcome")) == [(lost.pk, Outcome.FAILED)]


def test_a_row_completed_meanwhile_by_the_attempt_that_sent_it_keeps_that_outcome(step):
    """A work horse that outlived its worker completes its row while the
    retry verifies the same restart: the retry neither fails nor adds a row."""
    adopted = audit.write_ahead(step, image_before=PREVIOUS)
    audit.complete(FenceRestart.objects.get(pk=adopted.pk), outcome=Outcome.SUCCEEDED, output="by the horse")
    steps._write_audit(step, adopted, adopted.started_at, Outcome.SUCCEEDED, None, "by the retry")
    assert list(FenceRestart.objects.values_list("outcome", "output_excerpt")) == [(Outcome.SUCCEEDED, "by the horse")]
