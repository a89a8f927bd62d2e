"""Driving a rollout through the admin as an operator does, and reading the
rollout sandbox's nodes as they are (shared by the rollout test modules)."""
from django.urls import reverse

from images.models.rollout import Rollout
from sandbox import layout
from sandbox.nodeside import fence_status
from support import ssh
from support.kato_reading import fence_state

STRATEGY = {"reason": "CVE-2026-0001 libc fix", "canaries": "1", "max_in_flight": "2",
            "failure_threshold": "0", "health_wait": "1", "auto_rollback": "on"}


def roll_out(admin_client, version, **overrides) -> Rollout:
    """The admin's Roll out action, confirmed; the rollout it created."""
    data = {"action": "roll_out", "_selected_action": [version.pk], "post": "yes", **STRATEGY, **overrides}
    response = admin_client.post(reverse("admin:images_imageversion_changelist"), data)
    assert response.status_code == 302, response.content[-3000:]
    return Rollout.objects.latest("created_at")


def cancel(admin_client, rollout, choice: str) -> None:
    """The admin's Cancel action, confirmed with "stop" (stop here) or
    "rollback" (stop and roll back)."""
    response = admin_client.post(reverse("admin:images_rollout_changelist"), {
        "action": "cancel", "_selected_action": [rollout.pk], "post": "yes", "choice": choice}, follow=True)
    assert "cancel requested" in response.content.decode()


def fence(sandbox, name):
    """(fence's state as kato shows it, the image it runs): kato shows no image,
    so that comes from inside the emulator (fence.json of the running pid)."""
    code, out, err = ssh.run(layout.node(sandbox, name), sandbox["client_key"], "kato process list -j")
    assert code == 0, err
    return fence_state(out), fence_status.read(sandbox, layout.node(sandbox, name))["image"]


def config_image(sandbox):
    return ssh.run(layout.node(sandbox, "core"), sandbox["client_key"], "kato config get fence docker/image")[1].strip()


def deas(sandbox):
    return [n["name"] for n in layout.deas(sandbox)]
