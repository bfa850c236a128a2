"""Turning raw answers (JSON from a file or an API body) into typed engine answers. No Django imports.

Values must be in the question's canonical unit. Every problem is reported, each naming the question.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from . import contradictions
from .engine import BOOLEAN, CHOICE, DATE, MULTI, NUMBER, QuestionSpec
from .vocabulary import format_number

# Exactly what the API's OpenAPI document says: YYYY-MM-DD only (Python's fromisoformat also reads 20261121
# and 2026-W47-6), and yes/no words in any case with ASCII spaces around them.
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)  # fullmatch only: "$" would allow a final newline
YES_NO = re.compile(r"[ \t\n\r\f\v]*(yes|true|no|false)[ \t\n\r\f\v]*", re.ASCII | re.IGNORECASE)


def parse_iso_date(text: Any) -> date:
    """A date written YYYY-MM-DD; ValueError for anything else (other ISO 8601 forms included)."""
    if not isinstance(text, str) or not ISO_DATE.fullmatch(text):
        raise ValueError(f"expected a date as YYYY-MM-DD, got {text!r}")
    return date.fromisoformat(text)


@dataclass(frozen=True)
class AnswerError:
    code: str  # the question code (or "" for the whole document)
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.code else self.message


def parse_answers(
    raw: Any, catalogue: Mapping[str, QuestionSpec], as_of: date | None = None, *, consistency: bool = True
) -> tuple[dict[str, Any], list[AnswerError]]:
    """Typed answers and the list of problems; `None` values count as unanswered. With `as_of` (and `consistency`),
    answers that contradict each other are problems too, one on each question involved."""
    if not isinstance(raw, Mapping):
        return {}, [AnswerError("", "answers must be a JSON object of question code → value")]
    clean: dict[str, Any] = {}
    errors: list[AnswerError] = []
    for code, value in raw.items():
        spec = catalogue.get(code)
        if spec is None:
            errors.append(AnswerError(code, "unknown question code"))
            continue
        if value is None:
            continue
        try:
            clean[code] = parse_value(spec, value, as_of)
        except ValueError as exc:
            errors.append(AnswerError(code, str(exc)))
    if as_of is not None and consistency:
        errors += consistency_errors(clean, catalogue, as_of)
    return clean, errors


def consistency_errors(
    answers: Mapping[str, Any], catalogue: Mapping[str, QuestionSpec], as_of: date
) -> list[AnswerError]:
    """Answers that are each plausible but contradict one another (eligibility.contradictions, the one policy):
    one error on each question involved, each naming the other values."""
    return [
        AnswerError(code, c.message) for c in contradictions.find(answers, catalogue, as_of) for code in c.questions
    ]


def parse_value(spec: QuestionSpec, value: Any, as_of: date | None = None) -> Any:
    """One typed answer, or ValueError with a message for the clinician."""
    if spec.type == BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and (word := YES_NO.fullmatch(value)):
            return word.group(1).lower() in {"yes", "true"}
        raise ValueError(f"expected yes/no (true or false), got {value!r}")
    if spec.type == NUMBER:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected a number in {spec.unit or 'plain units'}, got {value!r}")
        try:
            finite = math.isfinite(value)
        except OverflowError:  # an integer too large for a float
            finite = False
        if not finite:
            raise ValueError("expected a finite number")
        check_range(spec, value)
        return value
    if spec.type == DATE:
        if isinstance(value, datetime):  # a date and time: only the day counts (and compares with as_of)
            day = value.date()
        elif isinstance(value, date):
            day = value
        elif isinstance(value, str):
            try:
                day = parse_iso_date(value)  # exactly YYYY-MM-DD: no spaces around it, no 20120101, no week date
            except ValueError:
                raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}") from None
        else:
            raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}")
        if as_of is not None and day > as_of:
            raise ValueError(f"{day.isoformat()} is in the future (reference date {as_of.isoformat()})")
        if day.year < 1900:
            raise ValueError(f"{day.isoformat()} is implausibly long ago")
        return day
    if spec.type == CHOICE:
        allowed = [k for k, _ in spec.choices]
        if value not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}, got {value!r}")
        return value
    if spec.type == MULTI:
        allowed = [k for k, _ in spec.choices]
        if not isinstance(value, (list, tuple)) or any(v not in allowed for v in value):
            raise ValueError(f"expected a list of choices from {', '.join(allowed)}, got {value!r}")
        return tuple(dict.fromkeys(value))
    raise ValueError(f"question type {spec.type!r} is not supported")


def check_range(spec: QuestionSpec, value: float) -> None:
    low, high = spec.min_value, spec.max_value
    if (low is not None and value < low) or (high is not None and value > high):
        unit = f" {spec.unit}" if spec.unit else ""
        raise ValueError(
            f"{format_number(value)}{unit} is not a plausible {spec.name} (expected {format_number(low)}–{format_number(high)}{unit})"
        )


def to_json(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Answers in a JSON-safe form (dates as ISO strings, tuples as lists)."""
    out = {}
    for code, value in answers.items():
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        out[code] = value
    return out
