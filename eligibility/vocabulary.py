"""Words and small facts both apps share, defined once. No Django imports, and nothing from this package.

The outcome and verdict codes, which criterion results count against a patient, how a number is shown,
what the rule operators are called, what an NCT id looks like, and the one HbA1c conversion.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"
    NEEDS_REVIEW = "needs_review"


class Verdict(StrEnum):
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    UNDETERMINED = "undetermined"


INCLUSION = "inclusion"
EXCLUSION = "exclusion"


def gettext_noop(message: str) -> str:
    """Marks words for extraction (makemessages); they are translated when looked up."""
    return message


VERDICT_TEMPLATES = {
    Verdict.ELIGIBLE: gettext_noop("Likely eligible"),
    Verdict.INELIGIBLE: gettext_noop("Not eligible"),
    Verdict.UNDETERMINED: gettext_noop("Needs more information"),
}

# The translator eligibility.wording.install sets (identity: English).
translate: Callable[[str], str] = gettext_noop


class _VerdictWords(Mapping[str, str]):
    """Verdict → its words in the active language, looked up when shown (templates: verdict_words|get:v)."""

    def __getitem__(self, verdict: str) -> str:
        return translate(VERDICT_TEMPLATES[Verdict(verdict)])

    def __iter__(self) -> Iterator[str]:
        return iter(VERDICT_TEMPLATES)

    def __len__(self) -> int:
        return len(VERDICT_TEMPLATES)

    def get(self, verdict: Any, default: Any = None) -> Any:
        try:
            return self[verdict]
        except (KeyError, ValueError):
            return default


VERDICT_WORDS: Mapping[str, str] = _VerdictWords()


def is_against(kind: str, outcome: str) -> bool:
    """True when a criterion of `kind` with `outcome` rules the patient out.

    Takes plain strings too (saved results are JSON). Any kind other than exclusion counts as inclusion.
    """
    if kind == EXCLUSION:
        return outcome == Outcome.MET
    return outcome == Outcome.NOT_MET


def is_satisfied(kind: str, outcome: str) -> bool:
    """True when a criterion of `kind` with `outcome` is settled in the patient's favour."""
    if kind == EXCLUSION:
        return outcome == Outcome.NOT_MET
    return outcome == Outcome.MET


# What a rule's operators are called in plain words (describe(), the admin's lists).
OPERATOR_WORDS = {
    "=": "is",
    "!=": "is not",
    "<": "<",
    "<=": "≤",
    ">": ">",
    ">=": "≥",
    "between": "between",
    "in": "is one of",
    "not_in": "is none of",
    "answered": "is answered",
    "not_answered": "is not answered",
    "within": "less than",
    "before": "at least",
    "age_between": "age",
}

# A ClinicalTrials.gov id: "NCT" and 8 ASCII digits ([0-9], not \d: in Python \d also matches other scripts'
# digits, and JSON Schema patterns read \d differently). The model validator, URL routes, the importer and the
# API's OpenAPI document all use this one pattern; NCT_DIGITS is it unanchored, for URL routes.
NCT_PATTERN = r"^NCT[0-9]{8}$"
NCT_DIGITS = NCT_PATTERN.removeprefix("^").removesuffix("$")
NCT_RE = re.compile(NCT_PATTERN)
NCT_MESSAGE = "An NCT id is 'NCT' followed by 8 digits, e.g. NCT01219465."


def format_number(value: Any, missing: str = "…") -> str:
    """A number for people: 30 not 30.0, 7.5, at most 6 significant digits of a fraction (no float noise
    from a unit conversion); `missing` for None. Anything else is shown as str() shows it, because
    invalid rules are worded too."""
    if value is None:
        return missing
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return f"{value:g}"
    return str(value)


def format_calculated(value: Any, *limits: Any) -> str:
    """A calculated value (a BMI from height and weight) for people: one decimal, and more only where one decimal
    would hide which side of a `limit` it is on (30.03 is shown "30.03" beside a limit of 30, never "30").
    Only the display is rounded: rules compare the value itself."""
    return format_number(calculated_number(value, *limits))


def calculated_number(value: Any, *limits: Any) -> Any:
    """The number format_calculated shows (rounded as little as the limits allow), `value` itself if not a float."""
    if not isinstance(value, float) or not math.isfinite(value):
        return value
    bounds = [x for x in limits if isinstance(x, (int, float)) and not isinstance(x, bool)]
    for places in (1, 2, 3, 4, 6):
        shown = round(value, places)
        if all((shown > x) == (value > x) and (shown < x) == (value < x) for x in bounds):
            return shown
    return value


# HbA1c: IFCC mmol/mol -> NGSP % by the NGSP/IFCC master equation (% = 0.09148 × mmol/mol + 2.152).
HBA1C_PERCENT_PER_MMOL_MOL = 0.09148
HBA1C_PERCENT_AT_ZERO = 2.152


def hba1c_percent(mmol_mol: float) -> float:
    """HbA1c in % (NGSP) from mmol/mol (IFCC)."""
    return mmol_mol * HBA1C_PERCENT_PER_MMOL_MOL + HBA1C_PERCENT_AT_ZERO


def hba1c_mmol_mol(percent: float) -> float:
    """HbA1c in mmol/mol (IFCC) from % (NGSP)."""
    return (percent - HBA1C_PERCENT_AT_ZERO) / HBA1C_PERCENT_PER_MMOL_MOL
