"""Admin for screenings: read-only; what happens to a referral is in the referrals app's admin."""

from django.contrib import admin

from . import admin_tokens  # noqa: F401  (registers ApiToken)
from .models import Screening


@admin.register(Screening)
class ScreeningAdmin(admin.ModelAdmin):
    list_display = ("patient_ref", "clinician", "created_at", "updated_at")
    search_fields = ("patient_ref",)
    list_select_related = ("clinician",)
    readonly_fields = ("patient_ref", "clinician", "answers", "created_at", "updated_at")
    exclude = ("trials",)

    def has_add_permission(self, request):
        return False
