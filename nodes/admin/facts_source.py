"""Where a node's facts come from, as the node list and page say it: a
facts refresh (every fact read), or a rollout step that verified fence, the
image and the config since (images/rollouts/verified_facts.py), so a
verification is never shown as a refresh."""
from django.urls import reverse
from django.utils.html import format_html

_WHEN = "%Y-%m-%d %H:%M:%S UTC"


def describe(node) -> str:
    """Plain text (the API and tests); html() links the rollout."""
    refreshed = f"refreshed {node.facts_refreshed_at:{_WHEN}}" if node.facts_refreshed_at else "not refreshed yet"
    if node.facts_verified_at is None:
        return refreshed
    return (f"fence, image and config as verified by rollout {node.facts_verified_by_rollout} at "
            f"{node.facts_verified_at:{_WHEN}}; the rest {refreshed}")


def html(node) -> str:
    if node.facts_verified_at is None:
        return describe(node)
    rollout = node.facts_verified_by_rollout
    return format_html('fence, image and config as verified by rollout <a href="{}">{}</a> at {}; the rest {}',
                       reverse("admin:images_rollout_change", args=[rollout]), rollout,
                       f"{node.facts_verified_at:{_WHEN}}", describe(node).rsplit("; the rest ", 1)[1])
