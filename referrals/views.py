"""Referrals: the clinician's referral of a saved screening, and the coordinator workspace (candidate queue,
candidate detail, verification and workflow, screen-failure analytics)."""

import csv

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from audit.log import record
from audit.models import AccessLog
from eligibility.answers import to_json
from eligibility.engine import Verdict
from eligibility.report import VERDICT_WORDS
from eligibility.verification import apply_verifications
from prescreen.roles import ADMIN, CLINICIAN, COORDINATOR, has_role, role_required
from prescreen.security import signature_valid
from screening.display import answer_rows
from screening.models import Screening
from screening.pipeline import screen
from trials.models import Trial, catalogue

from .analytics import trial_analytics
from .forms import QueueFilterForm, ReferralForm, StatusForm, VerifyForm
from .models import Conflict, Referral, ReferralView, Verification, reason_words


def _visible(request):
    return (
        Referral.objects.visible_to(request.user)
        .select_related("trial", "screening", "referred_by", "screen_fail_criterion")
        .with_current()
    )


def _my_trials(request):
    if has_role(request.user, ADMIN):
        return Trial.objects.all()
    return Trial.objects.filter(coordinators=request.user)


def _screen_today(referral, explain=(), data=None):
    """The referral's saved answers against its trial's current criteria. Saved answers were valid when saved;
    one that no longer reads (a question since removed) is left out, which makes its criteria unknown, never met."""
    nct_id = referral.trial.nct_id
    return screen(
        as_of=timezone.localdate(),
        answers=referral.screening.answers,
        trials=[nct_id],
        explain=explain,
        screen_with_problems=True,
        data=data,
    )


@role_required(COORDINATOR, ADMIN)
@vary_on_headers("HX-Request")
def queue(request):
    form = QueueFilterForm(request.GET, trials=_my_trials(request))
    referrals = form.apply(_visible(request))
    page = Paginator(referrals, 20).get_page(request.GET.get("page"))
    rows = [{"referral": r, "today": r.current_verdict, "changed": _changed(r)} for r in page]
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "rows": rows, "query": query.urlencode(), "now": timezone.now()}
    template = "referrals/candidate_queue.html"
    if request.htmx:
        template += "#table"
    return render(request, template, context)


@role_required(COORDINATOR, ADMIN)
def queue_csv(request):
    form = QueueFilterForm(request.GET, trials=_my_trials(request))
    referrals = list(form.apply(_visible(request)))
    filters = {name: request.GET[name] for name in form.fields if request.GET.get(name)}
    record(request, AccessLog.Action.CSV_EXPORT, "candidates.csv", filters=filters, rows=len(referrals))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="candidates.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "patient_ref",
            "nct_id",
            "status",
            "verdict_at_referral",
            "verdict_today",
            "referred_by",
            "referred_at",
            "status_reason",
        ]
    )
    for r in referrals:
        writer.writerow(
            [
                _csv_safe(r.screening.patient_ref),
                r.trial.nct_id,
                r.status,
                r.verdict_at_referral,
                r.current_verdict or "",
                r.referred_by.get_username(),
                r.created_at.isoformat(timespec="seconds"),
                _csv_safe(r.reason),
            ]
        )
    return response


def _changed(referral):
    return referral.current_verdict is not None and referral.current_verdict != referral.verdict_at_referral


def _csv_safe(text):
    # Cells starting with = + - @ are formulas to a spreadsheet: neutralise them.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _detail_context(referral, status_form=None, error=None):
    questions = catalogue()
    screened = _screen_today(referral, explain=[referral.trial.nct_id])
    answers = to_json(screened.answers)
    now = screened.explained[referral.trial.nct_id]
    verifications = {str(v.criterion_id): v for v in referral.verifications.select_related("verified_by")}
    verified = apply_verifications(now, {k: v.status for k, v in verifications.items()})
    saved = {c["id"]: c for c in referral.snapshot_result.report["criteria"] if "id" in c}
    rows = [
        {
            "now": c,
            "verified": v,
            "saved": saved.get(c.key),
            "verification": verifications.get(c.key),
            "form": VerifyForm(initial={"seen": _seen(verifications.get(c.key))}),
        }
        for c, v in zip(now.criteria, verified.criteria)
    ]
    return {
        "referral": referral,
        "rows": rows,
        "now": now,
        "verified": verified,
        "at_referral": referral.snapshot_result.verdict,
        "changed": now.verdict != referral.snapshot_result.verdict,
        # As the questionnaire shows them (yes / no, units, choice labels), with the record each came from.
        "answers": answer_rows(answers, referral.screening.answer_sources, questions),
        "status_form": status_form or StatusForm(referral=referral),
        "error": error,
        "history": _history(referral),
        "verdict_words": VERDICT_WORDS,
    }


def _short(text, length=60):
    return text if len(text) <= length else text[: length - 1] + "…"


def _seen(verification):
    return verification.version if verification else None


