"""Admin for screenings: read-only; what happens to a referral is in the referrals app's admin."""

from django.contrib import admin

from audit.admin import LogsAdminViews

from . import admin_tokens  # noqa: F401  (registers ApiToken)
from .models import RescreenRun, Screening


@admin.register(Screening)
class ScreeningAdmin(LogsAdminViews, admin.ModelAdmin):
    list_display = ("patient_ref", "clinician", "created_at", "updated_at")
    search_fields = ("patient_ref",)
    list_select_related = ("clinician",)
    readonly_fields = ("patient_ref", "clinician", "answers", "created_at", "updated_at")
    exclude = ("trials",)

    def has_add_permission(self, request):
        return False


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

    @admin.display(description="chunks")
    def chunks_progress(self, obj):
        return f"{obj.chunks_done} of {obj.chunks}"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
