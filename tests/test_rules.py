"""Rule validation against the catalogue, and rules in plain words. Pure: no database."""

import json

import pytest

from eligibility.rules import Problem, describe, validate_rule
from tests.factories import CATALOGUE, QUESTIONS_JSON, q

SEED_DIR = QUESTIONS_JSON.parent


def problems(rule):
    return [(p.code, p.path) for p in validate_rule(rule, CATALOGUE)]


def seed_rules():
    return [
        pytest.param(row["rule"], id=f"{nct_id}:{row['text'][:40]}")
        for nct_id in ("NCT01219465", "NCT03835312")
        for row in json.loads((SEED_DIR / f"{nct_id}.json").read_text())["criteria"]
    ]


@pytest.mark.parametrize("rule", seed_rules())
def test_it_accepts_every_seed_rule(rule):
    assert validate_rule(rule, CATALOGUE) == []


VALID_RULES = [
    q("hiv", "=", True),
    q("hiv", "!=", False),
    q("bmi", ">", 30, unit="kg/m²"),
    q("bmi", "<=", 30),
    q("bmi", "between", [18.5, 25]),
    q("bmi", "between", [25, 25]),
    q("age", ">=", 18, unit="years"),
    q("c_peptide", ">=", 0),  # the bottom of the plausible range
    q("sex", "=", "female"),
    q("sex", "in", ["female", "male"]),
    q("sex", "not_in", ["male"]),
    q("prior_treatment", "in", ["insulin"]),
    q("hba1c", "answered"),
    q("t1d_diagnosis_date", "not_answered"),
    q("t1d_diagnosis_date", "within", "9 weeks"),
    q("t1d_diagnosis_date", "before", "1 year"),
    q("t1d_diagnosis_date", "within", "14 Days"),
    q("age", "age_between", {"min": "3 years", "max": "35 years"}),
    q("age", "age_between", {"max": "18 years"}),
    q("age", "age_between", {"min": "6 weeks"}),
    {"all": []},
    {"not": q("hiv", "=", True)},
    {"at_least": 2, "of": [q("hiv", "=", True), q("hepatitis_b", "=", True), q("hepatitis_c", "=", True)]},
    {"any": [{"all": [q("sex", "=", "female"), q("age", ">=", 18)]}, {"not": {"any": [q("hiv", "=", True)]}}]},
]


@pytest.mark.parametrize("rule", VALID_RULES)
def test_it_accepts_a_valid_rule(rule):
    assert validate_rule(rule, CATALOGUE) == []


