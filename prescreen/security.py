"""Safeguards shared by the project: the client's address, the throttle on wrong API tokens, e-signatures."""

import logging

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.shortcuts import render

security_log = logging.getLogger("prescreen.security")


def client_ip(request) -> str:
    """The client's IP address: REMOTE_ADDR, or with TRUSTED_PROXY_COUNT proxies in front the address the
    outermost trusted proxy saw (X-Forwarded-For, counted from the right: what a client writes there is not trusted)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def _api_key(request) -> str:
    return f"api-token-failures:{client_ip(request)}"


def api_token_locked(request) -> bool:
    """True while the client's address has sent API_TOKEN_FAILURE_LIMIT wrong tokens within the cool-off."""
    return cache.get(_api_key(request), 0) >= settings.API_TOKEN_FAILURE_LIMIT


def api_token_failed(request) -> None:
    """Count one wrong token. The window starts at the first failure and lasts the login cool-off."""
    key = _api_key(request)
    if not cache.add(key, 1, timeout=settings.AXES_COOLOFF_TIME.total_seconds()):
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=settings.AXES_COOLOFF_TIME.total_seconds())


def cool_off_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out login (either login page): a page that says why and for how long."""
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": cool_off_seconds() // 60}
    return render(request, "registration/locked_out.html", context, status=429)


def signature_valid(request, password, meaning) -> bool:
    """True if `password` is the signed-in user's: their e-signature of `meaning`.

    Checked through Django's `authenticate` with the request, so django-axes counts a wrong password as a failed
    login for this username and address, and locks signing (and logging in) out after AXES_FAILURE_LIMIT of them.
    A wrong password is logged at WARNING on the "prescreen.security" logger."""
    user = authenticate(request, username=request.user.get_username(), password=password or "")
    if user is not None and user.pk == request.user.pk:
        return True
    security_log.warning(
        "Wrong password for an e-signature by %s from %s (meaning: %s)",
        request.user.get_username(),
        client_ip(request),
        meaning,
    )
    return False
