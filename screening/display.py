"""Saved answers as the questionnaire shows them: yes / no, numbers without a spurious ".0" and with their unit,
choice labels, dates; each with the record it came from, when it was pre-filled (the print summary, the reopened
screening and the coordinator's candidate page read these)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from eligibility.engine import BOOLEAN, CHOICE, MULTI, NUMBER, QuestionSpec
from eligibility.fhir import Source
from eligibility.vocabulary import format_number

# Units that are words, in the reader's language; symbols (kg, cm, %, mmol/mol, kg/m²) are the same in every language.
UNIT_NAMES = {
    "years": pgettext_lazy("unit", "years"),
    "months": pgettext_lazy("unit", "months"),
}


def unit_name(unit: str) -> str:
    """A unit as people read it ('years' → '岁' in Chinese); the value sent and stored stays the unit's code."""
    return str(UNIT_NAMES.get(unit, unit))


def show_answer(spec: QuestionSpec, value: Any) -> str:
    """One canonical (JSON) answer for people: 'Yes', '172 cm', 'Female', '2012-03-04'."""
    if value is None or value == "" or value == []:
        return _("Not answered")
    if spec.type == BOOLEAN:
        return _("Yes") if value is True else _("No") if value is False else str(value)
    if spec.type == NUMBER:
        number = round(value, 2) if isinstance(value, float) else value
        return f"{format_number(number)} {unit_name(spec.unit)}".strip()
    if spec.type == CHOICE:
        return spec.choice_label(str(value))
    if spec.type == MULTI and isinstance(value, (list, tuple)):
        return ", ".join(spec.choice_label(str(v)) for v in value)
    return str(value)


def describe_source(data: Mapping[str, Any] | None) -> str:
    """A saved source ('Observation LOINC 8302-2 (Body height), 2026-03-01') or '' for a typed answer."""
    if not isinstance(data, Mapping) or not data:
        return ""
    return Source.from_json(data).describe()


@dataclass(frozen=True)
class AnswerRow:
    code: str
    label: str
    value: str
    source: str  # '' when the clinician typed it


def answer_rows(
    answers: Mapping[str, Any],
    sources: Mapping[str, Any] | None,
    specs: Mapping[str, QuestionSpec],
    order: Iterable[str] | None = None,
) -> list[AnswerRow]:
    """The answers as rows, in `order` (question codes; default the catalogue's order), with their sources."""
    sources = sources or {}
    codes = [c for c in (order if order is not None else specs) if c in answers and c in specs]
    return [
        AnswerRow(code, specs[code].label, show_answer(specs[code], answers[code]), describe_source(sources.get(code)))
        for code in codes
    ]
