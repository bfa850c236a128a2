from django.shortcuts import get_object_or_404, render

from eligibility.rules import describe

from .models import Trial, catalogue


def trial_list(request):
    trials = Trial.objects.all()
    return render(request, "trials/trial_list.html", {"trials": trials})


def trial_detail(request, nct_id):
    trial = get_object_or_404(Trial, nct_id=nct_id)
    questions = catalogue()
    criteria = [(c, describe(c.rule, questions)) for c in trial.criteria.all()]
    return render(request, "trials/trial_detail.html", {"trial": trial, "criteria": criteria})
