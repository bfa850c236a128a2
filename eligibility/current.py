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
    criteria = result.criteria
    if result.verdict == Verdict.INELIGIBLE:
        deciding = [c.key for c in criteria if c.against]
    elif result.verdict == Verdict.UNDETERMINED:
        deciding = [c.key for c in criteria if not c.satisfied and not c.against]
    else:
        lapsing = [c for c in criteria if c.met_until and c.satisfied]
        deciding = [min(lapsing, key=lambda c: c.met_until).key] if lapsing else []  # type: ignore[arg-type, return-value]
    counts = result.counts
    dates = [c.met_until for c in criteria if c.met_until]
    return Current(
        verdict=str(result.verdict),
        met=counts["satisfied"],
        not_met=counts["against"],
        unknown=counts["open"],
        deciding=tuple(deciding[:DECIDING_KEPT]),
        missing=result.missing,
        met_until=result.met_until,
        stable_until=min(dates) if dates else None,
    )


def rescreen(
    trial: TrialRules, patients: Iterable[Mapping[str, Any]], as_of: date, catalogue: Mapping[str, QuestionSpec]
) -> list[Current]:
    """Each patient's (typed answers) current result for `trial` on `as_of`.

    The interpretive engine, one patient at a time: counts, deciding criteria and dates need every criterion's
    outcome, which the compiled engine does not give. Only the criteria's questions are read, so patients whose
    answers to those are the same share one evaluation.
    """
    used = sorted(_questions(trial))
    seen: dict[tuple, Current] = {}
    out = []
    for answers in patients:
        key = tuple(_hashable(answers.get(code)) for code in used)
        current = seen.get(key)
        if current is None:
            current = seen[key] = summarise(engine.evaluate(trial, answers, as_of, catalogue))
        out.append(current)
    return out


def _questions(trial: TrialRules) -> set[str]:
    codes: set[str] = set()
    for criterion in trial.criteria:
        if criterion.rule is not None:
            codes |= engine.referenced_questions(criterion.rule)
    return codes


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list | set | frozenset) else value
