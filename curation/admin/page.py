"""What every page of the curation admin shares: one catalogue per page, JSON fields the database can store,
and a criterion's rule state."""

import contextvars
import unicodedata
from contextlib import contextmanager

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.fields import InvalidJSONInput
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from eligibility import jsontext
from trials.models import Criterion, catalogue

ADMIN_CSS = {"all": ["css/admin.css"]}

# --------------------------------------------------------------------------------------------
# One catalogue (and one question-usage map) per admin page. catalogue() costs a query per call and
# list pages call it per row; admin display methods get no request to cache on, so the page's view
# opens a per-request memo and renders inside it (a TemplateResponse would otherwise render later).

_page_memo: contextvars.ContextVar = contextvars.ContextVar("curation_admin_page_memo", default=None)


@contextmanager
def one_page():
    if _page_memo.get() is not None:  # already inside one page's memo
        yield
        return
    token = _page_memo.set({})
    try:
        yield
    finally:
        _page_memo.reset(token)


def memo(key, compute):
    values = _page_memo.get()
    if values is None:
        return compute()
    if key not in values:
        values[key] = compute()
    return values[key]


def page_questions():
    return memo("catalogue", catalogue)


def rendered(response):
    if hasattr(response, "render") and not response.is_rendered:
        response.render()
    return response


class StorableJSONField(forms.JSONField):
    """A JSON field of the admin, read by eligibility/jsontext.py (so what passes, the database can store) and of the
    shape of the model field's default, a list or an object; left empty, it is that empty shape."""

    def __init__(self, *, shape: type | None = None, **kwargs):
        self.shape = shape
        super().__init__(**kwargs)

    def to_python(self, value):
        if self.disabled or isinstance(value, (list, dict)):
            return value
        if value in self.empty_values or not str(value).strip():
            return self.shape() if self.shape else None
        try:
            converted = jsontext.loads(value)
        except ValueError as exc:
            raise ValidationError(_("Not valid JSON: %(problem)s."), code="invalid", params={"problem": exc}) from None
        if self.shape is not None and not isinstance(converted, self.shape):
            raise ValidationError(
                _("Enter a JSON %(shape)s, e.g. %(example)s."),
                code="shape",
                params={
                    "shape": gettext("list") if self.shape is list else gettext("object"),
                    "example": '["Type 1 diabetes"]' if self.shape is list else '{"bmi": 31.5}',
                },
            )
        return converted

    def bound_data(self, data, initial):
        # Redisplayed after an error: Django's own json.loads here would fail on what to_python refused.
        if self.disabled:
            return initial
        if data is None:
            return None
        try:
            return jsontext.loads(data)
        except ValueError:
            return InvalidJSONInput(data)


