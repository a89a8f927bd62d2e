from django import forms

from images.rollouts.plan import MaxInFlight


class RolloutForm(forms.Form):
    """The strategy and the reason, asked on the confirmation page."""
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2, "cols": 60}), max_length=2000,
                             help_text="Why: kept with every fence restart in the audit history.")
    canaries = forms.IntegerField(min_value=0, max_value=100, initial=1, help_text="Nodes switched first, alone (3.0 only).")
    max_in_flight = forms.CharField(initial="1", max_length=8,
                                    help_text="Nodes worked on at once: a number, or a percentage like 25%.")
    failure_threshold = forms.IntegerField(min_value=0, max_value=10000, initial=0, help_text="Failed nodes tolerated.")
    health_wait = forms.IntegerField(min_value=0, max_value=3600, initial=5,
                                     help_text="Seconds fence must stay RUNNING on the new image.")
    auto_rollback = forms.BooleanField(required=False, initial=True, help_text="On failure, set the config back and restart the switched nodes.")
    manual_gate = forms.BooleanField(required=False, initial=False, label="Manual gate after the canaries",
                                     help_text="After the canaries succeed, wait until someone presses Continue or "
                                               "Roll back on the rollout's page (3.0, canaries > 0).")

    def __init__(self, *args, require_reason: bool = True, **kwargs):
        # "Show the plan" reads only the strategy: no reason is asked for yet.
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = require_reason

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason and self.fields["reason"].required:
            raise forms.ValidationError("A reason is required.")
        return reason

    def clean_max_in_flight(self) -> MaxInFlight:
        return MaxInFlight.parse(self.cleaned_data["max_in_flight"])

    def strategy(self) -> tuple[int, MaxInFlight] | None:
        """(canaries, max in flight) as typed, the defaults on an unbound form,
        None while either is invalid."""
        if not self.is_bound:
            return self.fields["canaries"].initial, MaxInFlight.parse(self.fields["max_in_flight"].initial)
        self.is_valid()
        data = self.cleaned_data
        if "canaries" not in data or "max_in_flight" not in data:
            return None
        return data["canaries"], data["max_in_flight"]
