"""Pre-filling the questionnaire from a patient's record, without losing the clinician's work.

What the record says is merged into the form as it stands: an answer the clinician typed (saved or not) wins,
an empty question takes the record's value, and every difference between the two stays in view under its
question, with both values and a button to take the record's. What the record said is kept in the session until
the screening is saved; the sources of the answers saved as the record gave them are saved with the screening.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from eligibility.answers import to_json
from eligibility.engine import BOOLEAN, MULTI, NUMBER, QuestionSpec
from eligibility.fhir import FhirResult, age_in_words
from eligibility.vocabulary import format_number

from .display import describe_source, show_answer


def session_key(screening) -> str:
    return f"prefill-{screening.pk}"


def remembered(result: FhirResult, codes) -> dict:
    """What the session keeps of a Bundle read for these question codes (JSON-safe, no resource ids)."""
    values = to_json(result.answers)
    stale = to_json({code: s.value for code, s in result.stale.items()})
    return {
        "record": {
            code: [values[code], result.provenance[code].saved_json()]
            for code in values
            if code in codes and code in result.provenance
        },
        "stale": {
            code: [stale[code], s.source.saved_json(), s.age_days, s.limit_days]
            for code, s in result.stale.items()
            if code in codes
        },
    }


def typed_codes(data, questions) -> set[str]:
    """Questions the posted form has something in (valid or not): the clinician's, never overwritten."""
    typed = set()
    for q in questions:
        if q.type == NUMBER:
            raw = [data.get(f"{q.code}_0")]
        elif q.type == MULTI:
            raw = data.getlist(q.code) if hasattr(data, "getlist") else [data.get(q.code)]
        else:
            raw = [data.get(q.code)]
        if any(str(v).strip() for v in raw if v is not None):
            typed.add(q.code)
    return typed


def widget_value(spec: QuestionSpec, value: Any) -> str | list[str]:
    """A canonical answer as its form field posts it (the number in the question's unit)."""
    if spec.type == BOOLEAN:
        return "yes" if value else "no"
    if spec.type == NUMBER:
        return format_number(value)
    if spec.type == MULTI:
        return [str(v) for v in value]
    return str(value)


def set_field(data, spec: QuestionSpec, value: Any) -> None:
    """Put one canonical answer into mutable form data (a QueryDict) as the field would post it."""
    if spec.type == NUMBER:
        data[f"{spec.code}_0"] = widget_value(spec, value)
        data[f"{spec.code}_1"] = spec.unit
    elif spec.type == MULTI:
        data.setlist(spec.code, widget_value(spec, value))
    else:
        data[spec.code] = widget_value(spec, value)


def form_data(data, answers: Mapping[str, Any], specs: Mapping[str, QuestionSpec]):
    """`data` (a mutable QueryDict) with these canonical answers put in."""
    for code, value in answers.items():
        if code in specs and value is not None:
            set_field(data, specs[code], value)
    return data


def _same(spec: QuestionSpec, a: Any, b: Any) -> bool:
    if spec.type == NUMBER and isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return round(float(a), 2) == round(float(b), 2)
    return a == b


def record_notes(
    current: Mapping[str, Any],
    state: Mapping[str, Any] | None,
    saved: Mapping[str, Any],
    saved_sources: Mapping[str, Any] | None,
    specs: Mapping[str, QuestionSpec],
) -> dict[str, dict]:
    """Per question, what the record says about the answer in the form (`current`, canonical JSON):

    * kind "source": the answer is the record's, with where it came from;
    * kind "conflict": the record says something else (or the question was cleared): both values and the data
      for the "Use record value" button;
    * kind "stale": the record's newest value is too old to use: shown with its age, never filled.
    Answers saved from the record keep showing their saved source while unchanged.
    """
    state = state or {}
    notes: dict[str, dict] = {}
    for code, (value, source) in (state.get("record") or {}).items():
        spec = specs.get(code)
        if spec is None:
            continue
        where = describe_source(source)
        if _same(spec, current.get(code), value):
            notes[code] = {"kind": "source", "text": _("From the record: %(source)s") % {"source": where}}
        else:
            shown = show_answer(spec, value)
            notes[code] = {
                "kind": "conflict",
                "text": _("Record says %(value)s (%(source)s)") % {"value": shown, "source": where},
                "typed": show_answer(spec, current.get(code)),
                "record": shown,
                "code": code,
                "type": spec.type,
                "value": _button_value(spec, value),
                "unit": spec.unit if spec.type == NUMBER else "",
            }
    for code, (value, source, age_days, limit_days) in (state.get("stale") or {}).items():
        spec = specs.get(code)
        if spec is None or code in notes:
            continue
        notes[code] = {
            "kind": "stale",
            "text": _(
                "Record has %(value)s (%(source)s), measured %(age)s ago: too old to fill in "
                "(values for this question may be at most %(limit)s old). Measure it again or enter a current value."
            )
            % {
                "value": show_answer(spec, value),
                "source": describe_source(source),
                "age": age_in_words(age_days),
                "limit": age_in_words(limit_days),
            },
        }
    for code, source in (saved_sources or {}).items():
        spec = specs.get(code)
        if spec is None or code in notes or code not in saved:
            continue
        if _same(spec, current.get(code), saved[code]):
            notes[code] = {
                "kind": "source",
                "text": _("From the record: %(source)s") % {"source": describe_source(source)},
            }
    return notes


def _button_value(spec: QuestionSpec, value: Any) -> str:
    shown = widget_value(spec, value)
    return json.dumps(shown) if isinstance(shown, list) else shown


def sources_to_save(
    answers: Mapping[str, Any],
    state: Mapping[str, Any] | None,
    saved: Mapping[str, Any],
    saved_sources: Mapping[str, Any] | None,
    specs: Mapping[str, QuestionSpec],
) -> dict[str, dict]:
    """The record sources of the answers about to be saved: an answer the record gave (now, or in an earlier save
    and unchanged since) keeps its source; an answer typed over loses it."""
    record = (state or {}).get("record") or {}
    out = {}
    for code, value in answers.items():
        spec = specs.get(code)
        if spec is None:
            continue
        if code in record and _same(spec, value, record[code][0]):
            out[code] = record[code][1]
        elif code in (saved_sources or {}) and code in saved and _same(spec, value, saved[code]):
            out[code] = saved_sources[code]
    return out
