"""FHIR R4 Bundle → answers with provenance (eligibility.fhir). Pure: the mapping table and the catalogue
are read from the seed files, no database; the last class checks the table's model and seed loader."""

import csv
import json
from datetime import date
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from eligibility.engine import QuestionSpec, derive
from eligibility.fhir import (
    ICD10CM,
    LOINC,
    SNOMED,
    CodeRule,
    FhirError,
    answers_from_bundle,
    load_bundle,
    overlay,
    rules_from_rows,
    seed_rules,
)
from tests.conftest import shared_data
from tests.factories import bundle, condition, observation, patient

SEED = Path(__file__).resolve().parent.parent / "trials" / "seed"
AS_OF = date(2026, 11, 21)
SPEC_FIELDS = ("code", "label", "type", "unit", "min_value", "max_value", "short_label")
CATALOGUE = {
    q["code"]: QuestionSpec(**{k: q[k] for k in SPEC_FIELDS}, choices=tuple(tuple(c) for c in q["choices"]))
    for q in json.loads((SEED / "questions.json").read_text())
}
RULES = seed_rules(json.loads((SEED / "fhir_mappings.json").read_text()))


# --------------------------------------------------------------------------------------------
# Reading hand-written resources (tests/factories.py builds them)


def read(*resources, as_of=AS_OF, rules=RULES, **kwargs):
    return answers_from_bundle(bundle(*resources, **kwargs), rules, as_of, CATALOGUE)


def answers(*resources, **kwargs):
    return read(*resources, **kwargs).answers


# --------------------------------------------------------------------------------------------
# Patient


def test_it_reads_date_of_birth_and_sex_with_provenance():
    result = read()
    assert result.answers == {"date_of_birth": date(2012, 3, 4), "sex": "female"}
    assert result.provenance["date_of_birth"].describe() == "Patient.birthDate"
    assert result.used == {"Patient": 1}


