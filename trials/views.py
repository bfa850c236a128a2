from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.views.decorators.vary import vary_on_headers

from eligibility.rules import describe

from .models import Trial, catalogue

TRIALS_PER_PAGE = 25
OPEN, ALL = "open", "all"


@vary_on_headers("HX-Request")
def trial_list(request):
    """Trials open for screening here (or every trial), searched by NCT id, title or condition, a page at a time.
    Bookmarkable: the search is in the URL; htmx swaps the list as the clinician types."""
    show = ALL if request.GET.get("show") == ALL else OPEN
    text = request.GET.get("q", "").strip()[:200]
    trials = Trial.objects.all() if show == ALL else Trial.objects.open_for_screening()
    found = trials.search(text).only(
        "nct_id", "brief_title", "overall_status", "conditions", "phase", "open_for_screening"
    )
    page = Paginator(found.order_by("nct_id"), TRIALS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "q": text, "show": show, "everything": Trial.objects.count()}
    template = "trials/trial_list.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context)


def trial_detail(request, nct_id):
    trial = get_object_or_404(Trial, nct_id=nct_id)
    questions = catalogue()
    criteria = [(c, describe(c.rule, questions)) for c in trial.criteria.all()]
    return render(request, "trials/trial_detail.html", {"trial": trial, "criteria": criteria})
