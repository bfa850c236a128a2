from collections import Counter, defaultdict

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Max, Q
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext as _
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

from . import prefill as prefilling
from .display import answer_rows
from .forms import NewScreeningForm, QuestionnaireForm, initial_from_answers, sentence
from .models import CurrentResult, Screening, with_reasons
from .pipeline import EVERY, screen

LIST_EACH_UP_TO = 5  # My screenings lists each trial's verdict up to this many trials, then counts them
NOTICES = 20  # changed or lapsing results shown at the top of My screenings and on the home page
EARLIER_SHOWN = 3  # the clinician's earlier screenings of a reference named on the new-screening page


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
    params = request.POST if request.method == "POST" else request.GET
    # The clinician's screenings of the reference typed: a hint to open one rather than start again, not a block.
    ref = params.get("patient_ref", "").strip()[:40]
    # Only a printable reference is looked up (PostgreSQL refuses a NUL in a query; the form names the problem).
    earlier = (
        list(Screening.objects.of(request.user).with_ref(ref)[:EARLIER_SHOWN]) if ref.isprintable() and ref else []
    )
    if request.htmx and request.method == "GET":
        return render(request, "screening/screening_new.html#ref_hint", {"earlier": earlier, "ref": ref})
    form = NewScreeningForm(request.POST if request.method == "POST" else None, initial={"patient_ref": ref})
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
    context = {
        "form": form,
        "found": found,
        "matches": matches,
        "listed": listed,
        "shown": len(found),
        "earlier": earlier,
        "ref": ref,
    }
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
        data = request.POST
        state = request.session.get(prefilling.session_key(screening)) or {}
        use = request.POST.get("use_record", "")
        if use in (state.get("record") or {}) and use in all_specs:
            # "Use record value" without JavaScript: the form again with the record's value in that question.
            data = prefilling.form_data(request.POST.copy(), {use: state["record"][use][0]}, all_specs)
        form = QuestionnaireForm(questions, data, as_of=today)
        valid = form.is_valid()
        answers = form.answers() if valid else form.partial_answers()
        if "save" in request.POST and not request.htmx:
            if valid:
                results = _screen(screening, answers, today).results
                saved = to_json(answers)
                sources = prefilling.sources_to_save(
                    saved, state, screening.answers, screening.answer_sources, all_specs
                )
                screening.save_snapshot(saved, results, request.user, today, sources=sources)
                request.session.pop(prefilling.session_key(screening), None)
                messages.success(request, _("Screening saved."))
                return redirect("screening:detail", pk=screening.pk)
            messages.error(request, _("Nothing was saved: please correct the answers marked below."))
    else:
        record(request, AccessLog.Action.VIEW_SCREENING, f"screening:{screening.pk}")
        form = QuestionnaireForm(questions, initial=initial_from_answers(screening.answers, questions), as_of=today)
        answers = screening.typed_answers(all_specs)
    return _render_questionnaire(request, screening, form, answers, questions, today)


@role_required(CLINICIAN)
@require_http_methods(["GET", "POST"])
def discard(request, pk):
    """Discard a draft: a screening started and never saved (GET asks to confirm, POST deletes). A saved screening
    is a record of what was shown and is kept."""
    screening = get_object_or_404(Screening.objects.of(request.user), pk=pk)
    if not screening.is_draft:
        messages.error(request, _("This screening was saved: it is kept as a record and cannot be discarded."))
        return redirect("screening:detail", pk=screening.pk)
    if request.method == "POST":
        ref, created = screening.patient_ref, screening.created_at
        if screening.discard():
            record(request, AccessLog.Action.DISCARD_SCREENING, f"screening:{pk}", created=created.isoformat())
            messages.success(request, _("The draft screening %(ref)s was discarded.") % {"ref": ref})
        else:
            messages.error(request, _("This screening was saved meanwhile: it is kept."))
        return redirect("screening:list")
    return render(request, "screening/screening_discard.html", {"screening": screening})