INVALID_CASES = [
    # (rule, [(code, path), ...])
    # unknown question / operator
    (q("weight_kg", ">", 3), [("unknown_question", "rule")]),
    (q(None, "=", True), [("unknown_question", "rule")]),
    (q(["hiv"], "=", True), [("unknown_question", "rule")]),
    (q("bmi", "=>", 30), [("unknown_operator", "rule")]),
    (q("nope", "=>", 30), [("unknown_question", "rule"), ("unknown_operator", "rule")]),
    ({"q": "bmi", "value": 30}, [("unknown_operator", "rule")]),
    # operator that does not fit the type
    (q("bmi", "within", "9 weeks"), [("operator_type", "rule")]),
    (q("bmi", "in", [30]), [("operator_type", "rule")]),
    (q("hiv", ">", 1), [("operator_type", "rule")]),
    (q("hiv", "in", [True]), [("operator_type", "rule")]),
    (q("t1d_diagnosis_date", ">", 3), [("operator_type", "rule")]),
    (q("t1d_diagnosis_date", "=", "2026-01-01"), [("operator_type", "rule")]),
    (q("sex", "<", "male"), [("operator_type", "rule")]),
    (q("prior_treatment", "=", "insulin"), [("operator_type", "rule")]),
    (q("bmi", "age_between", {"min": "3 years"}), [("operator_type", "rule")]),
    (q("date_of_birth", "age_between", {"min": "3 years"}), [("operator_type", "rule")]),
    # value outside the question's plausible range
    (q("bmi", ">", 300), [("out_of_range", "rule")]),
    (q("bmi", ">", 7.9), [("out_of_range", "rule")]),
    (q("age", "<", 121), [("out_of_range", "rule")]),
    (q("bmi", "between", [5, 30]), [("out_of_range", "rule")]),
    (q("bmi", "between", [5, 300]), [("out_of_range", "rule"), ("out_of_range", "rule")]),
    # wrong unit
    (q("bmi", ">", 30, unit="kg"), [("wrong_unit", "rule")]),
    (q("height", ">", 150, unit="m"), [("wrong_unit", "rule")]),
    (q("hba1c", ">", 7, unit="mmol/mol"), [("wrong_unit", "rule")]),
    (q("hiv", "=", True, unit="%"), [("wrong_unit", "rule")]),
    (q("bmi", ">", 300, unit="kg"), [("wrong_unit", "rule"), ("out_of_range", "rule")]),
    # bad duration
    (q("t1d_diagnosis_date", "within", "9 fortnights"), [("bad_duration", "rule")]),
    (q("t1d_diagnosis_date", "within", "nine weeks"), [("bad_duration", "rule")]),
    (q("t1d_diagnosis_date", "within", "-1 weeks"), [("bad_duration", "rule")]),
    (q("t1d_diagnosis_date", "within", "2.5 years"), [("bad_duration", "rule")]),
    (q("t1d_diagnosis_date", "within", 9), [("bad_duration", "rule")]),
    (q("t1d_diagnosis_date", "before", ""), [("bad_duration", "rule")]),
    (q("t1d_diagnosis_date", "before", ["9 weeks"]), [("bad_duration", "rule")]),
    (q("t1d_diagnosis_date", "before", "9999 years"), [("bad_duration", "rule")]),  # beyond the calendar
    (q("t1d_diagnosis_date", "within", "99999999 days"), [("bad_duration", "rule")]),
    (q("age", "age_between", {"min": "3 yrs"}), [("bad_duration", "rule")]),
    (q("age", "age_between", {"min": "3 yrs", "max": "35"}), [("bad_duration", "rule"), ("bad_duration", "rule")]),
    (q("age", "age_between", {"max": "200 years"}), [("bad_duration", "rule")]),
    (q("age", "age_between", {}), [("bad_value", "rule")]),
    (q("age", "age_between", "3 years to 35 years"), [("bad_value", "rule")]),
    # values of the wrong kind
    (q("hiv", "=", "yes"), [("bad_value", "rule")]),
    (q("hiv", "=", 1), [("bad_value", "rule")]),
    (q("bmi", ">", "30"), [("bad_value", "rule")]),
    (q("bmi", ">", True), [("bad_value", "rule")]),
    (q("bmi", ">", float("nan")), [("bad_value", "rule")]),
    (q("bmi", ">", 10**400), [("bad_value", "rule")]),  # too large for a float
    (q("bmi", "between", [30]), [("bad_value", "rule")]),
    (q("bmi", "between", 30), [("bad_value", "rule")]),
    (q("bmi", "between", [30, 20]), [("bad_value", "rule")]),
    # unknown choice
    (q("sex", "=", "other"), [("unknown_choice", "rule")]),
    (q("sex", "=", ["female"]), [("unknown_choice", "rule")]),  # a list is not one choice
    (q("sex", "in", ["female", "robot", "alien"]), [("unknown_choice", "rule"), ("unknown_choice", "rule")]),
    (q("sex", "in", [["female"], {"a": 1}]), [("unknown_choice", "rule"), ("unknown_choice", "rule")]),
    (q("prior_treatment", "not_in", ["insulin", "aspirin"]), [("unknown_choice", "rule")]),
    (q("sex", "in", []), [("bad_value", "rule")]),
    (q("sex", "in", "female"), [("bad_value", "rule")]),
    # bad at_least count
    ({"at_least": 0, "of": [q("hiv", "=", True)]}, [("bad_count", "rule")]),
    ({"at_least": 2, "of": [q("hiv", "=", True)]}, [("bad_count", "rule")]),
    ({"at_least": True, "of": [q("hiv", "=", True)]}, [("bad_count", "rule")]),
    ({"at_least": "1", "of": [q("hiv", "=", True)]}, [("bad_count", "rule")]),
    ({"at_least": 1.0, "of": [q("hiv", "=", True)]}, [("bad_count", "rule")]),
    ({"at_least": 1, "of": []}, [("bad_count", "rule")]),
    ({"at_least": 1}, [("not_a_list", "rule")]),
    # not an object, and other shapes
    (5, [("not_an_object", "rule")]),
    ("bmi > 30", [("not_an_object", "rule")]),
    ([q("hiv", "=", True)], [("not_an_object", "rule")]),
    (None, [("not_an_object", "rule")]),
    ({"any": [q("hiv", "=", True), 5]}, [("not_an_object", "rule.any[1]")]),
    ({"not": "hiv"}, [("not_an_object", "rule.not")]),
    ({"any": []}, [("empty_group", "rule")]),
    ({"all": "hiv"}, [("not_a_list", "rule")]),
    ({"any": {"q": "hiv"}}, [("not_a_list", "rule")]),
    ({}, [("unknown_node", "rule")]),
    ({"of": [q("hiv", "=", True)]}, [("unknown_node", "rule")]),
    ({"all": [], "any": []}, [("unknown_node", "rule")]),
    ({"q": "hiv", "op": "=", "value": True, "all": []}, [("mixed_node", "rule")]),
]


