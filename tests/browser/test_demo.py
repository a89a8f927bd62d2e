"""`make demo` as a new user meets it, started once for the whole module:
scripts/demo.sh with nothing set but where it runs (its own var dir, ports
and sandbox addresses 127.0.3.11...), its own worker pool and sandbox.

1. It prints the URL and credentials, the login works over plain HTTP, and
   its worker pool brings the fleet in sync.
2. In Chromium, from the admin home and only by clicking what is on the
   pages: a new version from the active image, a RUN step, build (the log
   tails), push, roll out (plan, start, progress to 100%), the audit rows,
   undo; then the fleet is checked over SSH with kato.
3. A second run reuses everything; demo-stop leaves nothing running.
"""
import http.cookiejar
import json
import re
import time
import urllib.parse
import urllib.request

import pytest
from playwright.sync_api import expect

from support import ssh
from support.demo import (DEMO_SANDBOX_ADDRESS, SANDBOX_SSH_PORT, Demo, alive, demo_env, kill_processes_mentioning,
                          listening, read_pids, stop_demo)

from .pages import (click_link, confirm, fleet_action, log_in_at, open_cluster_link, open_home, plan_order,
                    wait_for_rollout)

pytestmark = pytest.mark.sandbox

BASE_IMAGE = "stackato/app-holophonor:3.0.0"  # what the sandbox's fence runs at first
DEAS = [f"127.0.3.{n}" for n in (12, 13, 14)]  # the demo's 3 DEA nodes after its Core
JOB_TIMEOUT = 180_000  # ms: builds and rollouts run real docker and sshd
# Long enough that the version page is open while the build still runs.
RUN_STEP = "for i in 1 2 3 4 5 6 7 8; do echo tick-$i; sleep 1; done; echo built-in-the-demo > /demo-test"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The one demo of this module; whatever happens, nothing of it is left running."""
    var_dir = tmp_path_factory.mktemp("demo") / "var"
    env = demo_env(var_dir)
    runs = [Demo(env)]
    try:
        yield {"env": env, "var_dir": var_dir, "runs": runs, "credentials": runs[0].credentials()}
    finally:
        for run in runs:  # first the scripts, so none starts a service after this
            run.kill()
        stop_demo(env)
        kill_processes_mentioning(str(var_dir), f"{DEMO_SANDBOX_ADDRESS}:")


def admin_login(url: str, username: str, password: str):
    """Log in through the admin's login form over plain HTTP; return the
    logged-in opener and the admin index page."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    login_url = urllib.parse.urljoin(url, "login/?next=/admin/")
    page = opener.open(login_url, timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, f"no CSRF token on the login page:\n{page[:2000]}"
    form = urllib.parse.urlencode({
        "csrfmiddlewaretoken": token.group(1), "username": username,
        "password": password, "next": "/admin/",
    }).encode()
    request = urllib.request.Request(login_url, data=form, headers={"Referer": login_url})
    with opener.open(request, timeout=30) as response:
        assert urllib.parse.urlsplit(response.url).path == "/admin/", f"login did not reach /admin/: {response.url}"
        return opener, response.read().decode()


def wait_for_fleet_in_sync(opener, url: str, nodes: int, timeout: float = 60) -> str:
    """The demo registered its sandbox and queued a facts refresh: its worker
    pool brings every node to "in sync" on the Node changelist."""
    deadline = time.monotonic() + timeout
    while True:
        page = opener.open(urllib.parse.urljoin(url, "nodes/node/?drift=in_sync"), timeout=30).read().decode()
        if f"{nodes} nodes" in page or time.monotonic() > deadline:
            return page
        time.sleep(1)


def sandbox_nodes(demo) -> tuple[dict, dict]:
    """The demo sandbox's own description: node addresses and the SSH client key."""
    described = json.loads((demo["var_dir"] / "sandbox" / "sandbox.json").read_text())
    return {node["name"]: node for node in described["nodes"]}, described["client_key"]


def kato(node: dict, key: str, command: str) -> str:
    code, out, err = ssh.run(node, key, f"kato {command}")
    assert code == 0, f"kato {command} on {node['address']}: {out}{err}"
    return out


def fence_state(process_list: str) -> str:
    """fence's state in `kato process list`, whatever the columns around it."""
    line = next((line for line in process_list.splitlines() if re.match(r"\s*fence\b", line)), "")
    state = re.search(r"\b(RUNNING|STARTING|STOPPED|ROGUE|BACKOFF|FATAL|EXITED|UNKNOWN)\b", line)
    return state.group(1) if state else f"no fence line in:\n{process_list}"


def test_the_demo_prints_credentials_logs_in_and_syncs_its_fleet(demo):
    creds = demo["credentials"]
    env, var_dir = demo["env"], demo["var_dir"]
    assert creds["URL"] == f"http://127.0.0.1:{env['DEMO_WEB_PORT']}/admin/"
    assert creds["Username"] == "admin"
    password_file = var_dir / "admin_password"
    assert password_file.read_text().strip() == creds["Password"]
    assert password_file.stat().st_mode & 0o777 == 0o600
    # Builds run on the sandbox's Core node: nothing was set for it.
    assert f"builds and pushes run on ssh-node:{DEMO_SANDBOX_ADDRESS}" in demo["runs"][0].output

    opener, index = admin_login(creds["URL"], creds["Username"], creds["Password"])
    assert re.search(r'id="user-tools">\s*Welcome,\s*<strong>admin</strong>', index), index[:3000]
    assert 'href="/admin/django_rq/dashboard/"' in index, "no Django-RQ queues link on the admin index"

    pids = read_pids(var_dir / "run")
    assert {"web", "rqworker-pool", "redis"} <= set(pids), pids
    assert all(alive(pid) for pid in pids.values()), pids
    assert listening(DEMO_SANDBOX_ADDRESS, SANDBOX_SSH_PORT), "the demo's sandbox Core sshd is not listening"
    fleet = wait_for_fleet_in_sync(opener, creds["URL"], nodes=4)  # Core + 3 DEAs
    assert "4 nodes" in fleet, fleet[-3000:]
    assert DEMO_SANDBOX_ADDRESS in fleet


def test_an_operator_builds_pushes_rolls_out_audits_and_undoes_by_clicking(demo, page, screenshot):
    creds = demo["credentials"]
    log_in_at(page, creds["URL"], creds["Username"], creds["Password"])
    expect(page.locator("#job-health")).to_contain_text("worker(s) alive")
    screenshot("demo-home")

    # A draft FROM the image the cluster runs: the only cluster is already chosen.
    open_cluster_link(page, "sandbox", "New version from active image")
    expect(page.locator("select[name=cluster] option:checked")).to_have_text("sandbox")
    click_link(page, "Create the draft", role="button")
    expect(page.locator("[name=from_reference]")).to_have_value(BASE_IMAGE)
    version = f"{page.input_value('[name=repository]')}:{page.input_value('[name=tag]')}"
    page.fill("[name=run_steps-0-command]", RUN_STEP)
    click_link(page, "Save and continue editing", role="button")
    expect(page.locator("#dockerfile")).to_contain_text("echo built-in-the-demo")

    # Build: the version page tails the log while the build runs.
    click_link(page, "Image versions", within=".breadcrumbs")
    fleet_action(page, version, "Build selected versions…")
    confirm(page, "Yes, build")
    click_link(page, version, within="#result_list")
    log = page.locator("#build-log")
    expect(log).to_have_attribute("data-running", "yes")
    expect(log).not_to_contain_text("tick-8")
    expect(log).to_contain_text("tick-8", timeout=JOB_TIMEOUT)
    screenshot("demo-build-log")
    expect(page.locator(".field-status .readonly")).to_have_text("built", timeout=JOB_TIMEOUT)

    click_link(page, "Image versions", within=".breadcrumbs")
    fleet_action(page, version, "Push selected versions to the cluster registry…")
    confirm(page, "Yes, push")
    click_link(page, version, within="#result_list")
    expect(page.locator(".field-status .readonly")).to_have_text("pushed", timeout=JOB_TIMEOUT)
    target = page.locator(".field-registry_reference .readonly").inner_text().strip()
    assert target.endswith(f"/{version}"), target

    # Roll out from the home page; the plan follows the strategy typed in.
    open_home(page)
    open_cluster_link(page, "sandbox", f"Roll out {version}…")
    assert plan_order(page) == [f"canaries: {DEAS[0]}", f"then 1 at a time, each as soon as one before it ends: "
                                                        f"{DEAS[1]}, {DEAS[2]}"]
    page.fill("[name=canaries]", "1")
    page.fill("[name=max_in_flight]", "2")
    click_link(page, "Show the plan", role="button")
    assert plan_order(page) == [f"canaries: {DEAS[0]}", f"then 2 at a time, each as soon as one before it ends: "
                                                        f"{DEAS[1]}, {DEAS[2]}"]
    screenshot("demo-rollout-plan")
    page.fill("[name=reason]", "demo journey")
    page.fill("[name=health_wait]", "1")
    click_link(page, "Start", role="button")
    wait_for_rollout(page, "3 / 3 (100%)", JOB_TIMEOUT, screenshot, "demo-rollout")

    # The audit: one row per DEA, each on the new image.
    open_home(page)
    open_cluster_link(page, "sandbox", "Fence restart audit")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(3)
    for address in DEAS:
        expect(rows.filter(has_text=address).filter(has_text=target)).to_have_count(1)
    screenshot("demo-audit")

    # Undo: back to the image the rollout replaced.
    open_home(page)
    click_link(page, "Rollouts")
    fleet_action(page, target, "Undo… (roll back to the image it replaced)")
    page.fill("[name=reason]", "demo journey: undo")
    page.fill("[name=health_wait]", "1")
    click_link(page, "Start", role="button")
    expect(page.locator(".rollout-live h2")).to_contain_text(f"→ {BASE_IMAGE}")
    wait_for_rollout(page, "3 / 3 (100%)", JOB_TIMEOUT, screenshot, "demo-undo")
    open_home(page)
    open_cluster_link(page, "sandbox", "Fence restart audit")
    expect(rows).to_have_count(6)
    expect(rows.filter(has_text="demo journey: undo")).to_have_count(3)

    # The fleet, asked on the nodes themselves.
    nodes, key = sandbox_nodes(demo)
    assert kato(nodes["core"], key, "config get fence docker/image").strip() == BASE_IMAGE
    assert {address: fence_state(kato(node, key, "process list")) for address, node in
            ((n["address"], n) for n in nodes.values() if "dea" in n["roles"])} == dict.fromkeys(DEAS, "RUNNING")


def test_a_second_run_reuses_everything_and_demo_stop_leaves_nothing(demo):
    env, var_dir, first = demo["env"], demo["var_dir"], demo["runs"][0]
    pids = read_pids(var_dir / "run")
    second = Demo(env)
    demo["runs"].append(second)
    assert second.credentials() == demo["credentials"]
    assert read_pids(var_dir / "run") == pids
    assert "already running" in second.output

    stopped = stop_demo(env)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    # Both foreground demo.sh runs notice the stop and end cleanly.
    assert first.wait(60) == 0, first.output
    assert second.wait(60) == 0, second.output

    deadline = time.monotonic() + 10  # init may take a moment to reap
    while any(alive(pid) for pid in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [name for name, pid in pids.items() if alive(pid)], "processes left running after demo-stop"
    assert not list((var_dir / "run").glob("*.pid"))
    web_port, redis_port = int(env["DEMO_WEB_PORT"]), urllib.parse.urlsplit(env["REDIS_URL"]).port
    assert not listening("127.0.0.1", web_port), "something still listens on the web port"
    assert not listening("127.0.0.1", redis_port), "something still listens on the Redis port"
    assert not listening(DEMO_SANDBOX_ADDRESS, SANDBOX_SSH_PORT), "the demo's sandbox is still up"
