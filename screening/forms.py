import re
from collections import Counter
from datetime import date

from crispy_forms.helper import FormHelper
from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from eligibility import contradictions, units
from eligibility.answers import ISO_DATE, check_range
from eligibility.engine import BOOLEAN, CHOICE, DATE, MULTI, NUMBER
from eligibility.vocabulary import NCT_RE, format_number
from trials.models import Question, Trial, catalogue
from trials.validators import validate_patient_ref

from .display import unit_name


class NctIdsWidget(forms.Textarea):
    """NCT ids in one field, however many: pasted one per line (or separated by spaces or commas), and the same
    name posted several times (the search's checkboxes) read as one list."""

    def value_from_datadict(self, data, files, name):
        values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
        return "\n".join(str(v) for v in values if v)


NAMED = 10  # bad ids named one by one; the others are counted


def _more(bad: int) -> list[forms.ValidationError]:
    if bad <= NAMED:
        return []
    return [forms.ValidationError(_("… and %(n)d more."), code="more", params={"n": bad - NAMED})]


class NctIdsField(forms.CharField):
    """A list of NCT ids, upper-cased and without repeats; anything that is not one is named in the error."""

    widget = NctIdsWidget

    def to_python(self, value):
        typed = [w.strip() for w in re.split(r"[\s,;]+", super().to_python(value) or "") if w.strip()]
        words = [w.upper() for w in typed]
        bad = [t for t, w in zip(typed, words) if not NCT_RE.match(w)]
        if bad:
            raise forms.ValidationError(
                [
                    forms.ValidationError(_("“%(word)s” is not an NCT id."), code="not_nct", params={"word": w[:40]})
                    for w in bad[:NAMED]
                ]
                + _more(len(bad))
            )
        return list(dict.fromkeys(words))


class PatientRefField(forms.CharField):
    """A pseudonymous reference in the site's study-code shape, refused when it looks like an identifier
    (trials.validators; the API checks its field with it too)."""

    default_validators = [validate_patient_ref]

    def __init__(self, **kwargs):
        kwargs.setdefault("label", gettext_lazy("Patient reference"))
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault(
            "help_text",
            gettext_lazy(
                "A pseudonymous study code (e.g. “JD-2014”). Never a name, a date of birth, a phone number "
                "or a record number."
            ),
        )
        super().__init__(**kwargs)


ALL, MATCHING, LISTED = "all", "matching", "listed"
SHOWN_MATCHES = 20  # search results listed at once; a narrower search finds the rest


