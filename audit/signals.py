"""Signing in and out, failed logins and lockouts go to the access log."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .log import record
from .models import AccessLog


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    record(request, AccessLog.Action.LOGIN, user=user)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    record(request, AccessLog.Action.LOGOUT, user=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    # `credentials` has the password masked by Django; only the username is kept.
    record(request, AccessLog.Action.LOGIN_FAILED, username=credentials.get("username", ""))


@receiver(user_locked_out)
def _locked_out(sender, request, username, ip_address, **kwargs):
    record(request, AccessLog.Action.LOCKOUT, username=username or "")
