"""The rule builder in the criterion form: its widget, its field, and the context its template draws from.

Shared by the change form (curation/admin/criteria.py) and the builder's live refresh (curation/admin/views.py).
"""

from django import forms
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext

from trials.models import Question

from .. import rule_builder
from .page import memo, page_questions


def question_options() -> list[tuple[str, list[dict]]]:
    """The catalogue for the builder's question select, grouped by section."""
    grouped: dict[str, list[dict]] = {label: [] for label in Question.Section.labels}
    sections = dict(Question.Section.choices)
    for q in Question.objects.all():
        label = sections.get(q.section, q.section)
        grouped.setdefault(label, []).append({"code": q.code, "name": q.short_label or q.label})
    return [(label, options) for label, options in grouped.items() if options]


def builder_context(state: rule_builder.BuilderState) -> dict:
    return {
        "state": state,
        "url": reverse("admin:trials_criterion_rule_builder"),
        "questions": memo("question_options", question_options),
        "group_choices": [(k, gettext(rule_builder.GROUP_LABELS[k])) for k in rule_builder.GROUP_KINDS],
        "root_choices": [
            (k, gettext(rule_builder.GROUP_LABELS[k])) for k in rule_builder.GROUP_KINDS + (rule_builder.NONE,)
        ],
        "duration_units": [(u, gettext(rule_builder.DURATION_LABELS[u])) for u in rule_builder.DURATION_CHOICES],
        "max_group_depth": 3,
        "json_rows": min(max(3, state.json_text.count("\n") + 2), 24),
    }


class RuleBuilderWidget(forms.Widget):
    """The rule as a tree of form inputs, its plain words beside it, and the raw JSON below."""

    template_name = "admin/trials/criterion/rule_builder.html#builder"

    def value_from_datadict(self, data, files, name):
        return rule_builder.read(data, page_questions())

    def value_omitted_from_data(self, data, files, name):
        return False

    def id_for_label(self, id_):
        return None

    def render(self, name, value, attrs=None, renderer=None):
        # Rendered with the project's template engine: the form renderer does not see templates/.
        if not isinstance(value, rule_builder.BuilderState):
            value = rule_builder.initial(value, page_questions())
        elif value.action:
            value.note = "Updated. Nothing is saved until you press Save."
        return render_to_string(self.template_name, builder_context(value))


class RuleField(forms.Field):
    """A criterion's rule from the builder or its JSON text; every problem is an error, nothing is saved."""

    widget = RuleBuilderWidget

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, value):
        state = value if isinstance(value, rule_builder.BuilderState) else rule_builder.initial(value, page_questions())
        if state.action:
            # A builder button pressed without JavaScript: show the updated builder, save nothing.
            raise ValidationError(gettext("The rule was updated below; press Save to keep it."), code="builder_updated")
        if state.problems:
            raise ValidationError([ValidationError(str(p), code=p.code) for p in state.problems])
        return state.rule

    def has_changed(self, initial, data):
        if isinstance(data, rule_builder.BuilderState):
            return bool(data.action or data.problems) or data.rule != initial
        return data != initial
