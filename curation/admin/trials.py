"""The trial list and a trial's page: criteria and example patients inline, and its criteria versions."""

from collections import Counter

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Q
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from eligibility.rules import describe
from prescreen.roles import COORDINATOR
from trials.models import Criterion, Trial

from ..models import ExamplePatient, rules_with
from .examples import CONFIRMED, ExamplePatientInline, ExamplePreviewMixin, fingerprint, preview, report_examples
from .page import (
    ADMIN_CSS,
    LINE_LISTS,
    LabelledInlineFormSet,
    OnePageMixin,
    StorableJSONMixin,
    one_page,
    page_questions,
    rendered,
    state_badge,
)
from .views import criteria_versions_view


class NeedsReviewFilter(admin.SimpleListFilter):
    title = _("criteria needing review")
    parameter_name = "needs_review"

    def lookups(self, request, model_admin):
        return [("none", _("None")), ("some", _("Some"))]

    def queryset(self, request, queryset):
        # `needs_review` is annotated by TrialAdmin.get_queryset.
        if self.value() == "none":
            return queryset.filter(needs_review=0)
        if self.value() == "some":
            return queryset.filter(needs_review__gt=0)
        return queryset


class ConditionFilter(admin.SimpleListFilter):
    title = _("condition")
    parameter_name = "condition"
    shown = 25  # the most common ones; search finds the rest

    def lookups(self, request, model_admin):
        counts = Counter(
            c for conditions in Trial.objects.values_list("conditions", flat=True) for c in conditions or []
        )
        return [(c, f"{c} ({n})") for c, n in counts.most_common(self.shown)]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        # In Python: SQLite has no JSON containment lookup.
        ids = [
            pk for pk, conditions in Trial.objects.values_list("pk", "conditions") if self.value() in (conditions or [])
        ]
        return queryset.filter(pk__in=ids)


class CriterionInlineFormSet(LabelledInlineFormSet):
    """The trial page's criteria: a kind changed, a criterion deleted or added here changes verdicts as a rule does,
    so the example patients it would make fail are shown first and nothing is saved until confirmed."""

    example_changes: list = []
    change_fingerprint = ""

    def clean(self):
        super().clean()
        trial = self.instance
        if any(self.errors) or trial.pk is None:
            return
        deleted = [f.instance.pk for f in self.forms if self._should_delete_form(f) and f.instance.pk is not None]
        edited = [f.instance for f in self.forms if not self._should_delete_form(f) and f.has_changed()]
        if not edited and not deleted:
            return
        self.example_changes = ExamplePatient.objects.filter(trial=trial).changes_if(
            rules_with(trial, *edited, deleted=deleted), page_questions()
        )
        self.change_fingerprint = fingerprint(trial.criteria_version, edited, deleted)
        if any(c.breaks for c in self.example_changes) and self.data.get(CONFIRMED) != self.change_fingerprint:
            raise ValidationError(
                _(
                    "Not saved yet: these criteria would make example patients fail (above). Save anyway, or change them."
                ),
                code="examples_change",
            )


class CriterionInline(admin.TabularInline):
    model = Criterion
    formset = CriterionInlineFormSet
    extra = 0
    fields = ("order", "kind", "text", "rule_in_words", "state", "edit")
    readonly_fields = ("rule_in_words", "state", "edit")
    ordering = ("order", "pk")
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 60})}}

    @admin.display(description=_("rule"))
    def rule_in_words(self, obj):
        if obj.pk is None:
            return ""
        return describe(obj.rule, page_questions()) if obj.rule is not None else "—"

    @admin.display(description=_("state"))
    def state(self, obj):
        return state_badge(obj) if obj.pk else ""

    @admin.display(description="")
    def edit(self, obj):
        if obj.pk is None:
            return ""
        url = reverse("admin:trials_criterion_change", args=[obj.pk])
        return format_html('<a href="{}" class="button">{}</a>', url, gettext("Edit rule"))


@admin.register(Trial)
class TrialAdmin(ExamplePreviewMixin, StorableJSONMixin, OnePageMixin, SimpleHistoryAdmin):
    list_display = ("nct_id", "brief_title", "overall_status", "phase", "is_open", "needs_review_count", "version")
    list_filter = ("overall_status", "phase", ConditionFilter, "open_for_screening", NeedsReviewFilter)
    search_fields = ("nct_id", "brief_title", "brief_title_zh_hans", "official_title", "conditions")
    readonly_fields = ("criteria_version",)
    line_lists = LINE_LISTS
    inlines = [CriterionInline, ExamplePatientInline]
    change_form_template = "admin/trials/trial/change_form.html"

    class Media:
        css = ADMIN_CSS

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "coordinators":
            # Only people who can review referrals: a clinician or an admin named here would see no candidates,
            # and the trial's referrals would wait for nobody.
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(is_active=True, groups__name=COORDINATOR)
                .distinct()
                .order_by("username")
            )
            kwargs.setdefault(
                "help_text", _("Active members of the Coordinator group who review this trial's referrals.")
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                needs_review=Count(
                    "criteria",
                    filter=Q(criteria__rule__isnull=True) | Q(criteria__rule_status=Criterion.RuleStatus.DRAFT),
                ),
            )
        )

    @admin.display(description=_("open"), boolean=True, ordering="open_for_screening")
    def is_open(self, obj):
        return obj.open_for_screening

    @admin.display(description=_("version"), ordering="criteria_version")
    def version(self, obj):
        return obj.criteria_version

    @admin.display(description=_("to review"), ordering="needs_review")
    def needs_review_count(self, obj):
        if not obj.needs_review:
            return 0
        url = reverse("admin:trials_criterion_changelist") + f"?q={obj.nct_id}&state=to_curate"
        return format_html('<a href="{}" title="Criteria with no rule or a draft rule">{}</a>', url, obj.needs_review)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/criteria/",
                self.admin_site.admin_view(lambda request, object_id: criteria_versions_view(self, request, object_id)),
                name="trials_trial_criteria_versions",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        with one_page():
            trial = self.get_object(request, unquote(object_id))
            if trial is not None:
                results = trial.examples.results(page_questions())
                extra_context = {
                    **(extra_context or {}),
                    "example_results": results,
                    "examples_failed": sum(1 for r in results if not r.passed),
                }
            return rendered(super().change_view(request, object_id, form_url, extra_context))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        for inline in context.get("inline_admin_formsets", []):
            formset = inline.formset
            if not isinstance(formset, CriterionInlineFormSet) or not formset.is_bound:
                continue
            if [e.code for e in formset.non_form_errors().as_data()] == ["examples_change"]:
                # Not an error: the preview of what the change does to the examples, with its confirm button.
                context["example_preview"] = preview(
                    request, formset.instance, formset.example_changes, formset.change_fingerprint
                )
                formset._non_form_errors = formset.error_class([], renderer=formset.renderer)
                context["errors"] = helpers.AdminErrorList(
                    context["adminform"].form, [i.formset for i in context["inline_admin_formsets"]]
                )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        report_examples(request, form.instance)
