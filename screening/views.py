from collections import Counter, defaultdict

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Max, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from audit.log import record
from audit.models import AccessLog
from eligibility import contradictions, fhir
from eligibility.answers import to_json
from eligibility.engine import Verdict
from eligibility.panel import GROUP_ORDER, PAGE, build_panel, group_verdicts
from eligibility.report import VERDICT_WORDS
from prescreen.roles import CLINICIAN, role_required
from trials.models import catalogue, questions_of, screening_data

from .forms import NewScreeningForm, QuestionnaireForm, initial_from_answers, sentence
from .models import CurrentResult, Screening, with_reasons
from .pipeline import EVERY, screen

LIST_EACH_UP_TO = 5  # My screenings lists each trial's verdict up to this many trials, then counts them
NOTICES = 20  # changed or lapsing results shown at the top of My screenings and on the home page


@role_required(CLINICIAN)
def screening_list(request):
    # Every figure comes from the current results (kept up to date by re-screening), never from screening again:
    # a constant number of queries however many trials each screening has.
    screenings = (
        Screening.objects.of(request.user)
        .annotate(last_saved=Max("snapshots__saved_at"))
        .order_by("-updated_at", "-pk")
    )
    page = Paginator(screenings.prefetch_related("referrals__trial"), 25).get_page(request.GET.get("page"))
    ids = [s.pk for s in page]
    counts = defaultdict(Counter)
    for screening_id, verdict, n in (
        CurrentResult.objects.filter(screening_id__in=ids)
        .values_list("screening_id", "saved_verdict")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        counts[screening_id][verdict] = n
    few = [pk for pk in ids if 0 < sum(counts[pk].values()) <= LIST_EACH_UP_TO]
    shown = defaultdict(list)
    for result in (
        CurrentResult.objects.filter(Q(screening_id__in=few) | Q(screening_id__in=ids, changed=True))
        .select_related("trial")
        .only("screening_id", "verdict", "saved_verdict", "changed", "lapsed_on", "trial__nct_id")
        .order_by("trial__nct_id")
    ):
        shown[result.screening_id].append(result)
    rows = []
    for screening in page:
        saved = counts[screening.pk]
        results = shown[screening.pk]
        rows.append(
            {
                "screening": screening,
                "results": results,
                "changed": [r for r in results if r.changed],
                # Many trials: counts per saved verdict and only what changed, rather than a line per trial.
                "summary": [(v, saved[v]) for v in GROUP_ORDER if saved[v]] if screening.pk not in few else None,
            }
        )
    notices = with_reasons(CurrentResult.objects.notices_for(request.user, timezone.localdate())[:NOTICES])
    return render(request, "screening/screening_list.html", {"page": page, "rows": rows, "notices": notices})


@role_required(CLINICIAN)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def screening_new(request):
    """Start a screening. A POST starts it, unless it only updates the choice of trials: the search's button
    without JavaScript (the page again), or htmx as the choice changes (the count and the search's results)."""
    form = NewScreeningForm(request.POST if request.method == "POST" else None)
    updating = request.htmx or "search" in request.POST
    if request.method == "POST" and not updating and form.is_valid():
        screening = Screening.objects.create(patient_ref=form.cleaned_data["patient_ref"], clinician=request.user)
        screening.trials.set(form.cleaned_data["chosen"])
        return redirect("screening:detail", pk=screening.pk)
    if updating:
        form.is_valid()
        # Only the choice is being made: the reference is checked when the screening starts.
        form.errors.pop("patient_ref", None)
    found, matches = form.found()
    listed = set(getattr(form, "cleaned_data", {}).get("listed", ()))
    context = {"form": form, "found": found, "matches": matches, "listed": listed, "shown": len(found)}
    template = "screening/screening_new.html"
    if request.htmx:
        template += "#choice"
    return render(request, template, context)


@role_required(CLINICIAN)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def questionnaire(request, pk):
    screening = get_object_or_404(Screening.objects.of(request.user), pk=pk)
    today = timezone.localdate()
    questions = questions_of(screening.trials.values_list("nct_id", flat=True))
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
        record(request, AccessLog.Action.VIEW_SCREENING, f"screening:{screening.pk}")
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
    # Checked before reading it: a 98 MB Bundle held a worker 39 s in the JSON parser. One patient's record is
    # a few hundred kilobytes at most.
    if upload.size > settings.FHIR_UPLOAD_MAX_MB * 2**20:
        messages.error(
            request,
            f"{upload.name} is {upload.size / 2**20:.1f} MB; a FHIR Bundle upload is limited to "
            f"{settings.FHIR_UPLOAD_MAX_MB} MB (one patient's record). Nothing was changed.",
        )
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
    questions = questions_of(screening.trials.values_list("nct_id", flat=True))
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


def _screen(screening, answers, today, explain=EVERY, data=None):
    # The form has already parsed and checked the answers (and shows their problems): screen what is valid.
    return screen(
        as_of=today,
        answers=to_json(answers),
        trials=list(screening.trials.values_list("nct_id", flat=True)),
        explain=explain,
        screen_with_problems=True,
        data=data,
    )


def _live_answers(request, screening, questions, today):
    """The questionnaire's current answers: posted by htmx from the form (unsaved), else the saved ones."""
    if request.method == "POST":
        form = QuestionnaireForm(questions, request.POST, as_of=today)
        return form, form.answers() if form.is_valid() else form.partial_answers()
    form = QuestionnaireForm(questions, initial=initial_from_answers(screening.answers, questions), as_of=today)
    return form, screening.typed_answers(catalogue())


def _search(screening, params):
    """The panel's search: text in the title, NCT id or a condition, and a phase. None when not searching."""
    find, phase = params.get("find", "").strip().lower(), params.get("phase", "")
    if not find and not phase:
        return None
    rows = screening.trials.values_list("nct_id", "brief_title", "conditions", "phase")
    return {
        nct_id
        for nct_id, title, conditions, trial_phase in rows
        if (not phase or trial_phase == phase)
        and (not find or find in f"{nct_id} {title} {' '.join(map(str, conditions))}".lower())
    }


def _shown(params):
    """How many cards of each group a plain (no-JS) "Show more" asked for."""
    windows = {}
    for verdict in GROUP_ORDER:
        try:
            stop = int(params.get(f"show_{verdict}", PAGE))
        except ValueError:
            stop = PAGE
        windows[verdict] = (0, min(max(stop, PAGE), 10_000))
    return windows


def _panel(request, screening, answers, today, windows):
    """The results panel: verdicts for every trial and the open questions of the undetermined ones (compiled
    engine: they rank those trials and make the next best questions), explanations for the cards shown."""
    nct_ids = list(screening.trials.values_list("nct_id", flat=True))

    def run(explain, missing=False):
        return screen(
            as_of=today,
            answers=to_json(answers),
            trials=nct_ids,
            explain=explain,
            screen_with_problems=True,
            missing=missing,
            data=data,
        )

    data = screening_data()
    first = run((), missing=True)
    verdicts = first.verdicts
    matches = _search(screening, request.POST if request.method == "POST" else request.GET)
    listed = [(v.nct_id, v.verdict) for v in verdicts if matches is None or v.nct_id in matches]
    groups = group_verdicts(listed, first.missing, windows)
    explained = run([n for g in groups for n in g.shown]).explained
    return verdicts, explained, groups, matches, first.missing, first.contradictions


def _cards(screening, explained, nct_ids, panel, contradicted=frozenset()):
    """Each card's result, saved result, referral and lapse date; an undetermined card's open questions are split
    into answers contradicting each other (to correct) and answers missing (to give)."""
    latest = screening.latest_snapshot()
    saved = {}
    if latest:
        saved = {r.trial.nct_id: r for r in latest.results.filter(trial__nct_id__in=nct_ids).select_related("trial")}
    referrals = {r.trial.nct_id: r for r in screening.referrals.select_related("trial")}
    return latest, {
        n: {
            "result": explained[n],
            "saved": saved.get(n),
            "referral": referrals.get(n),
            "lapses": panel.lapsing.get(n),
            "conflicts": [c for c in explained[n].missing if c in contradicted],
            "missing": [c for c in explained[n].missing if c not in contradicted],
        }
        for n in nct_ids
    }


def _render_questionnaire(request, screening, form, answers, questions, today):
    specs = {q.code: q.spec() for q in questions}
    params = request.POST if request.method == "POST" else request.GET
    verdicts, explained, groups, matches, missing, conflicts = _panel(
        request, screening, answers, today, _shown(params)
    )
    # Answers that contradict each other, as the pipeline found them (also in saved answers from before the
    # contradiction policy, which the form does not check): not screened on, and shown on each field involved.
    contradicted = frozenset(code for c in conflicts for code in c.questions if code in specs)
    sources = {q.code: q.sources for q in questions if q.sources}
    screened = contradictions.resolve(answers, conflicts)  # what the engine screened on
    panel = build_panel(list(explained.values()), screened, specs, today, sources, missing, contradicted)
    latest, cards = _cards(screening, explained, [n for g in groups for n in g.shown], panel, contradicted)
    notes = form.notes(panel.derived)
    for conflict in conflicts:
        for code in conflict.questions:
            if code in specs and notes.get(code, ("",))[0] != "error":
                notes[code] = ("error", sentence(conflict.message))
    tally = Counter(v.verdict for v in verdicts)
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
        "groups": [{"group": g, "rows": [cards[n] for n in g.shown]} for g in groups],
        "counts": [(v, VERDICT_WORDS[v], tally[v]) for v in GROUP_ORDER],
        "total": len(verdicts),
        "matches": matches,
        "find": params.get("find", ""),
        "phase": params.get("phase", ""),
        "phases": sorted({p for p in screening.trials.values_list("phase", flat=True) if p}),
        "labels": {code: spec.name for code, spec in specs.items()},
        "contradicted": [specs[code].name for code in specs if code in contradicted],
        "page_size": PAGE,
        "latest": latest,
        "verdict_words": VERDICT_WORDS,
        "today": today,
    }
    template = "screening/questionnaire.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context)


