"""The rollout plan page draws its node order for the strategy typed into its
form ("Show the plan"), and Start starts only an order that was shown. Through
the real admin action and the home page's "Roll out…" link."""
import re

import pytest
from django.urls import reverse

from images.models import ImageVersion
from images.models.rollout import Rollout
from nodes.models import Cluster, Node

pytestmark = pytest.mark.django_db

TRUSTED = dict(host_key_type="ssh-ed25519", host_key="AAAA", reachable=True)
DEAS = ["10.0.0.12", "10.0.0.13", "10.0.0.14", "10.0.0.15"]
CHANGELIST = "admin:images_imageversion_changelist"


@pytest.fixture
def version():
    cluster = Cluster.objects.create(name="prod", core_address="10.0.0.11", registry="10.0.0.11:5000")
    Node.objects.create(cluster=cluster, address="10.0.0.11", roles=["primary"], **TRUSTED)
    for address in DEAS:
        Node.objects.create(cluster=cluster, address=address, roles=["dea"], **TRUSTED)
    version = ImageVersion.objects.create(cluster=cluster, repository="exampleco/newimg", tag="1.0.1",
                                          from_reference="stackato/app-holophonor:3.0.0")
    ImageVersion.objects.filter(pk=version.pk).update(
        status="pushed", image_id="sha256:" + "1" * 64, registry_reference="10.0.0.11:5000/exampleco/newimg:1.0.1",
        manifest_digest="sha256:" + "2" * 64)
    return ImageVersion.objects.get(pk=version.pk)


def order(page: str) -> list[tuple[str, list[str]]]:
    """The node order as the page shows it: (label, addresses) per line: the
    first batch, then the window ("then 2 at a time")."""
    listing = re.search(r'<ol id="plan-order">(.*?)</ol>', page, re.S).group(1)
    return [(label.split(",")[0], re.findall(r"<code>([^<]+)</code>", nodes))
            for label, nodes in re.findall(r"<li>\s*([^:<]+):(.*?)</li>", listing, re.S)]


def plan_page(client, version, **typed):
    """The action's first POST (from the changelist), or with typed values the
    page's own "Show the plan" POST."""
    data = {"action": "roll_out", "_selected_action": [version.pk]}
    if typed:
        data.update(post="yes", _preview="Show the plan", reason="", failure_threshold="0", health_wait="5",
                    auto_rollback="on", **typed)
    response = client.post(reverse(CHANGELIST), data)
    assert response.status_code == 200
    return response.content.decode()


def test_the_first_plan_is_drawn_for_the_form_defaults(admin_client, version):
    page = plan_page(admin_client, version)
    assert order(page) == [("canaries", DEAS[:1]), ("then 1 at a time", DEAS[1:])]
    assert 'name="planned_max_in_flight" value="1"' in page


@pytest.mark.parametrize("canaries, max_in_flight, expected", [
    ("1", "2", [("canaries", DEAS[:1]), ("then 2 at a time", DEAS[1:])]),
    ("2", "50%", [("canaries", DEAS[:2]), ("then 2 at a time", DEAS[2:])]),  # 50% of 4 nodes: 2 at once
    ("0", "3", [("first batch", DEAS[:3]), ("then 1 at a time", DEAS[3:])]),  # no canaries: none is called so
    ("1", "100%", [("canaries", DEAS[:1]), ("then 3 at a time", DEAS[1:])]),
])
def test_show_the_plan_redraws_the_order_for_the_typed_strategy(admin_client, version, canaries, max_in_flight,
                                                                  expected):
    page = plan_page(admin_client, version, canaries=canaries, max_in_flight=max_in_flight)
    assert order(page) == expected
    assert f'name="planned_max_in_flight" value="{max_in_flight}"' in page
    assert "A reason is required" not in page  # asked for at Start, not to look at the plan
    assert 'value="Show the plan" formnovalidate' in page  # the browser must not ask for the reason either
    assert not Rollout.objects.exists()


@pytest.mark.parametrize("canaries, max_in_flight, error", [
    ("1", "two", "&#x27;two&#x27; is not a number of nodes"),
    ("1", "150%", "&#x27;150%&#x27; is a percentage above 100%: at most 100% of the nodes taking part"),
    ("1", "0", "&#x27;0&#x27; would work on no node at a time"),
    ("-1", "2", "Ensure this value is greater than or equal to 0."),
    ("many", "2", "Enter a whole number."),
])
def test_an_invalid_strategy_is_a_form_error_not_a_plan(admin_client, version, canaries, max_in_flight, error):
    page = plan_page(admin_client, version, canaries=canaries, max_in_flight=max_in_flight)
    assert error in page
    assert "are not valid: correct them" in page
    assert 'id="plan-order"' not in page and 'value="Start"' not in page
    assert not Rollout.objects.exists()


def test_start_with_a_strategy_changed_since_the_shown_order_redraws_instead(admin_client, version):
    response = admin_client.post(reverse(CHANGELIST), {
        "action": "roll_out", "_selected_action": [version.pk], "post": "yes", "reason": "monthly",
        "canaries": "1", "max_in_flight": "3", "failure_threshold": "0", "health_wait": "5",
        "planned_canaries": "1", "planned_max_in_flight": "1"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "The strategy changed since the node order was shown" in page
    assert order(page) == [("canaries", DEAS[:1]), ("then 3 at a time", DEAS[1:])]
    assert not Rollout.objects.exists()


def test_start_with_the_shown_order_goes_on_to_start(admin_client, version):
    # No worker runs in unit tests: reaching the start is seen in its refusal.
    response = admin_client.post(reverse(CHANGELIST), {
        "action": "roll_out", "_selected_action": [version.pk], "post": "yes", "reason": "monthly",
        "canaries": "1", "max_in_flight": "3", "failure_threshold": "0", "health_wait": "5",
        "planned_canaries": "1", "planned_max_in_flight": "3"})
    page = response.content.decode()
    assert "The strategy changed" not in page
    assert "nothing was queued" in page
    assert not Rollout.objects.exists()


def test_the_roll_out_link_shows_the_same_plan_and_takes_its_post(admin_client, version):
    url = reverse("admin:images_imageversion_roll_out", args=[version.pk])
    page = admin_client.get(url).content.decode()
    assert f"<code>{version.registry_reference}</code>" in page
    assert order(page)[0] == ("canaries", DEAS[:1])
    redrawn = admin_client.post(url, {"post": "yes", "_preview": "Show the plan", "canaries": "1",
                                      "max_in_flight": "2", "failure_threshold": "0", "health_wait": "5"})
    assert order(redrawn.content.decode()) == [("canaries", DEAS[:1]), ("then 2 at a time", DEAS[1:])]
    assert not Rollout.objects.exists()


def test_the_roll_out_link_needs_the_activate_permission(client, django_user_model, version):
    operator = django_user_model.objects.create_user("operator", password="x", is_staff=True)
    client.force_login(operator)
    assert client.get(reverse("admin:images_imageversion_roll_out", args=[version.pk])).status_code == 403
