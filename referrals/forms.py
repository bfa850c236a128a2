from django import forms
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from trials.models import Criterion, Trial
from trials.validators import validate_free_text

from .models import Referral, Verification

SORTS = {
    "newest": ("-created_at", _("Newest first")),
    "oldest": ("created_at", _("Oldest first")),
    "status": ("status", _("Status")),
    "trial": ("trial__nct_id", _("Trial")),
    "patient": ("screening__patient_ref", _("Patient reference")),
}


class QueueFilterForm(forms.Form):
    trial = forms.ModelChoiceField(
        queryset=Trial.objects.none(), required=False, empty_label=_("All my trials"), to_field_name="nct_id"
    )
    status = forms.ChoiceField(choices=[("", _("Any status")), *Referral.Status.choices], required=False)
    since = forms.DateField(
        label=_("Referred from"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    until = forms.DateField(
        label=pgettext_lazy("date range: referred from … to …", "to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    sort = forms.ChoiceField(choices=[(k, label) for k, (_order, label) in SORTS.items()], required=False)
    changed = forms.BooleanField(label=_("Changed since referral"), required=False)

    def __init__(self, *args, trials=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trial"].queryset = trials if trials is not None else Trial.objects.none()
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs["class"] = "form-check-input"
            else:
                field.widget.attrs["class"] = (
                    "form-select" if isinstance(field.widget, forms.Select) else "form-control"
                )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("since") and cleaned.get("until") and cleaned["since"] > cleaned["until"]:
            self.add_error("until", gettext("The end date is before the start date."))
        return cleaned

    def apply(self, referrals):
        """Filter and order `referrals` (with_current()) by the valid filters (invalid ones are ignored, with their error shown)."""
        data = self.cleaned_data if self.is_valid() else {}
        if data.get("trial"):
            referrals = referrals.filter(trial=data["trial"])
        if data.get("status"):
            referrals = referrals.filter(status=data["status"])
        if data.get("since"):
            referrals = referrals.filter(created_at__date__gte=data["since"])
        if data.get("until"):
            referrals = referrals.filter(created_at__date__lte=data["until"])
        if data.get("changed"):
            referrals = referrals.changed_since_referral()
        order = SORTS.get(data.get("sort") or "newest", SORTS["newest"])[0]
        return referrals.order_by(order, "-pk")


class StatusForm(forms.Form):
    status = forms.CharField(label=_("Move to"), widget=forms.Select)
    note = forms.CharField(required=False, max_length=100, label=_("Note (optional)"), validators=[validate_free_text])
    reason_criterion = forms.ModelChoiceField(
        queryset=Criterion.objects.none(),
        required=False,
        label=_("Failed criterion"),
        help_text=_("For “screen failed”: the criterion, or describe the reason below."),
    )
    reason_text = forms.CharField(
        required=False, label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), validators=[validate_free_text]
    )
    version = forms.IntegerField(widget=forms.HiddenInput)
    password = forms.CharField(
        required=False,
        strip=False,
        label=_("Your password (signature)"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, referral, **kwargs):
        super().__init__(*args, **kwargs)
        # The moves that are signed, with what the password signs (REDCap/OpenClinica: the meaning is shown).
        self.signed = [
            (s.label, referral.SIGNATURE_MEANINGS[s])
            for s in referral.next_statuses()
            if s in referral.SIGNATURE_MEANINGS
        ]
        self.fields["password"].help_text = " ".join(
            gettext("To move to “%(status)s”, sign with your password: “%(meaning)s”.")
            % {"status": label, "meaning": meaning}
            for label, meaning in self.signed
        )
        # Every status is accepted here; the model decides which moves are allowed, so a forged
        # transition gets the same clear message as any other.
        self.fields["status"].widget.choices = [(s.value, s.label) for s in referral.next_statuses()]
        self.fields["reason_criterion"].queryset = referral.trial.criteria.all()
        self.fields["version"].initial = referral.version


class VerifyForm(forms.Form):
    status = forms.ChoiceField(choices=[*Verification.Status.choices, (Verification.CLEAR, _("Clear"))])
    note = forms.CharField(required=False, max_length=300, validators=[validate_free_text])
    # The version of the verification the coordinator saw; empty when there was none.
    seen = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class ReferralForm(forms.Form):
    note = forms.CharField(
        label=_("Note to the coordinator"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional. No names, dates of birth, phone numbers or record numbers: they are refused."),
        validators=[validate_free_text],
    )
    justification = forms.CharField(
        label=_("Justification"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when the saved verdict is 'not eligible'."),
        validators=[validate_free_text],
    )
