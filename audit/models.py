"""The access log: who saw or exported what, append-only and hash-chained so that an edited row shows."""

import hashlib
import json

import pgtrigger
from django.conf import settings
from django.db import models


class AccessLog(models.Model):
    class Action(models.TextChoices):
        LOGIN = "login"
        LOGIN_FAILED = "login_failed"
        LOGOUT = "logout"
        LOCKOUT = "lockout"
        VIEW_SCREENING = "view_screening"
        VIEW_CANDIDATE = "view_candidate"
        VIEW_PRINT = "view_print"
        CSV_EXPORT = "csv_export"
        ADMIN_VIEW = "admin_view"
        API_CALL = "api_call"
        DISCARD_SCREENING = "discard_screening"  # a draft never saved, deleted by its clinician
        RETIRE = "retire"
        DELETE = "delete"

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
        verbose_name = "access log entry"
        verbose_name_plural = "access log"
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
