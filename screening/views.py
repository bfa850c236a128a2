from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from eligibility import fhir
from eligibility.answers import to_json
from eligibility.panel import build_panel
from eligibility.report import VERDICT_WORDS
from prescreen.roles import CLINICIAN, role_required
from trials.models import catalogue, questions_for, screening_data

from .forms import NewScreeningForm, QuestionnaireForm, initial_from_answers
from .models import Screening, Snapshot
from .pipeline import screen


@role_required(CLINICIAN)
def screening_list(request):
    screenings = Screening.objects.of(request.user).prefetch_related(
        "trials",
        Prefetch("snapshots", queryset=Snapshot.objects.prefetch_related("results__trial"), to_attr="all_snapshots"),
        "referrals__trial",
    )
    page = Paginator(screenings, 25).get_page(request.GET.get("page"))
    today = timezone.localdate()
    data = screening_data()  # one read of the catalogue's version for the whole page
    rows = []
    for screening in page:
        latest = screening.all_snapshots[0] if screening.all_snapshots else None
        saved = {r.trial.nct_id: r for r in latest.results.all()} if latest else {}
        now = {}
        if latest:
            result = screen(
                as_of=today,
                answers=screening.answers,
                trials=[t.nct_id for t in screening.trials.all()],
                screen_with_problems=True,
                data=data,
            )
            now = {r.nct_id: r for r in result.results}
        rows.append({"screening": screening, "latest": latest, "saved": saved, "now": now})
    return render(request, "screening/screening_list.html", {"page": page, "rows": rows})


@role_required(CLINICIAN)
@require_http_methods(["GET", "POST"])
def screening_new(request):
    form = NewScreeningForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        screening = Screening.objects.create(patient_ref=form.cleaned_data["patient_ref"], clinician=request.user)
        screening.trials.set(form.cleaned_data["trials"])
        return redirect("screening:detail", pk=screening.pk)
    return render(request, "screening/screening_new.html", {"form": form})


@role_required(CLINICIAN)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def questionnaire(request, pk):
    screening = get_object_or_404(Screening.objects.of(request.user), pk=pk)
    today = timezone.localdate()
    trials = screening.trials.all()
    questions = questions_for(trials.rules())
    all_specs = catalogue()

    if request.method == "POST":
        form = QuestionnaireForm(questions, request.POST, as_of=today)
        valid = form.is_valid()
        answers = form.answers() if valid else form.partial_answers()
        if "save" in request.POST and not request.htmx:
            if valid:
                results = _screen(screening, answers, today).results
                screening.save_snapshot(to_json(answers), results, request.user, today)
                request.session.pop(_prefill_key(screening), None)
                messages.success(request, "Screening saved.")
                return redirect("screening:detail", pk=screening.pk)
            messages.error(request, "Nothing was saved: please correct the answers marked below.")
    else:
        form = QuestionnaireForm(questions, initial=initial_from_answers(screening.answers, questions), as_of=today)
        answers = screening.typed_answers(all_specs)
    return _render_questionnaire(request, screening, form, answers, questions, today)


@role_required(CLINICIAN)
@require_POST
def prefill(request, pk):
    """Pre-fill the questionnaire from an uploaded FHIR R4 Bundle. Nothing is saved: the clinician
    reviews the answers, each marked with its source, and saves the screening themselves."""
    screening = get_object_or_404(Screening.objects.of(request.user), pk=pk)
    upload = request.FILES.get("bundle")
    if upload is None:
        messages.error(request, "Choose a FHIR Bundle file (JSON) to upload.")
        return redirect("screening:detail", pk=screening.pk)
    today = timezone.localdate()
    all_specs = catalogue()
    try:
        read = screen(as_of=today, bundle=fhir.load_bundle(upload.read()), trials=(), screen_with_problems=True)
        if read.record is None:
            raise fhir.FhirError(read.problems[0].message, read.problems[0].code)
    except fhir.FhirError as exc:
        messages.error(request, f"{upload.name}: {exc}. Nothing was changed.")
        return redirect("screening:detail", pk=screening.pk)
    result = read.record
    questions = questions_for(screening.trials.all().rules())
    answers = {**screening.typed_answers(all_specs), **result.answers}
    form = QuestionnaireForm(questions, initial=initial_from_answers(to_json(answers), questions), as_of=today)
    used = sum(1 for code in result.answers if code in {q.code for q in questions})
    messages.info(
        request,
        f"Pre-filled {used} answer{'s' if used != 1 else ''} from {upload.name} ({result.summary()}). "
        "Check them, then save the screening.",
    )
    request.session[_prefill_key(screening)] = {
        code: [value, source.describe()]
        for code, value in to_json(result.answers).items()
        if (source := result.provenance.get(code))
    }
    return _render_questionnaire(request, screening, form, answers, questions, today)


def _prefill_key(screening):
    return f"prefill-{screening.pk}"


def _screen(screening, answers, today):
    # The form has already parsed and checked the answers (and shows their problems): screen what is valid.
    return screen(
        as_of=today,
        answers=to_json(answers),
        trials=[t.nct_id for t in screening.trials.all()],
        screen_with_problems=True,
    )


def _render_questionnaire(request, screening, form, answers, questions, today):
    specs = {q.code: q.spec() for q in questions}
    results = _screen(screening, answers, today).results
    sources = {q.code: q.sources for q in questions if q.sources}
    panel = build_panel(results, answers, specs, today, sources)
    latest = screening.latest_snapshot()
    saved = {r.trial.nct_id: r for r in latest.results.select_related("trial")} if latest else {}
    referrals = {r.trial.nct_id: r for r in screening.referrals.select_related("trial")}
    notes = form.notes(panel.derived)
    # Pre-filled answers show their source for as long as the clinician keeps the value.
    current = to_json(answers)
    for code, (value, source) in request.session.get(_prefill_key(screening), {}).items():
        if code in specs and code not in notes and current.get(code) == value:
            notes[code] = ("source", f"From the record: {source}")
    context = {
        "screening": screening,
        "form": form,
        "notes": notes,
        "panel": panel,
        "rows": [
            {
                "result": r,
                "saved": saved.get(r.nct_id),
                "referral": referrals.get(r.nct_id),
                "lapses": panel.lapsing.get(r.nct_id),
            }
            for r in results
        ],
        "latest": latest,
        "verdict_words": VERDICT_WORDS,
        "today": today,
    }
    template = "screening/questionnaire.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context)


@role_required(CLINICIAN)
def screening_print(request, pk):
    screening = get_object_or_404(Screening.objects.of(request.user), pk=pk)
    latest = screening.latest_snapshot()
    results = list(latest.results.select_related("trial")) if latest else []
    return render(
        request,
        "screening/screening_print.html",
        {
            "screening": screening,
            "latest": latest,
            "results": results,
            "verdict_words": VERDICT_WORDS,
        },
    )
