"""RQ entry points for image versions. They take primary keys only and
re-read the row (DESIGN.md section 3)."""
from images import build, push, registry_provision


def build_image_version(version_id: int) -> str:
    return build.run(version_id)


def push_image_version(version_id: int) -> str:
    return push.run(version_id)


def provision_registry(provisioning_id: str) -> str:
    return registry_provision.run(provisioning_id)
