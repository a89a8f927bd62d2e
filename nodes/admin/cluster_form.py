"""The cluster page's form: unticking Protected is two Release managers'
act (nodes/protection_lift.py), and no other cluster may be made on a
protected cluster's Core node, nor on any machine another cluster holds
(nodes/machine_claims.py). An untick is decided while the form is checked,
so a refused self-confirmation shows on the field and nothing is saved;
what it decided is applied when the admin saves (ClusterAdmin)."""
from django import forms

from nodes import machine_claims, protection_lift
from nodes.models import Cluster


class ClusterForm(forms.ModelForm):
    user = None  # who posts it: set on the per-request class by ClusterAdmin.get_form
    protection_untick = None  # protection_lift.Untick, when this post unticks Protected
    machine_taken = ""  # the refusal when this very post lost the race for its address (address_race)

    def clean_core_address(self):
        # A second cluster on a protected cluster's Core node would be the way
        # around its protection: a rollout there sets the same config.
        address = self.cleaned_data["core_address"]
        if self.machine_taken:
            raise forms.ValidationError(self.machine_taken)
        guarded = Cluster.objects.filter(core_address=address, protected=True).exclude(pk=self.instance.pk).first()
        if guarded is not None:
            raise forms.ValidationError(
                f"{address} is the Core node of {guarded}, which is protected: a second cluster on it would roll "
                "out there without a second Release manager's approval.")
        # Any other cluster's node or Core: one machine, one cluster (nodes/machine_claims.py).
        owner = machine_claims.owner_elsewhere(address, self.instance)
        if owner is not None:
            raise forms.ValidationError(machine_claims.refusal(address, owner))
        return address

    def clean(self):
        cleaned = super().clean()
        # Only where the field is on the form (a Release manager's page), and
        # only on the way from protected to not: ticking it is one person's act.
        if self.instance.pk and "protected" in self.fields and self.initial.get("protected") \
                and not cleaned.get("protected"):
            try:
                self.protection_untick = protection_lift.decide(self.instance, self.user)
            except protection_lift.LiftRefused as refused:
                self.add_error("protected", str(refused))
                return cleaned
            cleaned["protected"] = self.protection_untick.lifts
            # The history says it in its own words (ClusterAdmin.construct_change_message).
            self.changed_data.remove("protected")
        return cleaned
