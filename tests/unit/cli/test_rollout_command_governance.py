"""manage.py rollout on a protected cluster and outside a maintenance window:
start says what the rollout waits on, and wait does not hang on a person or
a window (exit status 4) unless asked to (--keep-waiting, bounded by --timeout)."""
import datetime
import io

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from images.models import ImageVersion, Rollout
from images.models.rollout import RolloutStatus
from nodes.models import Cluster, MaintenanceWindow, Node
from support.rollout_cli import BASE, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def version():
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11", protected=True)
    Node.objects.create(cluster=cluster, address="10.0.0.11", roles=["primary"], host_key="AAAA", reachable=True)
    Node.objects.create(cluster=cluster, address="10.0.0.21", roles=["dea"], host_key="AAAA", reachable=True)
    return ImageVersion.objects.create(cluster=cluster, repository="exampleco/app", tag="2", from_reference=BASE,
                                       status="built", image_id="sha256:" + "a" * 64, local=True,
                                       engine_reference="exampleco/app:2")


@pytest.fixture
def manager():
    user = User.objects.create_user("alice", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=["activate_rollout", "view_rollout"]))
    return user


def test_start_on_a_protected_cluster_says_it_awaits_approval_and_wait_exits_4(version, worker, manager):
    said = run("start", str(version.pk), "--user", "alice", "--reason", "monthly")
    rollout = Rollout.objects.get()
    assert rollout.status == RolloutStatus.AWAITING_APPROVAL
    assert said.startswith(f"Requested: {rollout} ({rollout.pk}); awaiting approval: prod is protected; "
                           "a second Release manager (not alice) must approve it on its page before ")
    with pytest.raises(CommandError) as error:
        run("wait", str(rollout.pk), "--interval", "0")
    assert error.value.returncode == 4
    assert "is awaiting approval: prod is protected" in str(error.value)
    assert "--keep-waiting waits" in str(error.value)
    # Asked to keep waiting, it waits until --timeout (3: still not ended).
    with pytest.raises(CommandError) as error:
        run("wait", str(rollout.pk), "--keep-waiting", "--timeout", "0", "--interval", "0")
    assert error.value.returncode == 3


def test_start_outside_a_window_says_when_the_window_opens(version, worker, manager):
    Cluster.objects.filter(pk=version.cluster_id).update(protected=False)
    opened = (timezone.now() - datetime.timedelta(hours=3)).astimezone(datetime.timezone.utc)
    MaintenanceWindow.objects.create(cluster_id=version.cluster_id, weekday=opened.weekday(),
                                     start=opened.time().replace(second=0, microsecond=0), minutes=60)
    out = io.StringIO()
    with pytest.raises(CommandError) as error:  # --wait: as `rollout wait`, exit 4 at once
        call_command("rollout", "start", str(version.pk), "--user", "alice", "--reason", "monthly", "--wait",
                     stdout=out)
    assert error.value.returncode == 4
    said = out.getvalue()
    assert "waiting for its maintenance window: outside prod's maintenance windows (" in said
    assert "the next opens " in said
    assert Rollout.objects.get().status == RolloutStatus.WAITING_FOR_WINDOW
