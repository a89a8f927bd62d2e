from django import forms

from nodes import machine_claims
from nodes.models import Node
from nodes.validators import KNOWN_ROLES


class NodeForm(forms.ModelForm):
    # Checkboxes instead of raw JSON: an operator picks roles, cannot mistype one.
    roles = forms.MultipleChoiceField(choices=[(r, r) for r in KNOWN_ROLES], required=False,
                                      widget=forms.CheckboxSelectMultiple)
    machine_taken = ""  # the refusal when this very post lost the race for its address (address_race)

    class Meta:
        model = Node
        fields = ["cluster", "address", "ssh_port", "ssh_user", "roles", "enabled", "in_maintenance"]

    def clean(self):
        cleaned = super().clean()
        # A machine belongs to one cluster (nodes/machine_claims.py); within
        # the cluster the model's constraint refuses a second row.
        address, cluster = cleaned.get("address"), cleaned.get("cluster")
        if self.machine_taken:
            self.add_error("address", self.machine_taken)
            return cleaned
        if address and cluster is not None:
            owner = machine_claims.owner_elsewhere(address, cluster, self.instance)
            if owner is not None:
                self.add_error("address", machine_claims.refusal(address, owner))
        return cleaned
