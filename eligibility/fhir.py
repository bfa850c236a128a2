"""One patient's FHIR R4 Bundle → questionnaire answers, each with where it came from. No Django imports.

The mapping is data: a list of `CodeRule` (the rows of `trials.CodeMapping`, seeded from
trials/seed/fhir_mappings.json) passed in by the caller. This module knows FHIR's structure and the
rules of evidence:

* `Patient.birthDate` → date_of_birth; `Patient.gender` → sex (other / unknown stay unanswered).
* A Condition whose code maps to a question answers "yes" only if it counts now: clinical status
  active, recurrence or relapse (or none recorded), and not refuted or entered-in-error. Its date
  (onsetDateTime, else onsetPeriod.start, else recordedDate) answers a diagnosis-date question;
  the earliest counting condition wins.
* An Observation gives the most recent final / amended / corrected value on or before the
  reference date, converted from its UCUM unit to the question's canonical unit.
* A Condition that has abated (any abatement[x]) counts only when its clinical status says it came back
  (recurrence, relapse); an abatement date after the reference date leaves it counting on that date.
* A value older than its question's freshness limit (QuestionSpec.freshness_days; child_freshness_days
  under 18) is not filled: it is kept in `FhirResult.stale` with its date, to be shown but not used.
* A deceased patient (Patient.deceasedBoolean true or a deceasedDateTime) is refused: FhirError "deceased".
* Nothing ever answers "no": a problem list is not proof of absence, so an absent, resolved or
  refuted code leaves the question unanswered (unknown).

Resources the mapping does not know are ignored and counted; mapped resources that do not count
are counted as skipped, with a note when the clinician would want to know why.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from . import units
from .answers import parse_value, reason_of
from .engine import QuestionSpec
from .vocabulary import format_number
from .wording import Message, Quantity, Text, render, say

PATIENT = "Patient"
CONDITION = "Condition"
OBSERVATION = "Observation"

# What a mapped code answers.
PRESENCE = "presence"  # a yes/no question: "yes" when a counting condition is there
ONSET_DATE = "onset_date"  # a date question: the condition's onset (diagnosis) date
VALUE = "value"  # a number question: the observation's value in the question's unit
KIND_FITS = {PRESENCE: ("boolean", CONDITION), ONSET_DATE: ("date", CONDITION), VALUE: ("number", OBSERVATION)}

SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SYSTEM_NAMES = {SNOMED: "SNOMED CT", ICD10CM: "ICD-10-CM", LOINC: "LOINC"}

BUNDLE_TYPES = ("collection", "searchset", "document", "transaction")
COUNTING_CLINICAL_STATUS = {"active", "recurrence", "relapse"}
NOT_COUNTING_VERIFICATION = {"refuted", "entered-in-error"}
FINAL_STATUS = {"final", "amended", "corrected"}
SEXES = {"female": "female", "male": "male"}  # other / unknown: unanswered

# UCUM codes as screening.units spells them; every other unit code is the same in both.
UCUM_UNITS = {"[lb_av]": "lb", "[in_i]": "in", "kg/m2": "kg/m²"}


class FhirError(ValueError):
    """The upload is not one patient's Bundle. `code` is stable; the message (eligibility.wording, or words) is for
    people: str(error) words it in the active language."""

    def __init__(self, message: Text, code: str):
        super().__init__(message)
        self.code = code

    @property
    def reason(self) -> Text:
        return self.args[0]

    def __str__(self) -> str:
        return render(self.args[0])


@dataclass(frozen=True)
class CodeRule:
    """One row of the mapping table: this code (or code prefix) in this resource type answers `question`."""

    resource_type: str
    system: str
    code: str
    question: str
    kind: str
    is_prefix: bool = False
    default_unit: str = ""  # UCUM unit assumed when an Observation's Quantity has none
    display: str = ""

    def matches(self, system: str, code: str) -> bool:
        if system != self.system or not isinstance(code, str) or not code.strip():
            return False
        if self.is_prefix:
            # ICD-10-CM codes are written with and without the dot (E10.10, E1010).
            return _bare(code).startswith(_bare(self.code))
        return code.strip() == self.code


def _bare(code: str) -> str:
    return code.strip().replace(".", "").upper()


def rules_from_rows(rows: Iterable[Mapping[str, Any] | CodeRule]) -> list[CodeRule]:
    """CodeRules from plain dicts with CodeRule's field names (rows already CodeRules pass through)."""
    names = CodeRule.__dataclass_fields__
    return [r if isinstance(r, CodeRule) else CodeRule(**{k: v for k, v in r.items() if k in names}) for r in rows]


