"""Provision registry for real on the sandbox's Core node (seed registry
steps 1-3): the registry container is run by the Core's own Docker engine
over SSH, found again, restarted when stopped; a version is pushed to it and
pulled on a DEA (steps 4-6)."""
import html
from pathlib import Path

import pytest
from django.urls import reverse
from support import ssh
from support.rq import run_queued_jobs

from images.models import RegistryProvisioning, Status
from images.rollouts import pull_check
from job_runs import reconciler
from job_runs.models import JobRun, RunStatus
from nodes import jobs
from sandbox import knobs, layout, registry_image
from stackato_dash import queueing

pytestmark = pytest.mark.django_db(transaction=True)

CONTAINER = "stackato-dash-registry"


def run_on(sandbox, name, command):
    code, out, err = ssh.run(layout.node(sandbox, name), sandbox["client_key"], command)
    assert code == 0, f"{command}: {err}"
    return out.strip()


@pytest.fixture
def bare_fleet(sandbox, fleet, settings):
    """The fleet with no registry yet, the sandbox's own registry stopped (its
    port is the one the container will take), the offline registry image set."""
    settings.REGISTRY_IMAGE = registry_image.IMAGE
    knobs.apply(Path(sandbox["state_dir"]), "registry", "down")
    fleet.registry = ""
    fleet.save(update_fields=["registry"])
    yield fleet
    # Before the sandbox's restore starts its own registry on that port again.
    ssh.run(layout.node(sandbox, "core"), sandbox["client_key"], f"docker rm -f {CONTAINER}")


def provision(admin_client, cluster) -> RegistryProvisioning:
    """The operator's clicks: the clusters page, the plan, Yes; then the job runs."""
    url = reverse("admin:images_imageversion_provision_registry")
    assert cluster.name in admin_client.get(url).content.decode()
    chosen = {"action": "provision_registry", "_selected_action": [cluster.pk]}
    plan = admin_client.post(url, chosen).content.decode()
    assert f"Over SSH to the Core node {cluster.core_address}" in plan and "Yes, provision" in plan
    page = admin_client.post(url, {**chosen, "post": "yes"}, follow=True)
    run = RegistryProvisioning.objects.order_by("-created_at").first()
    assert page.redirect_chain[-1][0] == reverse("admin:images_imageversion_provisioning", args=[run.pk])
    run_queued_jobs()
    run.refresh_from_db()
    cluster.refresh_from_db()
    page = admin_client.get(reverse("admin:images_imageversion_provisioning", args=[run.pk])).content.decode()
    assert run.get_status_display() in page and html.escape(run.log.splitlines()[-1]) in page
    return run


def test_provision_runs_finds_and_restarts_the_registry_container(admin_client, sandbox, bare_fleet, make_version,
                                                                  act, worker_alive):
    core = layout.node(sandbox, "core")
    expected = f"{core['address']}:5000"

    first = provision(admin_client, bare_fleet)
    assert first.status == RunStatus.SUCCEEDED, first.status_reason + first.log
    assert (first.location, bare_fleet.registry) == (expected, expected)
    assert "host network" in first.log and f"Docker says the registry listens at {expected}" in first.log
    container_id = run_on(sandbox, "core", f"docker inspect -f '{{{{.Id}}}}' {CONTAINER}")
    assert run_on(sandbox, "core", f"docker inspect -f '{{{{.Config.Image}}}}' {CONTAINER}") == registry_image.IMAGE

    # Again: the running container is found and kept.
    second = provision(admin_client, bare_fleet)
    assert second.status == RunStatus.SUCCEEDED, second.status_reason + second.log
    assert f"found container {CONTAINER} ({container_id[:12]}, running" in second.log
    assert "docker run" not in second.log and bare_fleet.registry == expected

    # Stopped (say the Core rebooted with it stopped): started again, same container.
    run_on(sandbox, "core", f"docker stop {CONTAINER}")
    third = provision(admin_client, bare_fleet)
    assert third.status == RunStatus.SUCCEEDED, third.status_reason + third.log
    assert "exited" in third.log and "started again" in third.log
    assert run_on(sandbox, "core", f"docker inspect -f '{{{{.Id}}}} {{{{.State.Status}}}}' {CONTAINER}") == (
        f"{container_id} running")

    # Seed registry steps 4-6: build under the registry's name, push, pull on a DEA.
    version = make_version(repository="stackato/app-holophonor", tag="3.0.7", steps=["echo provisioned > /etc/note"])
    act("build", version)
    assert "Push queued" in act("push", version)
    assert version.status == Status.PUSHED, version.status_reason
    assert version.registry_reference == f"{expected}/stackato/app-holophonor:3.0.7"
    # Every DEA's engine, as refreshed facts report it, may pull from it (loopback: Docker's default range).
    for node in bare_fleet.nodes.all():
        jobs.refresh_node_facts(node.pk)
    assert pull_check.blocked_nodes(bare_fleet, version.pull_reference) == []
    assert "127.0.0.0/8" in bare_fleet.nodes.get(address=layout.node(sandbox, "dea2")["address"]).registry_config[
        "InsecureRegistryCIDRs"]
    run_on(sandbox, "dea2", f"docker pull {version.pull_reference}")
    assert run_on(sandbox, "dea2", f"docker run --rm --network none {version.pull_reference} cat /etc/note") == (
        "provisioned")


