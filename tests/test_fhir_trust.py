"""Issue 13, pre-fill from the record: values too old to use, deceased patients, abated conditions, and the
saved form of a source. Pure: small hand-written Bundles read with the seed catalogue and mapping table."""

import json
from datetime import date
from pathlib import Path

import pytest

from eligibility.engine import QuestionSpec
from eligibility.fhir import FhirError, Source, age_in_words, answers_from_bundle, seed_rules
from tests.factories import condition, observation, patient

SEED = Path(__file__).resolve().parent.parent / "trials" / "seed"
AS_OF = date(2026, 11, 21)
# The catalogue as the seed ships it, freshness limits included (what Question.spec() gives after the seed).
CATALOGUE = {q["code"]: QuestionSpec.from_row(q) for q in json.loads((SEED / "questions.json").read_text())}
RULES = seed_rules(json.loads((SEED / "fhir_mappings.json").read_text()))


def read(*resources, birth="2012-03-04", who=None):
    person = who if who is not None else patient(birth=birth)
    entries = [{"resource": r} for r in (person, *resources)]
    return answers_from_bundle(
        {"resourceType": "Bundle", "type": "collection", "entry": entries}, RULES, AS_OF, CATALOGUE
    )


# --------------------------------------------------------------------------------------------
# Freshness limits


def test_the_seed_sets_freshness_limits_for_measurements_and_none_for_conditions():
    assert (CATALOGUE["height"].freshness_days, CATALOGUE["height"].child_freshness_days) == (365, 182)
    assert (CATALOGUE["bmi"].freshness_days, CATALOGUE["bmi"].child_freshness_days) == (365, 182)
    assert CATALOGUE["hba1c"].freshness_days == 90
    assert CATALOGUE["t1d_diagnosis"].freshness_days is None
    assert CATALOGUE["date_of_birth"].freshness_days is None


# (birth date, measured on, filled?) for a height: adults 12 months, children (under 18) 6 months.
HEIGHT_CASES = [
    ("1980-01-01", "2026-01-01", True),  # adult, 10 months old
    ("1980-01-01", "2025-11-21", True),  # adult, exactly 365 days old
    ("1980-01-01", "2025-11-20", False),  # adult, 366 days old
    ("2012-03-04", "2026-06-01", True),  # child, under 6 months old
    ("2012-03-04", "2026-01-01", False),  # child, 10 months old: fine for an adult, too old for a child
    ("2012-03-04", "2020-05-01", False),  # measured at 8, screened at 14 (the example)
    ("2008-11-21", "2026-01-01", True),  # 18 today: the adult limit
]


@pytest.mark.parametrize("birth, measured, filled", HEIGHT_CASES)
def test_a_height_older_than_the_limit_for_the_patients_age_is_not_filled(birth, measured, filled):
    result = read(observation("8302-2", 160, "cm", when=measured), birth=birth)
    assert ("height" in result.answers) is filled
    assert ("height" in result.stale) is not filled


def test_a_stale_value_is_kept_with_its_date_and_age_and_noted():
    result = read(observation("8302-2", 132, "cm", when="2020-05-01"))
    stale = result.stale["height"]
    assert stale.value == 132 and stale.source.date == date(2020, 5, 1)
    assert stale.limit_days == 182 and age_in_words(stale.age_days) == "6 years"
    note = next(n for n in result.notes if n.question == "height")
    assert note.code == "stale" and "measured 6 years ago" in note.message
    assert "1 too old to use" in result.summary()


def test_an_hba1c_older_than_three_months_is_not_filled_even_for_an_adult():
    result = read(observation("4548-4", 7.1, "%", when="2026-07-01"), birth="1970-01-01")
    assert "hba1c" not in result.answers
    assert age_in_words(result.stale["hba1c"].age_days) == "4 months"
    assert read(observation("4548-4", 7.1, "%", when="2026-09-01"), birth="1970-01-01").answers["hba1c"] == 7.1


def test_stale_height_and_weight_give_no_derived_bmi():
    result = read(
        observation("8302-2", 80, "cm", when="2014-01-01"), observation("29463-7", 11, "kg", when="2014-01-01")
    )
    assert not {"height", "weight", "bmi"} & set(result.answers)
    assert {"height", "weight"} <= set(result.stale)


