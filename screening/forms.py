from datetime import date

from crispy_forms.helper import FormHelper
from django import forms
from django.utils import timezone

from eligibility import units
from eligibility.answers import check_range, consistency_errors
from eligibility.engine import BOOLEAN, CHOICE, DATE, MULTI, NUMBER
from eligibility.vocabulary import format_number
from trials.models import Question, Trial
from trials.validators import validate_patient_ref


class TrialsField(forms.ModelMultipleChoiceField):
    """Trials by primary key. Django's `pk__in` query overflows on a key too large for a database integer
    (a server error on SQLite and PostgreSQL); such a key names no trial, so it is an invalid choice."""

    def _check_values(self, value):
        for pk in value:
            try:
                number = int(pk)
            except (TypeError, ValueError):
                continue  # not a number at all: Django reports it
            if not -(2**63) <= number < 2**63:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": pk},
                )
        return super()._check_values(value)


class NewScreeningForm(forms.Form):
    patient_ref = forms.CharField(
        label="Patient reference",
        max_length=40,
        help_text="A pseudonymous study code (e.g. “JD-2014”). Never a name, a date of birth, a phone number "
        "or a record number.",
        validators=[validate_patient_ref],
    )
    trials = TrialsField(
        queryset=Trial.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to screen against every trial open for screening.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trials"].queryset = Trial.objects.open_for_screening()
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_trials(self):
        chosen = self.cleaned_data["trials"]
        if not chosen:
            chosen = Trial.objects.open_for_screening()
            if not chosen.exists():
                raise forms.ValidationError("No trials are open for screening yet.", code="no_trials")
        return list(chosen)


class MeasureWidget(forms.MultiWidget):
    template_name = "screening/widgets/measure.html"

    def __init__(self, unit_choices, attrs=None):
        widgets = (
            forms.NumberInput(attrs={"step": "any", "inputmode": "decimal", "class": "form-control"}),
            forms.Select(choices=unit_choices, attrs={"class": "form-select", "aria-label": "unit"}),
        )
        super().__init__(widgets, attrs)

    def decompress(self, value):
        if value in (None, ""):
            return [None, None]
        if isinstance(value, (list, tuple)):
            return list(value)
        return [value, None]


class MeasureField(forms.MultiValueField):
    """A number with a unit chooser; cleans to the value in the question's canonical unit."""

    def __init__(self, question, **kwargs):
        self.question = question
        self.unit_choices = [(u, u) for u in units.units_for(question.unit)]
        fields = (forms.FloatField(required=False), forms.ChoiceField(choices=self.unit_choices, required=False))
        kwargs["required"] = False
        super().__init__(fields, require_all_fields=False, widget=MeasureWidget(self.unit_choices), **kwargs)

    def compress(self, data_list):
        if not data_list or data_list[0] in (None, ""):
            return None
        value, unit = data_list[0], data_list[1] or self.question.unit
        try:
            canonical = units.to_canonical(value, unit, self.question.unit)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="unit") from None
        try:
            check_range(self.question.spec(), canonical)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="implausible") from None
        return canonical


YES_NO = [("", "Not answered"), ("yes", "Yes"), ("no", "No")]


class QuestionnaireForm(forms.Form):
    """One field per question the chosen trials use. Empty means 'not answered' (unknown), never 'no'."""

    def __init__(self, questions, *args, as_of: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = {q.code: q for q in questions}
        self.as_of = as_of or timezone.localdate()
        for q in questions:
            self.fields[q.code] = self._field_for(q)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def _field_for(self, q: Question):
        common = {"label": q.label, "help_text": q.help_text, "required": False}
        if q.type == BOOLEAN:
            return forms.TypedChoiceField(
                choices=YES_NO,
                widget=forms.RadioSelect,
                coerce=lambda v: v == "yes",
                empty_value=None,
                **common,
            )
        if q.type == NUMBER:
            return MeasureField(q, **common)
        if q.type == DATE:
            return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common)
        if q.type == CHOICE:
            return forms.ChoiceField(choices=[("", "Not answered"), *map(tuple, q.choices)], **common)
        if q.type == MULTI:
            return forms.MultipleChoiceField(
                choices=list(map(tuple, q.choices)), widget=forms.CheckboxSelectMultiple, **common
            )
        raise ValueError(f"unsupported question type {q.type}")

    def clean(self):
        cleaned = super().clean()
        for code, value in list(cleaned.items()):
            q = self.questions[code]
            if q.type == DATE and value is not None:
                if value > self.as_of:
                    self.add_error(code, f"{value.isoformat()} is in the future.")
                elif value.year < 1900:
                    self.add_error(code, f"{value.isoformat()} is implausibly long ago.")
        valid = {code: value for code, value in cleaned.items() if code not in self.errors and value is not None}
        for problem in consistency_errors(valid, {code: q.spec() for code, q in self.questions.items()}, self.as_of):
            self.add_error(problem.code, problem.message[0].upper() + problem.message[1:] + ".")
        return cleaned

    def answers(self) -> dict:
        """Typed answers for the engine (only answered questions)."""
        out = {}
        for code, value in self.cleaned_data.items():
            if value in (None, "", [], ()):
                continue
            out[code] = tuple(value) if isinstance(value, list) else value
        return out

    def partial_answers(self) -> dict:
        """After a failed validation: the answers that are valid, so results still update."""
        return {
            code: (tuple(v) if isinstance(v, list) else v)
            for code, v in getattr(self, "cleaned_data", {}).items()
            if code not in self.errors and v not in (None, "", [], ())
        }

    def notes(self, derived: dict) -> dict:
        """Per question: ("error", message), ("derived", value) or ("converted", canonical value)."""
        notes = {}
        for code, q in self.questions.items():
            if self.is_bound and code in self.errors:
                notes[code] = ("error", " ".join(self.errors[code]))
            elif code in derived:
                source = "the date of birth" if code == "age" else "height and weight" if code == "bmi" else None
                notes[code] = ("derived", f"Calculated from {source}: {derived[code]}" if source else derived[code])
            elif self.is_bound and q.type == NUMBER and self.cleaned_data.get(code) is not None:
                unit = self.data.get(f"{code}_1") or q.unit
                if unit != q.unit:
                    notes[code] = ("converted", f"= {format_number(self.cleaned_data[code])} {q.unit}")
        return notes

    def sections(self):
        """(section label, [bound fields]) in catalogue order, for the template."""
        grouped = {}
        for code, q in self.questions.items():
            grouped.setdefault(q.get_section_display(), []).append(self[code])
        order = [label for _, label in Question.Section.choices]
        return sorted(grouped.items(), key=lambda item: order.index(item[0]))


def initial_from_answers(answers: dict, questions) -> dict:
    """Form initial data from saved canonical answers (JSON-safe)."""
    initial = {}
    by_code = {q.code: q for q in questions}
    for code, value in answers.items():
        q = by_code.get(code)
        if q is None or value is None:
            continue
        if q.type == BOOLEAN:
            initial[code] = "yes" if value else "no"
        elif q.type == NUMBER:
            initial[code] = [value, q.unit]
        elif q.type == DATE:
            initial[code] = date.fromisoformat(value) if isinstance(value, str) else value
        else:
            initial[code] = value
    return initial
