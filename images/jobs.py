"""RQ entry points for image versions. They take primary keys only and
re-read the row (DESIGN.md section 3); the job lifecycle (job_runs/) ends a
row the body could not end."""
from images import build, push, registry_provision, transitions
from job_runs import lifecycle


@lifecycle.job(on_error=transitions.end_errored, outcome=transitions.outcome)
def build_image_version(version_id: int) -> str:
    return build.run(version_id)


@lifecycle.job(on_error=transitions.end_errored, outcome=transitions.outcome)
def push_image_version(version_id: int) -> str:
    return push.run(version_id)


@lifecycle.job(on_error=registry_provision.end_errored, outcome=registry_provision.outcome)
def provision_registry(provisioning_id: str) -> str:
    return registry_provision.run(provisioning_id)
