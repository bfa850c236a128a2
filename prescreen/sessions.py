"""Sessions of health-data users: signed out after SESSION_IDLE_MINUTES without activity and SESSION_COOKIE_AGE
after signing in, whichever comes first; an htmx request that finds its session gone sends the browser to the login
page (HX-Redirect), which brings the user back to the page they were on, not to the partial the request asked for."""

import time
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, logout
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.translation import gettext as _

LAST_ACTIVITY = "last_activity"
SIGNED_IN_AT = "signed_in_at"
# Writing the session on every request would cost a database write per click: activity is noted at most this often,
# so the idle timeout may run up to this many seconds late.
RESOLUTION = 15


def remaining_seconds(session, now: int) -> int:
    """Seconds until the session ends: idle timeout or absolute lifetime, whichever comes first."""
    idle_end = session.get(LAST_ACTIVITY, now) + settings.SESSION_IDLE_MINUTES * 60
    absolute_end = session.get(SIGNED_IN_AT, now) + settings.SESSION_COOKIE_AGE
    return int(min(idle_end, absolute_end) - now)


def _activity(request, now: int, last: int) -> bool:
    """Whether this request counts as activity to note now. The warning's "how long is left?" (GET) is not: it would
    keep an unattended screen signed in; its "Stay signed in" (POST) always is."""
    if request.path == reverse("session_status"):
        return request.method == "POST"
    return now - last >= RESOLUTION


def _login_paths() -> set[str]:
    return {resolve_url(settings.LOGIN_URL), reverse("admin:login")}


def _page_of(request) -> str:
    """The page the browser shows (htmx's HX-Current-URL), as a local path; else the site's home."""
    page = urlsplit(request.headers.get("HX-Current-URL", ""))
    if page.path and page.netloc in ("", request.get_host()):
        return urlunsplit(("", "", page.path, page.query, ""))
    return "/"


def idle_timeout(get_response):
    def middleware(request):
        if request.user.is_authenticated:
            now = int(time.time())
            session = request.session
            if SIGNED_IN_AT not in session:
                session[SIGNED_IN_AT] = now
            if remaining_seconds(session, now) <= 0:
                logout(request)
                messages.info(request, _("You were signed out after a period without activity. Log in to go on."))
            elif _activity(request, now, session.get(LAST_ACTIVITY, 0)):
                session[LAST_ACTIVITY] = now
        response = get_response(request)
        # An htmx request turned away to a login page: a 302 that htmx would follow and swap the login page into
        # the panel. Send the whole browser there instead, with next= the page it was on.
        if getattr(request, "htmx", False) and response.status_code == 302:
            if urlsplit(response["Location"]).path in _login_paths():
                page = _page_of(request)
                # The admin's pages sign in on the admin's login page, whatever the partial's URL answered.
                login = (
                    reverse("admin:login")
                    if page.startswith(reverse("admin:index"))
                    else resolve_url(settings.LOGIN_URL)
                )
                response = HttpResponse(status=204)
                response["HX-Redirect"] = f"{login}?{urlencode({REDIRECT_FIELD_NAME: page})}"
        return response

    return middleware


@login_not_required
def session_status(request):
    """GET: seconds left (0 when signed out), without counting as activity. POST ("stay signed in"): activity."""
    if not request.user.is_authenticated:
        return JsonResponse({"remaining": 0})
    return JsonResponse({"remaining": remaining_seconds(request.session, int(time.time()))})


def session_timing(request):
    """What the idle warning (static/js/session.js) needs to know."""
    return {
        "session_idle_seconds": settings.SESSION_IDLE_MINUTES * 60,
        "session_warning_seconds": settings.SESSION_WARNING_SECONDS,
    }
