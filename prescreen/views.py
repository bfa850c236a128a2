import sys

from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.defaults import server_error as django_server_error

from referrals.models import Referral
from screening.models import CurrentResult, Screening, with_reasons
from screening.views import NOTICES
from trials.models import Trial

from .roles import ADMIN, CLINICIAN, COORDINATOR, role_name, roles_of


def home(request):
    roles = roles_of(request.user)
    context = {
        "trials": Trial.objects.open_for_screening().only("nct_id", "brief_title", "overall_status"),
        "roles": sorted(role_name(r) for r in roles),
    }
    if CLINICIAN in roles:
        # Closed loop: the referring clinician sees where each referral stands, and why it ended.
        mine = list(
            Referral.objects.filter(referred_by=request.user, screening__retired_at__isnull=True)
            .select_related("trial", "screening")
            .order_by("-updated_at")[:20]
        )
        timelines = Referral.objects.filter(pk__in=[r.pk for r in mine]).timelines()
        context["my_referrals"] = [(r, timelines.get(r.pk, [])) for r in mine]
        context["recent_screenings"] = Screening.objects.of(request.user)[:5]
        # Saved screenings whose verdict for a trial changed since (criteria changed, eligibility lapsed).
        notices = CurrentResult.objects.notices_for(request.user, timezone.localdate())
        context["notices"] = with_reasons(notices[:NOTICES])
    if roles & {COORDINATOR, ADMIN}:
        context["new_candidates"] = (
            Referral.objects.visible_to(request.user).filter(status=Referral.Status.REFERRED).count()
        )
    return render(request, "home.html", context)


def permission_denied(request, exception):
    """handler403: a page the user's role does not open (PermissionDenied, e.g. from @role_required) in the site's
    layout, with what the page is for and a way back. The API answers for itself, in JSON."""
    if request.path.startswith("/api/"):
        return JsonResponse({"error": str(exception) or "forbidden"}, status=403)
    return render(request, "403.html", {"message": str(exception)}, status=403)


RETRY_AFTER = "30"  # seconds: the database is back from a restart or a failover in about that long


def server_error(request):
    """handler500: a database that cannot be reached (connection refused, killed mid-request) is 503 Service
    Unavailable, in JSON from the API, not a generic 500. The broken connection is closed, so the next request opens
    a fresh one: the workers recover on their own, without a restart. Renders without the database (no context
    processors: they would read the user)."""
    exc = sys.exc_info()[1]
    # psycopg's "server closed the connection unexpectedly" arrives as OperationalError, the next use of that
    # connection as InterfaceError ("connection already closed").
    if not isinstance(exc, (OperationalError, InterfaceError)):
        return django_server_error(request)
    # Django closes a broken connection when the request finishes (CONN_HEALTH_CHECKS checks it again before reuse);
    # closing it here as well keeps a worker from answering its next request from a dead connection either way.
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None and not connection.is_usable():
            try:
                connection.close()
            except DatabaseError:
                pass  # already gone
    if request.path.startswith("/api/"):
        response = JsonResponse({"error": _("the database is unavailable: try again shortly")}, status=503)
    else:
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = RETRY_AFTER
    return response
