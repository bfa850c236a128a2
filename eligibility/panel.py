"""What the results panel shows beside the questionnaire. No Django imports."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from .engine import QuestionSpec, TrialResult, Verdict, completed, derive
from .vocabulary import calculated_number
from .wording import Quantity, render, say

LAPSE_WARNING_DAYS = 14


@dataclass(frozen=True)
class NextQuestion:
    code: str
    label: str
    decides: int  # how many undetermined trials this answer could decide


@dataclass(frozen=True)
class Panel:
    results: Sequence[TrialResult]
    next_questions: Sequence[NextQuestion]
    idle: frozenset[str]  # unanswered questions no undetermined trial needs
    derived: Mapping[str, str]  # code -> shown value of a computed answer
    lapsing: Mapping[str, date]  # nct_id -> last day a favourable time-relative criterion holds


def build_panel(
    results: Sequence[TrialResult],
    answers: Mapping[str, Any],
    questions: Mapping[str, QuestionSpec],
    as_of: date,
    sources: Mapping[str, Sequence[str]] | None = None,
    missing: Mapping[str, Sequence[str]] | None = None,
    contradicted: frozenset[str] = frozenset(),
) -> Panel:
    """`sources` maps a derived question to its inputs (bmi → height, weight), which are needed
    whenever the derived question is. `missing` (nct_id → open questions of every undetermined trial, as
    Screened.missing) makes the next best questions over all trials when `results` are only those shown.
    `answers` are those screened on; `contradicted` questions were answered (in contradiction): to be corrected,
    not offered as questions to answer next."""
    if missing is None:
        missing = {r.nct_id: r.missing for r in results if r.verdict == Verdict.UNDETERMINED}
    counts = Counter(code for codes in missing.values() for code in codes)
    full, derived_codes = derive(answers, as_of)
    next_questions = [
        NextQuestion(code, questions[code].label if code in questions else code, n)
        for code, n in sorted(counts.items(), key=lambda item: (-item[1], _order(questions, item[0])))
        if code not in full and code not in contradicted
    ]
    unanswered = {code for code in questions if code not in full and code not in contradicted}
    needed = set(counts)
    for code in list(needed):
        needed |= set((sources or {}).get(code, ()))
    idle = frozenset(unanswered - needed)
    derived = {}
    for code in derived_codes:
        spec = questions.get(code)
        # Rounded for people only, worded in the active language.
        derived[code] = str(Quantity(calculated_number(full[code]), spec.unit if spec else "", code == "age"))
    for code, value in full.items():
        spec = questions.get(code)
        if spec and spec.type == "date" and isinstance(value, date) and code != "date_of_birth" and value <= as_of:
            weeks = completed(value, as_of, "weeks")
            derived[code] = render(say("weeks_ago", weeks=Quantity(weeks, "weeks")))
    lapsing = {
        r.nct_id: r.met_until
        for r in results
        if r.verdict != Verdict.INELIGIBLE and r.met_until and r.met_until <= as_of + timedelta(days=LAPSE_WARNING_DAYS)
    }
    return Panel(results, next_questions, idle, derived, lapsing)


def _order(questions: Mapping[str, QuestionSpec], code: str) -> int:
    return list(questions).index(code) if code in questions else 10**6


# --------------------------------------------------------------------------------------------
# The panel grouped by verdict, for thousands of trials: verdicts for all, explanations for the cards shown

PAGE = 20  # cards per group and per "Show more"
GROUP_ORDER = (Verdict.ELIGIBLE, Verdict.UNDETERMINED, Verdict.INELIGIBLE)


@dataclass(frozen=True)
class Group:
    verdict: Verdict
    nct_ids: tuple[str, ...]  # every trial of this verdict (that the search matched), in the order shown
    start: int  # the cards shown are nct_ids[start:stop]
    stop: int

    @property
    def shown(self) -> tuple[str, ...]:
        return self.nct_ids[self.start : self.stop]

    @property
    def left(self) -> int:
        return max(len(self.nct_ids) - self.stop, 0)


def group_verdicts(
    verdicts: Sequence[tuple[str, Verdict]],
    missing: Mapping[str, Sequence[str]],
    windows: Mapping[Verdict, tuple[int, int]] | None = None,
) -> list[Group]:
    """The trials (nct_id, verdict) grouped as the panel shows them: likely eligible, needs more information,
    not eligible. Undetermined trials come fewest missing answers first (`missing`: nct_id → question codes);
    those no answer can decide (only criteria that need review are open) come last. Others keep their order.
    `windows` says which cards of a group to show (default the first PAGE)."""
    windows = windows or {}
    by_verdict: dict[Verdict, list[str]] = {v: [] for v in GROUP_ORDER}
    for nct_id, verdict in verdicts:
        by_verdict[Verdict(verdict)].append(nct_id)
    by_verdict[Verdict.UNDETERMINED].sort(key=lambda n: len(missing.get(n, ())) or 10**6)  # a stable sort
    return [Group(v, tuple(by_verdict[v]), *windows.get(v, (0, PAGE))) for v in GROUP_ORDER]
