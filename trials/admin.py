"""The admin: where trials are imported and curated (criteria as rules, example patients, versions)."""

import contextvars
import difflib
from collections import Counter, defaultdict
from contextlib import contextmanager

from django import forms
from django.forms.fields import InvalidJSONInput
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from simple_history.admin import SimpleHistoryAdmin

from eligibility import engine
from eligibility.rules import describe, validate_rule

from eligibility import jsontext
from . import ctgov, rule_builder
from .models import Criterion, ExamplePatient, ImportJob, Question, Trial, catalogue

ADMIN_CSS = {"all": ["css/admin.css"]}

# --------------------------------------------------------------------------------------------
# One catalogue (and one question-usage map) per admin page. catalogue() costs a query per call and
# list pages call it per row; admin display methods get no request to cache on, so the page's view
# opens a per-request memo and renders inside it (a TemplateResponse would otherwise render later).

_page_memo: contextvars.ContextVar = contextvars.ContextVar("trials_admin_page_memo", default=None)


@contextmanager
def _one_page():
    if _page_memo.get() is not None:  # already inside one page's memo
        yield
        return
    token = _page_memo.set({})
    try:
        yield
    finally:
        _page_memo.reset(token)


def _memo(key, compute):
    memo = _page_memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def _questions():
    return _memo("catalogue", catalogue)


def _rendered(response):
    if hasattr(response, "render") and not response.is_rendered:
        response.render()
    return response


class StorableJSONField(forms.JSONField):
    """A JSON field of the admin, read by trials/jsontext.py (so what passes, the database can store) and of the
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
            raise ValidationError("Not valid JSON: %(problem)s.", code="invalid", params={"problem": exc}) from None
        if self.shape is not None and not isinstance(converted, self.shape):
            raise ValidationError("Enter a JSON %(shape)s, e.g. %(example)s.", code="shape", params={
                "shape": "list" if self.shape is list else "object",
                "example": '["Type 1 diabetes"]' if self.shape is list else '{"bmi": 31.5}'})
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


class StorableJSONMixin:
    """Every JSON field of this admin is a StorableJSONField."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.JSONField):
            default = db_field.get_default()
            kwargs["form_class"] = StorableJSONField
            kwargs["shape"] = type(default) if isinstance(default, (list, dict)) else None
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class OnePageMixin:
    """Admin views rendered with one catalogue per page (see _one_page)."""

    def changelist_view(self, request, extra_context=None):
        with _one_page():
            return _rendered(super().changelist_view(request, extra_context))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        with _one_page():
            return _rendered(super().changeform_view(request, object_id, form_url, extra_context))


def rule_state(criterion) -> str:
    if criterion.rule is None:
        return "needs review"
    return "draft" if criterion.rule_status == Criterion.RuleStatus.DRAFT else "approved"


def _state_badge(criterion):
    state = rule_state(criterion)
    return format_html('<span class="state state-{}">{}</span>', state.replace(" ", "-"), state)


# --------------------------------------------------------------------------------------------
# Trials


class NeedsReviewFilter(admin.SimpleListFilter):
    title = "criteria needing review"
    parameter_name = "needs_review"

    def lookups(self, request, model_admin):
        return [("none", "None"), ("some", "Some")]

    def queryset(self, request, queryset):
        # `needs_review` is annotated by TrialAdmin.get_queryset.
        if self.value() == "none":
            return queryset.filter(needs_review=0)
        if self.value() == "some":
            return queryset.filter(needs_review__gt=0)
        return queryset


class ConditionFilter(admin.SimpleListFilter):
    title = "condition"
    parameter_name = "condition"
    shown = 25  # the most common ones; search finds the rest

    def lookups(self, request, model_admin):
        counts = Counter(c for conditions in Trial.objects.values_list("conditions", flat=True) for c in conditions or [])
        return [(c, f"{c} ({n})") for c, n in counts.most_common(self.shown)]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        # In Python: SQLite has no JSON containment lookup.
        ids = [pk for pk, conditions in Trial.objects.values_list("pk", "conditions") if self.value() in (conditions or [])]
        return queryset.filter(pk__in=ids)