@pytest.mark.parametrize("gender, sex", [("female", "female"), ("male", "male"), ("other", None), ("unknown", None)])
def test_it_maps_gender_to_sex_and_leaves_other_and_unknown_unanswered(gender, sex):
    result = answers_from_bundle(
        {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": patient(gender=gender)}]},
        RULES,
        AS_OF,
        CATALOGUE,
    )
    assert result.answers.get("sex") == sex


def test_it_leaves_a_partial_birth_date_unanswered_with_a_note():
    result = answers_from_bundle(
        {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": patient(birth="2012-03")}]},
        RULES,
        AS_OF,
        CATALOGUE,
    )
    assert "date_of_birth" not in result.answers
    assert [n.code for n in result.notes] == ["partial_date"]


def test_it_lets_engine_derive_age_from_the_birth_date():
    full, derived = derive(answers(), AS_OF)
    assert full["age"] == 14 and "age" in derived


# --------------------------------------------------------------------------------------------
# Conditions: what counts


STATUS_CASES = [
    # (clinicalStatus, verificationStatus, answered "yes"?, note code when not)
    ("active", "confirmed", True, None),
    ("recurrence", "confirmed", True, None),
    ("relapse", "confirmed", True, None),
    (None, None, True, None),  # no status recorded: counts
    ("active", "unconfirmed", True, None),
    ("active", "provisional", True, None),
    ("resolved", "confirmed", False, "resolved"),
    ("inactive", "confirmed", False, "inactive"),
    ("remission", "confirmed", False, "remission"),
    ("active", "refuted", False, "refuted"),
    ("active", "entered-in-error", False, "entered-in-error"),
]


@pytest.mark.parametrize("clinical, verification, counts, note", STATUS_CASES)
def test_it_counts_only_active_and_not_refuted_conditions(clinical, verification, counts, note):
    result = read(condition("363346000", clinical=clinical, verification=verification))
    if counts:
        assert result.answers["malignancy"] is True
        assert result.used["Condition"] == 1 and not result.notes
    else:
        # Neither yes nor no: a resolved or refuted record leaves the question open.
        assert "malignancy" not in result.answers
        assert result.skipped["Condition"] == 1
        assert [n.code for n in result.notes] == [note]
        assert result.notes[0].question == "malignancy"


def test_a_clinical_status_without_a_code_does_not_count():
    resource = condition("363346000", clinical=None)
    resource["clinicalStatus"] = {"text": "resolved"}
    result = read(resource)
    assert "malignancy" not in result.answers
    assert [n.code for n in result.notes] == ["status"]


def test_an_absent_code_never_answers_no():
    result = read(condition("38341003"), observation("55284-4", 120, "mm[Hg]"))  # hypertension, blood pressure
    assert set(result.answers) == {"date_of_birth", "sex"}
    assert False not in result.answers.values()
    assert result.ignored == {"Condition": 1, "Observation": 1}


def test_it_never_answers_no_for_any_seed_mapping():
    resources = [
        condition(r.code + ("9" if r.is_prefix else ""), system=r.system, clinical="resolved")
        for r in RULES
        if r.resource_type == "Condition"
    ]
    assert False not in read(*resources).answers.values()


SNOMED_CASES = [
    ("46635009", {"t1d_diagnosis", "t1d_diagnosis_date"}),
    ("420422005", {"diabetic_ketoacidosis"}),
    ("420270002", {"diabetic_ketoacidosis"}),
    ("4855003", {"diabetic_retinopathy"}),
    ("422034002", {"diabetic_retinopathy"}),  # Synthea's "retinopathy associated with type II diabetes"
    ("86406008", {"hiv"}),
    ("66071002", {"hepatitis_b"}),
    ("61977001", {"hepatitis_b"}),
    ("50711007", {"hepatitis_c"}),
    ("128302006", {"hepatitis_c"}),
    ("363346000", {"malignancy"}),
    ("24526004", {"inflammatory_bowel_disease"}),
    ("34000006", {"inflammatory_bowel_disease"}),
    ("64766004", {"inflammatory_bowel_disease"}),
    ("44054006", set()),  # diabetes (type 2 in Synthea): not type 1
    ("709044004", {"renal_impairment"}),  # chronic kidney disease
    ("431855005", {"renal_impairment"}),  # CKD stage 1
    ("433144002", {"renal_impairment"}),  # CKD stage 3
    ("433146000", {"renal_impairment"}),  # CKD stage 5
    ("46177005", {"renal_impairment"}),  # end-stage renal disease
    ("127013003", {"renal_impairment"}),  # diabetic renal disease (Synthea's code)
    ("90781000119102", {"renal_impairment"}),  # microalbuminuria due to type 2 diabetes (Synthea's code)
    ("157141000119108", {"renal_impairment"}),  # proteinuria due to type 2 diabetes (Synthea's code)
    ("4635009", set()),  # SNOMED codes match whole, never by prefix
]


@pytest.mark.parametrize("code, questions", SNOMED_CASES)
def test_it_maps_snomed_codes(code, questions):
    assert set(answers(condition(code))) - {"date_of_birth", "sex"} == questions


ICD10_CASES = [
    ("E10.9", {"t1d_diagnosis", "t1d_diagnosis_date"}),
    ("E10.10", {"t1d_diagnosis", "t1d_diagnosis_date", "diabetic_ketoacidosis"}),
    ("E1010", {"t1d_diagnosis", "t1d_diagnosis_date", "diabetic_ketoacidosis"}),  # written without the dot
    ("e10.65", {"t1d_diagnosis", "t1d_diagnosis_date"}),
    ("E10.319", {"t1d_diagnosis", "t1d_diagnosis_date", "diabetic_retinopathy"}),
    ("E11.9", set()),
    ("E11.10", {"diabetic_ketoacidosis"}),
    ("E13.11", {"diabetic_ketoacidosis"}),
    ("E11.3551", {"diabetic_retinopathy"}),
    ("B20", {"hiv"}),
    ("Z21", {"hiv"}),
    ("B16.9", {"hepatitis_b"}),
    ("B18.1", {"hepatitis_b"}),
    ("B19.10", {"hepatitis_b"}),
    ("B17.10", {"hepatitis_c"}),
    ("B18.2", {"hepatitis_c"}),
    ("B19.20", {"hepatitis_c"}),
    ("B18.9", set()),
    ("C00.0", {"malignancy"}),
    ("C50.911", {"malignancy"}),
    ("C7A.010", {"malignancy"}),
    ("C96.9", {"malignancy"}),
    ("D05.10", set()),  # carcinoma in situ is not C00–C96
    ("D80.0", {"primary_immunodeficiency"}),
    ("D84.9", {"primary_immunodeficiency"}),
    ("D83.9", {"primary_immunodeficiency"}),
    ("D84.1", {"primary_immunodeficiency"}),
    ("D84.89", {"primary_immunodeficiency"}),
    ("D84.81", set()),  # immunodeficiency due to conditions classified elsewhere: secondary
    ("D84.821", set()),  # due to drugs: secondary
    ("D84822", set()),  # due to external causes, written without the dot: secondary
    ("D86.0", set()),
    ("K50.90", {"inflammatory_bowel_disease"}),
    ("K51.90", {"inflammatory_bowel_disease"}),
    ("K75.4", {"autoimmune_hepatitis"}),
    ("K75.3", set()),
    ("H20.10", {"chronic_iridocyclitis"}),
    ("E27.1", {"autoimmune_adrenalitis"}),
    ("E27.2", {"autoimmune_adrenalitis"}),
    ("E27.40", {"autoimmune_adrenalitis"}),
    ("E27.3", set()),
    ("E23.6", {"hypophysitis"}),
    ("M05.79", {"rheumatoid_disease"}),
    ("M06.9", {"rheumatoid_disease"}),
    ("M30.0", {"immune_vasculitis"}),
    ("M31.3", {"immune_vasculitis"}),
    ("M32.14", {"sle"}),
    ("N18.3", {"renal_impairment"}),
    ("N17.9", set()),
    ("F20.0", {"severe_psychiatric_disorder"}),
    ("F25.1", {"severe_psychiatric_disorder"}),
    ("F31.9", {"severe_psychiatric_disorder"}),
    ("F32.9", set()),
    ("F19.9", set()),
]


@pytest.mark.parametrize("code, questions", ICD10_CASES)
def test_it_maps_icd10cm_codes_by_prefix(code, questions):
    assert set(answers(condition(code, system=ICD10CM))) - {"date_of_birth", "sex"} == questions


def test_a_code_in_another_system_does_not_match():
    assert "t1d_diagnosis" not in answers(condition("E10.9", system="http://hl7.org/fhir/sid/icd-10"))


def test_it_matches_any_coding_of_a_condition_and_gives_provenance():
    resource = condition("E10.9", system=ICD10CM)
    resource["code"]["coding"].insert(0, {"system": "http://example.org/local", "code": "T1"})
    result = read(resource)
    source = result.provenance["t1d_diagnosis"]
    assert (source.resource_type, source.system, source.code, source.date) == (
        "Condition",
        ICD10CM,
        "E10.9",
        date(2026, 10, 24),
    )
    assert source.describe() == "Condition ICD-10-CM E10.9 (display E10.9), 2026-10-24"


# --------------------------------------------------------------------------------------------
# Conditions: dates


def test_the_diagnosis_date_comes_from_onset_then_onset_period_then_recorded_date():
    assert answers(condition("46635009", onset="2026-10-24T10:00:00+02:00"))["t1d_diagnosis_date"] == date(2026, 10, 24)
    period = condition("46635009", onset=None, onsetPeriod={"start": "2026-09-01"}, recordedDate="2026-10-01")
    assert answers(period)["t1d_diagnosis_date"] == date(2026, 9, 1)
    recorded = condition("46635009", onset=None, recordedDate="2026-10-01T08:00:00Z")
    assert answers(recorded)["t1d_diagnosis_date"] == date(2026, 10, 1)


def test_the_earliest_counting_diagnosis_wins():
    result = read(
        condition("E10.9", system=ICD10CM, onset="2026-10-24"),
        condition("46635009", onset="2026-09-30"),
        condition("E10.65", system=ICD10CM, onset="2026-08-01", clinical="resolved"),
    )
    assert result.answers["t1d_diagnosis_date"] == date(2026, 9, 30)
    assert result.provenance["t1d_diagnosis"].code == "46635009"


def test_an_undated_condition_answers_yes_but_not_the_date():
    result = read(condition("46635009", onset=None))
    assert result.answers["t1d_diagnosis"] is True
    assert "t1d_diagnosis_date" not in result.answers
    assert [n.code for n in result.notes] == ["partial_date"]


def test_a_condition_after_the_reference_date_is_not_yet_known():
    result = read(condition("46635009", onset="2026-11-22"))
    assert "t1d_diagnosis" not in result.answers
    assert result.skipped == {"Condition": 1}


# --------------------------------------------------------------------------------------------
# Observations


UNIT_CASES = [
    # (LOINC, value, UCUM unit, question, canonical value)
    ("29463-7", 80, "kg", "weight", 80),
    ("29463-7", 176, "[lb_av]", "weight", 79.83),
    ("29463-7", 80500, "g", "weight", 80.5),
    ("8302-2", 170.5, "cm", "height", 170.5),
    ("8302-2", 70, "[in_i]", "height", 177.8),
    ("8302-2", 1.75, "m", "height", 175),
    ("39156-5", 27.43219, "kg/m2", "bmi", 27.43),
    ("4548-4", 7.2, "%", "hba1c", 7.2),
    ("17856-6", 6.5, "%", "hba1c", 6.5),
    ("59261-8", 53, "mmol/mol", "hba1c", 7.0),  # IFCC → NGSP: 0.09148 × 53 + 2.152
    ("1558-6", 99, "mg/dL", "fasting_glucose", 99),
    ("1558-6", 5.5, "mmol/L", "fasting_glucose", 99.09),
    ("1986-9", 0.6, "nmol/L", "c_peptide", 0.6),
    ("1986-9", 1.5, "ng/mL", "c_peptide", 0.5),
    ("1986-9", 600, "pmol/L", "c_peptide", 0.6),
]


@pytest.mark.parametrize("loinc, value, unit, question, expected", UNIT_CASES)
def test_it_converts_ucum_units_to_the_canonical_unit(loinc, value, unit, question, expected):
    result = read(observation(loinc, value, unit))
    assert result.answers[question] == pytest.approx(expected, abs=0.01)
    assert result.provenance[question].code == loinc


def test_it_reads_the_unit_text_when_the_quantity_has_no_ucum_code():
    assert answers(observation("29463-7", 176, "[lb_av]", ucum=False))["weight"] == pytest.approx(79.83)


def test_a_conversion_shows_in_the_provenance():
    source = read(observation("29463-7", 176, "[lb_av]")).provenance["weight"]
    assert source.detail == "176 [lb_av] = 79.83 kg"
    assert source.date == date(2026, 11, 1)


def test_a_value_without_unit_uses_the_mapping_default_unit_or_is_skipped():
    assert answers(observation("59261-8", 53, None))["hba1c"] == pytest.approx(7.0, abs=0.01)
    result = read(observation("1986-9", 1.5, None))  # C-peptide: ng/mL or nmol/L? No default: no answer.
    assert "c_peptide" not in result.answers
    assert [n.code for n in result.notes] == ["unit"]


def test_a_value_below_the_detection_limit_is_not_taken_as_a_value():
    resource = observation("1986-9", 0.02, "nmol/L")
    resource["valueQuantity"]["comparator"] = "<"
    result = read(resource)
    assert "c_peptide" not in result.answers
    assert [n.code for n in result.notes] == ["comparator"]


def test_a_unit_that_does_not_fit_is_skipped_with_a_note():
    result = read(observation("29463-7", 80, "mmol/L"))
    assert "weight" not in result.answers
    assert [n.code for n in result.notes] == ["unit"]


def test_an_implausible_value_is_skipped_with_a_note():
    result = read(observation("29463-7", 8000, "kg"))
    assert "weight" not in result.answers
    assert [n.code for n in result.notes] == ["implausible"]


def test_the_most_recent_value_wins_whatever_the_order_in_the_bundle():
    result = read(
        observation("39156-5", 31.0, "kg/m2", when="2026-06-01"),
        observation("39156-5", 29.5, "kg/m2", when="2026-11-20T23:00:00-05:00"),  # 2026-11-21 04:00 UTC
        observation("39156-5", 30.2, "kg/m2", when="2026-11-21T02:00:00+00:00"),
    )
    assert result.answers["bmi"] == 29.5
    assert result.used == {"Patient": 1, "Observation": 1}
    assert result.skipped == {"Observation": 2}


def test_a_value_after_the_reference_date_is_ignored():
    result = read(
        observation("39156-5", 28.0, "kg/m2", when="2026-10-01"),
        observation("39156-5", 33.0, "kg/m2", when="2026-11-22T08:00:00+00:00"),
    )
    assert result.answers["bmi"] == 28.0
    assert read(observation("39156-5", 33.0, "kg/m2", when="2026-11-22")).answers.get("bmi") is None


@pytest.mark.parametrize(
    "status, counts",
    [
        ("final", True),
        ("amended", True),
        ("corrected", True),
        ("preliminary", False),
        ("registered", False),
        ("cancelled", False),
        ("entered-in-error", False),
    ],
)
def test_only_final_amended_or_corrected_values_count(status, counts):
    result = read(observation("4548-4", 7.0, "%", status=status))
    assert ("hba1c" in result.answers) == counts


def test_an_older_final_value_beats_a_newer_preliminary_one():
    result = read(
        observation("4548-4", 7.0, "%", when="2026-10-01"),
        observation("4548-4", 9.0, "%", when="2026-11-01", status="preliminary"),
    )
    assert result.answers["hba1c"] == 7.0


def test_bmi_is_derived_from_weight_and_height_when_none_is_recorded():
    got = answers(observation("29463-7", 81, "kg"), observation("8302-2", 180, "cm"))
    assert "bmi" not in got  # the engine derives it, and says so
    full, derived = derive(got, AS_OF)
    assert full["bmi"] == 25.0 and "bmi" in derived


def test_a_recorded_bmi_is_not_replaced_by_a_derived_one():
    got = answers(
        observation("29463-7", 81, "kg"), observation("8302-2", 180, "cm"), observation("39156-5", 26.1, "kg/m2")
    )
    full, derived = derive(got, AS_OF)
    assert full["bmi"] == 26.1 and "bmi" not in derived


# --------------------------------------------------------------------------------------------
# Bundles: what is accepted, what is counted


@pytest.mark.parametrize("kind", ["collection", "searchset", "document", "transaction"])
def test_it_accepts_the_four_bundle_types(kind):
    assert answers(condition("46635009"), kind=kind)["t1d_diagnosis"] is True


INVALID_BUNDLES = [
    ([1, 2], "not_bundle"),
    ("Bundle", "not_bundle"),
    ({"resourceType": "Patient", "id": "x"}, "not_bundle"),
    ({"type": "collection", "entry": []}, "not_bundle"),
    ({"resourceType": "Bundle", "type": "batch", "entry": []}, "bundle_type"),
    ({"resourceType": "Bundle", "entry": []}, "bundle_type"),
    ({"resourceType": "Bundle", "type": "collection", "entry": {"resource": {}}}, "bad_entry"),
    ({"resourceType": "Bundle", "type": "collection", "entry": ["x"]}, "bad_entry"),
    ({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"id": "x"}}]}, "bad_entry"),
    ({"resourceType": "Bundle", "type": "collection", "entry": []}, "no_patient"),
    (bundle(condition("46635009"), with_patient=False), "no_patient"),
    (bundle(patient(pid="p2")), "two_patients"),
    (bundle(with_patient=False) | {"entry": [{"resource": patient(birth="2012-13-40")}]}, "invalid_patient"),
]


