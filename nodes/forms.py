from django import forms

from nodes.models import Node
from nodes.validators import KNOWN_ROLES


class NodeForm(forms.ModelForm):
    # Checkboxes instead of raw JSON: an operator picks roles, cannot mistype one.
    roles = forms.MultipleChoiceField(choices=[(r, r) for r in KNOWN_ROLES], required=False,
                                      widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Node
        fields = ["cluster", "address", "ssh_port", "ssh_user", "roles", "enabled", "in_maintenance"]
