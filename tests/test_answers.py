"""Raw answers (JSON from a file or an API body) into typed engine answers. Pure: no database."""

from datetime import date, datetime

import pytest

from eligibility.answers import AnswerError, parse_answers, to_json
from tests.factories import CATALOGUE

AS_OF = date(2026, 11, 21)

GOOD_CASES = [
    # (raw answers, typed answers)
    ({"hiv": True}, {"hiv": True}),
    ({"hiv": False}, {"hiv": False}),
    ({"hiv": "yes"}, {"hiv": True}),
    ({"hiv": " No "}, {"hiv": False}),
    ({"hiv": "TRUE"}, {"hiv": True}),
    ({"hiv": "false"}, {"hiv": False}),
    ({"bmi": 32.4}, {"bmi": 32.4}),
    ({"age": 14}, {"age": 14}),
    ({"age": 0}, {"age": 0}),  # the ends of the plausible range are plausible
    ({"age": 120}, {"age": 120}),
    ({"c_peptide": 0.0}, {"c_peptide": 0.0}),
    ({"t1d_diagnosis_date": "2026-10-24"}, {"t1d_diagnosis_date": date(2026, 10, 24)}),
    ({"t1d_diagnosis_date": "2026-11-21"}, {"t1d_diagnosis_date": AS_OF}),  # today is not the future
    ({"t1d_diagnosis_date": date(2026, 10, 24)}, {"t1d_diagnosis_date": date(2026, 10, 24)}),
    ({"t1d_diagnosis_date": datetime(2026, 10, 24, 9, 30)}, {"t1d_diagnosis_date": date(2026, 10, 24)}),
    ({"date_of_birth": "1906-11-21"}, {"date_of_birth": date(1906, 11, 21)}),  # 120 today: the oldest plausible
    ({"sex": "female"}, {"sex": "female"}),
    ({"prior_treatment": ["insulin", "teplizumab"]}, {"prior_treatment": ("insulin", "teplizumab")}),
    ({"prior_treatment": ["insulin", "insulin"]}, {"prior_treatment": ("insulin",)}),
    ({"prior_treatment": []}, {"prior_treatment": ()}),  # "none of these" is an answer
    # None means unanswered
    ({"hiv": None, "bmi": None}, {}),
    ({}, {}),
]


@pytest.mark.parametrize("raw, typed", GOOD_CASES)
def test_it_types_good_answers(raw, typed):
    assert parse_answers(raw, CATALOGUE, AS_OF) == (typed, [])


BAD_CASES = [
    # (raw answers, question code named by the single error)
    # wrong type
    ({"hiv": "maybe"}, "hiv"),
    ({"hiv": 1}, "hiv"),
    ({"hiv": 0}, "hiv"),
    ({"hiv": ["yes"]}, "hiv"),
    ({"bmi": "32.4"}, "bmi"),
    ({"bmi": True}, "bmi"),
    ({"bmi": [32.4]}, "bmi"),
    ({"bmi": float("nan")}, "bmi"),
    ({"bmi": float("inf")}, "bmi"),
    ({"bmi": 10**400}, "bmi"),  # too large for a float
    ({"t1d_diagnosis_date": "24/10/2026"}, "t1d_diagnosis_date"),
    ({"t1d_diagnosis_date": "2026-02-30"}, "t1d_diagnosis_date"),
    ({"t1d_diagnosis_date": "yesterday"}, "t1d_diagnosis_date"),
    ({"t1d_diagnosis_date": 20261024}, "t1d_diagnosis_date"),
    ({"t1d_diagnosis_date": True}, "t1d_diagnosis_date"),
    ({"sex": "other"}, "sex"),
    ({"sex": "Female"}, "sex"),  # the value, not the label
    ({"sex": ["female"]}, "sex"),
    ({"prior_treatment": "insulin"}, "prior_treatment"),
    ({"prior_treatment": ["insulin", "aspirin"]}, "prior_treatment"),
    # unknown question
    ({"weight_kg": 70}, "weight_kg"),
    ({"HIV": True}, "HIV"),
    # future and implausibly old dates
    ({"t1d_diagnosis_date": "2026-11-22"}, "t1d_diagnosis_date"),
    ({"date_of_birth": date(2030, 1, 1)}, "date_of_birth"),
    ({"t1d_diagnosis_date": datetime(2026, 11, 22, 0, 1)}, "t1d_diagnosis_date"),
    ({"date_of_birth": "1899-12-31"}, "date_of_birth"),
    # outside the plausible range
    ({"age": 121}, "age"),
    ({"age": -1}, "age"),
    ({"bmi": 7.9}, "bmi"),
    ({"bmi": 90.1}, "bmi"),
    ({"height": 2500}, "height"),  # millimetres, not centimetres
    ({"weight": 1.5}, "weight"),
]


@pytest.mark.parametrize("raw, code", BAD_CASES)
def test_it_rejects_a_bad_answer_naming_the_question(raw, code):
    clean, errors = parse_answers(raw, CATALOGUE, AS_OF)
    assert clean == {}
    assert [e.code for e in errors] == [code]
    assert errors[0].message
    assert str(errors[0]).startswith(f"{code}: ")


