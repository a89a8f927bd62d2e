"""The rollout plan: node order, batches, exclusions, max in flight."""
import pytest
from django.core.exceptions import ValidationError

from images.rollouts import plan as planning
from nodes.models import Cluster, Node

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value, total, expected", [("1", 10, 1), ("3", 10, 3), ("25%", 10, 3), ("1%", 10, 1), ("100%", 7, 7)])
def test_max_in_flight(value, total, expected):
    parsed = planning.MaxInFlight.parse(value)
    assert parsed.of(total) == expected and str(parsed) == value


@pytest.mark.parametrize("value", ["0", "0%", "-1", "101%", "two", "5 ; reboot", "", "1.5", "01"])
def test_bad_max_in_flight_is_refused(value):
    with pytest.raises(ValidationError):
        planning.MaxInFlight.parse(value)


ABOVE_100 = "is a percentage above 100%: at most 100% of the nodes taking part can be worked on at once"
NONE_AT_A_TIME = "would work on no node at a time: give at least 1 node (e.g. 2) or a percentage from 1% to 100%"


@pytest.mark.parametrize("value, says", [
    ("150%", f"'150%' {ABOVE_100} (e.g. 25%, or 100% for all of them at once)."),
    ("101%", f"'101%' {ABOVE_100} (e.g. 25%, or 100% for all of them at once)."),
    ("0", f"'0' {NONE_AT_A_TIME} (e.g. 25%)."),
    ("0%", f"'0%' {NONE_AT_A_TIME} (e.g. 25%)."),
    ("two", "'two' is not a number of nodes (e.g. 2) or a percentage (e.g. 25%)."),
])
def test_a_refused_max_in_flight_says_which_bound_it_is_past(value, says):
    with pytest.raises(ValidationError) as refused:
        planning.MaxInFlight.parse(value)
    assert refused.value.messages == [says]


def test_canaries_first_then_batches_and_exclusions_with_reasons():
    cluster = Cluster.objects.create(name="c", core_address="10.0.0.1")
    trusted = dict(roles=["dea"], host_key_type="ssh-ed25519", host_key="AAAA", reachable=True)
    for i in range(2, 9):
        Node.objects.create(cluster=cluster, address=f"10.0.0.{i}", **trusted)
    Node.objects.create(cluster=cluster, address="10.0.0.1", roles=["primary"], host_key_type="ssh-ed25519", host_key="AAAA")
    Node.objects.filter(address="10.0.0.3").update(in_maintenance=True)
    Node.objects.filter(address="10.0.0.4").update(host_key="")
    Node.objects.filter(address="10.0.0.5").update(reachable=False)
    Node.objects.filter(address="10.0.0.6").update(images=[{"ref": "r/x:1"}])
    plan = planning.make_plan(cluster, "r/x:1", canaries=1, max_in_flight=planning.MaxInFlight(2), image_size=1000)
    assert [[n.address for n in batch] for batch in plan.batches] == [["10.0.0.2"], ["10.0.0.6", "10.0.0.7"], ["10.0.0.8"]]
    assert [(n.address, why) for n, why in plan.excluded] == [
        ("10.0.0.3", "in maintenance"), ("10.0.0.4", "host key not trusted"), ("10.0.0.5", "unreachable at the last refresh")]
    # As the rollout records them, for its summary and its page.
    assert plan.left_out() == ("10.0.0.3 (in maintenance); 10.0.0.4 (host key not trusted); "
                               "10.0.0.5 (unreachable at the last refresh)")
    assert [n.address for n in plan.needs_pull] == ["10.0.0.2", "10.0.0.7", "10.0.0.8"]
    assert plan.pull_bytes == 3000


@pytest.mark.parametrize("value, says", [
    ("0", f"'0' {NONE_AT_A_TIME} (e.g. 25%)."),
    ("150%", f"'150%' {ABOVE_100} (e.g. 25%, or 100% for all of them at once)."),
    ("2; reboot", "'2; reboot' is not a number of nodes (e.g. 2) or a percentage (e.g. 25%)."),
])
def test_start_refuses_a_bad_max_in_flight_before_anything(value, says, django_user_model):
    from images.models.rollout import Rollout
    from images.rollouts import start

    cluster = Cluster.objects.create(name="c", core_address="10.0.0.11")
    user = django_user_model.objects.create_user("ops")
    with pytest.raises(start.RolloutRefused) as refused:
        start.start(cluster=cluster, target_image="r/x:2", target_pull="r/x:2", user=user, reason="fix",
                    max_in_flight=value)
    assert str(refused.value) == f"Max in flight: {says} Nothing was started."
    assert not Rollout.objects.exists()
