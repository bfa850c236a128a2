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
from .wording import Message, Quantity, Text, render, say

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
    reason: Text  # a message (eligibility.wording), worded when shown

    @property
    def message(self) -> str:
        """The reason in words, in the active language."""
        return render(self.reason)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.code else self.message


def parse_answers(
    raw: Any, catalogue: Mapping[str, QuestionSpec], as_of: date | None = None, *, consistency: bool = True
) -> tuple[dict[str, Any], list[AnswerError]]:
    """Typed answers and the list of problems; `None` values count as unanswered. With `as_of` (and `consistency`),
    answers that contradict each other are problems too, one on each question involved."""
    if not isinstance(raw, Mapping):
        return {}, [AnswerError("", Message("answers_not_object"))]
    clean: dict[str, Any] = {}
    errors: list[AnswerError] = []
    for code, value in raw.items():
        spec = catalogue.get(code)
        if spec is None:
            errors.append(AnswerError(code, Message("unknown_question")))
            continue
        if value is None:
            continue
        try:
            clean[code] = parse_value(spec, value, as_of)
        except ValueError as exc:
            errors.append(AnswerError(code, reason_of(exc)))
    if as_of is not None and consistency:
        errors += consistency_errors(clean, catalogue, as_of)
    return clean, errors


def consistency_errors(
    answers: Mapping[str, Any], catalogue: Mapping[str, QuestionSpec], as_of: date
) -> list[AnswerError]:
    """Answers that are each plausible but contradict one another (eligibility.contradictions, the one policy):
    one error on each question involved, each naming the other values."""
    return [AnswerError(code, c.reason) for c in contradictions.find(answers, catalogue, as_of) for code in c.questions]


def reason_of(exc: ValueError) -> Text:
    """The message a ValueError of parse_value carries (its words, for any other ValueError)."""
    first = exc.args[0] if exc.args else ""
    return first if isinstance(first, Message) else str(exc)


def parse_value(spec: QuestionSpec, value: Any, as_of: date | None = None) -> Any:
    """One typed answer, or ValueError whose argument is a message (eligibility.wording) for the clinician."""
    if spec.type == BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and (word := YES_NO.fullmatch(value)):
            return word.group(1).lower() in {"yes", "true"}
        raise ValueError(say("expected_yes_no", got=repr(value)))
    if spec.type == NUMBER:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(say("expected_number", unit=spec.unit or Message("plain_units"), got=repr(value)))
        try:
            finite = math.isfinite(value)
        except OverflowError:  # an integer too large for a float
            finite = False
        if not finite:
            raise ValueError(Message("expected_finite"))
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
                raise ValueError(say("expected_date", got=repr(value))) from None
        else:
            raise ValueError(say("expected_date", got=repr(value)))
        if as_of is not None and day > as_of:
            raise ValueError(say("date_in_future", date=day.isoformat(), as_of=as_of.isoformat()))
        if day.year < 1900:
            raise ValueError(say("date_too_old", date=day.isoformat()))
        return day
    if spec.type == CHOICE:
        allowed = [k for k, _ in spec.choices]
        if value not in allowed:
            raise ValueError(say("expected_choice", choices=tuple(allowed), got=repr(value)))
        return value
    if spec.type == MULTI:
        allowed = [k for k, _ in spec.choices]
        if not isinstance(value, (list, tuple)) or any(v not in allowed for v in value):
            raise ValueError(say("expected_choices", choices=tuple(allowed), got=repr(value)))
        return tuple(dict.fromkeys(value))
    raise ValueError(say("unsupported_type", type=repr(spec.type)))


def check_range(spec: QuestionSpec, value: float) -> None:
    low, high = spec.min_value, spec.max_value
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(
            say(
                "implausible",
                value=Quantity(value, spec.unit, spec.code == "age"),
                name=spec.name,
                low=low,
                high=Quantity(high, spec.unit, spec.code == "age"),
            )
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
