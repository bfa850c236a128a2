"""The access log in the admin, read-only, with a CSV export for an auditor; and the mixin that logs an admin's
look at a record."""

import csv
import json

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _

from .log import record
from .models import AccessLog


class LogsAdminViews:
    """For a ModelAdmin of patient records: opening a record's change page, its history or one past version goes to the
    access log; a past version is never saved back (reverted)."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        record(request, AccessLog.Action.ADMIN_VIEW, self._ref(object_id), view="change", method=request.method)
        return super().change_view(request, object_id, form_url, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        record(request, AccessLog.Action.ADMIN_VIEW, self._ref(object_id), view="history")
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # simple-history's page of one past version saves that version back on POST ("revert") after checking only
        # the view permission: a patient record is never reverted from the admin, whoever asks.
        if request.method != "GET":
            raise PermissionDenied
        record(request, AccessLog.Action.ADMIN_VIEW, self._ref(object_id), view="history_version")
        return super().history_form_view(request, object_id, version_id, extra_context)

    def _ref(self, object_id):
        return f"{self.model._meta.model_name}:{object_id}"[:100]


CSV_COLUMNS = ("id", "at", "username", "user", "action", "obj_ref", "detail", "ip", "prev_hash", "hash")


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    list_display = ("at", "username", "action", "obj_ref", "ip")
    list_filter = ("action", ("user", admin.RelatedOnlyFieldListFilter), "at")
    date_hierarchy = "at"
    search_fields = ("username", "obj_ref")
    actions = ["export_csv"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.is_superuser:
            actions.pop("export_csv", None)
        return actions

    @admin.action(description=_("Export the selected entries as CSV (for an auditor)"))
    def export_csv(self, request, queryset):
        if not request.user.is_superuser:
            raise PermissionDenied
        entries = list(queryset.order_by("id"))
        record(request, AccessLog.Action.CSV_EXPORT, "access_log.csv", rows=len(entries))
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="access_log.csv"'
        writer = csv.writer(response)
        writer.writerow(CSV_COLUMNS)
        for e in entries:
            detail = json.dumps(e.detail, sort_keys=True, ensure_ascii=False)
            row = [e.pk, e.at.isoformat(), _safe(e.username), e.user_id or "", e.action, _safe(e.obj_ref), detail, e.ip]
            writer.writerow([*row, e.prev_hash, e.hash])
        return response


def _safe(text):
    # A failed login's username is whatever was typed: a cell starting with = + - @ is a formula to a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
