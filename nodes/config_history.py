"""Which image the cluster config named, and from when: the few last values
of `fence docker/image`, oldest first, kept on the Cluster.

A 3.0 fence reads the config when it starts and runs that image until its
next start, so drift (nodes/drift.py) asks "what did the config name when
this fence started?", not "did it start before the last change?". The two
differ after a config goes to a target and back (a rollback's "config set
back", a rollback to an earlier version, Undo): a fence started before the
rollout runs the image the config names again, one started while the
target was configured does not.

An entry is {"image": ref, "since": ISO time or None}. None only for the
value found on the console's first read of the cluster: a change made
before is not dated. The console dates its own writes; a value it did not
write is dated when a refresh first sees it."""
from collections import Counter
from datetime import datetime

from nodes.models.cluster import Cluster

# Enough for every value a fence still running could have read: a rollout
# and its rollback make two entries.
KEPT = 20
_ATTEMPTS = 5


def record(cluster, image: str, at: datetime, *, seen_by_refresh: bool = False) -> None:
    """The config names `image` from `at` on; nothing changes when it
    already did. seen_by_refresh: read by a facts refresh, not written by
    the console, so the value of the console's first read of the cluster is
    not dated. Refreshes of many nodes and a rollout step may record at
    once: each write is conditional on the value it read (no row lock:
    SQLite has none)."""
    for _ in range(_ATTEMPTS):
        known = Cluster.objects.filter(pk=cluster.pk).values("desired_image", "desired_image_history").get()
        if known["desired_image"] == image:
            break
        since = None if seen_by_refresh and not known["desired_image"] else at
        entry = {"image": image, "since": since.isoformat() if since else None}
        if Cluster.objects.filter(pk=cluster.pk, desired_image=known["desired_image"]).update(
                desired_image=image, desired_image_since=since,
                desired_image_history=[*known["desired_image_history"], entry][-KEPT:]):
            break
    cluster.refresh_from_db(fields=["desired_image", "desired_image_since", "desired_image_history"])


def named_at(history: list, moment: datetime) -> str | None:
    """The image the config named at `moment`; None when the history does
    not reach back that far (the value then is not known)."""
    named = None
    for entry in history:
        if entry["since"] is not None and datetime.fromisoformat(entry["since"]) > moment:
            break
        named = entry["image"]
    return named


def current(cluster) -> str:
    """The image the cluster config names, as the console last knew it. Its
    own record first: a rollout's config step writes it, so it is right the
    moment a rollout, rollback or undo changes the config, while the nodes'
    copies (Node.desired_image) wait for the next facts refresh. Before the
    console has read the cluster at all: the value most of its nodes last
    read, if any; "" when nothing is known."""
    if cluster.desired_image:
        return cluster.desired_image
    seen = Counter(cluster.nodes.exclude(desired_image="").values_list("desired_image", flat=True))
    return seen.most_common(1)[0][0] if seen else ""