@role_required(CLINICIAN)
@require_http_methods(["GET", "POST"])
def more_results(request, pk, verdict):
    """The next cards of one group of the panel ("Show more"), for the answers in the form (htmx POST)."""
    screening = get_object_or_404(Screening.objects.of(request.user), pk=pk)
    if verdict not in GROUP_ORDER:
        raise Http404
    if not request.htmx:
        # Without JavaScript "Show more" is a submit button of the questionnaire; a link here shows the page.
        return redirect(f"{reverse('screening:detail', args=[pk])}?show_{verdict}={_start(request) + PAGE}")
    today = timezone.localdate()
    questions = questions_of(screening.trials.values_list("nct_id", flat=True))
    _form, answers = _live_answers(request, screening, questions, today)
    start = _start(request)
    windows = {v: (0, 0) for v in GROUP_ORDER} | {Verdict(verdict): (start, start + PAGE)}
    _verdicts, explained, groups, _matches, missing, conflicts = _panel(request, screening, answers, today, windows)
    group = next(g for g in groups if g.verdict == verdict)
    specs = {q.code: q.spec() for q in questions}
    contradicted = contradictions.contradicted(conflicts)
    screened = contradictions.resolve(answers, conflicts)
    panel = build_panel([explained[n] for n in group.shown], screened, specs, today, missing=missing)
    _latest, cards = _cards(screening, explained, group.shown, panel, contradicted)
    context = {
        "screening": screening,
        "group": group,
        "rows": [cards[n] for n in group.shown],
        "labels": {code: spec.name for code, spec in specs.items()},
        "page_size": PAGE,
        "verdict_words": VERDICT_WORDS,
    }
    return render(request, "screening/questionnaire.html#group_page", context)