@pytest.mark.parametrize("data, code", INVALID_BUNDLES)
def test_it_rejects_what_is_not_one_patients_bundle(data, code):
    with pytest.raises(FhirError) as error:
        answers_from_bundle(data, RULES, AS_OF, CATALOGUE)
    assert error.value.code == code
    assert str(error.value)


def test_it_rejects_text_that_is_not_json():
    with pytest.raises(FhirError) as error:
        load_bundle("{not json")
    assert error.value.code == "not_json" and "not valid JSON" in str(error.value)
    assert load_bundle(b'{"resourceType": "Bundle"}') == {"resourceType": "Bundle"}


@pytest.mark.parametrize("text", ["null", "[]", '"Bundle"', "42"])
def test_it_rejects_json_that_is_not_an_object(text):
    # A file holding `null` once read as "no Bundle given", and the pre-fill page failed on it.
    with pytest.raises(FhirError) as error:
        load_bundle(text)
    assert error.value.code == "not_bundle"


def test_it_ignores_and_counts_unknown_resources_and_entries_without_one():
    data = bundle(
        {"resourceType": "Encounter", "id": "e1", "status": "finished"},
        {"resourceType": "Claim", "id": "c1"},
        {"resourceType": "Claim", "id": "c2"},
        condition("46635009"),
    )
    data["entry"].append({"request": {"method": "DELETE", "url": "Observation/1"}})
    result = answers_from_bundle(data, RULES, AS_OF, CATALOGUE)
    assert result.ignored == {"Encounter": 1, "Claim": 2}
    assert result.used == {"Patient": 1, "Condition": 1}
    assert result.summary() == "Used 1 Condition, 1 Patient; ignored 3 (2 Claim, 1 Encounter)"


