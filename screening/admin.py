"""Admin for screenings: read-only, with their history. A screening with saved results is never deleted: an admin
retires it (hidden from every list, kept with its history); a never-saved draft may be deleted. Both are logged.
What happens to a referral is in the referrals app's admin."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.actions import delete_selected
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from simple_history.admin import SimpleHistoryAdmin

from audit.admin import LogsAdminViews
from audit.log import record
from audit.models import AccessLog
from trials.validators import validate_free_text

from . import admin_tokens  # noqa: F401  (registers ApiToken)
from .models import RescreenRun, Screening


class RetireForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=gettext_lazy(
            "Why the screening is withdrawn (e.g. entered for the wrong patient). No names or record numbers."
        ),
        validators=[validate_free_text],
    )


class RetiredFilter(admin.SimpleListFilter):
    title = gettext_lazy("retired")
    parameter_name = "retired"

    def lookups(self, request, model_admin):
        return [("no", _("In use")), ("yes", _("Retired"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(retired_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(retired_at__isnull=False)
        return queryset


def saved_refusal(screenings, bulk=False) -> str:
    refs = ", ".join(str(s.pk) for s in screenings)
    if not bulk:
        return _(
            "Screening %(refs)s has saved results: it cannot be deleted. Retire it instead (it is hidden from every "
            "list and kept with its history)."
        ) % {"refs": refs}
    return ngettext(
        "Nothing was deleted: screening %(refs)s has saved results and cannot be deleted. Retire it instead (it is "
        "hidden from every list and kept with its history).",
        "Nothing was deleted: screenings %(refs)s have saved results and cannot be deleted. Retire them instead "
        "(they are hidden from every list and kept with their history).",
        len(screenings),
    ) % {"refs": refs}


@admin.register(Screening)
class ScreeningAdmin(LogsAdminViews, SimpleHistoryAdmin):
    list_display = ("patient_ref", "clinician", "created_at", "updated_at", "retired_at")
    list_filter = (RetiredFilter,)
    search_fields = ("patient_ref",)
    list_select_related = ("clinician",)
    readonly_fields = (
        "patient_ref",
        "clinician",
        "answers",
        "created_at",
        "updated_at",
        "retired_at",
        "retired_by",
        "retire_reason",
    )
    exclude = ("trials",)
    actions = ["delete_selected", "retire_selected"]
    change_form_template = "admin/screening/screening/change_form.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # read-only: a clinician changes a screening through the questionnaire; an admin retires it

    def has_delete_permission(self, request, obj=None):
        # No Delete button on a screening with saved results (delete_view below says why if it is asked anyway).
        if obj is not None and obj.has_saved_results:
            return False
        return super().has_delete_permission(request, obj)

    def has_retire_permission(self, request, obj=None):
        return request.user.has_perm("screening.retire_screening")

    def get_urls(self):
        return [
            path(
                "<path:object_id>/retire/",
                self.admin_site.admin_view(self.retire_view),
                name="screening_screening_retire",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_retire"] = obj is not None and obj.retired_at is None and self.has_retire_permission(request)
        return super().render_change_form(request, context, add, change, form_url, obj)

    # Deleting: only never-saved drafts, each one logged.

    def delete_view(self, request, object_id, extra_context=None):
        screening = self.get_object(request, object_id)
        if screening is not None and screening.has_saved_results:
            self.message_user(request, saved_refusal([screening]), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:screening_screening_change", args=[screening.pk]))
        return super().delete_view(request, object_id, extra_context)

    @admin.action(description=gettext_lazy("Delete the selected never-saved screenings"), permissions=["delete"])
    def delete_selected(self, request, queryset):
        saved = list(queryset.saved().order_by("pk"))
        if saved:
            self.message_user(request, saved_refusal(saved, bulk=True), messages.ERROR)
            return None
        return delete_selected(self, request, queryset)  # Django's confirmation page, then delete_queryset

    def delete_model(self, request, obj):
        if obj.has_saved_results:  # the views above refuse first; this is the last guard
            raise PermissionDenied(saved_refusal([obj]))
        record(request, AccessLog.Action.DELETE, f"screening:{obj.pk}", saved=False)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        if queryset.saved().exists():
            raise PermissionDenied(saved_refusal(list(queryset.saved()), bulk=True))
        for screening in queryset:
            record(request, AccessLog.Action.DELETE, f"screening:{screening.pk}", saved=False)
        # One by one, so that each deletion gets its history row (a queryset delete skips the signals).
        for screening in queryset:
            screening.delete()

    # Retiring: a reason, then hidden from every list; logged and in the history.

    @admin.action(
        description=gettext_lazy("Retire the selected screenings (hide them, keep the record)"), permissions=["retire"]
    )
    def retire_selected(self, request, queryset):
        return self._retire(request, queryset.filter(retired_at__isnull=True), action=True)

    def retire_view(self, request, object_id):
        if not self.has_retire_permission(request):
            raise PermissionDenied
        screening = get_object_or_404(Screening, pk=object_id)
        return self._retire(request, Screening.objects.filter(pk=screening.pk, retired_at__isnull=True))

    def _retire(self, request, screenings, action=False):
        form = RetireForm(request.POST if request.POST.get("post") == "yes" else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            retired = []
            for screening in screenings:
                screening.retire(by=request.user, reason=reason)
                record(request, AccessLog.Action.RETIRE, f"screening:{screening.pk}")
                retired.append(screening)
            self.message_user(
                request,
                ngettext("Retired %(n)d screening.", "Retired %(n)d screenings.", len(retired)) % {"n": len(retired)},
                messages.SUCCESS,
            )
            if len(retired) == 1 and not action:
                return HttpResponseRedirect(reverse("admin:screening_screening_change", args=[retired[0].pk]))
            return HttpResponseRedirect(reverse("admin:screening_screening_changelist"))
        return TemplateResponse(
            request,
            "admin/screening/screening/retire.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Retire screenings"),
                "opts": self.model._meta,
                "screenings": list(screenings),
                "form": form,
                "action": action,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(RescreenRun)
class RescreenRunAdmin(admin.ModelAdmin):
    """Re-screening runs, read-only: what started each, how far it got, what it changed, and why it failed."""

    list_display = (
        "started_at",
        "trigger",
        "scope",
        "trial",
        "criteria_version",
        "status",
        "chunks_progress",
        "screenings_checked",
        "rows_changed",
        "finished_at",
    )
    list_filter = ("status", "trigger", "scope")
    list_select_related = ("trial",)
    search_fields = ("trial__nct_id", "error")

    @admin.display(description=gettext_lazy("chunks"))
    def chunks_progress(self, obj):
        return _("%(done)s of %(total)s") % {"done": obj.chunks_done, "total": obj.chunks}

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