def seed_rules(groups: Iterable[Mapping[str, Any]]) -> list[CodeRule]:
    """Rules from the seed file's groups: one group lists `codes` and/or `prefixes` sharing the rest."""
    rules = []
    for group in groups:
        common = {k: group[k] for k in ("resource_type", "system", "question", "kind")}
        extra = {"default_unit": group.get("default_unit", ""), "display": group.get("display", "")}
        rules += [CodeRule(code=c, is_prefix=False, **common, **extra) for c in group.get("codes", ())]
        rules += [CodeRule(code=c, is_prefix=True, **common, **extra) for c in group.get("prefixes", ())]
    return rules


def unit_problem(unit: str, canonical: str) -> str | None:
    """Why the UCUM `unit` cannot be converted to `canonical`, or None when it can."""
    try:
        units.to_canonical(1.0, UCUM_UNITS.get(unit, unit), canonical)
    except ValueError:
        return f"{unit!r} cannot be converted to {canonical}"
    return None


@dataclass(frozen=True)
class Source:
    """Where an answer came from."""

    resource_type: str
    resource_id: str
    system: str
    code: str
    display: str = ""
    date: date | None = None
    detail: str = ""  # e.g. a unit conversion: "172 [lb_av] = 78.02 kg"

    def describe(self) -> str:
        """'Observation LOINC 39156-5 (Body mass index), 2019-05-01' or 'Patient.birthDate'."""
        if self.resource_type == PATIENT:
            return f"Patient.{self.code}"
        text = f"{self.resource_type} {SYSTEM_NAMES.get(self.system, self.system)} {self.code}"
        if self.display:
            text += f" ({self.display})"
        if self.date:
            text += f", {self.date.isoformat()}"
        if self.detail:
            text += f"; {self.detail}"
        return text

    def saved_json(self) -> dict[str, Any]:
        """What a saved screening keeps: resource type, code system and code, date, display and conversion. Not
        the resource id, which can identify the patient in the record it came from."""
        data = self.to_json()
        del data["id"]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Source:
        """A Source from to_json() or saved_json() (an unreadable date is dropped rather than trusted)."""
        when = data.get("date")
        try:
            day = date.fromisoformat(when) if isinstance(when, str) else None
        except ValueError:
            day = None
        return cls(
            resource_type=str(data.get("resource_type", "")),
            resource_id=str(data.get("id") or ""),
            system=str(data.get("system", "")),
            code=str(data.get("code", "")),
            display=str(data.get("display") or ""),
            date=day,
            detail=str(data.get("detail") or ""),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "resource_type": self.resource_type,
            "id": self.resource_id,
            "system": self.system,
            "code": self.code,
            "display": self.display,
            "date": self.date.isoformat() if self.date else None,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Note:
    """Why a mapped resource did not answer its question. Tests assert on `code`."""

    code: str  # resolved, refuted, not_final, unit, implausible, invalid, partial_date, ...
    question: str
    reason: Text  # a message (eligibility.wording), worded when shown

    @property
    def message(self) -> str:
        """The reason in words, in the active language."""
        return render(self.reason)


@dataclass(frozen=True)
class Stale:
    """A record value older than its question's freshness limit: shown with its age, never filled."""

    value: Any
    source: Source
    age_days: int  # how old the value is on the reference date
    limit_days: int  # the limit it is older than


def age_in_words(days: int) -> str:
    """'3 years', '8 months', '12 days': how long ago, in the largest whole unit (in the active language)."""
    return str(age_of(days))


def age_of(days: int) -> Quantity:
    """How long ago, in the largest whole unit, as a message parameter."""
    years, months = days // 365, days // 30
    if years >= 1:
        return Quantity(years, "years")
    if months >= 1:
        return Quantity(months, "months")
    return Quantity(days, "days")


@dataclass(frozen=True)
class FhirResult:
    answers: dict[str, Any]  # typed, ready for the engine
    provenance: dict[str, Source]  # question code -> where its answer came from
    used: Counter  # resource type -> resources that gave an answer
    skipped: Counter  # resource type -> mapped resources that did not count (status, date, older value...)
    ignored: Counter  # resource type -> resources the mapping does not know
    notes: tuple[Note, ...] = ()
    stale: Mapping[str, Stale] = field(default_factory=dict)  # question code -> its newest value, too old to fill

    def summary(self) -> str:
        """'Used 1 Patient, 2 Observation; skipped 4 Observation; ignored 130 (Claim 32, ...)'."""

        def listing(counts: Counter) -> str:
            return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))

        parts = [f"used {listing(self.used) or 'nothing'}"]
        if self.stale:
            parts.append(f"{len(self.stale)} too old to use")
        if self.skipped:
            parts.append(f"skipped {listing(self.skipped)}")
        if self.ignored:
            parts.append(f"ignored {sum(self.ignored.values())} ({listing(self.ignored)})")
        text = "; ".join(parts)
        return text[0].upper() + text[1:]


