from django.shortcuts import render
from django.utils import timezone

from referrals.models import Referral
from screening.models import CurrentResult, Screening, with_reasons
from screening.views import NOTICES
from trials.models import Trial

from .roles import ADMIN, CLINICIAN, COORDINATOR, roles_of


def home(request):
    roles = roles_of(request.user)
    context = {
        "trials": Trial.objects.open_for_screening().only("nct_id", "brief_title", "overall_status"),
        "roles": sorted(roles),
    }
    if CLINICIAN in roles:
        # Closed loop: the referring clinician sees where each referral stands, and why it ended.
        context["my_referrals"] = (
            Referral.objects.filter(referred_by=request.user)
            .select_related("trial", "screening")
            .order_by("-updated_at")[:20]
        )
        context["recent_screenings"] = Screening.objects.of(request.user)[:5]
        # Saved screenings whose verdict for a trial changed since (criteria changed, eligibility lapsed).
        notices = CurrentResult.objects.notices_for(request.user, timezone.localdate())
        context["notices"] = with_reasons(notices[:NOTICES])
    if roles & {COORDINATOR, ADMIN}:
        context["new_candidates"] = (
            Referral.objects.visible_to(request.user).filter(status=Referral.Status.REFERRED).count()
        )
    return render(request, "home.html", context)
