"""Example patients in the admin: edited inline on their trial, how they fare after each change, and the confirm
step before a change that would make some fail."""

import hashlib
import json

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..models import ExamplePatient
from .page import LabelledInlineFormSet, StorableJSONMixin, page_questions


class ExamplePatientInline(StorableJSONMixin, admin.TabularInline):
    formset = LabelledInlineFormSet
    model = ExamplePatient
    extra = 0
    fields = ("name", "as_of", "expected_verdict", "answers", "note", "result")
    readonly_fields = ("result",)
    formfield_overrides = {
        models.JSONField: {"widget": forms.Textarea(attrs={"rows": 4, "cols": 48, "class": "json"})},
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 30})},
    }

    @admin.display(description=_("now"))
    def result(self, obj):
        if obj.pk is None:
            return ""
        result = obj.evaluate(page_questions())
        label = gettext("pass") if result.passed else gettext("FAIL")
        return format_html('<span class="example-{}">{}</span>', "pass" if result.passed else "fail", label)


def report_examples(request, trial) -> None:
    """After a change, say how the trial's example patients fare under its rules now."""
    results = ExamplePatient.objects.filter(trial_id=trial.pk).results(page_questions())
    if not results:
        return
    failed = [r for r in results if not r.passed]
    url = reverse("admin:trials_trial_change", args=[trial.pk]) + "#example-results"
    if not failed:
        messages.success(
            request,
            format_html(
                gettext('Example patients of {}: all {} pass. <a href="{}">See them</a>'),
                trial.nct_id,
                len(results),
                url,
            ),
        )
        return
    names = ", ".join(
        gettext("“%(name)s” (expected %(expected)s, now %(now)s)")
        % {
            "name": r.example.name,
            "expected": r.example.get_expected_verdict_display().lower(),
            "now": _verdict_label(r.actual),
        }
        for r in failed
    )
    messages.warning(
        request,
        format_html(
            gettext('Example patients of {}: {} of {} fail: {}. <a href="{}">See why</a>'),
            trial.nct_id,
            len(failed),
            len(results),
            names,
            url,
        ),
    )


def _verdict_label(verdict) -> str:
    if verdict is None:
        return gettext("invalid answers")
    return ExamplePatient.Verdict(verdict).label.lower()


# The confirm step when a change would break example patients: the preview's "Save anyway" button posts
# CONFIRM = "<the save button first pressed>:<fingerprint of the change shown>"; the form then finds CONFIRMED.
CONFIRM = "_confirm_examples"
CONFIRMED = "_examples_confirmed"
SAVE_BUTTONS = ("_save", "_continue", "_addanother", "_approve")


def fingerprint(version: int, criteria, deleted=()) -> str:
    """What the admin confirms: these criteria's kinds, rules and states (and those deleted), on top of this
    criteria version. Anything else edited since the preview makes another change, previewed again."""
    rows = sorted(([c.pk or 0, c.kind, c.rule_status, c.rule] for c in criteria), key=lambda row: row[0])
    text = json.dumps([version, rows, sorted(deleted)], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def preview(request, trial, changes, fingerprint_: str) -> dict:
    action = next((name for name in SAVE_BUTTONS if name in request.POST), "_save")
    return {"changes": changes, "confirm": f"{action}:{fingerprint_}", "trial": trial}


class ExamplePreviewMixin:
    """Reads "Save anyway" as the save button first pressed, with the fingerprint of the change the admin saw."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and CONFIRM in request.POST:
            action, _, confirmed = request.POST[CONFIRM].partition(":")
            post = request.POST.copy()
            if action in SAVE_BUTTONS:
                post[action] = "Save"
            post[CONFIRMED] = confirmed
            request.POST = post
        return super().changeform_view(request, object_id, form_url, extra_context)