@pytest.mark.parametrize("rule, expected", INVALID_CASES)
def test_it_reports_each_problem_with_its_path(rule, expected):
    assert problems(rule) == expected


def test_it_reports_every_problem_at_once():
    rule = {
        "all": [
            q("bmi", ">", 300, unit="kg"),
            {"any": [q("nope", "=", True), q("sex", "in", ["female", "robot"])]},
            {"not": q("t1d_diagnosis_date", "within", "9 weekz")},
            {"at_least": 3, "of": [q("hiv", "=", True), q("hiv", ">", 1)]},
            7,
            q("age", "age_between", {"min": "3 yrs", "max": "35 years"}),
        ]
    }
    assert problems(rule) == [
        ("wrong_unit", "rule.all[0]"),
        ("out_of_range", "rule.all[0]"),
        ("unknown_question", "rule.all[1].any[0]"),
        ("unknown_choice", "rule.all[1].any[1]"),
        ("bad_duration", "rule.all[2].not"),
        ("bad_count", "rule.all[3]"),
        ("operator_type", "rule.all[3].of[1]"),
        ("not_an_object", "rule.all[4]"),
        ("bad_duration", "rule.all[5]"),
    ]


def test_it_gives_each_problem_a_message_that_names_the_place():
    [problem] = validate_rule({"any": [q("bmi", ">", 300)]}, CATALOGUE)
    assert problem.message
    assert str(problem).startswith("rule.any[0]: ")
    assert str(Problem("bad_value", "oops")) == "oops"


# --------------------------------------------------------------------------------------------
# describe(): the rule in plain words

HIV, HEP_B, HEP_C = q("hiv", "=", True), q("hepatitis_b", "=", True), q("hepatitis_c", "=", True)

