"""Criteria: the change form with the rule builder, approving drafts, and a history in plain words."""

import copy
import difflib

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from eligibility.rules import describe, validate_rule
from prescreen.security import signature_valid
from trials.models import Criterion

from .. import rule_builder
from ..models import ExamplePatient, rules_with
from .builder import RuleField
from .examples import CONFIRMED, ExamplePreviewMixin, fingerprint, preview, report_examples
from .page import ADMIN_CSS, OnePageMixin, page_questions, state_badge
from .views import rule_builder_view

APPROVAL_MEANING = "I approve these draft rules for screening"
SIGNATURE_FIELD = "approve_password"


def approving(data) -> bool:
    """The change form asks to approve the draft: its "Approve draft" button, or a signature typed and Enter pressed
    (Enter presses the form's first button, Save; nobody types their password there but to approve)."""
    return "_approve" in data or bool(data.get(SIGNATURE_FIELD))


class CriterionForm(forms.ModelForm):
    rule = RuleField(label=_("Rule"))
    example_changes: list = []
    change_fingerprint = ""

    class Meta:
        model = Criterion
        fields = "__all__"
        widgets = {"text": forms.Textarea(attrs={"rows": 3, "cols": 90})}

    def clean_rule(self):
        if not any(key in self.data for key in (f"{rule_builder.ROOT}-kind", rule_builder.JSON_FIELD)):
            return self.instance.rule  # a post that says nothing about the rule leaves it alone
        return self.cleaned_data["rule"]

    request = None  # set by CriterionAdmin.get_form: approving is signed with the user's password
    approving = False  # the post approves the draft (button, signature typed and Enter, or the status select)
    signed = False  # True once the password signed the approval

    def clean(self):
        cleaned = super().clean()
        # Approving is the button, or the status select moved from draft to approved: both are signed.
        from_select = (
            self.instance.pk is not None
            and self.instance.rule_status == Criterion.RuleStatus.DRAFT
            and cleaned.get("rule_status") == Criterion.RuleStatus.APPROVED
        )
        if (approving(self.data) or from_select) and "rule" in cleaned:
            if cleaned["rule"] is None:
                self.add_error(
                    None, ValidationError(_("There is no rule to approve yet: build one first."), code="no_rule")
                )
            else:
                # Approved as far as the example patients are concerned (_post_clean screens them with the rule
                # approved); the signature is asked for once they have been seen, and nothing is saved without it.
                self.approving = True
                cleaned["rule_status"] = Criterion.RuleStatus.APPROVED
        return cleaned

    def _post_clean(self):
        # After the instance holds the edited values (ModelForm._post_clean), before anything is saved: screen the
        # trial's example patients with the criterion as it would be. A change that breaks one is not saved until
        # the admin has seen which, before → after, and confirmed this very change.
        super()._post_clean()
        if self._errors or self.instance.trial_id is None:
            return
        trial = self.instance.trial
        self.example_changes = ExamplePatient.objects.filter(trial=trial).changes_if(
            rules_with(trial, self.instance), page_questions()
        )
        self.change_fingerprint = fingerprint(trial.criteria_version, [self.instance])
        if any(c.breaks for c in self.example_changes) and self.data.get(CONFIRMED) != self.change_fingerprint:
            self.add_error(
                None,
                ValidationError(
                    _(
                        "Not saved yet: this change would make example patients fail (below). Save anyway, or "
                        "change it and save again."
                    ),
                    code="examples_change",
                ),
            )
            return
        if self.approving and self._signed():
            self.signed = True

    def _signed(self) -> bool:
        # Like the bulk action: a decision, signed with the password; a wrong one saves and approves nothing (the
        # form error keeps the whole change unsaved), and is logged and counted towards the lockout.
        password = self.data.get(SIGNATURE_FIELD, "")
        if not password:
            self.add_error(
                None,
                ValidationError(
                    _(
                        "Approving needs your signature: enter your password beside “Sign and approve draft”. "
                        "Nothing was saved."
                    ),
                    code="needs_signature",
                ),
            )
            return False
        if self.request is None or not signature_valid(self.request, password, APPROVAL_MEANING):
            self.add_error(
                None,
                ValidationError(_("Wrong password: nothing was signed, saved or approved."), code="wrong_signature"),
            )
            return False
        return True


class CriterionNeedsReviewFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("to_curate", _("To curate (no rule or draft)")),
            ("needs_review", _("Needs review (no rule)")),
            ("draft", _("Draft")),
            ("approved", _("Approved")),
        ]

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
class CriterionAdmin(ExamplePreviewMixin, OnePageMixin, SimpleHistoryAdmin):
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
        (_("Rule"), {"fields": ("rule", "rule_status", "state")}),
    )
    readonly_fields = ("state",)

    class Media:
        css = ADMIN_CSS
        js = ["vendor/htmx/htmx.min.js"]

    @admin.display(description=_("text"))
    def short_text(self, obj):
        return obj.text[:90]

    @admin.display(description=_("rule"))
    def rule_words(self, obj):
        return describe(obj.rule, page_questions())

    @admin.display(description=_("state"))
    def state(self, obj):
        return state_badge(obj) if obj and obj.pk else gettext("needs review")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.request = request  # a class made for this request (modelform_factory)
        return form

    def get_readonly_fields(self, request, obj=None):
        # A criterion belongs to its trial; moving it would rewrite two trials' versions at once.
        return ("trial", "state") if obj is not None else ("state",)

    def get_urls(self):
        return [
            path(
                "rule-builder/",
                self.admin_site.admin_view(lambda request: rule_builder_view(self, request)),
                name="trials_criterion_rule_builder",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        form = context["adminform"].form
        if form.is_bound and [e.code for e in form.non_field_errors().as_data()] == ["examples_change"]:
            # Not an error either: the preview of what the change does to the examples, with its confirm button.
            context["example_preview"] = preview(
                request, form.instance.trial, form.example_changes, form.change_fingerprint
            )
            # Approving a draft: "Save anyway" is the signature too (the password, beside what it signs).
            context["example_preview"]["approving"] = form.approving
            context["signature_field"] = SIGNATURE_FIELD
            del form.errors[NON_FIELD_ERRORS]
            context["errors"] = helpers.AdminErrorList(form, [])
        if form.is_bound and [e.code for e in form.errors.as_data().get("rule", [])] == ["builder_updated"]:
            # Not an error: the builder was edited without JavaScript and is shown again.
            del form.errors["rule"]
            context["errors"] = helpers.AdminErrorList(form, [])
        context["can_approve"] = (
            obj is not None and obj.rule is not None and obj.rule_status == Criterion.RuleStatus.DRAFT
        )
        context["approval_meaning"] = APPROVAL_MEANING
        context["signature_field"] = SIGNATURE_FIELD
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change):
        if form.signed:
            obj._change_reason = f"Signed: {APPROVAL_MEANING}"  # the form checked the password
        super().save_model(request, obj, form, change)
        if form.signed:
            messages.success(request, gettext("Rule approved (signed): it now counts in screening."))

    def response_change(self, request, obj):
        report_examples(request, obj.trial)
        if approving(request.POST):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def response_add(self, request, obj, post_url_continue=None):
        report_examples(request, obj.trial)
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description=_("Approve the selected draft rules"), permissions=["change"])
    def approve_drafts(self, request, queryset):
        # A decision, so it is signed: first a confirmation page listing the drafts and asking for the password
        # (Django's delete_selected pattern); each approved criterion's history row records the signature.
        drafts = queryset.filter(rule_status=Criterion.RuleStatus.DRAFT).select_related("trial")
        error = None
        if request.POST.get("post") == "yes":
            if signature_valid(request, request.POST.get("password", ""), APPROVAL_MEANING):
                return self._approve_signed(request, drafts)
            error = gettext("Wrong password: nothing was signed and no rule was approved.")
        return TemplateResponse(
            request,
            "admin/trials/criterion/approve_drafts.html",
            {
                **self.admin_site.each_context(request),
                "example_changes": _examples_if_approved(drafts),
                "title": _("Sign the approval of draft rules"),
                "opts": self.model._meta,
                "drafts": drafts,
                "queryset": queryset,
                "meaning": APPROVAL_MEANING,
                "error": error,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    def _approve_signed(self, request, drafts):
        questions = page_questions()
        approved, skipped = [], []
        for criterion in drafts:
            if criterion.rule is None or validate_rule(criterion.rule, questions):
                skipped.append(criterion)
                continue
            criterion.rule_status = Criterion.RuleStatus.APPROVED
            criterion._change_reason = f"Signed: {APPROVAL_MEANING}"
            criterion.save(update_fields=["rule_status"])  # one by one: history rows and version bumps
            approved.append(criterion)
        self.message_user(
            request,
            ngettext("Approved %(n)d draft rule.", "Approved %(n)d draft rules.", len(approved)) % {"n": len(approved)},
            messages.SUCCESS if approved else messages.INFO,
        )
        if skipped:
            self.message_user(
                request,
                gettext("Not approved (no rule or an invalid rule, fix it first): %(criteria)s")
                % {"criteria": "; ".join(str(c) for c in skipped)},
                messages.WARNING,
            )
        for trial in {c.trial for c in approved}:
            report_examples(request, trial)

    # History: who and when come from simple_history; add before → after in plain words.
    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        super().set_history_delta_changes(request, historical_records, foreign_keys_are_objs)
        records = list(historical_records)
        questions = page_questions()
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
        changes.append(
            {
                "field": "rule",
                "before": describe(before.rule, questions) if before else "",
                "after": describe(record.rule, questions),
            }
        )
    for name in ("rule_status", "kind", "order", "source"):
        old = getattr(before, name) if before else None
        if before is None and name in ("order", "source"):
            continue
        if old != getattr(record, name):
            changes.append(
                {
                    "field": name.replace("_", " "),
                    "before": old if old is not None else "",
                    "after": getattr(record, name),
                }
            )
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


def _examples_if_approved(drafts) -> list[dict]:
    """Per trial, the example patients whose verdict approving these drafts would change (before → after), shown
    on the signing page so that no rule goes live before the admin has seen what it does to them."""
    questions = page_questions()
    by_trial: dict = {}
    for criterion in drafts:
        if criterion.rule is not None and not validate_rule(criterion.rule, questions):
            approved = copy.copy(criterion)  # as it would be once signed; nothing is saved here
            approved.rule_status = Criterion.RuleStatus.APPROVED
            by_trial.setdefault(criterion.trial, []).append(approved)
    found = []
    for trial, approved in by_trial.items():
        changes = ExamplePatient.objects.filter(trial=trial).changes_if(rules_with(trial, *approved), questions)
        if changes:
            found.append({"trial": trial, "changes": changes})
    return found
