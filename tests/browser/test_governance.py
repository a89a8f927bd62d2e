"""The governance flow in Chromium, clicked from the admin home as people do
it, on the rollout sandbox (its own addresses, TEST_ROLLOUT_SANDBOX_ADDRESS)
with two real rqworker processes carrying the jobs:

a Release manager who is also an Operator (alice) marks the cluster protected and requests a
rollout with a manual gate after the canary; it waits for approval, which
she cannot give herself; a second Release manager (bob) approves it; the
canary switches and the rollout waits at its gate; alice presses Continue;
it succeeds; the page's history shows each step with who; then the fleet at
a moment shows, at the gate, the canary alone on the new image, and now the
new image on every DEA."""
import importlib
import math
import os
import signal
import subprocess
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from images.models.rollout_event import EventKind, RolloutEvent
from sandbox import layout
from support.image_versions import product_version
from support.worker_process import start_worker, wait_until_registered

from .pages import click_link, confirm, log_in, open_cluster_link, open_home

pytestmark = [pytest.mark.sandbox, pytest.mark.django_db(transaction=True)]

TAG = "13.5.0"
JOB_TIMEOUT = 300_000  # ms: real sshd, docker pulls and fence restarts on a loaded 2-core machine


def user_in(django_user_model, username, *roles):
    # The roles migration's groups (a transactional test before may have flushed them; idempotent).
    importlib.import_module("nodes.migrations.0003_roles").create_roles(apps, None)
    user = django_user_model.objects.create_user(username, password=f"{username}-pass", is_staff=True)
    user.groups.add(*Group.objects.filter(name__in=roles))
    return user


@pytest.fixture
def workers(rollout_fleet, worker_alive):
    """Two real workers (max in flight 2), instead of the idle registered one."""
    worker_alive.register_death()
    started = [start_worker(), start_worker()]
    try:
        wait_until_registered(*started)
        yield started
    finally:
        for worker in started:
            # A warm shutdown unregisters the worker (a killed one stays "alive" in
            # Redis for minutes, and later tests that want no worker would see it).
            worker.send_signal(signal.SIGTERM)
        for worker in started:
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()


def history(page) -> list[tuple[str, str]]:
    """The rollout page's History table: (what, who) per row."""
    rows = page.locator("#rollout-events tbody tr")
    return [(rows.nth(i).locator("td").nth(1).inner_text(), rows.nth(i).locator("td").nth(2).inner_text())
            for i in range(rows.count())]


def fleet_images(page) -> dict[str, str]:
    rows = page.locator("#fleet-at tr.fleet-node")
    return {rows.nth(i).get_attribute("data-address"): rows.nth(i).get_attribute("data-image")
            for i in range(rows.count())}


def test_protected_cluster_approval_gate_continue_and_the_fleet_at_a_moment(
        page, browser, live_server, rollout_sandbox, rollout_fleet, workers, django_user_model, screenshot):
    version = product_version(rollout_sandbox, rollout_fleet, TAG)
    target = version.registry_reference
    deas = [dea["address"] for dea in layout.deas(rollout_sandbox)]
    base = live_server.url
    # Editing a cluster is the Operator's, its protection the Release manager's: alice has both roles.
    user_in(django_user_model, "alice", "Operator", "Release manager")
    user_in(django_user_model, "bob", "Release manager")

    # alice protects the cluster on its page.
    log_in(page, base, "alice", "alice-pass")
    click_link(page, "Clusters")
    click_link(page, rollout_fleet.name, within="#result_list")
    page.check("#id_protected")
    click_link(page, "Save", role="button")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    # alice asks for the rollout: a canary, then a manual gate, then two at a time.
    open_home(page)
    open_cluster_link(page, rollout_fleet.name, f"Roll out {version}…")
    page.fill("[name=reason]", "governance journey")
    page.fill("[name=canaries]", "1")
    page.fill("[name=max_in_flight]", "2")
    page.fill("[name=health_wait]", "1")
    page.check("[name=manual_gate]")
    click_link(page, "Show the plan", role="button")
    page.fill("[name=reason]", "governance journey")
    click_link(page, "Start", role="button")
    expect(page.locator("#rollout-status")).to_have_text("awaiting approval")
    expect(page.locator("#approval-own-request")).to_be_visible()
    expect(page.locator("input[value=Approve]")).to_have_count(0)  # not by the one who asked
    screenshot("governance-awaiting-approval")

    # bob, in his own browser session, opens it from the home page and approves.
    bob = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    bob.set_default_timeout(30_000)
    try:
        log_in(bob, base, "bob", "bob-pass")
        with bob.expect_navigation():
            # The cluster's "Last rollout" link.
            bob.locator("#console-clusters tbody tr", has_text=rollout_fleet.name).locator(
                "a[href*='/images/rollout/']").first.click()
        expect(bob.locator("#rollout-status")).to_have_text("awaiting approval")
        click_link(bob, "Approve", role="button")
        expect(bob.locator(".messagelist")).to_contain_text("approved")
    finally:
        bob.context.close()

    # The canary switches, then the rollout waits at its gate for alice.
    page.reload()
    expect(page.locator("#rollout-status")).to_have_text("awaiting gate (Continue or Roll back)", timeout=JOB_TIMEOUT)
    expect(page.locator("#rollout-gate")).to_be_visible()
    expect(page.locator("#rollout-percent")).to_have_text("1 / 4 (25%)")
    screenshot("governance-gate")
    click_link(page, "Continue…", role="button")
    confirm(page, "Yes, continue")
    expect(page.locator("#rollout-status")).to_have_text("succeeded", timeout=JOB_TIMEOUT)
    expect(page.locator("#rollout-percent")).to_have_text("4 / 4 (100%)")
    page.reload()  # the History table is outside the live part
    assert history(page) == [("approval requested", "alice"), ("approved", "bob"),
                             ("waiting at a manual gate", "(the console)"), ("gate: continued", "alice")]
    screenshot("governance-succeeded")

    # The fleet at a moment: at the gate the canary alone ran the new image; now every DEA does.
    gate = RolloutEvent.objects.get(kind=EventKind.GATE_WAITING).at
    at_gate = timezone.localtime(gate).replace(microsecond=0) + timedelta(seconds=math.ceil(gate.microsecond / 1e6))
    open_home(page)
    open_cluster_link(page, rollout_fleet.name, "Fence restart audit")
    click_link(page, "Fleet at a moment")
    click_link(page, rollout_fleet.name)
    assert fleet_images(page) == dict.fromkeys(deas, target)
    screenshot("governance-fleet-now")
    page.fill("#fleet-at-input", at_gate.strftime("%Y-%m-%dT%H:%M:%S"))
    click_link(page, "Show", role="button")
    at_the_gate = fleet_images(page)
    assert at_the_gate[deas[0]] == target
    assert all(at_the_gate[address] != target for address in deas[1:]), at_the_gate
    screenshot("governance-fleet-at-the-gate")