def test_it_reports_every_problem_and_keeps_the_good_answers():
    raw = {"hiv": "maybe", "bmi": 32.4, "age": 250, "nope": 1, "sex": "female", "t1d_diagnosis_date": "2027-01-01"}
    clean, errors = parse_answers(raw, CATALOGUE, AS_OF)
    assert clean == {"bmi": 32.4, "sex": "female"}
    assert [e.code for e in errors] == ["hiv", "age", "nope", "t1d_diagnosis_date"]


def test_it_says_what_range_was_expected():
    _, [error] = parse_answers({"age": 250}, CATALOGUE, AS_OF)
    assert "0–120" in error.message


def test_it_checks_future_dates_only_against_a_reference_date():
    assert parse_answers({"t1d_diagnosis_date": "2030-01-01"}, CATALOGUE) == (
        {"t1d_diagnosis_date": date(2030, 1, 1)},
        [],
    )


@pytest.mark.parametrize("raw", [[{"hiv": True}], "hiv=yes", None, 5])
def test_it_rejects_a_document_that_is_not_an_object(raw):
    clean, errors = parse_answers(raw, CATALOGUE, AS_OF)
    assert clean == {}
    assert [e.code for e in errors] == [""]
    assert str(errors[0]) == errors[0].message


def test_it_round_trips_through_json():
    typed = {"hiv": True, "bmi": 32.4, "t1d_diagnosis_date": date(2026, 10, 24), "prior_treatment": ("insulin",)}
    raw = to_json(typed)
    assert raw == {"hiv": True, "bmi": 32.4, "t1d_diagnosis_date": "2026-10-24", "prior_treatment": ["insulin"]}
    assert parse_answers(raw, CATALOGUE, AS_OF) == (typed, [])


def test_it_reports_errors_as_plain_data():
    assert AnswerError("bmi", "too high") == AnswerError("bmi", "too high")
    assert str(AnswerError("", "not an object")) == "not an object"


CONSISTENCY_CASES = [
    # (raw answers, codes with a problem)
    ({"age": 36, "date_of_birth": "1990-01-01"}, []),
    ({"age": 36.9, "date_of_birth": "1990-01-01"}, []),  # months entered: still 36 completed years
    # A contradiction is reported on both (every) question involved.
    ({"age": 35, "date_of_birth": "1990-11-21"}, ["age", "date_of_birth"]),  # 36 since this morning
    ({"age": 36, "date_of_birth": "1990-11-21"}, []),  # 36 today
    ({"age": 35, "date_of_birth": "1990-11-22"}, []),  # 36 tomorrow
    ({"age": 36, "date_of_birth": "1990-11-22"}, ["age", "date_of_birth"]),
    ({"age": 40, "date_of_birth": "1990-01-01"}, ["age", "date_of_birth"]),
    ({"age": 0.5, "date_of_birth": "2026-05-01"}, []),
    ({"age": 36}, []),  # nothing to compare with
    ({"date_of_birth": "1990-01-01", "t1d_diagnosis_date": "1990-01-01"}, []),  # diagnosed at birth
    ({"date_of_birth": "1990-01-01", "t1d_diagnosis_date": "1989-12-31"}, ["t1d_diagnosis_date", "date_of_birth"]),
    ({"t1d_diagnosis_date": "1989-12-31"}, []),
    (
        {"age": 40, "date_of_birth": "1990-01-01", "t1d_diagnosis_date": "1980-01-01"},
        ["age", "date_of_birth", "t1d_diagnosis_date", "date_of_birth"],
    ),
    ({"date_of_birth": "1900-01-01"}, ["age", "date_of_birth"]),  # 126 years old: no one is
]


@pytest.mark.parametrize("raw,codes", CONSISTENCY_CASES)
def test_it_reports_answers_that_contradict_each_other(raw, codes):
    clean, errors = parse_answers(raw, CATALOGUE, AS_OF)
    assert [e.code for e in errors] == codes
    assert len(clean) == len(raw)  # each answer is valid alone; the caller refuses the document


def test_it_says_which_age_the_date_of_birth_gives():
    _, [error, same] = parse_answers({"age": 40, "date_of_birth": "1990-01-01"}, CATALOGUE, AS_OF)
    assert (error.code, same.code) == ("age", "date_of_birth") and same.message == error.message
    assert error.message == (
        "age 40 years does not match the date of birth 1990-01-01 (36 years on 2026-11-21): "
        "correct one of them, or leave the age empty"
    )
    _, errors = parse_answers({"date_of_birth": "1990-01-01", "t1d_diagnosis_date": "1980-01-01"}, CATALOGUE, AS_OF)
    assert [(e.code, e.message) for e in errors] == [
        (code, "“Type 1 diabetes diagnosed” 1980-01-01 is before the date of birth 1990-01-01")
        for code in ("t1d_diagnosis_date", "date_of_birth")
    ]