def test_an_invalid_mapped_resource_is_skipped_with_a_note():
    broken = observation("4548-4", 7.0, "%")
    del broken["status"]  # required in FHIR R4
    result = read(broken, observation("39156-5", 27.0, "kg/m2"))
    assert "hba1c" not in result.answers and result.answers["bmi"] == 27.0
    assert [n.code for n in result.notes] == ["invalid"]
    assert "status" in result.notes[0].message
    assert result.skipped == {"Observation": 1}


def test_rows_for_questions_the_catalogue_lacks_answer_nothing():
    rules = [CodeRule("Condition", SNOMED, "46635009", "no_such_question", "presence")]
    assert answers(condition("46635009"), rules=rules) == {"date_of_birth": date(2012, 3, 4), "sex": "female"}


def test_the_table_can_be_passed_as_plain_dicts():
    rows = [
        {
            "resource_type": "Condition",
            "system": ICD10CM,
            "code": "E10",
            "is_prefix": True,
            "question": "t1d_diagnosis",
            "kind": "presence",
            "id": 7,
        }
    ]
    assert rules_from_rows(rows) == [CodeRule("Condition", ICD10CM, "E10", "t1d_diagnosis", "presence", True)]
    assert answers(condition("E10.9", system=ICD10CM), rules=rows)["t1d_diagnosis"] is True


