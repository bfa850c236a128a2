"""The one contradiction policy: answers that are each plausible alone but cannot all be true. No Django imports.

Every way in (the questionnaire and its live panel, the JSON API, `manage.py screen`, curation's example patients,
re-screening of saved answers) reads answers with eligibility.answers and screens them with eligibility.pipeline,
which call `find` and `resolve` here:

* `find` lists each contradiction once, naming every question involved, with one message that gives all the values;
  callers show it on each of those questions (both fields, not only the one that was typed last).
* `resolve` takes every contradicted answer out of what the engine sees, so a criterion that reads one of them (or a
  value calculated from one) is unknown until the clinician corrects it: never decided from half of a conflict.

What contradicts what:

* an entered BMI and the BMI that height and weight give, when they differ by more than BMI_TOLERANCE;
* an entered age and the age the date of birth gives (an entered age counts completed years);
* a "no" to a yes/no question together with a date of that very event (t1d_diagnosis = no with a diagnosis date):
  a date question `X_date` belongs to the yes/no question `X` (DATE_OF adds pairs that are named otherwise);
* any date before the date of birth;
* a calculated value outside its question's plausible range (a BMI of 476 from 220 kg and 68 cm, an age of 126 from
  a date of birth): the inputs are wrong, most likely their units, and the message says which units would fit.

Calculated values are compared unrounded (engine.derive); messages round them for people.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeGuard

from .engine import BOOLEAN, DATE, QuestionSpec, bmi_of, completed_years
from .vocabulary import calculated_number
from .wording import Message, Quantity, Text, render, say

# An entered BMI agrees with height and weight when it is within this many kg/m² of the BMI they give. A BMI
# recorded as a whole number is up to 0.5 away from the exact one, and heights and weights rounded to the
# centimetre and the kilogram move a BMI of 30 by up to about 0.35: 0.5 accepts honest rounding and catches a BMI
# that belongs to other measurements (31 with 140 cm and 35 kg, which give 17.9). When they agree, the entered
# BMI is the one screened, as always.
BMI_TOLERANCE = 0.5

# Date questions that belong to a yes/no question without being named after it (`X_date` belongs to `X`).
DATE_OF: dict[str, str] = {}

POUND_KG = 0.45359237
INCH_CM = 2.54
TYPICAL_BMI = 25.0  # the unit hint picks the reading of the numbers closest to this


@dataclass(frozen=True)
class Contradiction:
    """Answers that cannot all be true. `code` is stable; `questions` are every question involved, each of which
    shows `message` (which names all the values)."""

    code: str  # bmi_mismatch, age_mismatch, no_with_date, before_birth, implausible_bmi, implausible_age
    questions: tuple[str, ...]
    reason: Text  # a message (eligibility.wording) naming every value, worded when shown

    @property
    def message(self) -> str:
        """The reason in words, in the active language."""
        return render(self.reason)

    def __str__(self) -> str:
        return f"{', '.join(self.questions)}: {self.message}"


def find(answers: Mapping[str, Any], catalogue: Mapping[str, QuestionSpec], as_of: date) -> list[Contradiction]:
    """Every contradiction among typed `answers` (as eligibility.answers.parse_answers makes them) on `as_of`."""
    found: list[Contradiction] = []
    found += _bmi(answers, catalogue)
    dob_ok = True
    dob = answers.get("date_of_birth")
    if isinstance(dob, date):
        age_problem = _age(answers, catalogue, dob, as_of)
        if age_problem is not None:
            found.append(age_problem)
            dob_ok = age_problem.code != "implausible_age"
    found += _no_with_date(answers, catalogue)
    if isinstance(dob, date) and dob_ok:
        found += _before_birth(answers, catalogue, dob)
    return found


def contradicted(found: list[Contradiction] | tuple[Contradiction, ...]) -> frozenset[str]:
    """Every question some contradiction involves."""
    return frozenset(code for c in found for code in c.questions)


def resolve(answers: Mapping[str, Any], found: list[Contradiction] | tuple[Contradiction, ...]) -> dict[str, Any]:
    """The answers the engine may screen on: without any contradicted one (so what reads them is unknown)."""
    out = contradicted(found)
    return {code: value for code, value in answers.items() if code not in out}


# --------------------------------------------------------------------------------------------
# The checks


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _spec(catalogue: Mapping[str, QuestionSpec], code: str, unit: str = "") -> QuestionSpec:
    return catalogue.get(code) or QuestionSpec(code, code.replace("_", " "), "number", unit=unit)


def _measure(spec: QuestionSpec, value: Any) -> Quantity:
    return Quantity(value, spec.unit, spec.code == "age")


def _outside(spec: QuestionSpec, value: float) -> bool:
    low, high = spec.min_value, spec.max_value
    return (low is not None and value < low) or (high is not None and value > high)


def _bmi(answers: Mapping[str, Any], catalogue: Mapping[str, QuestionSpec]) -> list[Contradiction]:
    height, weight, entered = answers.get("height"), answers.get("weight"), answers.get("bmi")
    if not (_number(height) and _number(weight)) or height <= 0:
        return []
    bmi, h, w = _spec(catalogue, "bmi", "kg/m²"), _spec(catalogue, "height", "cm"), _spec(catalogue, "weight", "kg")
    calculated = bmi_of(height, weight)
    # A calculated BMI is reported on the BMI's own question too, where the clinician looks for it.
    involved = ("bmi", "height", "weight") if "bmi" in catalogue or entered is not None else ("height", "weight")
    if _outside(bmi, calculated):
        message = say(
            "implausible_bmi",
            bmi=bmi.name,
            value=Quantity(calculated_number(calculated, bmi.min_value, bmi.max_value), bmi.unit),
            weight=_lower(w.name),
            weight_value=_measure(w, weight),
            height=_lower(h.name),
            height_value=_measure(h, height),
            low=bmi.min_value,
            high=_measure(bmi, bmi.max_value),
        )
        hint = _unit_hint(height, weight, h, w, bmi)
        if hint is not None:
            message = say("implausible_bmi_hint", message=message, reading=hint[0], bmi=bmi.name, value=hint[1])
        return [Contradiction("implausible_bmi", involved, message)]
    if _number(entered) and abs(entered - calculated) > BMI_TOLERANCE + 1e-9:
        message = say(
            "bmi_mismatch",
            bmi=bmi.name,
            entered=_measure(bmi, entered),
            height=_lower(h.name),
            height_value=_measure(h, height),
            weight=_lower(w.name),
            weight_value=_measure(w, weight),
            calculated=calculated_number(calculated, entered - BMI_TOLERANCE, entered + BMI_TOLERANCE),
        )
        return [Contradiction("bmi_mismatch", ("bmi", "height", "weight"), message)]
    return []


def _lower(name: str) -> str:
    """A question's name inside a sentence ("weight", not "Weight"; Chinese is unchanged)."""
    return name.lower()