def load_bundle(text: str | bytes) -> dict:
    """The JSON object of an uploaded file; FhirError when it is not JSON or not an object (a file holding `null`
    must not read as "no file given")."""
    try:
        bundle = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FhirError(say("fhir_not_json", error=str(exc)), "not_json") from None
    except ValueError:  # an integer longer than Python converts (4,300 digits)
        raise FhirError(Message("fhir_number_too_long"), "not_json") from None
    except RecursionError:  # the decoder's own limit: no Bundle nests hundreds of levels deep
        raise FhirError(Message("fhir_too_deep"), "not_json") from None
    if not isinstance(bundle, dict):
        raise FhirError(Message("fhir_not_object"), "not_bundle")
    return bundle


def answers_from_bundle(
    bundle: Any, mappings: Iterable[CodeRule | Mapping[str, Any]], as_of: date, catalogue: Mapping[str, QuestionSpec]
) -> FhirResult:
    """Answers for the questions in `catalogue` from one patient's Bundle, as known on `as_of`.

    Raises FhirError when the Bundle is not one patient's Bundle (nothing is answered then).
    """
    resources = _resources(bundle)
    patients = [r for r in resources if r["resourceType"] == PATIENT]
    if not patients:
        raise FhirError(Message("fhir_no_patient"), "no_patient")
    if len(patients) > 1:
        raise FhirError(say("fhir_two_patients", count=len(patients)), "two_patients")
    problem = _invalid(patients[0])
    if problem:
        raise FhirError(say("fhir_invalid_patient", problem=problem), "invalid_patient")
    _refuse_deceased(patients[0])

    # A row for a question the catalogue no longer has answers nothing (the admin form prevents it).
    rules = [r for r in rules_from_rows(mappings) if r.question in catalogue]
    reader = _Reader(as_of, catalogue)
    for index, resource in enumerate(resources):
        kind = resource["resourceType"]
        if kind == PATIENT:
            reader.patient(index, resource)
            continue
        codings = list(_codings(resource.get("code")))
        matching = [r for r in rules if r.resource_type == kind and any(r.matches(s, c) for s, c, _ in codings)]
        if not matching:
            reader.ignored[kind] += 1
            continue
        reader.mapped[index] = kind
        problem = _invalid(resource)
        if problem:
            reader.note(
                "invalid",
                matching[0].question,
                say("note_invalid", kind=kind, id=str(resource.get("id", "")), problem=problem),
            )
        elif kind == CONDITION:
            reader.condition(index, resource, matching, codings)
        else:
            reader.observation(index, resource, matching, codings)
    return reader.result()


# --------------------------------------------------------------------------------------------
# Reading the Bundle


