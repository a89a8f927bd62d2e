"""A Viewer reads every console page but is offered nothing that changes the fleet."""
import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from images.models.rollout import Phase, Rollout, RolloutStep
from support.image_versions import product_version

from .pages import log_in

pytestmark = [pytest.mark.sandbox, pytest.mark.django_db(transaction=True)]


def make_viewer(django_user_model):
    # The roles migration's groups; a transactional test earlier in the session
    # flushed them, and making them again is idempotent.
    importlib.import_module("nodes.migrations.0003_roles").create_roles(apps, None)
    user = django_user_model.objects.create_user("viewer", password="viewer-pass", is_staff=True)
    user.groups.add(Group.objects.get(name="Viewer"))
    return user


def test_a_viewer_sees_no_fleet_changing_buttons(page, live_server, rollout_sandbox, rollout_fleet, django_user_model):
    version = product_version(rollout_sandbox, rollout_fleet, "9.0.0")
    viewer = make_viewer(django_user_model)
    running = Rollout.objects.create(cluster=rollout_fleet, target=version, target_image=version.registry_reference,
                                     target_pull=version.pull_reference, requested_by_username="someone",
                                     reason="seen by a viewer", status="activating")
    RolloutStep.objects.create(rollout=running, node=rollout_fleet.nodes.exclude(pk=rollout_fleet.core_node.pk).first(),
                               phase=Phase.PULL, image=running.target_image, status="running")
    base = live_server.url
    log_in(page, base, viewer.username, "viewer-pass")

    page.goto(f"{base}/admin/images/rollout/{running.pk}/change/")
    expect(page.locator("#rollout-status")).to_have_text("activating")
    expect(page.locator("#rollout-nodes")).to_be_visible()
    expect(page.locator("input[value='Cancel…']")).to_have_count(0)
    for changelist in ("images/rollout", "images/imageversion", "nodes/node", "nodes/cluster"):
        page.goto(f"{base}/admin/{changelist}/")
        expect(page.locator("#result_list")).to_be_visible()
        expect(page.locator("select[name=action]")).to_have_count(0)
        expect(page.locator(".object-tools a.addlink")).to_have_count(0)
        expect(page.get_by_text("New version from active image")).to_have_count(0)
    page.goto(f"{base}/admin/images/imageversion/{version.pk}/change/")
    expect(page.locator("input[type=submit]")).to_have_count(0)