def _unit_hint(
    height: float, weight: float, h: QuestionSpec, w: QuestionSpec, bmi: QuestionSpec
) -> tuple[Text, float] | None:
    """When pounds or inches typed as kilograms or centimetres would give a plausible BMI: which reading fits, and
    the BMI it gives (None when none does)."""
    readings: list[tuple[float, int, Text, float]] = []
    for pounds, inches in ((True, False), (False, True), (True, True)):
        kg = weight * POUND_KG if pounds else weight
        cm = height * INCH_CM if inches else height
        value = bmi_of(cm, kg)
        if _outside(h, cm) or _outside(w, kg) or _outside(bmi, value):
            continue
        words: list[Message] = []
        if pounds:
            words.append(say("pounds", pounds=weight, kg=calculated_number(kg)))
        if inches:
            words.append(say("inches", inches=height, cm=calculated_number(cm)))
        reading: Text = words[0] if len(words) == 1 else say("and", first=words[0], second=words[1])
        readings.append((abs(math.log(value / TYPICAL_BMI)), len(readings), reading, value))
    if not readings:
        return None
    _distance, _order, best_reading, best = min(readings)
    return best_reading, calculated_number(best)


def _age(
    answers: Mapping[str, Any], catalogue: Mapping[str, QuestionSpec], dob: date, as_of: date
) -> Contradiction | None:
    age_spec = _spec(catalogue, "age", "years")
    years = completed_years(dob, as_of)
    involved = ("age", "date_of_birth") if "age" in catalogue or "age" in answers else ("date_of_birth",)
    if _outside(age_spec, years):
        return Contradiction(
            "implausible_age",
            involved,
            say(
                "implausible_age",
                dob=dob.isoformat(),
                age=Quantity(years, "years", True),
                as_of=as_of.isoformat(),
                low=age_spec.min_value,
                high=Quantity(age_spec.max_value, "years", True),
            ),
        )
    age = answers.get("age")
    if _number(age) and math.floor(age) != years:  # an entered age counts completed years
        return Contradiction(
            "age_mismatch",
            ("age", "date_of_birth"),
            say(
                "age_mismatch",
                age=Quantity(age, "years", True),
                dob=dob.isoformat(),
                years=Quantity(years, "years", True),
                as_of=as_of.isoformat(),
            ),
        )
    return None


def date_pairs(catalogue: Mapping[str, QuestionSpec]) -> dict[str, str]:
    """Date question → the yes/no question it dates: `X_date` for a yes/no `X`, and the pairs DATE_OF declares."""
    pairs = {
        code: code.removesuffix("_date")
        for code, spec in catalogue.items()
        if spec.type == DATE
        and code.endswith("_date")
        and (owner := catalogue.get(code.removesuffix("_date"))) is not None
        and owner.type == BOOLEAN
    }
    pairs.update({d: b for d, b in DATE_OF.items() if d in catalogue and b in catalogue})
    return pairs


def _no_with_date(answers: Mapping[str, Any], catalogue: Mapping[str, QuestionSpec]) -> list[Contradiction]:
    found = []
    for date_code, yes_no in date_pairs(catalogue).items():
        when = answers.get(date_code)
        if answers.get(yes_no) is False and isinstance(when, date):
            b, d = catalogue[yes_no], catalogue[date_code]
            found.append(
                Contradiction(
                    "no_with_date",
                    (yes_no, date_code),
                    say("no_with_date", yes_no=b.name, question=d.name, date=when.isoformat()),
                )
            )
    return found


def _before_birth(answers: Mapping[str, Any], catalogue: Mapping[str, QuestionSpec], dob: date) -> list[Contradiction]:
    found = []
    for code, value in answers.items():
        spec = catalogue.get(code)
        if (
            code != "date_of_birth"
            and spec is not None
            and spec.type == DATE
            and isinstance(value, date)
            and value < dob
        ):
            found.append(
                Contradiction(
                    "before_birth",
                    (code, "date_of_birth"),
                    say("before_birth", question=spec.name, date=value.isoformat(), dob=dob.isoformat()),
                )
            )
    return found
