"""Where a node's facts come from, as the node list and page say it: a
facts refresh (every fact read), a rollout step that verified fence, the
image and the config since (images/rollouts/verified_facts.py), or a
rollout's config step that set the cluster config's image for a node it
did not work on (images/rollouts/config_facts.py: the desired image and
drift, nothing read from the node). Neither is ever shown as a refresh."""
from django.urls import reverse
from django.utils.html import format_html, format_html_join

_WHEN = "%Y-%m-%d %H:%M:%S UTC"


def _parts(node) -> list[tuple[str, object, str]]:
    """(what, rollout id, when) for each rollout that wrote facts since the
    refresh, newest first (a verification clears an older config step's)."""
    parts = []
    if node.desired_image_set_at is not None:
        parts.append(("desired image as the config set by", node.desired_image_set_by_rollout,
                      f"{node.desired_image_set_at:{_WHEN}}"))
    if node.facts_verified_at is not None:
        # The config it verified was set again since: only fence and image stand.
        what = "fence and image" if parts else "fence, image and config"
        parts.append((f"{what} as verified by", node.facts_verified_by_rollout, f"{node.facts_verified_at:{_WHEN}}"))
    return parts


def _refreshed(node) -> str:
    return f"refreshed {node.facts_refreshed_at:{_WHEN}}" if node.facts_refreshed_at else "not refreshed yet"


def describe(node) -> str:
    """Plain text (the API and tests); html() links the rollouts."""
    parts = _parts(node)
    if not parts:
        return _refreshed(node)
    said = "; ".join(f"{what} rollout {rollout} at {when}" for what, rollout, when in parts)
    return f"{said}; the rest {_refreshed(node)}"


def html(node) -> str:
    parts = _parts(node)
    if not parts:
        return _refreshed(node)
    said = format_html_join("; ", '{} rollout <a href="{}">{}</a> at {}', (
        (what, reverse("admin:images_rollout_change", args=[rollout]), rollout, when) for what, rollout, when in parts))
    return format_html("{}; the rest {}", said, _refreshed(node))
