"""Engine results as JSON (the `screen --format json` contract) and as a text table. No Django imports."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from .engine import NO_RULE_REASON, CriterionResult, Outcome, TrialResult, Verdict
from .wording import VERDICT_WORDS, Message, Text, render, say, text_from_json, text_to_json

__all__ = [
    "ICONS",
    "VERDICT_WORDS",
    "to_json",
    "trial_json",
    "to_text",
    "criteria_words",
    "outcomes_json",
    "from_outcomes",
]

ICONS = {Outcome.MET: "✓", Outcome.NOT_MET: "✗", Outcome.UNKNOWN: "?", Outcome.NEEDS_REVIEW: "!"}


def to_json(results: Iterable[TrialResult], as_of: date) -> dict:
    return {
        "as_of": as_of.isoformat(),
        "trials": [trial_json(r) for r in results],
    }


def trial_json(result: TrialResult) -> dict:
    return {
        "nct_id": result.nct_id,
        "title": result.title,
        "verdict": str(result.verdict),
        "criteria_version": result.version,
        "missing": list(result.missing),
        "met_until": result.met_until.isoformat() if result.met_until else None,
        "criteria": [
            {
                "id": c.key,
                "kind": c.kind,
                "text": c.text,
                "outcome": str(c.outcome),
                "code": c.code,
                "explanation": c.explanation,
                "missing": list(c.missing),
                "met_until": c.met_until.isoformat() if c.met_until else None,
            }
            for c in result.criteria
        ],
    }


# --------------------------------------------------------------------------------------------
# A saved result, compactly: a trial's words once per criteria version, each patient's outcomes apart.
#
# A saved screening is the record of what was shown; a network's screening has a thousand trials of fifteen
# criteria each. The protocol's words are the same for every patient screened under one criteria version, so
# they are kept once (criteria_words), and a saved result keeps only what is the patient's own (outcomes_json):
# per criterion its outcome, code, reason (a message's code and parameters, eligibility.wording, so that it reads
# in the language of whoever opens it; words saved before messages existed stay as they were), missing answers and
# met_until. from_outcomes puts the two back
# together into the very TrialResult that was shown, so trial_json gives the same JSON as on the day it was saved.

# The one result every criterion without a rule gets (most of an imported protocol): saved as NO_RULE (0), worded
# in the reader's language.
NO_RULE = 0
NO_RULE_RESULT = (Outcome.NEEDS_REVIEW, "no_rule", NO_RULE_REASON)


def criteria_words(result: TrialResult) -> list[list[str]]:
    """What a trial's criteria were at its criteria version: [[id, kind, protocol text], ...] in its order."""
    return [[c.key, c.kind, c.text] for c in result.criteria]


def outcomes_json(result: TrialResult) -> dict:
    """The patient's part of a trial's result (with criteria_words, everything trial_json shows)."""
    outcomes: list = []
    for c in result.criteria:
        if (c.outcome, c.code, c.reason) == NO_RULE_RESULT and not c.missing and c.met_until is None:
            outcomes.append(NO_RULE)
            continue
        entry: list = [str(c.outcome), c.code, text_to_json(c.reason)]
        if c.missing or c.met_until:
            entry.append(list(c.missing))
        if c.met_until:
            entry.append(c.met_until.isoformat())
        outcomes.append(entry)
    return {"nct_id": result.nct_id, "title": result.title, "outcomes": outcomes}


def from_outcomes(saved: dict, words: list, verdict: str, version: int) -> TrialResult:
    """The TrialResult that outcomes_json and criteria_words were made from.

    Raises ValueError when the two do not belong together (not as many outcomes as criteria)."""
    nct_id, outcomes = saved["nct_id"], saved["outcomes"]
    if len(outcomes) != len(words):
        raise ValueError(f"{nct_id}: {len(outcomes)} saved outcomes for {len(words)} criteria")
    criteria = []
    for (key, kind, text), entry in zip(words, outcomes):
        explanation: Text
        if entry == NO_RULE:
            outcome, code, explanation = NO_RULE_RESULT
            missing, met_until = (), None
        else:
            outcome, code, explanation = Outcome(entry[0]), entry[1], text_from_json(entry[2])
            missing = tuple(entry[3]) if len(entry) > 3 else ()
            met_until = date.fromisoformat(entry[4]) if len(entry) > 4 else None
        criteria.append(CriterionResult(key, kind, text, outcome, code, explanation, missing, met_until))
    return TrialResult(nct_id, saved["title"], Verdict(verdict), tuple(criteria), version)


def to_text(results: Iterable[TrialResult], as_of: date, width: int = 100) -> str:
    lines = [render(say("report_as_of", date=as_of.isoformat())), ""]
    for r in results:
        lines.append(f"{r.nct_id}  {VERDICT_WORDS[r.verdict].upper()} ({r.verdict})")
        lines.append(f"  {r.title}")
        for c in r.criteria:
            icon = ICONS[c.outcome]
            kind = "INC" if c.kind == "inclusion" else "EXC"
            text = c.text if len(c.text) <= width - 12 else c.text[: width - 13] + "…"
            lines.append(f"  {icon} {kind}  {text}")
            lines.append(f"          {c.explanation}")
        if r.missing:
            lines.append("  " + render(say("report_missing", codes=r.missing)))
        lines.append("")
    lines.append(render(Message("report_legend")))
    return "\n".join(lines)