def _refuse_deceased(patient: dict) -> None:
    """A deceased patient is not screened: nothing is read from the record (FhirError "deceased")."""
    when = patient.get("deceasedDateTime")
    if when is not None:
        day = _when(when)
        message = say("fhir_died_on", date=day[0].isoformat()) if day else say("fhir_died_when", when=str(when))
        raise FhirError(message, "deceased")
    if patient.get("deceasedBoolean") is True:
        raise FhirError(Message("fhir_died"), "deceased")


def _resources(bundle: Any) -> list[dict]:
    if not isinstance(bundle, dict):
        raise FhirError(Message("fhir_not_object"), "not_bundle")
    if bundle.get("resourceType") != "Bundle":
        found = bundle.get("resourceType")
        raise FhirError(
            say("fhir_wrong_type", found=repr(found)) if found else Message("fhir_no_type"),
            "not_bundle",
        )
    if bundle.get("type") not in BUNDLE_TYPES:
        raise FhirError(
            say("fhir_bundle_type", type=repr(bundle.get("type")), types=BUNDLE_TYPES),
            "bundle_type",
        )
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise FhirError(Message("fhir_entry_not_list"), "bad_entry")
    resources = []
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise FhirError(say("fhir_entry_not_object", number=number), "bad_entry")
        resource = entry.get("resource")
        if resource is None:  # e.g. a transaction's DELETE request
            continue
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            raise FhirError(say("fhir_entry_no_type", number=number), "bad_entry")
        resources.append(resource)
    return resources


def _invalid(resource: dict) -> str | None:
    """The first problem fhir.resources finds in `resource`, or None when it is valid."""
    # Imported here: the pydantic models are only worth loading when a Bundle is read.
    from fhir.resources.R4B import get_fhir_model_class
    from pydantic import ValidationError

    try:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"{where}: {first['msg']}" if where else first["msg"]
    except (KeyError, ValueError, TypeError) as exc:  # an unknown resource type, or worse
        return str(exc)
    return None


def _codings(concept: Any) -> Iterable[tuple[str, str, str]]:
    """(system, code, display) of each coding of a CodeableConcept."""
    if not isinstance(concept, dict):
        return
    for coding in concept.get("coding") or ():
        if isinstance(coding, dict):
            yield coding.get("system", ""), coding.get("code", ""), coding.get("display") or concept.get("text", "")


def _status(concept: Any) -> str | None:
    """The status code; None when no status is recorded, "" when one is recorded without a code."""
    if concept is None:
        return None
    for _system, code, _display in _codings(concept):
        if code:
            return code
    return ""


# A FHIR date or dateTime with a full day: YYYY-MM-DD, optionally a time. Python's fromisoformat alone would also
# read 20190501 and week dates (2019-W18-3), which FHIR does not allow.
_FULL_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2})?)?", re.ASCII)


def _when(text: Any) -> tuple[date, datetime] | None:
    """The day as written and a UTC instant to order by; None for a partial or unreadable date."""
    if not isinstance(text, str) or not _FULL_DAY.fullmatch(text):
        return None  # "2019" or "2019-05": too vague to date a diagnosis or order values
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    day = moment.date()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return day, moment.astimezone(UTC)


@dataclass
class _Candidate:
    order: tuple  # larger wins
    value: Any
    source: Source
    index: int


