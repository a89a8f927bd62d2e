"""A build whose worker is SIGKILLed mid-build, with a second real worker
alive: the job reconciler (run by that worker through RQ's scheduler) ends
the build errored with the reason, and the admin can build it again."""
import os
import signal

import pytest
from django.urls import reverse
from rq import Worker

from images.models import Status
from job_runs.models import JobRun
from stackato_dash import queueing
from support.image_versions import save_steps
from support.waiting import wait_until
from support.worker_process import start_worker, wait_until_registered

pytestmark = pytest.mark.django_db(transaction=True)


def build_action(admin_client, version):
    response = admin_client.post(reverse("admin:images_imageversion_changelist"),
                                 {"action": "build", "_selected_action": [version.pk], "post": "yes"})
    assert response.status_code == 302, response.content.decode()[-2000:]


def test_a_build_whose_worker_is_killed_ends_errored_and_builds_again(admin_client, fleet, make_version,
                                                                       worker_alive, settings):
    worker_alive.register_death()  # real worker processes carry the jobs from here
    # They build on the sandbox's Core engine, as the fleet fixture's settings say.
    workers = [start_worker(BUILD_DOCKER_HOST=settings.BUILD_DOCKER_HOST) for _ in range(2)]
    try:
        wait_until_registered(*workers)
        version = make_version(repository="exampleco/killed", tag="1.0.0", steps=["echo started-building", "sleep 60"])
        build_action(admin_client, version)
        wait_until(lambda: version.log_lines.filter(text__contains="RUN sleep 60").exists()
                   or not type(version).objects.get(pk=version.pk).is_running,
                   "the sleep step in the live log, or the end of the build", timeout=90)
        version.refresh_from_db()
        assert version.status == Status.BUILDING, version.status_reason
        run = JobRun.objects.get(func_name="images.jobs.build_image_version", object_id=str(version.pk))
        assert run.status == "running"
        by_pid = {w.pid: w for w in Worker.all(queue=queueing.get_queue())}
        doomed = next(p for p in workers if p.pid in by_pid and by_pid[p.pid].name == run.worker_name)
        # The worker and its work horse (RQ puts it in a process group of its
        # own, so alone it would go on building), as when the machine dies.
        os.killpg(doomed.pid, signal.SIGKILL)
        os.killpg(run.pid, signal.SIGKILL)
        doomed.wait()

        # Within the reconciler's period, or RQ's scheduler moving to the
        # survivor if the killed worker held it (stackato_dash/rq_worker.py).
        version = wait_until(lambda: type(version).objects.filter(
            pk=version.pk, status=Status.ERRORED).first(), "the version to end errored", timeout=240)
        assert version.status_reason == f"lost: the worker running it ({run.worker_name}) is gone"
        run.refresh_from_db()
        assert (run.status, run.reason) == ("errored", version.status_reason)
        assert version.can_build

        save_steps(admin_client, version, ["echo rebuilt"])  # errored: its steps can be changed
        build_action(admin_client, version)
        version = wait_until(lambda: type(version).objects.filter(
            pk=version.pk, status__in=[Status.BUILT, Status.FAILED, Status.ERRORED]).first(), "the rebuild", timeout=90)
        assert version.status == Status.BUILT, version.status_reason
        assert version.log_lines.filter(text="rebuilt").exists()
    finally:
        for process in workers:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait()