class LinesField(forms.Field):
    """A list of short texts (a trial's conditions, keywords, sites) edited one per line.

    Lines are stripped and blank ones dropped; every problem (a line too long, a control character, a line listed
    twice, a pasted JSON list) is reported at once, with its line number, and nothing is saved.
    """

    widget = forms.Textarea
    max_line = 500
    max_lines = 5000

    def __init__(self, *, item_name: str = "item", encoder=None, decoder=None, **kwargs):
        # encoder and decoder: what the model's JSONField hands every form field it makes (a list of strings
        # needs neither).
        self.item_name = item_name
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, (list, tuple)):
            return "\n".join(str(item) for item in value)
        return value

    def to_python(self, value):
        if isinstance(value, list):
            return value
        if value in self.empty_values:
            return []
        lines = [(n, line.strip()) for n, line in enumerate(str(value).splitlines(), start=1)]
        lines = [(n, line) for n, line in lines if line]
        problems, seen = [], {}
        if len(lines) > self.max_lines:
            problems.append(
                ValidationError(
                    _("At most %(max)s lines, one %(item)s per line (got %(count)s)."),
                    code="too_many",
                    params={"max": self.max_lines, "item": self.item_name, "count": len(lines)},
                )
            )
        for n, line in lines:
            params = {"line": n, "item": self.item_name, "max": self.max_line}
            if line.startswith("[") and line.endswith("]"):
                problems.append(
                    ValidationError(
                        _(
                            "Line %(line)s looks like a JSON list: write one %(item)s per line, without brackets or quotes."
                        ),
                        code="json_list",
                        params=params,
                    )
                )
            elif any(unicodedata.category(ch) == "Cc" for ch in line):
                problems.append(
                    ValidationError(
                        _("Line %(line)s has a control character (such as a tab or NUL): remove it."),
                        code="control_character",
                        params=params,
                    )
                )
            elif len(line) > self.max_line:
                problems.append(
                    ValidationError(
                        _("Line %(line)s is longer than %(max)s characters: are several run together?"),
                        code="too_long",
                        params=params,
                    )
                )
            elif line.casefold() in seen:
                problems.append(
                    ValidationError(
                        _("Line %(line)s repeats line %(first)s (“%(text)s”): list each %(item)s once."),
                        code="duplicate",
                        params={**params, "first": seen[line.casefold()], "text": line},
                    )
                )
            seen.setdefault(line.casefold(), n)
        if problems:
            raise ValidationError(problems)
        return [line for _, line in lines]


# A trial's lists of short texts, edited one per line rather than as JSON.
LINE_LISTS = {"conditions": _("condition"), "keywords": _("keyword"), "sites": _("site")}


class StorableJSONMixin:
    """Every JSON field of this admin is a StorableJSONField."""

    line_lists: dict[str, str] = {}  # field name → what one line holds, for the fields edited one per line

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in self.line_lists:
            kwargs["form_class"] = LinesField
            kwargs["item_name"] = self.line_lists[db_field.name]
            kwargs["widget"] = forms.Textarea(attrs={"rows": 4, "cols": 60, "class": "lines"})
            help_text = db_field.help_text or ""
            kwargs["help_text"] = (
                format_lazy("{} {}", help_text, _("One per line.")) if help_text else _("One per line.")
            )
            return db_field.formfield(**kwargs)
        if isinstance(db_field, models.JSONField):
            default = db_field.get_default()
            kwargs["form_class"] = StorableJSONField
            kwargs["shape"] = type(default) if isinstance(default, (list, dict)) else None
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class OnePageMixin:
    """Admin views rendered with one catalogue per page (see one_page)."""

    def changelist_view(self, request, extra_context=None):
        with one_page():
            return rendered(super().changelist_view(request, extra_context))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        with one_page():
            return rendered(super().changeform_view(request, object_id, form_url, extra_context))


def rule_state(criterion) -> str:
    if criterion.rule is None:
        return "needs review"
    return "draft" if criterion.rule_status == Criterion.RuleStatus.DRAFT else "approved"


# rule_state()'s values, marked for translation (they are CSS classes too, so they stay English in the code).
STATE_WORDS = {
    "needs review": gettext_noop("needs review"),
    "draft": gettext_noop("draft"),
    "approved": gettext_noop("approved"),
}


def state_badge(criterion):
    state = rule_state(criterion)
    return format_html('<span class="state state-{}">{}</span>', state.replace(" ", "-"), gettext(STATE_WORDS[state]))


class LabelledInlineFormSet(forms.BaseInlineFormSet):
    """A tabular inline's fields have their column header for a visual label, which screen readers (and axe) do
    not connect to them: each field gets an accessible name of its own, the column and the row ("Kind, row 2")."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        for name, field in form.fields.items():
            if field.widget.is_hidden:
                continue
            column = field.label if field.label is not None else name.replace("_", " ")
            if index is None:  # the template row "Add another" copies
                words = gettext("%(column)s, new row") % {"column": column}
            else:
                words = gettext("%(column)s, row %(row)s") % {"column": column, "row": index + 1}
            field.widget.attrs["aria-label"] = words