class CriterionInline(admin.TabularInline):
    model = Criterion
    extra = 0
    fields = ("order", "kind", "text", "rule_in_words", "state", "edit")
    readonly_fields = ("rule_in_words", "state", "edit")
    ordering = ("order", "pk")
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 60})}}

    @admin.display(description="rule")
    def rule_in_words(self, obj):
        if obj.pk is None:
            return ""
        return describe(obj.rule, _questions()) if obj.rule is not None else "—"

    @admin.display(description="state")
    def state(self, obj):
        return _state_badge(obj) if obj.pk else ""

    @admin.display(description="")
    def edit(self, obj):
        if obj.pk is None:
            return ""
        url = reverse("admin:trials_criterion_change", args=[obj.pk])
        return format_html('<a href="{}" class="button">Edit rule</a>', url)


class ExamplePatientInline(StorableJSONMixin, admin.TabularInline):
    model = ExamplePatient
    extra = 0
    fields = ("name", "as_of", "expected_verdict", "answers", "note", "result")
    readonly_fields = ("result",)
    formfield_overrides = {
        models.JSONField: {"widget": forms.Textarea(attrs={"rows": 4, "cols": 48, "class": "json"})},
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 30})},
    }

    @admin.display(description="now")
    def result(self, obj):
        if obj.pk is None:
            return ""
        result = obj.evaluate(_questions())
        label = "pass" if result.passed else "FAIL"
        return format_html('<span class="example-{}">{}</span>', "pass" if result.passed else "fail", label)


