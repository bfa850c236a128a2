"""Admin for API tokens: an admin creates one for a clinician and sees its key once."""

from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "hint", "created_at", "last_used_at")
    list_select_related = ("user",)
    search_fields = ("name", "user__username")
    readonly_fields = ("hint", "created_at", "last_used_at")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("user", "name")
        return ("user", "name", "hint", "created_at", "last_used_at")

    def get_readonly_fields(self, request, obj=None):
        # A token never moves to another user: revoke it (delete) and create a new one.
        return self.readonly_fields + (("user",) if obj else ())

    def save_model(self, request, obj, form, change):
        if not change:
            obj.new_key = obj.generate_key()
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        # Rendered, not put in a message: messages may sit in a cookie, and the key must not.
        return TemplateResponse(
            request,
            "admin/screening/apitoken/key_created.html",
            {
                **self.admin_site.each_context(request),
                "title": _("API token created"),
                "token": obj,
                "key": obj.new_key,
                "opts": self.model._meta,
            },
        )
