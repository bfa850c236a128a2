"""Screen-failure analytics for one trial: the funnel, what excludes patients, what is left unknown."""

from collections import Counter
from dataclasses import dataclass

from django.utils.translation import gettext as _

from eligibility.engine import Verdict
from screening.models import CurrentResult
from trials.models import Criterion

from .models import Referral

REACHED_CONSENT = (Referral.Status.CONSENTED, Referral.Status.ENROLLED)


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    percent: float  # of the largest bar, for drawing


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
    """Funnel and failure reasons from each saved screening's current result for the trial (today's criteria).

    Only saved screenings count (a draft never saved has no current result) and not retired ones (retiring removes
    a screening's current results; its referrals are left out here too)."""
    rows = CurrentResult.objects.filter(trial=trial, screening__retired_at__isnull=True).values_list(
        "verdict", "deciding", "missing"
    )
    verdicts, excluding_keys, unknown = count_current(rows)
    texts = dict(Criterion.objects.filter(trial=trial).values_list("pk", "text"))
    excluding = Counter()
    for key, n in excluding_keys.items():
        excluding[texts.get(int(key), key) if str(key).isdigit() else key] += n
    referrals = Referral.objects.filter(trial=trial, screening__retired_at__isnull=True)
    ever = Referral.history.filter(id__in=referrals.values("id"))
    funnel = [
        (_("Saved screenings that included the trial"), sum(verdicts.values())),
        (_("Saved, now likely eligible"), verdicts["eligible"]),
        (_("Saved, now needs more information"), verdicts["undetermined"]),
        (_("Saved, now not eligible"), verdicts["ineligible"]),
        (_("Referred"), referrals.count()),
        (_("Screen failed"), referrals.filter(status=Referral.Status.SCREEN_FAILED).count()),
        (_("Consented"), ever.filter(status__in=REACHED_CONSENT).values("id").distinct().count()),
        (_("Enrolled"), ever.filter(status=Referral.Status.ENROLLED).values("id").distinct().count()),
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