@admin.register(Trial)
class TrialAdmin(StorableJSONMixin, OnePageMixin, SimpleHistoryAdmin):
    list_display = ("nct_id", "brief_title", "overall_status", "phase", "is_open", "needs_review_count", "version")
    list_filter = ("overall_status", "phase", ConditionFilter, "open_for_screening", NeedsReviewFilter)
    search_fields = ("nct_id", "brief_title", "official_title", "conditions")
    readonly_fields = ("criteria_version",)
    inlines = [CriterionInline, ExamplePatientInline]
    change_form_template = "admin/trials/trial/change_form.html"

    class Media:
        css = ADMIN_CSS

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            needs_review=Count("criteria", filter=Q(criteria__rule__isnull=True) | Q(criteria__rule_status=Criterion.RuleStatus.DRAFT)),
        )

    @admin.display(description="open", boolean=True, ordering="open_for_screening")
    def is_open(self, obj):
        return obj.open_for_screening

    @admin.display(description="version", ordering="criteria_version")
    def version(self, obj):
        return obj.criteria_version

    @admin.display(description="to review", ordering="needs_review")
    def needs_review_count(self, obj):
        if not obj.needs_review:
            return 0
        url = reverse("admin:trials_criterion_changelist") + f"?q={obj.nct_id}&state=to_curate"
        return format_html('<a href="{}" title="Criteria with no rule or a draft rule">{}</a>', url, obj.needs_review)

    def get_urls(self):
        from .admin_views import criteria_versions_view

        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="trials_trial_import"),
            path("import/<int:job_id>/", self.admin_site.admin_view(self.import_job_view),
                 name="trials_trial_import_job"),
            path("<path:object_id>/criteria/", self.admin_site.admin_view(lambda request, object_id: criteria_versions_view(self, request, object_id)),
                 name="trials_trial_criteria_versions"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        with _one_page():
            trial = self.get_object(request, unquote(object_id))
            if trial is not None:
                results = trial.examples.results(_questions())
                extra_context = {**(extra_context or {}), "example_results": results,
                                 "examples_failed": sum(1 for r in results if not r.passed)}
            return _rendered(super().change_view(request, object_id, form_url, extra_context))

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        report_examples(request, form.instance)

    def import_view(self, request):
        """Upload ClinicalTrials.gov records (linked from the trial list): starts an import job and shows it."""
        from .importer import start_job

        self._check_import_permission(request)
        form = ImportCtgovForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            raw = upload.read()
            job = ImportJob.objects.create(file_name=upload.name, size=len(raw), started_by=request.user)
            start_job(job, raw)
            return HttpResponseRedirect(reverse("admin:trials_trial_import_job", args=[job.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import from ClinicalTrials.gov",
            "form": form,
            "jobs": ImportJob.objects.select_related("started_by")[:10],
        }
        return TemplateResponse(request, "admin/trials/trial/import_ctgov.html", context)

    def import_job_view(self, request, job_id):
        """One import: a progress bar while it runs (htmx polls the #status partial), then its summary."""
        self._check_import_permission(request)
        job = ImportJob.objects.select_related("started_by").filter(pk=job_id).first()
        if job is None:
            raise Http404("No such import")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Import of {job.file_name}",
            "job": job,
            "progress": job.progress(),
        }
        template = "admin/trials/trial/import_job.html"
        if request.htmx:
            template += "#status"
        response = TemplateResponse(request, template, context)
        patch_vary_headers(response, ["HX-Request"])
        return response

    def _check_import_permission(self, request):
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied


def report_examples(request, trial) -> None:
    """After a change, say how the trial's example patients fare under its rules now."""
    results = ExamplePatient.objects.filter(trial_id=trial.pk).results(_questions())
    if not results:
        return
    failed = [r for r in results if not r.passed]
    url = reverse("admin:trials_trial_change", args=[trial.pk]) + "#example-results"
    if not failed:
        messages.success(request, format_html(
            'Example patients of {}: all {} pass. <a href="{}">See them</a>', trial.nct_id, len(results), url))
        return
    names = ", ".join(f"“{r.example.name}” (expected {r.example.get_expected_verdict_display().lower()}, now "
                      f"{_verdict_label(r.actual)})" for r in failed)
    messages.warning(request, format_html(
        'Example patients of {}: {} of {} fail: {}. <a href="{}">See why</a>',
        trial.nct_id, len(failed), len(results), names, url))


def _verdict_label(verdict) -> str:
    if verdict is None:
        return "invalid answers"
    return ExamplePatient.Verdict(verdict).label.lower()


class ImportCtgovForm(forms.Form):
    MAX_SIZE = 64 * 1024 * 1024  # the whole file is held in memory while it imports

    file = forms.FileField(
        label="Study records",
        help_text=('ClinicalTrials.gov API v2 JSON (.json, .json.gz: one study, a list, or {"studies": [...]}), or '
                   "legacy clinical_study XML (.xml, or many in a .zip, .tar.xz, .tar.gz or .tgz archive)."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(ctgov.STUDY_FILE_SUFFIXES):
            raise forms.ValidationError(
                "Upload ClinicalTrials.gov records: %(suffixes)s.", code="file_type",
                params={"suffixes": ", ".join(ctgov.STUDY_FILE_SUFFIXES)})
        if upload.size > self.MAX_SIZE:
            raise forms.ValidationError(
                "This file is %(size).1f MB; uploads here are limited to %(limit)d MB. Import it with "
                "manage.py import_ctgov instead.", code="file_size",
                params={"size": upload.size / 2**20, "limit": self.MAX_SIZE // 2**20})
        return upload


# --------------------------------------------------------------------------------------------
# Criteria and the rule builder


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
        "questions": _memo("question_options", question_options),
        "group_choices": [(k, rule_builder.GROUP_LABELS[k]) for k in rule_builder.GROUP_KINDS],
        "root_choices": [(k, rule_builder.GROUP_LABELS[k]) for k in rule_builder.GROUP_KINDS + (rule_builder.NONE,)],
        "duration_units": rule_builder.DURATION_CHOICES,
        "max_group_depth": 3,
        "json_rows": min(max(3, state.json_text.count("\n") + 2), 24),
    }


class RuleBuilderWidget(forms.Widget):
    """The rule as a tree of form inputs, its plain words beside it, and the raw JSON below."""

    template_name = "admin/trials/criterion/rule_builder.html#builder"

    def value_from_datadict(self, data, files, name):
        return rule_builder.read(data, _questions())

    def value_omitted_from_data(self, data, files, name):
        return False

    def id_for_label(self, id_):
        return None

    def render(self, name, value, attrs=None, renderer=None):
        # Rendered with the project's template engine: the form renderer does not see templates/.
        if not isinstance(value, rule_builder.BuilderState):
            value = rule_builder.initial(value, _questions())
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
        state = value if isinstance(value, rule_builder.BuilderState) else rule_builder.initial(value, _questions())
        if state.action:
            # A builder button pressed without JavaScript: show the updated builder, save nothing.
            raise ValidationError("The rule was updated below; press Save to keep it.", code="builder_updated")
        if state.problems:
            raise ValidationError([ValidationError(str(p), code=p.code) for p in state.problems])
        return state.rule

    def has_changed(self, initial, data):
        if isinstance(data, rule_builder.BuilderState):
            return bool(data.action or data.problems) or data.rule != initial
        return data != initial


class CriterionForm(forms.ModelForm):
    rule = RuleField(label="Rule")

    class Meta:
        model = Criterion
        fields = "__all__"
        widgets = {"text": forms.Textarea(attrs={"rows": 3, "cols": 90})}

    def clean_rule(self):
        if not any(key in self.data for key in (f"{rule_builder.ROOT}-kind", rule_builder.JSON_FIELD)):
            return self.instance.rule  # a post that says nothing about the rule leaves it alone
        return self.cleaned_data["rule"]

    def clean(self):
        cleaned = super().clean()
        if "_approve" in self.data and "rule" in cleaned:
            if cleaned["rule"] is None:
                self.add_error(None, ValidationError("There is no rule to approve yet: build one first.", code="no_rule"))
            else:
                cleaned["rule_status"] = Criterion.RuleStatus.APPROVED
        return cleaned


class CriterionNeedsReviewFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("to_curate", "To curate (no rule or draft)"), ("needs_review", "Needs review (no rule)"),
                ("draft", "Draft"), ("approved", "Approved")]

    def queryset(self, request, queryset):
        if self.value() == "to_curate":
            return queryset.filter(Q(rule__isnull=True) | Q(rule_status=Criterion.RuleStatus.DRAFT))
        if self.value() == "needs_review":
            return queryset.filter(rule__isnull=True)
        if self.value() == "draft":
            return queryset.filter(rule__isnull=False, rule_status=Criterion.RuleStatus.DRAFT)
        if self.value() == "approved":
            return queryset.filter(rule__isnull=False, rule_status=Criterion.RuleStatus.APPROVED)
        return queryset


@admin.register(Criterion)
class CriterionAdmin(OnePageMixin, SimpleHistoryAdmin):
    form = CriterionForm
    list_display = ("trial", "order", "kind", "short_text", "rule_words", "state")
    list_filter = (CriterionNeedsReviewFilter, "kind", "source")
    search_fields = ("text", "trial__nct_id")
    list_select_related = ("trial",)
    autocomplete_fields = ("trial",)
    actions = ["approve_drafts"]
    change_form_template = "admin/trials/criterion/change_form.html"
    object_history_list_template = "admin/trials/criterion/object_history_list.html"
    fieldsets = (
        (None, {"fields": ("trial", "kind", "order", "source", "text")}),
        ("Rule", {"fields": ("rule", "rule_status", "state")}),
    )
    readonly_fields = ("state",)

    class Media:
        css = ADMIN_CSS
        js = ["vendor/htmx/htmx.min.js"]

    @admin.display(description="text")
    def short_text(self, obj):
        return obj.text[:90]

    @admin.display(description="rule")
    def rule_words(self, obj):
        return describe(obj.rule, _questions())

    @admin.display(description="state")
    def state(self, obj):
        return _state_badge(obj) if obj and obj.pk else "needs review"

    def get_readonly_fields(self, request, obj=None):
        # A criterion belongs to its trial; moving it would rewrite two trials' versions at once.
        return ("trial", "state") if obj is not None else ("state",)

    def get_urls(self):
        from .admin_views import rule_builder_view

        return [
            path("rule-builder/", self.admin_site.admin_view(lambda request: rule_builder_view(self, request)),
                 name="trials_criterion_rule_builder"),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        form = context["adminform"].form
        if form.is_bound and [e.code for e in form.errors.as_data().get("rule", [])] == ["builder_updated"]:
            # Not an error: the builder was edited without JavaScript and is shown again.
            del form.errors["rule"]
            context["errors"] = helpers.AdminErrorList(form, [])
        context["can_approve"] = obj is not None and obj.rule is not None and obj.rule_status == Criterion.RuleStatus.DRAFT
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "_approve" in request.POST:
            messages.success(request, "Rule approved: it now counts in screening.")

    def response_change(self, request, obj):
        report_examples(request, obj.trial)
        if "_approve" in request.POST:
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def response_add(self, request, obj, post_url_continue=None):
        report_examples(request, obj.trial)
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description="Approve the selected draft rules", permissions=["change"])
    def approve_drafts(self, request, queryset):
        questions = _questions()
        approved, skipped = [], []
        for criterion in queryset.select_related("trial"):
            if criterion.rule_status != Criterion.RuleStatus.DRAFT:
                continue
            if criterion.rule is None or validate_rule(criterion.rule, questions):
                skipped.append(criterion)
                continue
            criterion.rule_status = Criterion.RuleStatus.APPROVED
            criterion.save(update_fields=["rule_status"])  # one by one: history rows and version bumps
            approved.append(criterion)
        self.message_user(request, f"Approved {len(approved)} draft rule{'s' if len(approved) != 1 else ''}.",
                          messages.SUCCESS if approved else messages.INFO)
        if skipped:
            self.message_user(request, "Not approved (no rule or an invalid rule, fix it first): "
                              + "; ".join(str(c) for c in skipped), messages.WARNING)
        for trial in {c.trial for c in approved}:
            report_examples(request, trial)

    # History: who and when come from simple_history; add before → after in plain words.
    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        super().set_history_delta_changes(request, historical_records, foreign_keys_are_objs)
        records = list(historical_records)
        questions = _questions()
        for i, record in enumerate(records):
            previous = records[i + 1] if i + 1 < len(records) else record.prev_record
            record.readable_changes = readable_changes(record, previous, questions)


def readable_changes(record, previous, questions) -> list[dict]:
    """What one historical save changed, for people: text as a word diff, rules in plain words."""
    if record.history_type == "-":
        return [{"field": "deleted", "before": "", "after": ""}]
    changes = []
    before = previous if previous is not None and record.history_type != "+" else None
    if before is None or before.text != record.text:
        changes.append({"field": "text", "before": "", "after": _word_diff(before.text if before else "", record.text)})
    if before is None or before.rule != record.rule:
        changes.append({
            "field": "rule",
            "before": describe(before.rule, questions) if before else "",
            "after": describe(record.rule, questions),
        })
    for name in ("rule_status", "kind", "order", "source"):
        old = getattr(before, name) if before else None
        if before is None and name in ("order", "source"):
            continue
        if old != getattr(record, name):
            changes.append({"field": name.replace("_", " "), "before": old if old is not None else "", "after": getattr(record, name)})
    return changes


def _word_diff(old: str, new: str) -> str:
    if not old:
        return escape(new)
    a, b = old.split(), new.split()
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            out.append(format_html("<del>{}</del>", " ".join(a[i1:i2])))
        if op in ("insert", "replace"):
            out.append(format_html("<ins>{}</ins>", " ".join(b[j1:j2])))
        if op == "equal":
            out.append(escape(" ".join(a[i1:i2])))
    return mark_safe(" ".join(out))


# --------------------------------------------------------------------------------------------
# Questions


def question_usage() -> dict[str, dict[tuple[int, str], int]]:
    """Question code → {(trial pk, NCT id): number of criteria whose rule reads it}, in one query."""
    usage: dict[str, Counter] = defaultdict(Counter)
    rows = Criterion.objects.filter(rule__isnull=False).values_list("trial_id", "trial__nct_id", "rule")
    for trial_id, nct_id, rule in rows.iterator(chunk_size=2000):
        for code in engine.referenced_questions(rule):
            usage[code][(trial_id, nct_id)] += 1
    return usage


@admin.register(Question)
class QuestionAdmin(StorableJSONMixin, OnePageMixin, SimpleHistoryAdmin):
    list_display = ("code", "label", "type", "unit", "plausible_range", "choice_labels", "section", "used_by")
    list_filter = ("type", "section")
    search_fields = ("code", "label")
    readonly_fields = ("used_by_trials",)

    class Media:
        css = ADMIN_CSS

    @admin.display(description="range")
    def plausible_range(self, obj):
        if obj.min_value is None and obj.max_value is None:
            return ""
        low = "…" if obj.min_value is None else f"{obj.min_value:g}"
        high = "…" if obj.max_value is None else f"{obj.max_value:g}"
        return f"{low}–{high} {obj.unit}".strip()

    @admin.display(description="choices")
    def choice_labels(self, obj):
        return ", ".join(str(label) for _, label in obj.choices or [])

    def _usage(self, obj):
        return sorted(_memo("question_usage", question_usage).get(obj.code, {}).items(), key=lambda kv: kv[0][1])

    @admin.display(description="used by")
    def used_by(self, obj):
        usage = self._usage(obj)
        if not usage:
            return "—"
        shown = ", ".join(nct for (_, nct), _n in usage[:3])
        more = f" and {len(usage) - 3} more" if len(usage) > 3 else ""
        return f"{len(usage)} trial{'s' if len(usage) != 1 else ''}: {shown}{more}"

    @admin.display(description="used by")
    def used_by_trials(self, obj):
        usage = self._usage(obj) if obj.pk else []
        if not usage:
            return "No trial's rules use this question."
        return format_html('<ul class="used-by">{}</ul>', format_html_join(
            "", '<li><a href="{}">{}</a>: {} criteri{}</li>',
            ((reverse("admin:trials_trial_change", args=[pk]), nct, n, "on" if n == 1 else "a") for (pk, nct), n in usage),
        ))


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Every upload from the import page, for the record: who imported what, when, and what came of it.
    Read-only: a job is started from the import page and finishes by itself."""

    list_display = ("file_name", "started_at", "started_by", "status", "result")
    list_filter = ("status",)
    search_fields = ("file_name", "started_by__username")
    list_select_related = ("started_by",)
    date_hierarchy = "started_at"

    @admin.display(description="result")
    def result(self, job):
        url = reverse("admin:trials_trial_import_job", args=[job.pk])
        if job.status == ImportJob.Status.DONE:
            words = (f"{job.summary.get('created', 0)} created, {job.summary.get('updated', 0)} updated, "
                     f"{job.summary.get('unchanged', 0)} unchanged")
        elif job.summary.get("errors"):
            words = "; ".join(job.summary["errors"])[:200]
        else:
            words = "stopped before finishing" if job.stopped else job.get_status_display()
        return format_html('<a href="{}">{}</a>', url, words)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


from . import admin_fhir  # noqa: E402,F401  (FHIR mapping table)
