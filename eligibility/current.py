"""The current result of one patient for one trial, in the few fields a list needs. No Django imports.

A saved screening keeps what was shown (its snapshot); lists read instead a compact *current* result per
(screening, trial), kept up to date when criteria change or time passes. `summarise` reduces an engine result to
that; `rescreen` computes it for many patients against one trial.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from . import engine
from .engine import QuestionSpec, TrialResult, TrialRules, Verdict

DECIDING_KEPT = 5  # criteria named per result: enough to say why, small enough for a list


@dataclass(frozen=True)
class Current:
    """Verdict, counts (criteria in the patient's favour / against them / open), what decides it, and dates."""

    verdict: str
    met: int
    not_met: int
    unknown: int
    # Criterion keys that decide the verdict: those that rule the patient out (ineligible), those still open
    # (undetermined), or the time-relative one that lapses first (eligible); at most DECIDING_KEPT.
    deciding: tuple[str, ...]
    missing: tuple[str, ...]  # question codes that could still decide an undetermined verdict
    met_until: date | None  # the verdict holds at least until then (engine.TrialResult.met_until)
    # Last day before any criterion's outcome may change with time alone (met or not met: a birthday, a window
    # closing); a result whose date has passed is re-screened by the daily task.
    stable_until: date | None


def summarise(result: TrialResult) -> Current:
    # One pass over the criteria (this runs for every stored screening of a trial when its criteria change).
    satisfied: list[str] = []
    against: list[str] = []
    open_: list[str] = []
    lapsing: list[tuple[date, int, str]] = []
    dates: list[date] = []
    for c in result.criteria:
        if c.against:
            against.append(c.key)
        elif c.satisfied:
            satisfied.append(c.key)
            if c.met_until:
                lapsing.append((c.met_until, len(lapsing), c.key))
        else:
            open_.append(c.key)
        if c.met_until:
            dates.append(c.met_until)
    if against:
        verdict, deciding = Verdict.INELIGIBLE, against
    elif open_:
        verdict, deciding = Verdict.UNDETERMINED, open_
    else:
        verdict, deciding = Verdict.ELIGIBLE, [min(lapsing)[2]] if lapsing else []
    return Current(
        verdict=str(verdict),
        met=len(satisfied),
        not_met=len(against),
        unknown=len(open_),
        deciding=tuple(deciding[:DECIDING_KEPT]),
        missing=result.missing if verdict == Verdict.UNDETERMINED else (),
        met_until=min(lapsing)[0] if lapsing else None,
        stable_until=min(dates) if dates else None,
    )


def rescreen(
    trial: TrialRules, patients: Iterable[Mapping[str, Any]], as_of: date, catalogue: Mapping[str, QuestionSpec]
) -> list[Current]:
    """Each patient's (typed answers) current result for `trial` on `as_of`: what summarise(engine.evaluate(...))
    gives, computed faster for many patients.

    The interpretive engine, since counts, deciding criteria and dates need every criterion's outcome, which the
    compiled engine does not give. But a criterion's outcome depends only on the answers its rule reads (with
    age and BMI calculated from theirs): patients who answered those alike share one evaluation of it. A patient
    then costs one evaluation per criterion on answers nobody before had (a date of birth, a height and weight),
    and a dictionary lookup for the rest (yes/no exclusions, a sex).
    """
    reads = [sorted(engine.referenced_questions(c.rule)) if c.rule is not None else [] for c in trial.criteria]
    seen: dict[tuple, engine.CriterionResult] = {}
    out = []
    for answers in patients:
        full, derived = engine.derive(answers, as_of)
        ctx = engine.Context(full, as_of, catalogue, derived)
        results = []
        for i, (criterion, codes) in enumerate(zip(trial.criteria, reads)):
            key = (i, *((_hashable(full.get(code)), code in derived) for code in codes))
            result = seen.get(key)
            if result is None:
                result = seen[key] = engine.evaluate_criterion(criterion, ctx)
            results.append(result)
        criteria = tuple(results)
        out.append(
            summarise(TrialResult(trial.nct_id, trial.title, engine.verdict_of(criteria), criteria, trial.version))
        )
    return out


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list | set | frozenset) else value
