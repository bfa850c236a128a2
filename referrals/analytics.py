"""Screen-failure analytics for one trial: the funnel, what excludes patients, what is left unknown."""

from collections import Counter
from dataclasses import dataclass

from eligibility.engine import Verdict
from eligibility.vocabulary import is_against
from screening.models import CurrentResult, Screening
from trials.models import Criterion

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


def count_current(rows) -> tuple[Counter, Counter, Counter]:
    """From current results as (verdict, deciding criterion keys, missing question codes): the verdicts, how
    often each criterion ruled a patient out, how often each question was missing. Pure."""
    verdicts, excluding, unknown = Counter(), Counter(), Counter()
    for verdict, deciding, missing in rows:
        verdicts[verdict] += 1
        if verdict == Verdict.INELIGIBLE:
            excluding.update(set(deciding))
        elif verdict == Verdict.UNDETERMINED:
            unknown.update(set(missing))
    return verdicts, excluding, unknown


def trial_analytics(trial, catalogue) -> dict:
    """Funnel and failure reasons from each saved screening's current result for the trial (today's criteria)."""
    screenings = Screening.objects.filter(trials=trial)
    rows = CurrentResult.objects.filter(trial=trial).values_list("verdict", "deciding", "missing")
    verdicts, excluding_keys, unknown = count_current(rows)
    texts = dict(Criterion.objects.filter(trial=trial).values_list("pk", "text"))
    excluding = Counter()
    for key, n in excluding_keys.items():
        excluding[texts.get(int(key), key) if str(key).isdigit() else key] += n
    ever = Referral.history.filter(trial_id=trial.pk)
    funnel = [
        ("Screenings that included the trial", screenings.count()),
        ("Saved, now likely eligible", verdicts["eligible"]),
        ("Saved, now needs more information", verdicts["undetermined"]),
        ("Saved, now not eligible", verdicts["ineligible"]),
        ("Referred", Referral.objects.filter(trial=trial).count()),
        ("Consented", ever.filter(status__in=REACHED_CONSENT).values("id").distinct().count()),
        ("Enrolled", ever.filter(status=Referral.Status.ENROLLED).values("id").distinct().count()),
    ]
    labels = {code: spec.label for code, spec in catalogue.items()}
    return {
        "funnel": funnel,
        # A funnel keeps its stage order (not sorted by size).
        "funnel_bars": [Bar(label, n, round(100 * n / max(funnel[0][1], 1), 1)) for label, n in funnel],
        "excluding": bars(excluding),
        "unknown": bars(unknown, labels=labels),
        "saved": sum(verdicts.values()),
    }
