"""Two saves that claim one machine (address) at the same instant both pass
the form's checks (nodes/machine_claims.py, the model's constraint), and the
unique Node.address lets one in. The other's save raises MachineTaken out
of the admin's transaction, which rolls all of it back (no cluster left
without its Core node); the page is then drawn again from the same POST
with the refusal on the form (its `machine_taken`), in the words the check
gives a moment later. No error page, nothing half-written."""
from contextlib import contextmanager

from django.db import IntegrityError, transaction

from nodes import machine_claims
from nodes.models import Node


class MachineTaken(Exception):
    """The save lost the race for its address; the message is the refusal."""


@contextmanager
def refused_if_taken(address: str, cluster, node=None):
    """Around the save of a node row at `address` (for `cluster`; `node`, the
    row saved, if it is one): the unique address turned into MachineTaken."""
    try:
        with transaction.atomic():  # a savepoint: the lookup below may still read
            yield
    except IntegrityError as error:
        others = Node.objects.filter(address=address).select_related("cluster")
        if node is not None and node.pk is not None:
            others = others.exclude(pk=node.pk)
        holder = others.first()
        if holder is None:  # another constraint: a bug to see, not a race to explain
            raise
        if holder.cluster_id == getattr(cluster, "pk", None):
            raise MachineTaken(f"{address} is already a node of cluster {holder.cluster.name}: it was added a moment "
                               "ago.") from error
        raise MachineTaken(machine_claims.refusal(address, holder.cluster)) from error


class RefusesTakenMachines:
    """ModelAdmin mixin: a save that raised MachineTaken shows its form again
    with the refusal (the form's clean puts `machine_taken` on the address)."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.machine_taken = getattr(request, "machine_taken", "")  # a class made for this request
        return form

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except MachineTaken as taken:
            request.machine_taken = str(taken)
            return super().changeform_view(request, object_id, form_url, extra_context)