OVERLAY_CASES = [
    # (pre-filled, raw answers, typed answers, merged)
    ({"bmi": 31.0, "hiv": True}, {"bmi": 29.0}, {"bmi": 29.0}, {"bmi": 29.0, "hiv": True}),
    ({"bmi": 31.0, "hiv": True}, {"hiv": None}, {}, {"bmi": 31.0}),  # null clears
    ({"bmi": 31.0}, {}, {}, {"bmi": 31.0}),
    ({}, {"age": 10}, {"age": 10}, {"age": 10}),
]


@pytest.mark.parametrize("prefilled, raw, typed, merged", OVERLAY_CASES)
def test_given_answers_override_the_prefilled_ones(prefilled, raw, typed, merged):
    assert overlay(prefilled, raw, typed) == merged


def test_the_seed_table_maps_every_code_the_issue_names():
    keys = {(r.system, r.code, r.is_prefix) for r in RULES}
    snomed = [
        "46635009",
        "420422005",
        "420270002",
        "4855003",
        "86406008",
        "66071002",
        "61977001",
        "50711007",
        "128302006",
        "363346000",
        "24526004",
        "34000006",
        "64766004",
    ]
    icd = (
        [
            "E10",
            "E10.1",
            "E11.1",
            "E13.1",
            "E10.3",
            "E11.3",
            "B20",
            "Z21",
            "B16",
            "B18.0",
            "B18.1",
            "B19.1",
            "B17.1",
            "B18.2",
            "B19.2",
            "K50",
            "K51",
            "K75.4",
            "H20",
            "E27.1",
            "E27.2",
            "E27.4",
            "E23.6",
            "M05",
            "M06",
            "M30",
            "M31",
            "M32",
            "N18",
        ]
        + [f"C{n:02d}" for n in range(97)]
        + [f"D8{n}" for n in range(4)]
        + ["D84.0", "D84.1", "D84.89", "D84.9"]  # primary only: D84.81 and D84.82x are secondary (issue 13)
        + [f"F{n}" for n in range(20, 32)]
    )
    loinc = ["39156-5", "29463-7", "8302-2", "4548-4", "17856-6", "59261-8", "1986-9", "1558-6"]
    assert {(SNOMED, c, False) for c in snomed} <= keys
    assert {(ICD10CM, c, True) for c in icd} <= keys
    assert {(LOINC, c, False) for c in loinc} <= keys
    assert {r.question for r in RULES} <= set(CATALOGUE)


