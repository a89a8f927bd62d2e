"""What the Operator and Release manager roles may do, through the same
two-step POSTs a browser sends: the plan page first, then post=yes."""
import pytest
from django.urls import reverse

from images.models import ImageVersion, Status

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:images_imageversion_changelist"


def act(client, changelist, action, selected, **extra):
    return client.post(reverse(changelist), {"action": action, "_selected_action": selected, **extra}, follow=True)


def test_build_shows_the_plan_first_then_queues_on_confirmation(client, login_as, worker_alive, queue, draft,
                                                                django_capture_on_commit_callbacks, settings):
    settings.BUILD_DOCKER_HOST = "tcp://127.0.0.1:2375"
    login_as("Operator")
    with django_capture_on_commit_callbacks(execute=True):
        plan = act(client, CHANGELIST, "build", [draft.pk])
    assert plan.templates[0].name == "admin/confirm_action.html"
    page = plan.content.decode()
    assert "FROM stackato/app-holophonor:3.0.0 on the engine tcp://127.0.0.1:2375" in page
    assert "A worker is listening" in page and 'name="post" value="yes"' in page
    assert queue.count == 0 and ImageVersion.objects.get(pk=draft.pk).status == Status.DRAFT

    with django_capture_on_commit_callbacks(execute=True):
        act(client, CHANGELIST, "build", [draft.pk], post="yes")
    assert queue.count == 1 and ImageVersion.objects.get(pk=draft.pk).status == Status.QUEUED


def test_push_plan_names_the_registry(client, login_as, worker_alive, queue, built, django_capture_on_commit_callbacks):
    login_as("Operator")
    with django_capture_on_commit_callbacks(execute=True):
        page = act(client, CHANGELIST, "push", [built.pk]).content.decode()
    assert "to 127.0.0.1:9/exampleco/newimg:1.0.2" in page and queue.count == 0
    with django_capture_on_commit_callbacks(execute=True):
        act(client, CHANGELIST, "push", [built.pk], post="yes")
    assert queue.count == 1


def test_refresh_and_import_plans_then_jobs(client, login_as, worker_alive, queue, cluster,
                                            django_capture_on_commit_callbacks):
    login_as("Operator")
    with django_capture_on_commit_callbacks(execute=True):
        refresh = act(client, "admin:nodes_cluster_changelist", "refresh_facts", [cluster.pk]).content.decode()
        imports = act(client, "admin:nodes_cluster_changelist", "import_nodes", [cluster.pk]).content.decode()
    assert all(f"root@{address}:22" in refresh for address in ("10.0.0.11", "10.0.0.12", "10.0.0.13"))
    assert "kato node list` on the Core node 10.0.0.11" in imports
    assert queue.count == 0
    with django_capture_on_commit_callbacks(execute=True):
        act(client, "admin:nodes_cluster_changelist", "refresh_facts", [cluster.pk], post="yes")
        act(client, "admin:nodes_cluster_changelist", "import_nodes", [cluster.pk], post="yes")
        act(client, "admin:nodes_node_changelist", "refresh_facts", [cluster.nodes.first().pk], post="yes")
    assert queue.count == 3 + 1 + 1


def test_without_a_worker_the_plan_says_so_and_offers_no_button(client, login_as, queue, draft):
    queue.empty()
    login_as("Operator")
    page = act(client, CHANGELIST, "build", [draft.pk]).content.decode()
    assert "No RQ worker is running" in page and 'value="Yes, build"' not in page


def test_an_operator_may_not_roll_out(client, login_as, worker_alive, built):
    login_as("Operator")
    assert 'value="roll_out"' not in client.get(reverse(CHANGELIST)).content.decode()
    response = act(client, CHANGELIST, "roll_out", [built.pk])
    assert response.templates[0].name.endswith("change_list.html")


def test_a_release_manager_gets_the_rollout_plan_but_no_build(client, login_as, worker_alive, built, draft):
    login_as("Release manager")
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert 'value="roll_out"' in page and 'value="build"' not in page and 'value="push"' not in page
    plan = act(client, CHANGELIST, "roll_out", [built.pk])
    assert plan.templates[0].name == "admin/confirm_action.html"  # the one confirmation page
    assert "admin/images/rollout_plan.html" in [template.name for template in plan.templates]
    assert b"10.0.0.12" in plan.content
    refused = act(client, CHANGELIST, "build", [draft.pk], post="yes")
    assert refused.templates[0].name.endswith("change_list.html")
    assert ImageVersion.objects.get(pk=draft.pk).status == Status.DRAFT
