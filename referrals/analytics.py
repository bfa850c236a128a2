"""Screen-failure analytics for one trial: the funnel, what excludes patients, what is left unknown."""

from collections import Counter
from dataclasses import dataclass

from django.db.models import Max

from eligibility.vocabulary import is_against
from screening.models import Screening, SnapshotResult

from .models import Referral

REACHED_CONSENT = (Referral.Status.CONSENTED, Referral.Status.ENROLLED)


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    percent: float  # of the largest bar, for drawing


def count_failures(results: list[dict]) -> tuple[Counter, Counter]:
    """From saved trial results (report.trial_json): how often each criterion ruled a patient out,
    and how often each question was the missing answer of an open criterion. Pure."""
    excluding, unknown = Counter(), Counter()
    for result in results:
        for c in result["criteria"]:
            if is_against(c["kind"], c["outcome"]):
                excluding[c["text"]] += 1
            if c["outcome"] == "unknown":
                unknown.update(set(c["missing"]))
    return excluding, unknown


def bars(counter: Counter, limit: int = 10, labels=None) -> list[Bar]:
    top = counter.most_common(limit)
    largest = top[0][1] if top else 1
    return [Bar((labels or {}).get(k, k), n, round(100 * n / largest, 1)) for k, n in top]


def trial_analytics(trial, catalogue) -> dict:
    """Funnel and failure reasons, counting each screening's latest saved result only."""
    screenings = Screening.objects.filter(trials=trial)
    latest = screenings.annotate(last=Max("snapshots__pk")).values_list("last", flat=True)
    saved = SnapshotResult.objects.filter(trial=trial, snapshot_id__in=[pk for pk in latest if pk])
    # Each result as it was saved, with the protocol's words it was saved with (SnapshotResult.report).
    results = [(r.verdict, r.report) for r in saved.select_related("criteria")]
    verdicts = Counter(v for v, _ in results)
    ever = Referral.history.filter(trial_id=trial.pk)
    funnel = [
        ("Screenings that included the trial", screenings.count()),
        ("Saved with verdict: likely eligible", verdicts["eligible"]),
        ("Saved with verdict: needs more information", verdicts["undetermined"]),
        ("Saved with verdict: not eligible", verdicts["ineligible"]),
        ("Referred", Referral.objects.filter(trial=trial).count()),
        ("Consented", ever.filter(status__in=REACHED_CONSENT).values("id").distinct().count()),
        ("Enrolled", ever.filter(status=Referral.Status.ENROLLED).values("id").distinct().count()),
    ]
    excluding, unknown = count_failures([r for _, r in results])
    labels = {code: spec.label for code, spec in catalogue.items()}
    return {
        "funnel": funnel,
        # A funnel keeps its stage order (not sorted by size).
        "funnel_bars": [Bar(label, n, round(100 * n / max(funnel[0][1], 1), 1)) for label, n in funnel],
        "excluding": bars(excluding),
        "unknown": bars(unknown, labels=labels),
        "saved": len(results),
    }
