"""What a node's Docker engine holds, asked over its SSH session: by the
pinned digest for a pulled version, by image id for a streamed one. Used by
the pull step (is it there already?) and by a restart's verification."""
import time

from images.rollouts import fence_check
from images.rollouts.fence_check import NotVerified
from nodes import ssh


def holds(session, image: str, pull_ref: str) -> bool:
    """The node has `image`, and by the pinned digest when there is one."""
    return says(session, image, pull_ref) is None


def says(session, image: str, pull_ref: str) -> str | None:
    """None when the node's engine holds `image` (by the pinned digest when
    there is one), else what it said instead."""
    # `docker inspect --type image`: the form Docker 1.x engines have too.
    argv = ["docker", "inspect", "--type", "image", "--format", "{{json .RepoDigests}}", "--", image]
    result = session.run(argv)
    if result.exit_code != 0 and not _no_such_image(result):
        # Not an answer about the image (the engine busy, the CLI failing):
        # asked once more before a verified restart is called a failure.
        time.sleep(fence_check.POLL)
        result = session.run(argv)
    if result.exit_code != 0:
        if _no_such_image(result):
            return f"the node's engine does not hold {image}"
        return f"docker inspect {image} failed: {ssh.excerpt(result.stderr or result.stdout)}"
    if "@" in pull_ref and pull_ref not in result.stdout:
        return f"the node's engine holds {image}, but not as {pull_ref} (its digests: {ssh.excerpt(result.stdout)})"
    return None


def _no_such_image(result) -> bool:
    return "no such image" in f"{result.stderr}{result.stdout}".lower()


def image_id(session, image: str) -> str:
    result = session.run(["docker", "inspect", "--type", "image", "--format", "{{.Id}}", "--", image])
    return result.stdout.strip() if result.exit_code == 0 else ""


def verified_holds(step, session) -> str:
    """The engine part of a verified restart (fence_check.py); NotVerified with what it said."""
    rollout = step.rollout
    if step.image == rollout.target_image and rollout.target is not None and rollout.target.local:
        if image_id(session, step.image) != rollout.target.image_id:
            raise NotVerified(f"the node's engine does not hold {step.image} as image {rollout.target.image_id}")
        return f"engine holds {step.image} as {rollout.target.image_id[:19]}"
    pull_ref = rollout.target_pull if step.image == rollout.target_image else step.image
    said = says(session, step.image, pull_ref)
    if said is not None:
        raise NotVerified(said)
    return f"engine holds {pull_ref}"