@dataclass
class _Reader:
    as_of: date
    catalogue: Mapping[str, QuestionSpec]
    candidates: dict[str, list[_Candidate]] = field(default_factory=dict)
    mapped: dict[int, str] = field(default_factory=dict)  # index -> resource type
    ignored: Counter = field(default_factory=Counter)
    notes: list[Note] = field(default_factory=list)
    born: date | None = None

    def note(self, code: str, question: str, message: Text) -> None:
        self.notes.append(Note(code, question, message))

    def offer(self, question: str, value: Any, source: Source, index: int, order: tuple) -> None:
        """A possible answer; the one with the largest `order` wins. Implausible values are noted."""
        spec = self.catalogue[question]
        try:
            value = parse_value(spec, value, self.as_of)
        except ValueError as exc:
            self.note(
                "implausible", question, say("note_implausible", source=source.describe(), problem=reason_of(exc))
            )
            return
        self.candidates.setdefault(question, []).append(_Candidate(order, value, source, index))

    def patient(self, index: int, resource: dict) -> None:
        pid = resource.get("id", "")
        birth = resource.get("birthDate")
        when_born = _when(birth)
        self.born = when_born[0] if when_born else None
        if birth is not None and "date_of_birth" in self.catalogue:
            when = _when(birth)
            if when is None:
                self.note("partial_date", "date_of_birth", say("note_partial_birth_date", value=repr(birth)))
            else:
                self.offer("date_of_birth", when[0], Source(PATIENT, pid, "", "birthDate", date=when[0]), index, ())
        gender = resource.get("gender")
        spec = self.catalogue.get("sex")
        if gender in SEXES and spec and SEXES[gender] in dict(spec.choices):
            self.offer("sex", SEXES[gender], Source(PATIENT, pid, "", "gender", display=gender), index, ())

    def condition(self, index: int, resource: dict, rules: list[CodeRule], codings) -> None:
        clinical = _status(resource.get("clinicalStatus"))
        verification = _status(resource.get("verificationStatus"))
        when = _when(
            resource.get("onsetDateTime")
            or (resource.get("onsetPeriod") or {}).get("start")
            or resource.get("recordedDate")
        )
        for rule in rules:
            system, code, display = next((s, c, d) for s, c, d in codings if rule.matches(s, c))
            source = Source(CONDITION, resource.get("id", ""), system, code, display, when[0] if when else None)
            name = self.catalogue[rule.question].name
            if clinical is not None and clinical not in COUNTING_CLINICAL_STATUS:
                known = clinical in ("resolved", "inactive", "remission")
                words = (
                    say("note_status", source=source.describe(), status=clinical, name=name)
                    if clinical
                    else say("note_status_no_code", source=source.describe(), name=name)
                )
                self.note(clinical if known else "status", rule.question, words)
                continue
            abated = _abated(resource, self.as_of)
            if abated and clinical not in ("recurrence", "relapse"):
                self.note("abated", rule.question, say("note_abated", source=source.describe(), how=abated, name=name))
                continue
            if verification in NOT_COUNTING_VERIFICATION:
                self.note(
                    verification,
                    rule.question,
                    say("note_status", source=source.describe(), status=verification, name=name),
                )
                continue
            if when and when[0] > self.as_of:
                continue  # not yet known on the reference date
            if rule.kind == PRESENCE:
                # The earliest record is the provenance; undated ones come last.
                order = (0, -when[1].timestamp()) if when else (-1, 0)
                self.offer(rule.question, True, source, index, order)
            elif rule.kind == ONSET_DATE:
                if when is None:
                    self.note("partial_date", rule.question, say("note_no_onset", source=source.describe()))
                else:
                    self.offer(rule.question, when[0], source, index, (-when[1].timestamp(),))

    def observation(self, index: int, resource: dict, rules: list[CodeRule], codings) -> None:
        status = resource.get("status")
        when = _when(
            resource.get("effectiveDateTime")
            or resource.get("effectiveInstant")
            or (resource.get("effectivePeriod") or {}).get("start")
            or resource.get("issued")
        )
        for rule in rules:
            system, code, display = next((s, c, d) for s, c, d in codings if rule.matches(s, c))
            source = Source(OBSERVATION, resource.get("id", ""), system, code, display, when[0] if when else None)
            if status not in FINAL_STATUS:
                continue  # preliminary, cancelled, entered-in-error...: counted as skipped
            if when is None:
                self.note("no_date", rule.question, say("note_no_date", source=source.describe()))
                continue
            if when[0] > self.as_of:
                continue  # measured after the reference date
            quantity: Any = resource.get("valueQuantity")
            value = quantity.get("value") if isinstance(quantity, dict) else None
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue  # no numeric value (e.g. a dataAbsentReason)
            if quantity.get("comparator"):
                # "< 0.02 nmol/L" is a bound, not a value: comparing it as 0.02 could decide a criterion wrongly.
                self.note(
                    "comparator",
                    rule.question,
                    say(
                        "note_comparator",
                        source=source.describe(),
                        comparator=str(quantity["comparator"]),
                        value=value,
                    ),
                )
                continue
            unit = quantity.get("code") if quantity.get("system") in (None, UCUM) else None
            unit = unit or quantity.get("unit") or rule.default_unit
            canonical = self.catalogue[rule.question].unit
            if not unit and canonical:
                # A bare number is not evidence: C-peptide in ng/mL is a third of the same in nmol/L.
                self.note("unit", rule.question, say("note_no_unit", source=source.describe()))
                continue
            try:
                converted = round(units.to_canonical(float(value), UCUM_UNITS.get(unit, unit), canonical), 2)
            except OverflowError:
                self.note("implausible", rule.question, say("note_too_large", source=source.describe()))
                continue
            except ValueError:
                self.note(
                    "unit",
                    rule.question,
                    say("note_unit", source=source.describe(), unit=repr(unit), canonical=canonical),
                )
                continue
            if unit and UCUM_UNITS.get(unit, unit) != canonical:
                source = replace(
                    source, detail=f"{format_number(value)} {unit} = {format_number(converted)} {canonical}"
                )
            self.offer(rule.question, converted, source, index, (when[1].timestamp(), index))

    def limit(self, spec: QuestionSpec) -> int | None:
        """The question's freshness limit in days for this patient (None: no limit). Without a birth date the
        stricter of the two limits, as the patient may be a child."""
        adult, child = spec.freshness_days, spec.child_freshness_days
        if child is None:
            return adult
        if adult is None:
            return child if self.born is None or _years(self.born, self.as_of) < 18 else None
        if self.born is None:
            return min(adult, child)
        return child if _years(self.born, self.as_of) < 18 else adult

    def result(self) -> FhirResult:
        answers, provenance, winners, stale = {}, {}, set(), {}
        for question, offered in self.candidates.items():
            best = max(offered, key=lambda c: c.order)
            limit = self.limit(self.catalogue[question])
            measured = best.source.date
            if limit is not None and measured is not None and (self.as_of - measured).days > limit:
                age = (self.as_of - measured).days
                stale[question] = Stale(best.value, best.source, age, limit)
                self.note(
                    "stale",
                    question,
                    say(
                        "note_stale",
                        source=best.source.describe(),
                        age=age_of(age),
                        limit=age_of(limit),
                        name=self.catalogue[question].name,
                    ),
                )
                continue
            answers[question] = best.value
            provenance[question] = best.source
            winners.add(best.index)
        used, skipped = Counter({PATIENT: 1}), Counter[str]()
        for index, kind in self.mapped.items():
            (used if index in winners else skipped)[kind] += 1
        return FhirResult(answers, provenance, used, skipped, self.ignored, tuple(self.notes), stale)


