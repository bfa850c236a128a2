"""Admin for the FHIR mapping table."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from eligibility.fhir import SYSTEM_NAMES
from trials.models import CodeMapping


@admin.register(CodeMapping)
class CodeMappingAdmin(SimpleHistoryAdmin):
    list_display = ("question", "kind", "resource_type", "system_name", "code", "is_prefix", "default_unit", "display")
    list_filter = ("resource_type", "kind", "system", "question")
    search_fields = ("code", "display", "question__code", "question__label_en_gb", "question__label_zh_hans")
    list_select_related = ("question",)
    fields = ("question", "kind", "resource_type", "system", "code", "is_prefix", "default_unit", "display")

    @admin.display(description=_("system"), ordering="system")
    def system_name(self, obj):
        return SYSTEM_NAMES.get(obj.system, obj.system)