class NewScreeningForm(forms.Form):
    """The patient's reference and the trials to screen against: every open trial (the default, one field
    whatever their number), the open trials of a condition and/or phase, or a list of NCT ids (pasted, or
    ticked among the search's results). Only trials open for screening are accepted; every other id is named."""

    patient_ref = PatientRefField()
    scope = forms.ChoiceField(
        label=gettext_lazy("Trials"),
        choices=[
            (ALL, gettext_lazy("All open trials")),
            (MATCHING, gettext_lazy("Open trials of a condition or phase")),
            (LISTED, gettext_lazy("Only these trials")),
        ],
        required=False,
        widget=forms.RadioSelect,
    )
    condition = forms.CharField(label=gettext_lazy("Condition contains"), max_length=200, required=False)
    phase = forms.MultipleChoiceField(
        label=gettext_lazy("Phase"),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    find = forms.CharField(label=gettext_lazy("Find trials"), max_length=200, required=False)
    trials = NctIdsField(
        label=gettext_lazy("Chosen trials (NCT ids)"),
        required=False,
        help_text=gettext_lazy("One per line, or separated by spaces or commas. Ticking a found trial adds it here."),
    )
    add = NctIdsField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Every open trial's few fields, read once: the choices, the counts and the search all use them.
        self.open = {
            row[1]: row
            for row in Trial.objects.open_for_screening()
            .order_by("nct_id")
            .values_list("pk", "nct_id", "brief_title", "conditions", "phase")
        }
        self.fields["phase"].choices = [(p, p) for p in sorted({row[4] for row in self.open.values() if row[4]})]
        self.fields["scope"].choices = [
            (value, f"{label} ({len(self.open):,})" if value == ALL else label)
            for value, label in self.fields["scope"].choices
        ]
        # Few enough to list them all: ticked in a plain list, as ever, with no search, condition or phase.
        self.few = len(self.open) <= SHOWN_MATCHES
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean(self):
        cleaned = super().clean()
        # A bad ticked value is reported with the list it was to join.
        for error in self.errors.pop("add", []):
            self.add_error("trials", error)
        listed = list(dict.fromkeys([*(cleaned.get("trials") or []), *(cleaned.get("add") or [])]))
        cleaned["listed"] = listed
        scope = cleaned.get("scope") or (LISTED if listed or "trials" in self.errors else ALL)
        cleaned["scope"] = scope
        if not self.open:
            self.add_error(None, forms.ValidationError(_("No trials are open for screening yet."), code="no_trials"))
            return cleaned
        if scope == ALL:
            chosen = list(self.open)
        elif scope == MATCHING:
            chosen = self.matching(cleaned.get("condition", ""), cleaned.get("phase") or [])
            if not chosen and "condition" not in self.errors:
                self.add_error("condition", forms.ValidationError(_("No open trial matches."), code="no_match"))
        else:
            closed = [n for n in listed if n not in self.open]
            for nct_id in closed[:NAMED]:
                self.add_error(
                    "trials",
                    forms.ValidationError(
                        _("%(nct_id)s is not a trial open for screening."), code="not_open", params={"nct_id": nct_id}
                    ),
                )
            for error in _more(len(closed)):
                self.add_error("trials", error)
            chosen = [n for n in listed if n in self.open]
            if not listed and "trials" not in self.errors:
                self.add_error(
                    "trials",
                    forms.ValidationError(_("Choose at least one trial, or all open trials."), code="none_chosen"),
                )
        cleaned["chosen"] = [self.open[n][0] for n in chosen]
        return cleaned

    def matching(self, condition: str, phases) -> list[str]:
        """Open trials with a condition containing `condition` (any case) and one of `phases` (either may be empty)."""
        text = condition.strip().lower()
        return [
            nct_id
            for nct_id, (_pk, _nct, _title, conditions, phase) in self.open.items()
            if (not phases or phase in phases) and (not text or any(text in str(c).lower() for c in conditions or ()))
        ]

    def found(self) -> tuple[list[tuple], int]:
        """The search's results (NCT id, title, conditions, phase), at most SHOWN_MATCHES, and how many match.
        With nothing to find, every open trial when they are few enough to list."""
        text = (self["find"].value() or "").strip().lower()
        if not text and len(self.open) > SHOWN_MATCHES:
            return [], 0
        rows = [
            (nct_id, title, conditions, phase)
            for nct_id, (_pk, _nct, title, conditions, phase) in self.open.items()
            if not text or text in f"{nct_id} {title} {' '.join(map(str, conditions or ()))}".lower()
        ]
        return rows[:SHOWN_MATCHES], len(rows)

    def selected(self) -> int | None:
        """How many trials the form selects as it stands (None when it cannot tell)."""
        if not self.is_bound:
            return len(self.open)  # all open trials, the default
        data = getattr(self, "cleaned_data", None)
        if data is None or "chosen" not in data:
            return None
        return len(data["chosen"])

    def suggestions(self, limit: int = 50) -> list[str]:
        """The conditions most open trials are for, to offer while typing one."""
        counts = Counter(str(c) for row in self.open.values() for c in row[3] or ())
        return [c for c, _ in counts.most_common(limit)]

    def listed_text(self) -> str:
        """The chosen NCT ids as the page shows them again: as typed, with the ticked search results added."""
        if not self.is_bound:
            return ""
        typed = (self["trials"].value() or "").strip()
        present = {w.upper() for w in re.split(r"[\s,;]+", typed)}
        added = [n for n in getattr(self, "cleaned_data", {}).get("add") or [] if n not in present]
        return "\n".join([typed, *added]).strip()


class MeasureWidget(forms.MultiWidget):
    template_name = "screening/widgets/measure.html"
    # A <label> for the number box rather than Django's <fieldset>/<legend> for a MultiWidget, which leaves the
    # number box without an accessible name (axe: label, critical).
    use_fieldset = False

    def __init__(self, unit_choices, attrs=None):
        widgets = (
            forms.NumberInput(attrs={"step": "any", "inputmode": "decimal", "class": "form-control"}),
            forms.Select(choices=unit_choices, attrs={"class": "form-select", "aria-label": _("unit")}),
        )
        super().__init__(widgets, attrs)

    def id_for_label(self, id_):
        # The question's <label> names the number box (Django's MultiWidget labels none of its boxes); the unit
        # chooser has its own aria-label.
        return f"{id_}_0" if id_ else id_

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
        self.unit_choices = [(u, unit_name(u)) for u in units.units_for(question.unit)]
        fields = (forms.FloatField(required=False), forms.ChoiceField(choices=self.unit_choices, required=False))
        kwargs["required"] = False
        super().__init__(fields, require_all_fields=False, widget=MeasureWidget(self.unit_choices), **kwargs)
        self.widget.widgets[1].attrs["aria-label"] = _("Unit of %(question)s") % {"question": question.label}

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


class IsoDateField(forms.DateField):
    """A date typed as YYYY-MM-DD and nothing else (what the date picker sends, and what every message asks for):
    Django's DateField would also read 10/24/2026, spaces around it, and more. The same rule as
    eligibility.answers.parse_iso_date, which the API and the `screen` command use."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, date):
            return value
        if isinstance(value, str) and ISO_DATE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass  # 2026-02-30
        raise forms.ValidationError(_("Enter a real date as YYYY-MM-DD (e.g. 2012-03-04)."), code="invalid")


NOT_ANSWERED = gettext_lazy("Not answered")
YES_NO = [("", NOT_ANSWERED), ("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No"))]


class QuestionnaireForm(forms.Form):
    """One field per question the chosen trials use. Empty means 'not answered' (unknown), never 'no'."""

    def __init__(self, questions, *args, as_of: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = {q.code: q for q in questions}
        self.as_of = as_of or timezone.localdate()
        self.contradictions: list[contradictions.Contradiction] = []
        self.contradicted: dict = {}
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
            # The input takes (and a browser without a date picker shows) YYYY-MM-DD, whatever the page's language.
            hint = _("Format: YYYY-MM-DD.")
            common["help_text"] = f"{q.help_text} {hint}" if q.help_text else hint
            return IsoDateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common)
        if q.type == CHOICE:
            return forms.ChoiceField(choices=[("", NOT_ANSWERED), *map(tuple, q.choices)], **common)
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
                    self.add_error(code, _("%(date)s is in the future.") % {"date": value.isoformat()})
                elif value.year < 1900:
                    self.add_error(code, _("%(date)s is implausibly long ago.") % {"date": value.isoformat()})
        valid = {code: value for code, value in cleaned.items() if code not in self.errors and value is not None}
        # The one contradiction policy (the API and the pipeline use it too), on each field involved: both fields
        # of a pair show it, and neither answer reaches the engine (partial_answers leaves fields in error out).
        # The whole catalogue gives the plausible ranges even of questions these trials do not ask.
        self.contradictions = contradictions.find(valid, {**catalogue(), **self.specs()}, self.as_of)
        # add_error drops a field from cleaned_data: the contradicted values are kept for partial_answers.
        self.contradicted = {code: valid[code] for c in self.contradictions for code in c.questions if code in valid}
        for found in self.contradictions:
            for code in found.questions:
                if code in self.fields:
                    self.add_error(code, forms.ValidationError(sentence(found.message), code=found.code))
        return cleaned

    def specs(self) -> dict:
        return {code: q.spec() for code, q in self.questions.items()}

    def answers(self) -> dict:
        """Typed answers for the engine (only answered questions)."""
        out = {}
        for code, value in self.cleaned_data.items():
            if value in (None, "", [], ()):
                continue
            out[code] = tuple(value) if isinstance(value, list) else value
        return out

    def partial_answers(self) -> dict:
        """After a failed validation: the answers that are valid, so results still update. Answers valid alone that
        contradict each other are kept: the pipeline finds the same contradictions, leaves them out of what it
        screens and says why each criterion that needs them is open."""
        kinds = {c.code for c in self.contradictions}
        errors = self.errors.as_data() if self.is_bound else {}
        values = {**getattr(self, "cleaned_data", {}), **self.contradicted}
        return {
            code: (tuple(v) if isinstance(v, list) else v)
            for code, v in values.items()
            if v not in (None, "", [], ()) and all(e.code in kinds for e in errors.get(code, ()))
        }

    def notes(self, derived: dict) -> dict:
        """Per question: ("error", message), ("derived", value) or ("converted", canonical value)."""
        notes = {}
        for code, q in self.questions.items():
            if self.is_bound and code in self.errors:
                notes[code] = ("error", " ".join(self.errors[code]))
            elif code in derived:
                if code == "age":
                    text = _("Calculated from the date of birth: %(value)s") % {"value": derived[code]}
                elif code == "bmi":
                    text = _("Calculated from height and weight: %(value)s") % {"value": derived[code]}
                else:
                    text = derived[code]
                notes[code] = ("derived", text)
            elif self.is_bound and q.type == NUMBER and self.cleaned_data.get(code) is not None:
                unit = self.data.get(f"{code}_1") or q.unit
                if unit != q.unit:
                    notes[code] = ("converted", f"= {format_number(self.cleaned_data[code])} {unit_name(q.unit)}")
        return notes

    def sections(self):
        """(section label, [bound fields]) in catalogue order, for the template."""
        grouped = {}
        for code, q in self.questions.items():
            grouped.setdefault(q.get_section_display(), []).append(self[code])
        order = [label for _, label in Question.Section.choices]
        return sorted(grouped.items(), key=lambda item: order.index(item[0]))


def _as_typed(value) -> str:
    """A saved number as the clinician typed it: 10, not the 10.0 a float shows; never rounded (a converted
    value such as 69.8532… kg keeps every digit, so saving the reopened form again changes nothing)."""
    text = format_number(value)
    try:
        return text if float(text) == value else repr(value)
    except (TypeError, ValueError):
        return str(value)


def sentence(message: str) -> str:
    """An engine message ("age 40 years does not match …") as a sentence for the page."""
    if not message or message[-1] in ".。":
        return message[:1].upper() + message[1:]
    # A sentence in Chinese ends with "。" (an engine message is worded in the active language).
    end = "。" if "\u3400" <= message[-1] <= "\u9fff" or message[-1] in "）”" else "."
    return message[:1].upper() + message[1:] + end


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
            initial[code] = [_as_typed(value), q.unit]
        elif q.type == DATE:
            initial[code] = date.fromisoformat(value) if isinstance(value, str) else value
        else:
            initial[code] = value
    return initial