def test_a_registry_already_serving_on_the_core_is_recorded_as_it_is(admin_client, sandbox, bare_fleet,
                                                                     worker_alive):
    """As in `make demo`: the sandbox's own registry answers on the Core's
    registry port. Provisioning records it, starts nothing, and again."""
    knobs.apply(Path(sandbox["state_dir"]), "registry", "up")
    expected = f"{layout.node(sandbox, 'core')['address']}:5000"
    for _ in range(2):
        run = provision(admin_client, bare_fleet)
        assert run.status == RunStatus.SUCCEEDED, run.status_reason + run.log
        assert (run.location, bare_fleet.registry) == (expected, expected)
        assert f"a v2 registry already answers at http://{expected}/v2/ on the Core node" in run.log
    code, _, err = ssh.run(layout.node(sandbox, "core"), sandbox["client_key"], f"docker inspect {CONTAINER}")
    assert code != 0 and "no such" in err.lower(), "a registry container was started beside the one serving"


def test_a_run_whose_worker_died_is_ended_by_the_reconciler_and_does_not_block(admin_client, bare_fleet,
                                                                               worker_alive):
    """A worker killed mid-run leaves the row and its job run running."""
    lost = RegistryProvisioning.objects.create(cluster=bare_fleet, image=registry_image.IMAGE,
                                               status=RunStatus.RUNNING, requested_by_username="admin")
    JobRun.objects.create(rq_job_id=str(lost.pk), func_name="images.jobs.provision_registry", object_id=str(lost.pk),
                          status=RunStatus.RUNNING, worker_name="killed-worker")
    report = reconciler.reconcile(queueing.get_queue())
    assert any("lost: the worker running it (killed-worker) is gone" in line for line in report), report
    lost.refresh_from_db()
    assert lost.status == RunStatus.ERRORED and "killed-worker" in lost.status_reason
    run = provision(admin_client, bare_fleet)
    assert run.pk != lost.pk and run.status == RunStatus.SUCCEEDED, run.status_reason + run.log


def test_a_queued_run_blocks_a_second_one(admin_client, bare_fleet, worker_alive):
    url = reverse("admin:images_imageversion_provision_registry")
    chosen = {"action": "provision_registry", "_selected_action": [bare_fleet.pk], "post": "yes"}
    admin_client.post(url, chosen)
    page = html.unescape(admin_client.post(url, chosen, follow=True).content.decode())
    assert f"a registry provisioning of {bare_fleet} is already queued or running." in page
    assert RegistryProvisioning.objects.count() == 1
    run_queued_jobs()
    assert RegistryProvisioning.objects.get().status == RunStatus.SUCCEEDED
