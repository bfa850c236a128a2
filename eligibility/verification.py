"""Coordinator verifications applied on top of the engine's outcomes. No Django imports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from .engine import Outcome, TrialResult, verdict_of
from .wording import Message

VERIFIED_OUTCOME = {"verified_met": Outcome.MET, "verified_not_met": Outcome.NOT_MET}


def apply_verifications(result: TrialResult, verified: Mapping[str, str]) -> TrialResult:
    """`result` with each verified criterion's outcome replaced (keys are criterion keys).

    A verification is a fact from the chart, so it beats the questionnaire answer either way;
    the verdict is recomputed from the overridden outcomes.
    """
    criteria = []
    for c in result.criteria:
        status = verified.get(c.key)
        if status in VERIFIED_OUTCOME:
            outcome = VERIFIED_OUTCOME[status]
            c = replace(c, outcome=outcome, code=status, reason=Message(status), missing=())
        criteria.append(c)
    return replace(result, criteria=tuple(criteria), verdict=verdict_of(criteria))
