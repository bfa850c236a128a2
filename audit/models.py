"""The access log: who saw or exported what, append-only and hash-chained so that an edited row shows."""

import hashlib
import json

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessLog(models.Model):
    class Action(models.TextChoices):
        LOGIN = "login", _("Login")
        LOGIN_FAILED = "login_failed", _("Login failed")
        LOGOUT = "logout", _("Logout")
        LOCKOUT = "lockout", _("Lockout")
        VIEW_SCREENING = "view_screening", _("View screening")
        VIEW_CANDIDATE = "view_candidate", _("View candidate")
        VIEW_PRINT = "view_print", _("View print summary")
        CSV_EXPORT = "csv_export", _("CSV export")
        ADMIN_VIEW = "admin_view", _("Admin view")
        API_CALL = "api_call", _("API call")
        DISCARD_SCREENING = "discard_screening", _("Discard screening")  # a draft never saved, deleted by its clinician
        RETIRE = "retire", _("Retire")
        DELETE = "delete", _("Delete")

    at = models.DateTimeField(db_index=True)
    # No database constraint and DO_NOTHING: deleting a user must not update (SET_NULL) or delete (CASCADE)
    # rows the triggers protect; the username text keeps who it was.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices, db_index=True)
    obj_ref = models.CharField("object", max_length=100, blank=True)  # "screening:12", never answers
    detail = models.JSONField(default=dict, blank=True)
    ip = models.CharField(max_length=45, blank=True)
    prev_hash = models.CharField(max_length=64, unique=True)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        triggers = [pgtrigger.Protect(name="access_log_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username or '-'} {self.action} {self.obj_ref}"

    def fields(self) -> dict:
        """What the hash covers: every field but the id and the hashes."""
        return {
            "at": self.at.isoformat(),
            "user": self.user_id,
            "username": self.username,
            "action": self.action,
            "obj_ref": self.obj_ref,
            "detail": self.detail,
            "ip": self.ip,
        }

    def compute_hash(self) -> str:
        canonical = json.dumps(self.fields(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256((self.prev_hash + canonical).encode()).hexdigest()