def test_without_a_birth_date_the_stricter_limit_applies():
    result = read(observation("8302-2", 170, "cm", when="2026-01-01"), who=patient(birth=None))
    assert "height" in result.stale  # 10 months: an adult's height, but the patient may be a child


def test_a_question_without_a_limit_takes_any_age():
    no_limits = {
        code: QuestionSpec(**{**spec.__dict__, "freshness_days": None, "child_freshness_days": None})
        for code, spec in CATALOGUE.items()
    }
    entries = [{"resource": r} for r in (patient(), observation("8302-2", 132, "cm", when="2020-05-01"))]
    result = answers_from_bundle(
        {"resourceType": "Bundle", "type": "collection", "entry": entries}, RULES, AS_OF, no_limits
    )
    assert result.answers["height"] == 132 and not result.stale


@pytest.mark.parametrize(
    "days, words",
    [
        (0, "0 days"),
        (1, "1 day"),
        (29, "29 days"),
        (45, "1 month"),
        (200, "6 months"),
        (365, "1 year"),
        (800, "2 years"),
    ],
)
def test_age_in_words(days, words):
    assert age_in_words(days) == words


# --------------------------------------------------------------------------------------------
# Deceased patients


@pytest.mark.parametrize(
    "extra, words",
    [
        ({"deceasedDateTime": "2025-06-30T10:00:00Z"}, "died on 2025-06-30"),
        ({"deceasedDateTime": "2025"}, "died (2025)"),
        ({"deceasedBoolean": True}, "has died"),
    ],
)
def test_a_deceased_patient_is_refused_with_a_stable_code(extra, words):
    with pytest.raises(FhirError) as caught:
        read(who={**patient(), **extra})
    assert caught.value.code == "deceased"
    assert words in str(caught.value)


def test_a_patient_recorded_as_not_deceased_is_read():
    assert read(who={**patient(), "deceasedBoolean": False}).answers["date_of_birth"] == date(2012, 3, 4)


# --------------------------------------------------------------------------------------------
# Abated conditions

ABATEMENTS = [
    {"abatementDateTime": "2024-05-01"},
    {"abatementAge": {"value": 10, "unit": "a", "system": "http://unitsofmeasure.org", "code": "a"}},
    {"abatementPeriod": {"start": "2024-05-01", "end": "2024-06-01"}},
    {"abatementString": "in childhood"},
    {"abatementRange": {"low": {"value": 9, "unit": "a"}, "high": {"value": 10, "unit": "a"}}},
]


@pytest.mark.parametrize("abatement", ABATEMENTS)
def test_an_abated_condition_without_clinical_status_does_not_count(abatement):
    result = read(condition("363346000", clinical=None, onset="2020-01-01", **abatement))
    assert "malignancy" not in result.answers
    assert [n.code for n in result.notes if n.question == "malignancy"] == ["abated"]


@pytest.mark.parametrize("clinical", ["inactive", "resolved", "remission"])
def test_an_abated_condition_marked_inactive_resolved_or_in_remission_does_not_count(clinical):
    result = read(condition("363346000", clinical=clinical, onset="2020-01-01", abatementDateTime="2024-05-01"))
    assert "malignancy" not in result.answers


def test_a_condition_that_came_back_counts_despite_an_earlier_abatement():
    result = read(condition("363346000", clinical="recurrence", onset="2020-01-01", abatementDateTime="2024-05-01"))
    assert result.answers["malignancy"] is True


def test_a_condition_abated_after_the_reference_date_still_counts_on_it():
    result = read(condition("363346000", clinical=None, onset="2020-01-01", abatementDateTime="2026-12-15"))
    assert result.answers["malignancy"] is True


def test_a_condition_without_abatement_or_status_counts():
    assert read(condition("363346000", clinical=None, onset="2020-01-01")).answers["malignancy"] is True


# --------------------------------------------------------------------------------------------
# A source as a saved screening keeps it


def test_a_saved_source_has_no_resource_id_and_reads_back():
    result = read(observation("8302-2", 152, "cm", when="2026-11-01", oid="obs-secret-1"))
    saved = result.provenance["height"].saved_json()
    assert "id" not in saved and "obs-secret-1" not in json.dumps(saved)
    assert saved["code"] == "8302-2" and saved["date"] == "2026-11-01"
    assert Source.from_json(saved).describe() == result.provenance["height"].describe()
    assert Source.from_json({"resource_type": "Observation", "date": "not a date"}).date is None