@role_required(CLINICIAN)
@require_POST
def prefill(request, pk):
    """Pre-fill the questionnaire from an uploaded FHIR R4 Bundle, merged into the form as posted with it (the
    answers typed so far, saved or not) or, without it, the saved answers. Typed answers win; an empty question
    takes the record's value; each difference is shown under its question for the clinician to choose. Values
    too old to use are shown, not filled. Nothing is saved: the clinician reviews and saves."""
    screening = get_object_or_404(Screening.objects.of(request.user), pk=pk)
    upload = request.FILES.get("bundle")
    if upload is None:
        messages.error(request, _("Choose a FHIR Bundle file (JSON) to upload."))
        return _refused(request, screening)
    # Checked before reading it: a 98 MB Bundle held a worker 39 s in the JSON parser. One patient's record is
    # a few hundred kilobytes at most.
    if upload.size > settings.FHIR_UPLOAD_MAX_MB * 2**20:
        messages.error(
            request,
            _(
                "%(file)s is %(size)s MB; a FHIR Bundle upload is limited to %(limit)s MB (one patient's record). "
                "Nothing was changed."
            )
            % {"file": upload.name, "size": f"{upload.size / 2**20:.1f}", "limit": settings.FHIR_UPLOAD_MAX_MB},
        )
        return _refused(request, screening)
    today = timezone.localdate()
    all_specs = catalogue()
    try:
        read = screen(as_of=today, bundle=fhir.load_bundle(upload.read()), trials=(), screen_with_problems=True)
        if read.record is None:
            raise fhir.FhirError(read.problems[0].message, read.problems[0].code)
    except fhir.FhirError as exc:
        messages.error(
            request, _("%(file)s: %(problem)s. Nothing was changed.") % {"file": upload.name, "problem": exc}
        )
        return _refused(request, screening)
    result = read.record
    questions = questions_of(screening.trials.values_list("nct_id", flat=True))
    codes = {q.code for q in questions}
    if "questionnaire" in request.POST:  # the form as it stands, sent with the file
        data = request.POST.copy()
        typed = prefilling.typed_codes(data, questions)
    else:
        saved = {k: v for k, v in screening.answers.items() if k in codes}
        data = prefilling.form_data(QueryDict(mutable=True), saved, all_specs)
        typed = set(saved)
    state = prefilling.remembered(result, codes)
    filled = [code for code in state["record"] if code not in typed]
    data = prefilling.form_data(data, {code: state["record"][code][0] for code in filled}, all_specs)
    form = QuestionnaireForm(questions, data, as_of=today)
    answers = form.answers() if form.is_valid() else form.partial_answers()
    request.session[prefilling.session_key(screening)] = state
    current = to_json(answers)
    differ = sum(
        1 for n in prefilling.record_notes(current, state, {}, {}, all_specs).values() if n["kind"] == "conflict"
    )
    text = ngettext(
        "Pre-filled %(n)d answer from %(file)s (%(summary)s).",
        "Pre-filled %(n)d answers from %(file)s (%(summary)s).",
        len(filled),
    ) % {"n": len(filled), "file": upload.name, "summary": result.summary()}
    if differ:
        text += " " + ngettext(
            "%(n)d answer already given differs from the record: it is kept, and both values are shown under it.",
            "%(n)d answers already given differ from the record: they are kept, and both values are shown under them.",
            differ,
        ) % {"n": differ}
    if too_old := len(state["stale"]):
        text += " " + ngettext(
            "%(n)d value is too old to use and was not filled.",
            "%(n)d values are too old to use and were not filled.",
            too_old,
        ) % {"n": too_old}
    messages.info(request, text + " " + gettext("Check them, then save the screening."))
    return _render_questionnaire(request, screening, form, answers, questions, today)


def _refused(request, screening):
    """A pre-fill that read nothing: the questionnaire again as it was sent with the file (answers typed and not
    saved are not lost), or the saved screening when only the file was sent."""
    if "questionnaire" not in request.POST:
        return redirect("screening:detail", pk=screening.pk)
    today = timezone.localdate()
    questions = questions_of(screening.trials.values_list("nct_id", flat=True))
    form = QuestionnaireForm(questions, request.POST, as_of=today)
    answers = form.answers() if form.is_valid() else form.partial_answers()
    return _render_questionnaire(request, screening, form, answers, questions, today)


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


def _unsaved(screening, form, current, specs):
    """Whether the form shows anything but the saved answers (a result shown is then not the saved one)."""
    if form.is_bound and form.errors:
        return True
    return {k: v for k, v in current.items() if k in specs} != {
        k: v for k, v in screening.answers.items() if k in specs
    }


def _cards(screening, explained, nct_ids, panel, unsaved=False, contradicted=frozenset()):
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
            # Refer is offered for the saved result only while the panel shows it: not for answers not yet saved.
            "referable": saved.get(n) is not None and not unsaved and saved[n].verdict == explained[n].verdict,
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
    current = to_json(answers)
    unsaved = _unsaved(screening, form, current, specs)
    latest, cards = _cards(screening, explained, [n for g in groups for n in g.shown], panel, unsaved, contradicted)
    notes = form.notes(panel.derived)
    for conflict in conflicts:
        for code in conflict.questions:
            if code in specs and notes.get(code, ("",))[0] != "error":
                notes[code] = ("error", sentence(conflict.message))
    tally = Counter(v.verdict for v in verdicts)
    # What the record says of each answer (its source, a different value, a value too old), for as long as the
    # pre-fill is in the session; then the sources saved with the screening, while the answer is unchanged.
    record_notes = prefilling.record_notes(
        current,
        request.session.get(prefilling.session_key(screening)),
        screening.answers,
        screening.answer_sources,
        specs,
    )
    context = {
        "screening": screening,
        "form": form,
        "notes": notes,
        "record_notes": record_notes,
        # Shown with answers that are not the saved ones (Update results, a refused save, a pre-fill): Refer waits
        # for a save, and leaving the page asks first (static/js/prescreen.js).
        "unsaved": unsaved,
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
    form, answers = _live_answers(request, screening, questions, today)
    start = _start(request)
    windows = {v: (0, 0) for v in GROUP_ORDER} | {Verdict(verdict): (start, start + PAGE)}
    _verdicts, explained, groups, _matches, missing, conflicts = _panel(request, screening, answers, today, windows)
    group = next(g for g in groups if g.verdict == verdict)
    specs = {q.code: q.spec() for q in questions}
    contradicted = contradictions.contradicted(conflicts)
    screened = contradictions.resolve(answers, conflicts)
    panel = build_panel([explained[n] for n in group.shown], screened, specs, today, missing=missing)
    unsaved = _unsaved(screening, form, to_json(answers), specs)
    _latest, cards = _cards(screening, explained, group.shown, panel, unsaved, contradicted)
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
    answers = answer_rows(latest.answers, latest.sources, catalogue()) if latest else []
    return render(
        request,
        "screening/screening_print.html",
        {
            "screening": screening,
            "latest": latest,
            "results": results,
            "answers": answers,
            "verdict_words": VERDICT_WORDS,
        },
    )
