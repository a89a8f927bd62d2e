"""One `kato config get` serves every fence seen before it was sent.

A restart step proves its fence started while the config named the target
by a read of the config after it saw the new fence: the config step read the
target back before any restart, this read names it after, so the fence's
start lies between two reads naming the target. (A change and a change back
between the two is the one thing neither catches, as with a read of the
step's own.) The config is cluster-wide and the steps of a batch see their
fences within a second or two of each other, so a read sent after a step saw
its fence proves as much for that step as a read of its own: the step takes
the cluster's latest read when it was sent after `seen`, waits for it when it
is under way, and only sends one itself otherwise. A batch of ten restarts
then sends one or two reads instead of ten (bench/README.md: the config
reads were a fifth of a 50-DEA rollout's CPU in the sandbox).

The times are the console's clock on both sides (when the step saw its
fence, when a read was sent), never a node's.
"""
import time
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from nodes.models.cluster import Cluster

# Longer than one `kato config get` takes; a read under way longer than this
# (its worker lost) is not waited for any more: the step reads itself.
WAIT = 30
POLL = 0.1


def named_after(kato, cluster, seen: datetime) -> str:
    """What the cluster config's image setting names, read after `seen`."""
    deadline = time.monotonic() + WAIT
    while True:
        began, value = Cluster.objects.filter(pk=cluster.pk).values_list(
            "config_read_began", "config_read_value").get()
        if began is None or began < seen:
            break
        if value is not None:
            return value
        if time.monotonic() > deadline:
            break
        time.sleep(POLL)  # a read sent after `seen` is under way: its answer serves this step too
    return _read(kato, cluster)


def _read(kato, cluster) -> str:
    began = timezone.now()
    # Announced before it is sent, so the steps that saw their fence before
    # now wait for it instead of sending their own; a later read replaces it.
    Cluster.objects.filter(Q(config_read_began__isnull=True) | Q(config_read_began__lt=began), pk=cluster.pk).update(
        config_read_began=began, config_read_value=None)
    try:
        value = kato.desired_image(cluster.image_setting)
    except BaseException:
        # No answer is coming: whoever waits for this read reads itself.
        Cluster.objects.filter(pk=cluster.pk, config_read_began=began).update(config_read_began=None)
        raise
    Cluster.objects.filter(pk=cluster.pk, config_read_began=began).update(config_read_value=value)
    return value
