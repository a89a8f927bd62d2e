"""The job rows in the admin: listed with how each ended and why, and
read-only (no add, change or delete)."""
import pytest
from django.urls import reverse

from job_runs.models import JobRun

pytestmark = pytest.mark.django_db


def test_job_rows_are_listed_with_their_reason_and_cannot_be_changed(admin_client):
    run = JobRun.objects.create(rq_job_id="a1", func_name="images.jobs.build_image_version", object_id="7",
                                description="Build exampleco/app:1", status="errored",
                                reason="lost: the worker running it (w1) is gone")
    page = admin_client.get(reverse("admin:job_runs_jobrun_changelist")).content.decode()
    assert "Build exampleco/app:1" in page and "lost: the worker running it (w1) is gone" in page
    assert admin_client.get(reverse("admin:job_runs_jobrun_add")).status_code == 403
    change = admin_client.post(reverse("admin:job_runs_jobrun_change", args=[run.pk]), {"status": "succeeded"})
    assert change.status_code == 403
    run.refresh_from_db()
    assert run.status == "errored"
    assert admin_client.post(reverse("admin:job_runs_jobrun_delete", args=[run.pk]), {"post": "yes"}).status_code == 403
    assert JobRun.objects.filter(pk=run.pk).exists()