# --------------------------------------------------------------------------------------------
# The synthetic patients in ../shared/data/fhir (Synthea, R4 transaction Bundles)


def synthetic(name_start):
    folder = shared_data("fhir")
    [path] = folder.glob(f"{name_start}_*.json")
    return json.loads(path.read_text())


def test_every_synthetic_patient_parses_and_matches_the_index():
    folder = shared_data("fhir")
    rows = list(csv.DictReader((folder / "index.tsv").open(), delimiter="\t"))
    assert len(rows) == 12
    for row in rows:
        data = json.loads((folder / row["file"]).read_text())
        result = answers_from_bundle(data, RULES, AS_OF, CATALOGUE)
        assert result.answers["date_of_birth"] == date.fromisoformat(row["birthDate"]), row["file"]
        assert result.answers["sex"] == row["gender"], row["file"]
        total = sum(result.used.values()) + sum(result.skipped.values()) + sum(result.ignored.values())
        assert total == int(row["n_bundle_entries"]), row["file"]
        # Synthea has no type 1 diabetes: nothing may say yes, and nothing may say no.
        assert "t1d_diagnosis" not in result.answers
        assert False not in result.answers.values()
        if int(row["n_BMI_39156-5"]):
            assert "bmi" in result.answers, row["file"]


def test_spot_check_carlene_latest_bmi_and_weight_on_or_before_the_reference_date():
    # By hand from the file: BMI 17.468923553613184 and weight 28.5576734655125 kg on 2018-09-01,
    # then BMI 19.51738984629619 and weight 37.59740159059285 kg on 2020-09-12.
    data = synthetic("Carlene_Schamberger")
    early = answers_from_bundle(data, RULES, date(2019, 1, 1), CATALOGUE)
    assert early.answers["bmi"] == 17.47 and early.answers["weight"] == 28.56
    assert early.provenance["bmi"].date == date(2018, 9, 1)
    late = answers_from_bundle(data, RULES, date(2021, 1, 1), CATALOGUE)
    assert late.answers["bmi"] == 19.52 and late.answers["weight"] == 37.6
    assert late.answers["date_of_birth"] == date(2010, 9, 4) and late.answers["sex"] == "female"


