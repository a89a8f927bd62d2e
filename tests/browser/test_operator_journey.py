"""The operator's day in a real browser against the 4-DEA sandbox: a new
version from the active image, built and pushed while its log tails, rolled
out while the rollout page moves by itself, audited, and undone."""
import pytest
from playwright.sync_api import expect

from images.models import ImageVersion
from images.models.rollout import Rollout
from sandbox import layout
from support import ssh
from support.rollout_sandbox import BASE
from support.worker_process import start_worker, wait_until_registered

from .pages import log_in, run_action, start_rollout

pytestmark = [pytest.mark.sandbox, pytest.mark.django_db(transaction=True)]
JOB_TIMEOUT = 180_000  # ms: builds and rollouts run real docker and sshd


def fence_images(sandbox) -> set:
    images = set()
    for node in layout.deas(sandbox):
        _, out, _ = ssh.run(node, sandbox["client_key"], "kato process list")
        line = next(line for line in out.splitlines() if line.startswith("fence "))
        images.add((line.split()[1], line.split("image ", 1)[1].split(",", 1)[0]))
    return images


@pytest.fixture
def real_worker(rollout_sandbox, cluster, worker_alive):
    """The jobs run in a real rqworker while the browser polls the pages;
    it builds on the Core node's engine, as an operator's console would."""
    worker_alive.register_death()
    process = start_worker(BUILD_DOCKER_HOST=f"ssh-node:{layout.node(rollout_sandbox, 'core')['address']}")
    wait_until_registered()
    yield process
    process.terminate()
    process.wait(timeout=30)


def test_operator_journey(page, live_server, rollout_sandbox, cluster, real_worker, django_user_model, screenshot):
    django_user_model.objects.create_superuser("operator", "op@example.com", "secret-pass")
    base = live_server.url
    log_in(page, base, "operator", "secret-pass")
    expect(page.locator("#job-health")).to_contain_text("1 worker(s) alive")
    expect(page.locator("#console-clusters")).to_contain_text(BASE)
    screenshot("home")

    # A draft FROM the image the cluster runs, with one RUN step.
    page.goto(f"{base}/admin/images/imageversion/from-active/?cluster={cluster.pk}")
    with page.expect_navigation():
        page.click("input[value='Create the draft']")
    page.fill("[name=run_steps-0-command]", "echo built-in-the-browser-test > /browser-test")
    with page.expect_navigation():
        page.click("input[name=_continue]")
    version = ImageVersion.objects.get(from_reference=BASE)
    change_url = f"{base}/admin/images/imageversion/{version.pk}/change/"
    changelist = f"{base}/admin/images/imageversion/"

    run_action(page, changelist, str(version), "build")
    page.goto(change_url)
    expect(page.locator("#build-log")).to_contain_text("built-in-the-browser-test", timeout=JOB_TIMEOUT)
    expect(page.locator(".field-status .readonly")).to_have_text("built", timeout=JOB_TIMEOUT)
    run_action(page, changelist, str(version), "push")
    page.goto(change_url)
    expect(page.locator(".field-status .readonly")).to_have_text("pushed", timeout=JOB_TIMEOUT)

    run_action(page, changelist, str(version), "roll_out")
    start_rollout(page, "browser journey")
    rollout = Rollout.objects.get(target=version)
    # The timeline appears once a node step starts: the page updated itself.
    expect(page.locator("#rollout-timeline")).to_be_visible(timeout=JOB_TIMEOUT)
    screenshot("rollout-running")
    expect(page.locator("#rollout-percent")).to_have_text("4 / 4 (100%)", timeout=JOB_TIMEOUT)
    expect(page.locator("#rollout-status")).to_have_text("succeeded")
    expect(page.locator("#rollout-timeline rect")).not_to_have_count(0)
    screenshot("rollout-finished")

    page.goto(f"{base}/admin/nodes/fencerestart/")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(4)
    for node in layout.deas(rollout_sandbox):
        expect(rows.filter(has_text=node["address"])).to_have_count(1)
    screenshot("audit")

    run_action(page, f"{base}/admin/images/rollout/", version.registry_reference, "undo")
    start_rollout(page, "browser journey: undo")
    expect(page.locator("#rollout-percent")).to_have_text("4 / 4 (100%)", timeout=JOB_TIMEOUT)
    expect(page.locator("#rollout-status")).to_have_text("succeeded")
    assert Rollout.objects.get(undoes=rollout).target_image == BASE
    assert fence_images(rollout_sandbox) == {("RUNNING", BASE)}