def _years(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


ABATEMENT = ("abatementDateTime", "abatementAge", "abatementPeriod", "abatementRange", "abatementString")


def _abated(resource: dict, as_of: date) -> str | None:
    """How the Condition says it abated on or before `as_of` ('abatementDateTime 2019-04-02'), or None."""
    if resource.get("abatementBoolean") is True:
        return "abatementBoolean"
    for name in ABATEMENT:
        value = resource.get(name)
        if value is None:
            continue
        when = None
        if name == "abatementDateTime":
            when = _when(value)
        elif name == "abatementPeriod" and isinstance(value, dict):
            when = _when(value.get("end") or value.get("start"))
        if when and when[0] > as_of:
            continue  # it abated after the reference date: on that date it was still there
        return f"{name} {value}" if isinstance(value, str) else name
    return None


def overlay(prefilled: Mapping[str, Any], raw: Any, typed: Mapping[str, Any]) -> dict[str, Any]:
    """Answers pre-filled from FHIR with the explicitly given answers on top.

    `raw` is the given answers as received and `typed` the same parsed: an explicit null clears a
    pre-filled answer (the clinician knows better than the record), any other value replaces it.
    """
    merged = dict(prefilled)
    if isinstance(raw, Mapping):
        for code, value in raw.items():
            if value is None:
                merged.pop(code, None)
    merged.update(typed)
    return merged
