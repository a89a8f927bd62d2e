"""manage.py image new|build|push: the admin's form and actions from a
terminal, with its permission checks and refusals."""
import io
import json

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.core.management.base import CommandError

from images.cli.output import Output
from images.models import ImageVersion
from job_runs.models import JobRun
from nodes.models import Cluster

pytestmark = pytest.mark.django_db
BASE = "stackato/app-holophonor:3.0.0"


@pytest.fixture
def cluster():
    return Cluster.objects.create(name="prod", core_address="10.0.0.11")


def user_with(*codenames, name="dev"):
    user = User.objects.create_user(name, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def run(*args) -> str:
    out = io.StringIO()
    call_command("image", *args, stdout=out)
    return out.getvalue()


def refused(*args) -> str:
    with pytest.raises(CommandError) as error:
        run(*args)
    return str(error.value)


def test_new_creates_a_draft_with_its_run_lines(cluster):
    user_with("add_imageversion")
    document = json.loads(run("new", "--user", "dev", "--cluster", "prod", "--repository", "exampleco/app", "--tag",
                              "1.0.1", "--from", BASE, "--run", "echo one", "--run", "echo two", "--json"))
    version = ImageVersion.objects.get(pk=document["id"])
    assert (document["status"], version.created_by_username) == ("draft", "dev")
    assert [step.command for step in version.run_steps.all()] == ["echo one", "echo two"]
    assert version.dockerfile.splitlines()[0] == f"FROM {BASE}"
    assert "RUN echo two" in version.dockerfile


def test_new_refusals(cluster):
    user_with("add_imageversion")
    user_with("build_imageversion", name="builder")
    base = ["new", "--cluster", "prod", "--repository", "exampleco/app", "--tag", "1"]
    assert "builder may not do this: it needs the permission images.add_imageversion" in refused(
        *base, "--from", BASE, "--user", "builder")
    assert "from_reference: Give the image to build FROM" in refused(*base, "--user", "dev")
    assert "No cluster named 'nope'" in refused("new", "--cluster", "nope", "--repository", "a/b", "--tag", "1",
                                                "--user", "dev")
    assert "tag:" in refused("new", "--cluster", "prod", "--repository", "a/b", "--tag", "bad tag!", "--from", BASE,
                             "--user", "dev")
    assert "Nothing was created. RUN ''" in refused(*base, "--from", BASE, "--run", "", "--user", "dev")
    assert not ImageVersion.objects.exists()


def test_build_queues_it_once(cluster, worker, django_capture_on_commit_callbacks):
    user_with("build_imageversion")
    version = ImageVersion.objects.create(cluster=cluster, repository="exampleco/app", tag="1", from_reference=BASE)
    with django_capture_on_commit_callbacks(execute=True):
        assert "Build queued for exampleco/app:1." in run("build", str(version.pk), "--user", "dev")
    version.refresh_from_db()
    assert version.status == "queued"
    run_row = JobRun.objects.get(object_id=str(version.pk))
    assert run_row.func_name.endswith("build_image_version")
    assert worker.fetch_job(run_row.rq_job_id) is not None
    assert "is queued: wait for it to finish" in refused("build", str(version.pk), "--user", "dev")
    assert "No image version with id 999" in refused("build", "999", "--user", "dev")


def test_push_refusals(cluster, worker):
    user_with("push_imageversion")
    user_with("build_imageversion", name="builder")
    version = ImageVersion.objects.create(cluster=cluster, repository="exampleco/app", tag="1", from_reference=BASE)
    assert "builder may not do this" in refused("push", str(version.pk), "--user", "builder")
    assert "is not built yet: build it first" in refused("push", str(version.pk), "--user", "dev")


def test_build_without_a_worker_is_refused(cluster, clean_queue):  # noqa: F811
    user_with("build_imageversion")
    version = ImageVersion.objects.create(cluster=cluster, repository="exampleco/app", tag="1", from_reference=BASE)
    assert "No RQ worker is running" in refused("build", str(version.pk), "--user", "dev")
    version.refresh_from_db()
    assert version.status == "draft"


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_is_a_bar_on_a_terminal_and_lines_elsewhere():
    from django.core.management.base import OutputWrapper
    tty, pipe = Terminal(), io.StringIO()
    for stream in (tty, pipe):
        output = Output(OutputWrapper(stream), as_json=False)
        output.progress(1, 4, "activating")
        output.progress(1, 4, "activating")  # unchanged: not printed again
        output.progress(3, 4, "activating")
        output.result({}, "done")
    assert pipe.getvalue() == "1/4 activating\n3/4 activating\ndone\n"
    assert "\r[" + "#" * 7 + "." * 23 + "] 1/4 activating" in tty.getvalue()
    assert tty.getvalue().endswith("3/4 activating\033[K\ndone\n")
