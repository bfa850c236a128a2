"""Engine results as JSON (the `screen --format json` contract) and as a text table. No Django imports."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from .engine import Outcome, TrialResult
from .vocabulary import VERDICT_WORDS

__all__ = ["ICONS", "VERDICT_WORDS", "to_json", "trial_json", "to_text"]

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


def to_text(results: Iterable[TrialResult], as_of: date, width: int = 100) -> str:
    lines = [f"Screening as of {as_of.isoformat()}", ""]
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
            lines.append(f"  Missing answers: {', '.join(r.missing)}")
        lines.append("")
    lines.append("✓ met  ✗ not met  ? unknown  ! needs review  (for exclusions, met means the exclusion applies)")
    return "\n".join(lines)
