"""One `kato config get` serves every fence seen before it was sent.

A restart step proves its fence started while the config named the target
by a read of the config after it saw the new fence: the config step read the
target back before any restart, this read names it after, so the fence's
start lies between two reads naming the target. (A change and a change back
between the two is the one thing neither catches, as with a read of the
step's own.) The config is cluster-wide and the steps of a batch see their
fences within seconds of each other, so a read sent after a step saw its
fence proves as much for that step as a read of its own. A step takes the
cluster's latest read when it was sent after `seen`, waits for it while it
is under way, waits too while another step of its phase is running that has
not seen its fence yet (that one will read later, after `seen`), and sends
a read itself only when none of these holds. The last step of a batch to
see its fence reads for the batch: one read instead of ten, with no wait on
the rollout's way (the batch ends with its slowest step anyway). In the
window after the first batch no step waits for a slower one (a slot frees
only when its step ends): there a step waits at most SHARE_FOR for a read
sent after its fence was seen (and only while another step is restarting
that has not seen its fence), then sends one, which serves the steps that
saw theirs meanwhile.
(bench/README.md: the config reads were a fifth of the node-side CPU of a
50-DEA rollout in the sandbox, and each is a query to the Core's config
store on a real cluster.)

The times are the console's clock on both sides (when the step saw its
fence, when a read was sent), never a node's.
"""
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from nodes.models.cluster import Cluster

# Longer than a batch's fences take to come up one after the other and one
# `kato config get` takes; past it (a mate's worker lost, a node slow to
# restart) the step reads itself rather than hold its batch.
WAIT = 10
POLL = 0.2
# In the rolling window (steps._others_to_see): how long a step that saw its
# fence waits for another's read before it sends one. Its own checks (the
# engine's image, the health wait) run meanwhile, so this costs its slot
# little; a read then serves the fences seen within it (bench/README.md).
SHARE_FOR = timedelta(seconds=1)


@dataclass(frozen=True)
class Read:
    value: str  # what the image setting named
    sent: datetime  # when the read was sent (the console's clock)
    own: bool  # sent by the asking step, not shared from another

    def describe(self) -> str:
        return f"read {self.sent:%H:%M:%S.%f}"[:-3] + ("" if self.own else ", shared with its batch")


def named_after(kato, cluster, seen: datetime, others_to_see=lambda: False) -> Read:
    """The cluster config's image setting, read after `seen`. others_to_see():
    another step is still running that has not seen its new fence: it will
    read after `seen`, so this step waits for that read instead of sending
    one; the last step of a batch to see its fence sends the read for all."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        began, value = Cluster.objects.filter(pk=cluster.pk).values_list(
            "config_read_began", "config_read_value").get()
        if began is not None and began >= seen:
            if value is not None:
                return Read(value, began, own=False)
        elif not others_to_see():
            read = _read(kato, cluster, unless_sent_after=seen)
            if read is not None:
                return read
            continue  # another step announced a read after `seen` first: its answer serves this one
        time.sleep(POLL)  # a read after `seen` is under way or will be sent: its answer serves this step
    return _read(kato, cluster)  # a step lost on the way, or a read that never came: read now


def _read(kato, cluster, unless_sent_after: datetime | None = None) -> Read | None:
    """A read, announced before it is sent so that the steps that saw their
    fence before now wait for it instead of sending their own. With
    unless_sent_after: None, and nothing sent, when a read sent after that
    moment was announced meanwhile (of steps arriving at once, one reads)."""
    began = timezone.now()
    newer = Q(config_read_began__isnull=True) | Q(config_read_began__lt=unless_sent_after or began)
    if not Cluster.objects.filter(newer, pk=cluster.pk).update(config_read_began=began, config_read_value=None):
        if unless_sent_after is not None:
            return None
    try:
        value = kato.desired_image(cluster.image_setting)
    except BaseException:
        # No answer is coming: whoever waits for this read reads itself.
        Cluster.objects.filter(pk=cluster.pk, config_read_began=began).update(config_read_began=None)
        raise
    Cluster.objects.filter(pk=cluster.pk, config_read_began=began).update(config_read_value=value)
    return Read(value, began, own=True)
