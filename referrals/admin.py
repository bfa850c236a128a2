"""Admin for referrals: read-mostly, with the full audit history and the access log."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from audit.admin import LogsAdminViews

from .models import Referral, ReferralView, Verification


@admin.register(Referral)
class ReferralAdmin(LogsAdminViews, SimpleHistoryAdmin):
    list_display = ("screening", "trial", "status", "referred_by", "created_at", "updated_at")
    list_filter = ("status", "trial")
    search_fields = ("screening__patient_ref", "trial__nct_id")
    list_select_related = ("screening", "trial", "referred_by")
    # Status changes go through the candidate page, which enforces the workflow and locking.
    readonly_fields = [f.name for f in Referral._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Verification)
class VerificationAdmin(LogsAdminViews, SimpleHistoryAdmin):
    list_display = ("referral", "criterion", "status", "verified_by", "verified_at")
    list_select_related = ("referral__screening", "referral__trial", "criterion", "verified_by")
    readonly_fields = ("referral", "criterion", "status", "note", "verified_by", "verified_at")

    def has_add_permission(self, request):
        return False


@admin.register(ReferralView)
class ReferralViewAdmin(admin.ModelAdmin):
    """The access log: who looked at which candidate, when. Nobody edits it."""

    list_display = ("viewed_at", "user", "referral")
    list_filter = ("user",)
    list_select_related = ("user", "referral__screening", "referral__trial")
    date_hierarchy = "viewed_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
