"""screen(): the one screening verb the questionnaire, the JSON API and `manage.py screen` call.

It reads the catalogue, the trials' rules and the FHIR mapping table from `trials` (cached per process, one
query when nothing changed) and runs eligibility.pipeline. Callers read their own input format and render.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from typing import Any

from eligibility import pipeline
from eligibility.pipeline import EVERY, Problem, Screened
from trials.models import ScreeningData, screening_data

__all__ = ["screen", "Screened", "Problem", "EVERY"]


def screen(
    *,
    as_of: date,
    answers: Any = None,
    bundle: Any = None,
    trials: Iterable[str] | None = None,
    explain: Iterable[str] | str = EVERY,
    screen_with_problems: bool = False,
    missing: bool = False,
    data: ScreeningData | None = None,
) -> Screened:
    """Screen one patient against `trials` (NCT ids; default every trial open for screening).

    `answers` is question code → raw JSON value, `bundle` a decoded FHIR Bundle; see eligibility.pipeline.screen.
    An NCT id no trial has is a problem (code "unknown_trial", source "trials"). Pass `data` (from
    trials.models.screening_data()) to screen several patients on one read of the catalogue's version.
    """
    data = data or screening_data()
    nct_ids = list(data.open_for_screening if trials is None else dict.fromkeys(trials))
    unknown = sorted(set(nct_ids) - set(data.trials))
    result = pipeline.screen(
        catalogue=data.questions,
        trials=[data.trials[n] for n in nct_ids if n in data.trials],
        as_of=as_of,
        answers=answers,
        bundle=bundle,
        mappings=data.mappings,
        explain=explain,
        screen_with_problems=screen_with_problems,
        missing=missing,
    )
    result = data.localized(result)  # the trials' translated titles, in Chinese
    if not unknown:
        return result
    problem = Problem("trials", "unknown_trial", f"unknown trial {', '.join(unknown)}")
    if screen_with_problems:
        return replace(result, problems=(problem, *result.problems))
    return replace(result, problems=(problem, *result.problems), verdicts=(), explained={}, missing={})