def test_spot_check_estrella_retinopathy_and_hba1c():
    # Condition 422034002 "Diabetic retinopathy associated with type II diabetes mellitus", active since
    # 2011-06-04; her last HbA1c (4548-4) is 6.12 % on 2020-06-20. Type 2 diabetes (44054006) maps to nothing.
    result = answers_from_bundle(synthetic("Estrella_Daugherty"), RULES, date(2021, 1, 1), CATALOGUE)
    assert result.answers["diabetic_retinopathy"] is True
    assert result.provenance["diabetic_retinopathy"].date == date(2011, 6, 4)
    assert result.answers["hba1c"] == 6.12
    assert result.provenance["hba1c"].date == date(2020, 6, 20)
    assert "t1d_diagnosis" not in result.answers and "diabetic_retinopathy" not in (
        answers_from_bundle(synthetic("Estrella_Daugherty"), RULES, date(2011, 6, 3), CATALOGUE).answers
    )


def test_spot_check_nikki_values_as_of_two_dates():
    # 2012-08-05: BMI 30.159207287893153, HbA1c 6.039801821973288 %; from 2013-08-11 on BMI 30.367991700979076.
    data = synthetic("Nikki_Ferry")
    assert answers_from_bundle(data, RULES, date(2012, 12, 31), CATALOGUE).answers["bmi"] == 30.16
    later = answers_from_bundle(data, RULES, date(2021, 1, 1), CATALOGUE).answers
    assert later["bmi"] == 30.37 and later["hba1c"] == 6.09 and later["date_of_birth"] == date(1961, 8, 27)