DESCRIBE_CASES = [
    (q("bmi", ">", 30, unit="kg/m²"), "BMI > 30 kg/m²"),
    (q("bmi", ">", 30), "BMI > 30 kg/m²"),
    (q("bmi", ">=", 30.5), "BMI ≥ 30.5 kg/m²"),
    (q("hba1c", "<", 7.5), "HbA1c < 7.5 % (58 mmol/mol)"),
    (q("hba1c", "<=", 7), "HbA1c ≤ 7 % (53 mmol/mol)"),
    (q("bmi", "between", [18.5, 25]), "BMI 18.5–25 kg/m²"),
    (HIV, "HIV infection"),
    (q("hiv", "=", False), "no HIV infection"),
    (q("hiv", "!=", True), "no HIV infection"),
    (q("sex", "=", "female"), "Sex is Female"),
    (q("sex", "!=", "female"), "Sex is not Female"),
    (q("sex", "in", ["female", "male"]), "Sex is one of Female, Male"),
    (q("prior_treatment", "not_in", ["insulin", "teplizumab"]), "Prior treatments is none of Insulin, Teplizumab"),
    (q("hba1c", "answered"), "HbA1c is answered"),
    (q("hba1c", "not_answered"), "HbA1c is not answered"),
    (q("t1d_diagnosis_date", "within", "9 weeks"), "Type 1 diabetes diagnosed less than 9 weeks ago"),
    (q("t1d_diagnosis_date", "before", "6 months"), "Type 1 diabetes diagnosed at least 6 months ago"),
    (q("age", "age_between", {"min": "3 years", "max": "35 years"}), "age 3 years to 35 years"),
    (q("age", "age_between", {"max": "18 years"}), "age up to 18 years"),
    (q("age", "age_between", {"min": "18 years"}), "age 18 years or older"),
    ({"any": [HIV, HEP_B, HEP_C]}, "any of: HIV infection, Hepatitis B, Hepatitis C"),
    ({"all": [q("sex", "=", "female"), q("age", ">=", 18)]}, "all of: Sex is Female, Age ≥ 18 years"),
    ({"all": [HIV]}, "HIV infection"),
    ({"all": []}, "always (no conditions)"),
    ({"any": []}, "never (empty 'any of' group)"),
    ({"at_least": 1, "of": []}, "never (empty 'at least 1 of' group)"),
    ({"not": HIV}, "not (HIV infection)"),
    ({"at_least": 2, "of": [HIV, HEP_B, HEP_C]}, "at least 2 of: HIV infection, Hepatitis B, Hepatitis C"),
    ({"all": [{"any": [HIV, HEP_B]}, {"not": HEP_C}]}, "all of: any of: HIV infection, Hepatitis B, not (Hepatitis C)"),
    (None, "needs review (no rule)"),
    (5, "invalid rule"),
    ({"foo": 1}, "invalid rule"),
    (q("weight_kg", ">", 3), "weight_kg > 3"),  # an unknown question still reads
    # Invalid bounds still read (the builder words a rule beside its problems) and never crash
    (q("age", "between", [None, "912943 weeks"]), "Age …–912943 weeks years"),
    (q("age", "between", [None, []]), "Age …–[] years"),
    (q("age", "between", [1, 10**400]), f"Age 1–{10**400} years"),
    (q("bmi", "between", [18.0, float("inf")]), "BMI 18–inf kg/m²"),
]


@pytest.mark.parametrize("rule, words", DESCRIBE_CASES)
def test_it_describes_a_rule_in_plain_words(rule, words):
    assert describe(rule, CATALOGUE) == words


@pytest.mark.parametrize(
    "rule, words, outcome",
    [
        ({"all": []}, "always", "met"),
        ({"any": []}, "never", "not_met"),
        ({"at_least": 1, "of": []}, "never", "not_met"),
        ({"not": {"any": []}}, "not (never", "met"),
    ],
)
def test_the_words_for_an_empty_group_match_how_the_engine_evaluates_it(rule, words, outcome):
    from datetime import date

    from eligibility.engine import CriterionSpec, TrialRules, evaluate

    trial = TrialRules("NCT00000000", "Test trial", (CriterionSpec("1", "inclusion", "criterion", rule),))
    assert evaluate(trial, {}, date(2026, 1, 1), CATALOGUE).criteria[0].outcome == outcome
    assert describe(rule, CATALOGUE).startswith(words)


def test_an_empty_any_of_group_is_refused_with_a_clear_message():
    [problem] = validate_rule({"any": []}, CATALOGUE)
    assert problem.code == "empty_group"
    assert "never hold" in problem.message