def _history(referral):
    """Status changes and verifications, newest first, with who and when."""
    previous = None
    items = []
    records = list(referral.history.select_related("history_user").order_by("history_date", "history_id"))
    criteria = {c.pk: c for c in referral.trial.criteria.all()}
    for h in records:
        if h.history_type == "+":
            what = _("Referred")
        elif previous is not None and previous.status != h.status:
            what = f"{Referral.Status(previous.status).label} → {Referral.Status(h.status).label}"
        else:
            what = _("Changed")
        if (
            h.status == Referral.Status.SCREEN_FAILED
            and h.status_reason
            and (previous is None or previous.status != h.status)
        ):
            what += " " + _("(reason: %(reason)s)") % {
                "reason": reason_words(criteria.get(h.screen_fail_criterion_id), h.status_reason)
            }
        items.append(
            {"when": h.history_date, "who": h.history_user, "what": what, "note": h.history_change_reason or ""}
        )
        previous = h
    verification_history = list(Verification.history.filter(referral_id=referral.pk).select_related("history_user"))
    texts = {pk: c.text for pk, c in criteria.items()}
    for h in verification_history:
        label = {"+": _("Verified"), "~": _("Verification changed"), "-": _("Verification cleared")}[h.history_type]
        items.append(
            {
                "when": h.history_date,
                "who": h.history_user,
                "what": f"{label}: {Verification.Status(h.status).label} — “{_short(texts.get(h.criterion_id, _('a removed criterion')))}”",
                "note": h.note,
            }
        )
    return sorted(items, key=lambda e: e["when"], reverse=True)


@role_required(COORDINATOR, ADMIN)
def detail(request, pk):
    referral = get_object_or_404(_visible(request), pk=pk)
    ReferralView.objects.create(referral=referral, user=request.user)
    record(request, AccessLog.Action.VIEW_CANDIDATE, f"referral:{referral.pk}")
    return render(request, "referrals/candidate_detail.html", _detail_context(referral))


@role_required(COORDINATOR, ADMIN)
@require_POST
def change_status(request, pk):
    referral = get_object_or_404(_visible(request), pk=pk)
    form = StatusForm(request.POST, referral=referral)
    error = None
    if form.is_valid():
        data = form.cleaned_data
        meaning = Referral.SIGNATURE_MEANINGS.get(data["status"])
        # Without a password move_to refuses a signed move itself; a wrong one changes nothing.
        signed = bool(meaning and data["password"]) and signature_valid(request, data["password"], meaning)
        try:
            if meaning and data["password"] and not signed:
                raise ValidationError(_("Wrong password: nothing was signed and the status was not changed."))
            referral.move_to(
                data["status"],
                by=request.user,
                version=data["version"],
                note=data["note"],
                reason_text=data["reason_text"],
                reason_criterion=data["reason_criterion"],
                signed=signed,
            )
        except (ValidationError, Conflict) as exc:
            error = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
        else:
            if not request.htmx:
                messages.success(
                    request, _("Status changed to “%(status)s”.") % {"status": referral.get_status_display()}
                )
                return redirect("candidates:detail", pk=referral.pk)
            form = None
    else:
        error = _("Please correct the form: %(errors)s") % {
            "errors": "; ".join(
                f"{form.fields[k].label if k in form.fields else k}: {' '.join(v)}" for k, v in form.errors.items()
            )
        }
    if not request.htmx:
        messages.error(request, error)
        return redirect("candidates:detail", pk=referral.pk)
    referral.refresh_from_db()
    context = _detail_context(referral, status_form=form if error else None, error=error)
    return render(request, "referrals/candidate_detail.html#workflow", context)


@role_required(COORDINATOR, ADMIN)
@require_POST
def verify(request, pk, criterion_id):
    referral = get_object_or_404(_visible(request), pk=pk)
    criterion = get_object_or_404(referral.trial.criteria, pk=criterion_id)
    form = VerifyForm(request.POST)
    error = None
    if not form.is_valid():
        error = (
            " ".join(form.errors["note"])
            if "note" in form.errors
            else _("Choose verified met, verified not met or clear.")
        )
    else:
        data = form.cleaned_data
        try:
            Verification.record(
                referral, criterion, data["status"], by=request.user, seen=data["seen"], note=data["note"]
            )
        except Conflict as exc:
            error = str(exc)
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("candidates:detail", pk=referral.pk)
    context = _detail_context(referral)
    context["row"] = next(r for r in context["rows"] if r["now"].key == str(criterion.pk))
    context["row_error"] = error
    response = render(request, "referrals/candidate_detail.html#verify_response", context)
    return response


@role_required(COORDINATOR, ADMIN)
def analytics(request, nct_id):
    trial = get_object_or_404(_my_trials(request), nct_id=nct_id)
    return render(request, "referrals/analytics.html", {"trial": trial, **trial_analytics(trial, catalogue())})


@role_required(CLINICIAN)
@require_http_methods(["GET", "POST"])
def refer(request, pk, nct_id):
    screening = get_object_or_404(Screening.objects.of(request.user), pk=pk)
    trial = get_object_or_404(screening.trials, nct_id=nct_id)
    latest = screening.latest_snapshot()
    saved = latest.results.filter(trial=trial).first() if latest else None
    form = ReferralForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            Referral.create_from(screening, trial, request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Referred to the coordinators of %(nct)s.") % {"nct": trial.nct_id})
            return redirect("screening:detail", pk=screening.pk)
    return render(
        request,
        "referrals/refer.html",
        {
            "screening": screening,
            "trial": trial,
            "saved": saved,
            "form": form,
            "ineligible": saved is not None and saved.verdict == Verdict.INELIGIBLE,
            "verdict_words": VERDICT_WORDS,
        },
    )