def _start(request):
    try:
        return max(int(request.GET.get("start", PAGE)), 0)
    except ValueError:
        return PAGE


@role_required(CLINICIAN)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def trial_criteria(request, pk, nct_id):
    """One trial's criteria, criterion by criterion: loaded when its card is expanded (htmx POST with the
    form's current answers), or a page of its own for the saved answers (GET, without JavaScript)."""
    screening = get_object_or_404(Screening.objects.of(request.user), pk=pk)
    trial = get_object_or_404(screening.trials, nct_id=nct_id)
    today = timezone.localdate()
    questions = questions_of([trial.nct_id])
    _form, answers = _live_answers(request, screening, questions, today)
    result = screen(
        as_of=today, answers=to_json(answers), trials=[nct_id], explain=[nct_id], screen_with_problems=True
    ).explained[nct_id]
    template = "screening/trial_criteria.html"
    if request.htmx:
        template += "#criteria"
    context = {"screening": screening, "trial": trial, "r": result, "today": today}
    return render(request, template, context)


@role_required(CLINICIAN)
def screening_print(request, pk):
    screening = get_object_or_404(Screening.objects.of(request.user), pk=pk)
    record(request, AccessLog.Action.VIEW_PRINT, f"screening:{screening.pk}")
    latest = screening.latest_snapshot()
    # The record as saved: each result with the protocol's words it was saved with (one query for all of them).
    results = list(latest.results.select_related("criteria")) if latest else []
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
