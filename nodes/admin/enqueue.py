"""Admin actions that queue node jobs: say what was queued, or why nothing was."""
from django.contrib import messages

from stackato_dash import queueing


def enqueue_for_each(request, objects, job, what: str) -> None:
    try:
        queueing.require_worker()
    except queueing.NoWorker as error:
        messages.error(request, str(error))
        return
    count = 0
    for obj in objects:
        queueing.enqueue_on_commit(job, obj.pk, description=f"{what}: {obj}")
        count += 1
    messages.success(request, f"{what}: {count} job(s) queued. Reload the page to see the results.")