def test_spot_check_luigi_bmi_is_derived_from_the_latest_weight_and_height():
    # No BMI recorded (an infant); on 2021-03-30 weight 6.604766687497366 kg, height 66.12133728101682 cm.
    got = answers_from_bundle(synthetic("Luigi_Wiegand"), RULES, date(2021, 4, 1), CATALOGUE).answers
    assert "bmi" not in got
    assert got["weight"] == 6.6 and got["height"] == 66.12 and got["sex"] == "male"
    full, derived = derive(got, date(2021, 4, 1))
    assert full["bmi"] == pytest.approx(6.6 / 0.6612**2) and "bmi" in derived  # unrounded: 15.0966
    assert full["age"] == 0


# --------------------------------------------------------------------------------------------
# The table as a model: seed loading and admin validation


@pytest.mark.django_db
class TestCodeMappingModel:
    def test_it_loads_the_seed_table_idempotently(self, seeded):
        from trials.fhir_seed import load_fhir_mappings
        from trials.models import CodeMapping

        assert CodeMapping.objects.count() == len(RULES)
        assert load_fhir_mappings() == {"created": 0, "updated": 0, "unchanged": len(RULES)}
        assert sorted(CodeMapping.objects.table(), key=repr) == sorted(RULES, key=repr)

    def test_it_keeps_rows_added_in_the_admin_and_restores_edited_seed_rows(self, seeded):
        from trials.fhir_seed import load_fhir_mappings
        from trials.models import CodeMapping, Question

        CodeMapping.objects.create(
            resource_type="Condition",
            system=SNOMED,
            code="44054006",
            question=Question.objects.get(code="other_fatal_disease"),
            kind="presence",
        )
        CodeMapping.objects.filter(code="39156-5").update(default_unit="")
        assert load_fhir_mappings() == {"created": 0, "updated": 1, "unchanged": len(RULES) - 1}
        assert CodeMapping.objects.count() == len(RULES) + 1

    @pytest.mark.parametrize(
        "values, field",
        [
            ({"question": "bmi", "kind": "presence", "resource_type": "Condition"}, "kind"),
            ({"question": "bmi", "kind": "value", "resource_type": "Condition"}, "resource_type"),
            (
                {"question": "hiv", "kind": "presence", "resource_type": "Condition", "default_unit": "kg"},
                "default_unit",
            ),
            (
                {"question": "bmi", "kind": "value", "resource_type": "Observation", "default_unit": "mmol/L"},
                "default_unit",
            ),
        ],
    )
    def test_it_rejects_rows_that_cannot_answer_their_question(self, seeded, values, field):
        from trials.models import CodeMapping, Question

        values = {**values, "question": Question.objects.get(code=values["question"])}
        row = CodeMapping(system=LOINC, code="1-1", **values)
        with pytest.raises(ValidationError) as error:
            row.full_clean()
        assert field in error.value.message_dict

    def test_it_accepts_a_good_row(self, seeded):
        from trials.models import CodeMapping, Question

        row = CodeMapping(
            system=LOINC,
            code="3141-9",
            question=Question.objects.get(code="weight"),
            kind="value",
            resource_type="Observation",
            default_unit="[lb_av]",
        )
        row.full_clean()

    def test_admins_can_list_and_add_rows_in_the_admin(self, seeded, client, admin_user, django_assert_max_num_queries):
        from trials.models import CodeMapping, Question

        client.force_login(admin_user)
        with django_assert_max_num_queries(15):
            page = client.get("/admin/trials/codemapping/")
        assert page.status_code == 200 and "E27.1" in page.content.decode()
        response = client.post(
            "/admin/trials/codemapping/add/",
            {
                "question": Question.objects.get(code="weight").pk,
                "kind": "value",
                "resource_type": "Observation",
                "system": LOINC,
                "code": "3141-9",
                "default_unit": "[lb_av]",
                "display": "Body weight Measured",
            },
        )
        assert response.status_code == 302
        assert CodeMapping.objects.get(code="3141-9").rule().default_unit == "[lb_av]"
