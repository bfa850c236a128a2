"""The rules engine on its own: operators, Kleene logic, ages, durations, derived answers, verdicts.

Pure tests: no database, no Django. The catalogue is read straight from trials/seed/questions.json
(tests/factories.py: CATALOGUE).
"""

import json
from datetime import date, timedelta

import pytest

from eligibility.engine import (
    DERIVED_FROM,
    EXCLUSION,
    INCLUSION,
    CriterionSpec,
    Outcome,
    TrialRules,
    Verdict,
    completed,
    completed_years,
    derive,
    evaluate,
    evaluate_many,
    referenced_questions,
)
from tests.factories import CATALOGUE, QUESTIONS_JSON, q

AS_OF = date(2026, 11, 21)
MET, NOT_MET, UNKNOWN, REVIEW = Outcome.MET, Outcome.NOT_MET, Outcome.UNKNOWN, Outcome.NEEDS_REVIEW


def check(rule, answers, as_of=AS_OF, kind=INCLUSION):
    """The single criterion's result for `rule`."""
    trial = TrialRules("NCT00000000", "Test trial", (CriterionSpec("1", kind, "criterion", rule),))
    return evaluate(trial, answers, as_of, CATALOGUE).criteria[0]


def outcome(rule, answers, as_of=AS_OF):
    result = check(rule, answers, as_of)
    return result.outcome, result.code


# --------------------------------------------------------------------------------------------
# Operators, one table row per case: (rule, answers, outcome, code)

OPERATOR_CASES = [
    # = and != on yes/no, choice and number questions
    (q("hiv", "=", True), {"hiv": True}, MET, "equal"),
    (q("hiv", "=", True), {"hiv": False}, NOT_MET, "not_equal"),
    (q("hiv", "=", False), {"hiv": False}, MET, "equal"),
    (q("hiv", "=", True), {}, UNKNOWN, "missing"),
    (q("hiv", "!=", True), {"hiv": False}, MET, "not_equal"),
    (q("hiv", "!=", True), {"hiv": True}, NOT_MET, "equal"),
    (q("hiv", "!=", True), {}, UNKNOWN, "missing"),
    (q("sex", "=", "female"), {"sex": "female"}, MET, "equal"),
    (q("sex", "=", "female"), {"sex": "male"}, NOT_MET, "not_equal"),
    (q("sex", "!=", "female"), {"sex": "male"}, MET, "not_equal"),
    (q("sex", "=", "female"), {}, UNKNOWN, "missing"),
    (q("hba1c", "=", 7), {"hba1c": 7.0}, MET, "equal"),
    # < and <=: the value is an upper limit
    (q("hba1c", "<", 7.5), {"hba1c": 7.4}, MET, "below_min"),
    (q("hba1c", "<", 7.5), {"hba1c": 7.5}, NOT_MET, "at_min"),
    (q("hba1c", "<", 7.5), {"hba1c": 7.6}, NOT_MET, "above_min"),
    (q("hba1c", "<", 7.5), {}, UNKNOWN, "missing"),
    (q("hba1c", "<=", 7.5), {"hba1c": 7.4}, MET, "below_min"),
    (q("hba1c", "<=", 7.5), {"hba1c": 7.5}, MET, "at_min"),
    (q("hba1c", "<=", 7.5), {"hba1c": 7.6}, NOT_MET, "above_min"),
    (q("hba1c", "<=", 7.5), {}, UNKNOWN, "missing"),
    # > and >=: the codes name the limit as the seed trials use it ("BMI > 30" excludes)
    (q("bmi", ">", 30, unit="kg/m²"), {"bmi": 30.1}, MET, "above_max"),
    (q("bmi", ">", 30, unit="kg/m²"), {"bmi": 30}, NOT_MET, "at_max"),
    (q("bmi", ">", 30, unit="kg/m²"), {"bmi": 29.9}, NOT_MET, "below_max"),
    (q("bmi", ">", 30, unit="kg/m²"), {}, UNKNOWN, "missing"),
    (q("bmi", ">=", 30), {"bmi": 30.1}, MET, "above_max"),
    (q("bmi", ">=", 30), {"bmi": 30}, MET, "at_max"),
    (q("bmi", ">=", 30), {"bmi": 29.9}, NOT_MET, "below_max"),
    (q("bmi", ">=", 30), {}, UNKNOWN, "missing"),
    # between: both ends inclusive
    (q("bmi", "between", [18.5, 25]), {"bmi": 18.4}, NOT_MET, "below_range"),
    (q("bmi", "between", [18.5, 25]), {"bmi": 18.5}, MET, "in_range"),
    (q("bmi", "between", [18.5, 25]), {"bmi": 22}, MET, "in_range"),
    (q("bmi", "between", [18.5, 25]), {"bmi": 25}, MET, "in_range"),
    (q("bmi", "between", [18.5, 25]), {"bmi": 25.1}, NOT_MET, "above_range"),
    (q("bmi", "between", [18.5, 25]), {}, UNKNOWN, "missing"),
    # in / not_in on a choice and on a multi-choice question (any overlap counts)
    (q("sex", "in", ["female"]), {"sex": "female"}, MET, "in_set"),
    (q("sex", "in", ["female"]), {"sex": "male"}, NOT_MET, "not_in_set"),
    (q("sex", "in", ["female"]), {}, UNKNOWN, "missing"),
    (q("sex", "not_in", ["female"]), {"sex": "male"}, MET, "not_in_set"),
    (q("sex", "not_in", ["female"]), {"sex": "female"}, NOT_MET, "in_set"),
    (q("sex", "not_in", ["female"]), {}, UNKNOWN, "missing"),
    (q("prior_treatment", "in", ["teplizumab"]), {"prior_treatment": ("insulin", "teplizumab")}, MET, "in_set"),
    (q("prior_treatment", "in", ["teplizumab"]), {"prior_treatment": ("insulin",)}, NOT_MET, "not_in_set"),
    (q("prior_treatment", "in", ["teplizumab"]), {"prior_treatment": ()}, NOT_MET, "not_in_set"),
    (q("prior_treatment", "not_in", ["teplizumab", "metformin"]), {"prior_treatment": ("insulin",)}, MET, "not_in_set"),
    (
        q("prior_treatment", "not_in", ["teplizumab", "metformin"]),
        {"prior_treatment": ("metformin",)},
        NOT_MET,
        "in_set",
    ),
    # answered / not_answered never give unknown; "no" and "none" are answers
    (q("hiv", "answered"), {"hiv": False}, MET, "answered"),
    (q("hiv", "answered"), {}, NOT_MET, "not_answered"),
    (q("hiv", "not_answered"), {}, MET, "not_answered"),
    (q("hiv", "not_answered"), {"hiv": False}, NOT_MET, "answered"),
    (q("prior_treatment", "answered"), {"prior_treatment": ()}, MET, "answered"),
    (q("c_peptide", "answered"), {"c_peptide": 0}, MET, "answered"),
    # within / before on dates (boundaries in detail further down)
    (q("t1d_diagnosis_date", "within", "9 weeks"), {"t1d_diagnosis_date": date(2026, 10, 24)}, MET, "within_window"),
    (
        q("t1d_diagnosis_date", "within", "9 weeks"),
        {"t1d_diagnosis_date": date(2025, 10, 24)},
        NOT_MET,
        "outside_window",
    ),
    (q("t1d_diagnosis_date", "within", "9 weeks"), {}, UNKNOWN, "missing"),
    (q("t1d_diagnosis_date", "before", "6 months"), {"t1d_diagnosis_date": date(2025, 10, 24)}, MET, "outside_window"),
    (
        q("t1d_diagnosis_date", "before", "6 months"),
        {"t1d_diagnosis_date": date(2026, 10, 24)},
        NOT_MET,
        "within_window",
    ),
    (q("t1d_diagnosis_date", "before", "6 months"), {}, UNKNOWN, "missing"),
    # age_between (boundaries in detail further down)
    (q("age", "age_between", {"min": "3 years", "max": "35 years"}), {"age": 20}, MET, "age_in_range"),
    (q("age", "age_between", {"min": "3 years", "max": "35 years"}), {"age": 2}, NOT_MET, "age_below_min"),
    (q("age", "age_between", {"min": "3 years", "max": "35 years"}), {"age": 36}, NOT_MET, "age_above_max"),
    (q("age", "age_between", {"min": "3 years", "max": "35 years"}), {}, UNKNOWN, "missing"),
]


@pytest.mark.parametrize("rule, answers, expected, code", OPERATOR_CASES)
def test_it_evaluates_each_operator(rule, answers, expected, code):
    assert outcome(rule, answers) == (expected, code)


@pytest.mark.parametrize(
    "rule", [case[0] for case in OPERATOR_CASES if case[0]["op"] not in ("answered", "not_answered")]
)
def test_it_names_the_missing_question_when_a_comparison_is_unknown(rule):
    result = check(rule, {})
    assert result.outcome == UNKNOWN
    assert result.missing == (rule["q"],)


# --------------------------------------------------------------------------------------------
# Three-valued (Kleene) logic. Each child is a yes/no question: True -> met, False -> not met,
# unanswered -> unknown. The expected tables are written out, not computed.

T, F, U = MET, NOT_MET, UNKNOWN
ANSWER_FOR = {T: True, F: False, U: None}


def children(*outcomes):
    codes = "abc"[: len(outcomes)]
    rules = [q(code, "=", True) for code in codes]
    answers = {code: ANSWER_FOR[o] for code, o in zip(codes, outcomes) if ANSWER_FOR[o] is not None}
    return rules, answers


ALL_TABLE = [
    (T, T, T),
    (T, F, F),
    (T, U, U),
    (F, T, F),
    (F, F, F),
    (F, U, F),
    (U, T, U),
    (U, F, F),
    (U, U, U),
]
ANY_TABLE = [
    (T, T, T),
    (T, F, T),
    (T, U, T),
    (F, T, T),
    (F, F, F),
    (F, U, U),
    (U, T, T),
    (U, F, U),
    (U, U, U),
]
NOT_TABLE = [(T, F), (F, T), (U, U)]
AT_LEAST_2_OF_3_TABLE = [
    (T, T, T, T),
    (T, T, F, T),
    (T, T, U, T),
    (T, F, F, F),
    (T, F, U, U),
    (T, U, U, U),
    (F, F, F, F),
    (F, F, U, F),
    (F, U, U, U),
    (U, U, U, U),
]


@pytest.mark.parametrize("left, right, expected", ALL_TABLE)
def test_it_combines_all_with_kleene_and(left, right, expected):
    rules, answers = children(left, right)
    assert check({"all": rules}, answers).outcome == expected


@pytest.mark.parametrize("left, right, expected", ANY_TABLE)
def test_it_combines_any_with_kleene_or(left, right, expected):
    rules, answers = children(left, right)
    assert check({"any": rules}, answers).outcome == expected


@pytest.mark.parametrize("inner, expected", NOT_TABLE)
def test_it_negates_with_kleene_not(inner, expected):
    rules, answers = children(inner)
    assert check({"not": rules[0]}, answers).outcome == expected


@pytest.mark.parametrize("first, second, third, expected", AT_LEAST_2_OF_3_TABLE)
def test_it_counts_at_least_two_of_three(first, second, third, expected):
    # Order must not matter, so every row is also checked reversed.
    for order in ((first, second, third), (third, second, first)):
        rules, answers = children(*order)
        assert check({"at_least": 2, "of": rules}, answers).outcome == expected


@pytest.mark.parametrize("outcomes", [(a, b, c) for a in (T, F, U) for b in (T, F, U) for c in (T, F, U)])
def test_it_treats_at_least_one_as_any_and_at_least_all_as_all(outcomes):
    rules, answers = children(*outcomes)
    assert check({"at_least": 1, "of": rules}, answers).outcome == check({"any": rules}, answers).outcome
    assert check({"at_least": 3, "of": rules}, answers).outcome == check({"all": rules}, answers).outcome


LOGIC_CODE_CASES = [
    # (rule, answers, outcome, code): one deciding child lends its code, several give a group code.
    ({"all": [q("a", "=", True), q("b", "=", True)]}, {"a": True, "b": True}, MET, "all_met"),
    ({"all": [q("a", "=", True)]}, {"a": True}, MET, "equal"),
    ({"all": [q("a", "=", True), q("b", "=", True)]}, {"a": True, "b": False}, NOT_MET, "not_equal"),
    ({"all": [q("a", "=", True), q("b", "=", True)]}, {"a": False, "b": False}, NOT_MET, "all_not_met"),
    ({"all": [q("a", "=", True), q("b", "=", True)]}, {"a": True}, UNKNOWN, "missing"),
    ({"any": [q("a", "=", True), q("b", "=", True)]}, {"a": False, "b": False}, NOT_MET, "any_not_met"),
    ({"any": [q("a", "=", True), q("b", "=", True)]}, {"a": False, "b": True}, MET, "equal"),
    ({"any": [q("a", "=", True), q("b", "=", True)]}, {"a": True, "b": True}, MET, "any_met"),
    ({"any": [q("a", "=", True), q("b", "=", True)]}, {"a": False}, UNKNOWN, "missing"),
    (
        {"at_least": 2, "of": [q("a", "=", True), q("b", "=", True), q("c", "=", True)]},
        {"a": True, "b": False, "c": False},
        NOT_MET,
        "at_least_not_met",
    ),
    (
        {"at_least": 2, "of": [q("a", "=", True), q("b", "=", True), q("c", "=", True)]},
        {"a": True, "b": True},
        MET,
        "at_least_met",
    ),
    ({"not": q("a", "=", True)}, {"a": True}, NOT_MET, "equal"),
    ({"not": q("a", "=", True)}, {}, UNKNOWN, "missing"),
    ({"all": []}, {}, MET, "no_conditions"),
]


@pytest.mark.parametrize("rule, answers, expected, code", LOGIC_CODE_CASES)
def test_it_gives_group_codes(rule, answers, expected, code):
    assert outcome(rule, answers) == (expected, code)


def test_it_lists_only_the_questions_that_could_still_decide_an_unknown_group():
    rule = {"all": [q("a", "=", True), {"any": [q("b", "=", True), q("c", "=", True)]}, q("hiv", "=", False)]}
    result = check(rule, {"a": True, "b": False})
    assert result.outcome == UNKNOWN
    assert result.missing == ("c", "hiv")


def test_it_lists_no_missing_questions_once_a_group_is_decided():
    rule = {"any": [q("a", "=", True), q("b", "=", True)]}
    assert check(rule, {"a": True}).missing == ()
    assert check({"all": [q("a", "=", True), q("b", "=", True)]}, {"a": False}).missing == ()


def test_it_holds_an_empty_any_for_nobody():
    # Validation rejects an empty 'any'; the engine still must not call it met (any of nothing is false).
    assert check({"any": []}, {}).outcome == NOT_MET
    assert check({"at_least": 1, "of": []}, {}).outcome == NOT_MET


# --------------------------------------------------------------------------------------------
# Ages, as ClinicalTrials.gov means them: bounds inclusive, in completed units of each limit.

THREE_TO_35 = q("age", "age_between", {"min": "3 years", "max": "35 years"})
UP_TO_35 = q("age", "age_between", {"max": "35 years"})

AGE_FROM_BIRTH_CASES = [
    # (rule, date of birth, reference date, outcome, code)
    (THREE_TO_35, date(1991, 5, 21), AS_OF, MET, "age_in_range"),  # 35 years 6 months
    (THREE_TO_35, date(1990, 11, 22), AS_OF, MET, "age_in_range"),  # day before the 36th birthday
    (THREE_TO_35, date(1990, 11, 21), AS_OF, NOT_MET, "age_above_max"),  # 36th birthday
    (UP_TO_35, date(1990, 11, 21), AS_OF, NOT_MET, "age_above_max"),
    (THREE_TO_35, date(2023, 11, 22), AS_OF, NOT_MET, "age_below_min"),  # day before the 3rd birthday
    (THREE_TO_35, date(2023, 11, 21), AS_OF, MET, "age_in_range"),  # 3rd birthday
    (q("age", "age_between", {"min": "18 years"}), date(2008, 11, 21), AS_OF, MET, "age_in_range"),
    (q("age", "age_between", {"min": "18 years"}), date(2008, 11, 22), AS_OF, NOT_MET, "age_below_min"),
    # months
    (q("age", "age_between", {"min": "6 months"}), date(2026, 5, 21), AS_OF, MET, "age_in_range"),
    (q("age", "age_between", {"min": "6 months"}), date(2026, 5, 22), AS_OF, NOT_MET, "age_below_min"),
    (q("age", "age_between", {"max": "18 months"}), date(2025, 4, 22), AS_OF, MET, "age_in_range"),  # 18 m 30 d
    (q("age", "age_between", {"max": "18 months"}), date(2025, 4, 21), AS_OF, NOT_MET, "age_above_max"),  # 19 m
    # a month after 31 January ends on the last day of February
    (q("age", "age_between", {"min": "1 month"}), date(2026, 1, 31), date(2026, 2, 27), NOT_MET, "age_below_min"),
    (q("age", "age_between", {"min": "1 month"}), date(2026, 1, 31), date(2026, 2, 28), MET, "age_in_range"),
    # weeks and days
    (q("age", "age_between", {"min": "6 weeks"}), AS_OF - timedelta(days=42), AS_OF, MET, "age_in_range"),
    (q("age", "age_between", {"min": "6 weeks"}), AS_OF - timedelta(days=41), AS_OF, NOT_MET, "age_below_min"),
    (q("age", "age_between", {"max": "8 weeks"}), AS_OF - timedelta(days=62), AS_OF, MET, "age_in_range"),  # 8 w 6 d
    (q("age", "age_between", {"max": "8 weeks"}), AS_OF - timedelta(days=63), AS_OF, NOT_MET, "age_above_max"),
    (
        q("age", "age_between", {"min": "28 days", "max": "90 days"}),
        AS_OF - timedelta(days=28),
        AS_OF,
        MET,
        "age_in_range",
    ),
    (
        q("age", "age_between", {"min": "28 days", "max": "90 days"}),
        AS_OF - timedelta(days=27),
        AS_OF,
        NOT_MET,
        "age_below_min",
    ),
    (
        q("age", "age_between", {"min": "28 days", "max": "90 days"}),
        AS_OF - timedelta(days=91),
        AS_OF,
        NOT_MET,
        "age_above_max",
    ),
    # Leap-day birthdays: in common years the birthday falls on 28 February (calendar arithmetic
    # clamps to the month end, the same rule the date windows use).
    (q("age", "age_between", {"min": "18 years"}), date(2008, 2, 29), date(2026, 2, 27), NOT_MET, "age_below_min"),
    (q("age", "age_between", {"min": "18 years"}), date(2008, 2, 29), date(2026, 2, 28), MET, "age_in_range"),
    (q("age", "age_between", {"min": "20 years"}), date(2008, 2, 29), date(2028, 2, 28), NOT_MET, "age_below_min"),
    (q("age", "age_between", {"min": "20 years"}), date(2008, 2, 29), date(2028, 2, 29), MET, "age_in_range"),
    (q("age", "age_between", {"max": "17 years"}), date(2008, 2, 29), date(2026, 2, 27), MET, "age_in_range"),
    (q("age", "age_between", {"max": "17 years"}), date(2008, 2, 29), date(2026, 2, 28), NOT_MET, "age_above_max"),
]


@pytest.mark.parametrize("rule, born, as_of, expected, code", AGE_FROM_BIRTH_CASES)
def test_it_compares_ages_from_the_date_of_birth_in_completed_units(rule, born, as_of, expected, code):
    assert outcome(rule, {"date_of_birth": born}, as_of) == (expected, code)


AGE_ENTERED_CASES = [
    # (rule, age in years as entered, outcome, code)
    (THREE_TO_35, 35, MET, "age_in_range"),
    (THREE_TO_35, 35.5, MET, "age_in_range"),  # 35 years 6 months
    (THREE_TO_35, 36, NOT_MET, "age_above_max"),
    (THREE_TO_35, 3, MET, "age_in_range"),
    (THREE_TO_35, 2.9, NOT_MET, "age_below_min"),
    (THREE_TO_35, 0, NOT_MET, "age_below_min"),
    # A whole number of years is a completed age: someone entered as 1 is 12 to 23 months old.
    (q("age", "age_between", {"min": "12 months"}), 1, MET, "age_in_range"),
    (q("age", "age_between", {"min": "18 months"}), 2, MET, "age_in_range"),
    (q("age", "age_between", {"min": "18 months"}), 1, UNKNOWN, "missing"),
    (q("age", "age_between", {"min": "24 months"}), 1, NOT_MET, "age_below_min"),
    (q("age", "age_between", {"max": "23 months"}), 1, MET, "age_in_range"),
    (q("age", "age_between", {"max": "22 months"}), 1, UNKNOWN, "missing"),
    (q("age", "age_between", {"max": "11 months"}), 1, NOT_MET, "age_above_max"),
    (q("age", "age_between", {"min": "6 weeks"}), 1, MET, "age_in_range"),
    (q("age", "age_between", {"min": "6 weeks"}), 0, UNKNOWN, "missing"),
    (q("age", "age_between", {"max": "6 weeks"}), 1, NOT_MET, "age_above_max"),
    (q("age", "age_between", {"min": "28 days"}), 0, UNKNOWN, "missing"),
    (q("age", "age_between", {"min": "28 days"}), 1, MET, "age_in_range"),
    # A fraction of a year is taken as at least that many months.
    (q("age", "age_between", {"min": "6 months"}), 0.5, MET, "age_in_range"),
    (q("age", "age_between", {"max": "11 months"}), 0.5, MET, "age_in_range"),
    (q("age", "age_between", {"max": "8 months"}), 0.5, UNKNOWN, "missing"),
    (q("age", "age_between", {"max": "5 months"}), 0.5, NOT_MET, "age_above_max"),
]


@pytest.mark.parametrize("rule, age, expected, code", AGE_ENTERED_CASES)
def test_it_compares_an_age_entered_as_a_number(rule, age, expected, code):
    assert outcome(rule, {"age": age}) == (expected, code)


def test_it_asks_for_the_date_of_birth_when_an_entered_age_is_too_coarse():
    result = check(q("age", "age_between", {"min": "18 months"}), {"age": 1})
    assert result.outcome == UNKNOWN
    assert result.missing == ("date_of_birth",)


def test_it_prefers_the_date_of_birth_over_an_entered_age_for_age_limits():
    rule = q("age", "age_between", {"min": "18 months"})
    assert outcome(rule, {"age": 1, "date_of_birth": date(2025, 3, 1)}) == (MET, "age_in_range")


def test_it_needs_an_age_or_a_date_of_birth():
    result = check(THREE_TO_35, {})
    assert (result.outcome, result.code, result.missing) == (UNKNOWN, "missing", ("age",))


AGE_MET_UNTIL_CASES = [
    # (rule, date of birth, last day the rule holds)
    (THREE_TO_35, date(1991, 5, 21), date(2027, 5, 20)),  # day before the 36th birthday
    (q("age", "age_between", {"max": "18 years"}), date(2014, 5, 2), date(2033, 5, 1)),
    (q("age", "age_between", {"max": "18 months"}), date(2025, 10, 31), date(2027, 5, 30)),
    (q("age", "age_between", {"max": "8 weeks"}), date(2026, 10, 1), date(2026, 12, 2)),
    (q("age", "age_between", {"max": "17 years"}), date(2008, 2, 29), date(2026, 2, 27)),
    (q("age", "age_between", {"min": "3 years"}), date(1991, 5, 21), None),  # no upper limit: never lapses
]


@pytest.mark.parametrize("rule, born, last_day", AGE_MET_UNTIL_CASES)
def test_it_says_the_last_day_an_age_rule_holds(rule, born, last_day):
    result = check(rule, {"date_of_birth": born}, last_day or AS_OF)
    assert result.outcome == MET
    assert result.met_until == last_day
    if last_day is not None:
        assert check(rule, {"date_of_birth": born}, last_day + timedelta(days=1)).outcome == NOT_MET


def test_it_has_no_end_date_for_an_entered_age():
    assert check(THREE_TO_35, {"age": 20}).met_until is None


COMPLETED_CASES = [
    # (start, end, unit, completed units)
    (date(2000, 1, 15), date(2001, 1, 14), "years", 0),
    (date(2000, 1, 15), date(2001, 1, 15), "years", 1),
    (date(2000, 1, 31), date(2000, 2, 29), "months", 1),
    (date(2001, 1, 31), date(2001, 2, 28), "months", 1),
    (date(2001, 1, 31), date(2001, 2, 27), "months", 0),
    (date(2001, 1, 31), date(2001, 3, 30), "months", 1),
    (date(2001, 1, 31), date(2001, 3, 31), "months", 2),
    (date(2001, 1, 1), date(2001, 1, 14), "weeks", 1),
    (date(2001, 1, 1), date(2001, 1, 15), "weeks", 2),
    (date(2001, 1, 1), date(2001, 1, 15), "days", 14),
    (date(2001, 1, 15), date(2001, 1, 10), "days", -5),
    (date(2001, 1, 15), date(2001, 1, 10), "years", -1),
]


@pytest.mark.parametrize("start, end, unit, expected", COMPLETED_CASES)
def test_it_counts_completed_units(start, end, unit, expected):
    assert completed(start, end, unit) == expected


# --------------------------------------------------------------------------------------------
# Durations: 'within' is "less than N ago", 'before' is "at least N ago".

WITHIN_9_WEEKS = q("t1d_diagnosis_date", "within", "9 weeks")
BEFORE_9_WEEKS = q("t1d_diagnosis_date", "before", "9 weeks")

DURATION_CASES = [
    # (rule, date answered, reference date, outcome, code)
    (WITHIN_9_WEEKS, AS_OF - timedelta(weeks=9), AS_OF, NOT_MET, "outside_window"),  # exactly 9 weeks
    (WITHIN_9_WEEKS, AS_OF - timedelta(weeks=9) + timedelta(days=1), AS_OF, MET, "within_window"),
    (WITHIN_9_WEEKS, AS_OF, AS_OF, MET, "within_window"),  # today
    (WITHIN_9_WEEKS, AS_OF + timedelta(days=1), AS_OF, NOT_MET, "in_future"),
    (BEFORE_9_WEEKS, AS_OF - timedelta(weeks=9), AS_OF, MET, "outside_window"),
    (BEFORE_9_WEEKS, AS_OF - timedelta(weeks=9) + timedelta(days=1), AS_OF, NOT_MET, "within_window"),
    (BEFORE_9_WEEKS, AS_OF + timedelta(days=1), AS_OF, NOT_MET, "in_future"),
    (q("t1d_diagnosis_date", "within", "14 days"), AS_OF - timedelta(days=13), AS_OF, MET, "within_window"),
    (q("t1d_diagnosis_date", "within", "14 days"), AS_OF - timedelta(days=14), AS_OF, NOT_MET, "outside_window"),
    (q("t1d_diagnosis_date", "within", "2 years"), date(2024, 11, 22), AS_OF, MET, "within_window"),
    (q("t1d_diagnosis_date", "within", "2 years"), date(2024, 11, 21), AS_OF, NOT_MET, "outside_window"),
    (q("t1d_diagnosis_date", "before", "6 months"), date(2026, 5, 21), AS_OF, MET, "outside_window"),
    (q("t1d_diagnosis_date", "before", "6 months"), date(2026, 5, 22), AS_OF, NOT_MET, "within_window"),
    # Month ends: a month after 31 January is the last day of February.
    (q("t1d_diagnosis_date", "within", "1 month"), date(2026, 1, 31), date(2026, 2, 27), MET, "within_window"),
    (q("t1d_diagnosis_date", "within", "1 month"), date(2026, 1, 31), date(2026, 2, 28), NOT_MET, "outside_window"),
    (q("t1d_diagnosis_date", "within", "1 month"), date(2028, 1, 31), date(2028, 2, 28), MET, "within_window"),
    (q("t1d_diagnosis_date", "within", "1 month"), date(2028, 1, 31), date(2028, 2, 29), NOT_MET, "outside_window"),
    (q("t1d_diagnosis_date", "within", "3 months"), date(2026, 8, 31), date(2026, 11, 29), MET, "within_window"),
    (q("t1d_diagnosis_date", "within", "3 months"), date(2026, 8, 31), date(2026, 11, 30), NOT_MET, "outside_window"),
    (q("t1d_diagnosis_date", "before", "1 year"), date(2024, 2, 29), date(2025, 2, 27), NOT_MET, "within_window"),
    (q("t1d_diagnosis_date", "before", "1 year"), date(2024, 2, 29), date(2025, 2, 28), MET, "outside_window"),
]


@pytest.mark.parametrize("rule, when, as_of, expected, code", DURATION_CASES)
def test_it_measures_durations_back_from_the_reference_date(rule, when, as_of, expected, code):
    assert outcome(rule, {"t1d_diagnosis_date": when}, as_of) == (expected, code)


WITHIN_MET_UNTIL_CASES = [
    # (duration, date answered, last day 'within' still holds)
    ("9 weeks", date(2026, 10, 24), date(2026, 12, 25)),
    ("9 weeks", AS_OF, AS_OF + timedelta(weeks=9, days=-1)),
    ("14 days", date(2026, 11, 20), date(2026, 12, 3)),
    ("1 month", date(2026, 10, 31), date(2026, 11, 29)),
    ("3 months", date(2026, 8, 31), date(2026, 11, 29)),
    ("1 year", date(2026, 2, 28), date(2027, 2, 27)),
]


@pytest.mark.parametrize("duration, when, last_day", WITHIN_MET_UNTIL_CASES)
def test_it_says_the_last_day_a_within_rule_holds(duration, when, last_day):
    rule = q("t1d_diagnosis_date", "within", duration)
    answers = {"t1d_diagnosis_date": when}
    assert check(rule, answers).met_until == last_day
    assert check(rule, answers, last_day).outcome == MET
    assert check(rule, answers, last_day + timedelta(days=1)).outcome == NOT_MET


def test_it_gives_no_end_date_to_rules_that_do_not_lapse():
    assert check(BEFORE_9_WEEKS, {"t1d_diagnosis_date": date(2020, 1, 1)}).met_until is None
    assert check(q("hiv", "=", False), {"hiv": False}).met_until is None
    assert check(WITHIN_9_WEEKS, {"t1d_diagnosis_date": date(2020, 1, 1)}).met_until is None


MET_UNTIL_GROUP_CASES = [
    # Diagnosed 2026-10-24: "within 9 weeks" holds until 2026-12-25.
    # Born 2026-10-22: "within 40 days" holds until 2026-11-30.
    (
        {"all": [q("t1d_diagnosis_date", "within", "9 weeks"), q("date_of_birth", "within", "40 days")]},
        date(2026, 11, 30),
    ),
    (
        {"any": [q("t1d_diagnosis_date", "within", "9 weeks"), q("date_of_birth", "within", "40 days")]},
        date(2026, 12, 25),
    ),
    ({"any": [q("t1d_diagnosis_date", "within", "9 weeks"), q("hiv", "=", False)]}, None),
    (
        {
            "at_least": 2,
            "of": [
                q("t1d_diagnosis_date", "within", "9 weeks"),
                q("date_of_birth", "within", "40 days"),
                q("hiv", "=", False),
            ],
        },
        date(2026, 12, 25),
    ),
    (
        {
            "at_least": 3,
            "of": [
                q("t1d_diagnosis_date", "within", "9 weeks"),
                q("date_of_birth", "within", "40 days"),
                q("hiv", "=", False),
            ],
        },
        date(2026, 11, 30),
    ),
]


@pytest.mark.parametrize("rule, last_day", MET_UNTIL_GROUP_CASES)
def test_it_says_when_a_group_stops_holding(rule, last_day):
    answers = {"t1d_diagnosis_date": date(2026, 10, 24), "date_of_birth": date(2026, 10, 22), "hiv": False}
    result = check(rule, answers)
    assert result.outcome == MET
    assert result.met_until == last_day
    if last_day is not None:
        assert check(rule, answers, last_day).outcome == MET
        assert check(rule, answers, last_day + timedelta(days=1)).outcome == NOT_MET


# --------------------------------------------------------------------------------------------
# Derived answers

DERIVE_CASES = [
    # (answers, as_of, expected derived values, derived codes)
    ({"date_of_birth": date(2014, 11, 22)}, AS_OF, {"age": 11}, {"age"}),  # day before the 12th birthday
    ({"date_of_birth": date(2014, 11, 21)}, AS_OF, {"age": 12}, {"age"}),
    ({"date_of_birth": date(2008, 2, 29)}, date(2026, 2, 28), {"age": 18}, {"age"}),
    # BMI is not rounded (it was, to one decimal, so that 30.03 compared as 30.0): only displays round it.
    ({"height": 160, "weight": 82}, AS_OF, {"bmi": 32.03125}, {"bmi"}),
    ({"height": 175, "weight": 70}, AS_OF, {"bmi": 22.857142857}, {"bmi"}),
    ({"height": 180, "weight": 81}, AS_OF, {"bmi": 25.0}, {"bmi"}),
    ({"height": 152.4, "weight": 45.5}, AS_OF, {"bmi": 19.590316958}, {"bmi"}),
    # A value entered directly wins over the calculation.
    ({"date_of_birth": date(2014, 11, 21), "age": 13}, AS_OF, {"age": 13}, set()),
    ({"height": 160, "weight": 82, "bmi": 27.5}, AS_OF, {"bmi": 27.5}, set()),
    # Half a pair derives nothing.
    ({"height": 160}, AS_OF, {}, set()),
    ({"weight": 82}, AS_OF, {}, set()),
    ({}, AS_OF, {}, set()),
]


@pytest.mark.parametrize("answers, as_of, expected, derived_codes", DERIVE_CASES)
def test_it_derives_age_and_bmi(answers, as_of, expected, derived_codes):
    full, derived = derive(answers, as_of)
    assert {k: full[k] for k in ("age", "bmi") if k in full} == expected
    assert derived == frozenset(derived_codes)
    assert {k: full[k] for k in answers} == answers  # nothing the clinician entered changes


def test_it_screens_on_a_calculated_bmi():
    assert outcome(q("bmi", ">", 30), {"height": 160, "weight": 82}) == (MET, "above_max")
    assert outcome(q("bmi", ">", 30), {"height": 160, "weight": 76.8}) == (NOT_MET, "at_max")  # exactly 30.0
    assert outcome(q("bmi", ">", 30), {"height": 160}) == (UNKNOWN, "missing")


def test_it_screens_on_a_calculated_age():
    assert outcome(q("age", ">=", 18), {"date_of_birth": date(2008, 11, 21)}) == (MET, "at_max")
    assert outcome(q("age", ">=", 18), {"date_of_birth": date(2008, 11, 22)}) == (NOT_MET, "below_max")


def test_it_derives_age_in_completed_years():
    assert completed_years(date(1990, 11, 22), AS_OF) == 35
    assert completed_years(date(1990, 11, 21), AS_OF) == 36


# --------------------------------------------------------------------------------------------
# Verdicts

HIV = q("hiv", "=", True)  # as an exclusion: HIV rules out
CONSENT = q("consent_possible", "=", True)  # as an inclusion


def trial(*criteria):
    return TrialRules(
        "NCT00000001",
        "Trial",
        tuple(CriterionSpec(str(i), kind, f"criterion {i}", rule) for i, (kind, rule) in enumerate(criteria)),
    )


VERDICT_CASES = [
    # (criteria, answers, verdict)
    ([(INCLUSION, CONSENT), (EXCLUSION, HIV)], {"consent_possible": True, "hiv": False}, Verdict.ELIGIBLE),
    ([(INCLUSION, CONSENT), (EXCLUSION, HIV)], {"consent_possible": False, "hiv": False}, Verdict.INELIGIBLE),
    ([(INCLUSION, CONSENT), (EXCLUSION, HIV)], {"consent_possible": True, "hiv": True}, Verdict.INELIGIBLE),
    ([(INCLUSION, CONSENT), (EXCLUSION, HIV)], {"consent_possible": True}, Verdict.UNDETERMINED),
    ([(INCLUSION, CONSENT), (EXCLUSION, HIV)], {"hiv": False}, Verdict.UNDETERMINED),
    # Something that rules out wins over anything open.
    ([(INCLUSION, CONSENT), (EXCLUSION, HIV)], {"hiv": True}, Verdict.INELIGIBLE),
    ([(INCLUSION, CONSENT), (EXCLUSION, HIV)], {"consent_possible": False}, Verdict.INELIGIBLE),
    # A criterion without a rule needs a person: never eligible, but it does not rule anyone out.
    ([(INCLUSION, CONSENT), (EXCLUSION, None)], {"consent_possible": True}, Verdict.UNDETERMINED),
    ([(INCLUSION, None), (EXCLUSION, HIV)], {"hiv": False}, Verdict.UNDETERMINED),
    ([(INCLUSION, None), (EXCLUSION, HIV)], {"hiv": True}, Verdict.INELIGIBLE),
    ([(INCLUSION, CONSENT), (INCLUSION, None)], {"consent_possible": False}, Verdict.INELIGIBLE),
    # An exclusion written as a negation: "no HIV" must hold.
    ([(INCLUSION, {"not": HIV})], {"hiv": False}, Verdict.ELIGIBLE),
    ([(INCLUSION, {"not": HIV})], {"hiv": True}, Verdict.INELIGIBLE),
    ([], {}, Verdict.ELIGIBLE),  # nothing to meet
]


@pytest.mark.parametrize("criteria, answers, verdict", VERDICT_CASES)
def test_it_reaches_a_verdict(criteria, answers, verdict):
    assert evaluate(trial(*criteria), answers, AS_OF, CATALOGUE).verdict == verdict


def test_it_treats_a_met_exclusion_as_against_and_a_not_met_one_as_in_favour():
    result = evaluate(
        trial((EXCLUSION, HIV), (EXCLUSION, q("malignancy", "=", True))),
        {"hiv": True, "malignancy": False},
        AS_OF,
        CATALOGUE,
    )
    hiv, malignancy = result.criteria
    assert (hiv.outcome, hiv.against, hiv.satisfied) == (MET, True, False)
    assert (malignancy.outcome, malignancy.against, malignancy.satisfied) == (NOT_MET, False, True)
    assert result.deciding == (hiv,)


def test_it_marks_a_criterion_without_a_rule_for_review():
    result = evaluate(trial((INCLUSION, None)), {}, AS_OF, CATALOGUE)
    criterion = result.criteria[0]
    assert (criterion.outcome, criterion.code) == (REVIEW, "no_rule")
    assert not criterion.against and not criterion.satisfied
    assert result.missing == ()  # no answer can settle it


def test_it_counts_satisfied_against_and_open_criteria():
    criteria = [
        (INCLUSION, CONSENT),
        (EXCLUSION, HIV),
        (EXCLUSION, q("malignancy", "=", True)),
        (INCLUSION, None),
        (INCLUSION, q("t1d_diagnosis", "=", True)),
    ]
    result = evaluate(trial(*criteria), {"consent_possible": True, "hiv": True, "malignancy": False}, AS_OF, CATALOGUE)
    assert result.counts == {"satisfied": 2, "against": 1, "open": 2}
    assert result.verdict == Verdict.INELIGIBLE
    assert [c.key for c in result.deciding] == ["1"]


def test_it_lists_missing_questions_in_criterion_order_without_repeats():
    criteria = [
        (INCLUSION, {"all": [q("t1d_diagnosis", "=", True), q("t1d_diagnosis_date", "within", "9 weeks")]}),
        (EXCLUSION, {"any": [HIV, q("hepatitis_b", "=", True)]}),
        (INCLUSION, q("t1d_diagnosis", "=", True)),
        (INCLUSION, THREE_TO_35),
    ]
    result = evaluate(trial(*criteria), {}, AS_OF, CATALOGUE)
    assert result.verdict == Verdict.UNDETERMINED
    assert result.missing == ("t1d_diagnosis", "t1d_diagnosis_date", "hiv", "hepatitis_b", "age")


def test_it_lists_nothing_missing_once_the_patient_is_ruled_out():
    result = evaluate(trial((INCLUSION, CONSENT), (EXCLUSION, HIV)), {"hiv": True}, AS_OF, CATALOGUE)
    assert result.verdict == Verdict.INELIGIBLE
    assert result.criteria[0].missing == ("consent_possible",)
    assert result.missing == ()


def test_it_has_no_deciding_criteria_unless_ineligible():
    eligible = evaluate(trial((INCLUSION, CONSENT)), {"consent_possible": True}, AS_OF, CATALOGUE)
    open_ = evaluate(trial((INCLUSION, CONSENT)), {}, AS_OF, CATALOGUE)
    assert eligible.deciding == () and open_.deciding == ()


def test_it_says_when_the_earliest_favourable_window_closes():
    criteria = [
        (INCLUSION, q("t1d_diagnosis_date", "within", "9 weeks")),
        (INCLUSION, q("age", "age_between", {"max": "18 years"})),
        (EXCLUSION, HIV),
    ]
    answers = {"t1d_diagnosis_date": date(2026, 10, 24), "date_of_birth": date(2014, 5, 2), "hiv": False}
    result = evaluate(trial(*criteria), answers, AS_OF, CATALOGUE)
    assert result.verdict == Verdict.ELIGIBLE
    assert [c.met_until for c in result.criteria] == [date(2026, 12, 25), date(2033, 5, 1), None]
    assert result.met_until == date(2026, 12, 25)


def test_it_ignores_the_window_of_an_exclusion_that_rules_the_patient_out():
    criteria = [
        (INCLUSION, q("age", "age_between", {"max": "18 years"})),
        (EXCLUSION, q("t1d_diagnosis_date", "within", "8 weeks")),  # met: against the patient
    ]
    answers = {"t1d_diagnosis_date": date(2026, 10, 24), "date_of_birth": date(2014, 5, 2)}
    result = evaluate(trial(*criteria), answers, AS_OF, CATALOGUE)
    assert result.criteria[1].met_until == date(2026, 12, 18)
    assert result.met_until == date(2033, 5, 1)


def test_it_screens_many_trials_independently():
    first, second = trial((INCLUSION, CONSENT)), trial((EXCLUSION, HIV))
    results = evaluate_many([first, second], {"consent_possible": True, "hiv": True}, AS_OF, CATALOGUE)
    assert [r.verdict for r in results] == [Verdict.ELIGIBLE, Verdict.INELIGIBLE]


def test_it_screens_without_a_catalogue():
    assert evaluate(trial((EXCLUSION, HIV)), {"hiv": True}, AS_OF).verdict == Verdict.INELIGIBLE


# --------------------------------------------------------------------------------------------
# Which questions a rule reads

REFERENCED_CASES = [
    (HIV, {"hiv"}),
    (
        {"all": [HIV, {"not": q("sex", "=", "female")}, {"at_least": 1, "of": [CONSENT]}]},
        {"hiv", "sex", "consent_possible"},
    ),
    (THREE_TO_35, {"age", "date_of_birth"}),
    # Age and BMI are read from the answers they are calculated from when not entered directly.
    (q("age", ">=", 18), {"age", "date_of_birth"}),
    (q("bmi", ">", 30), {"bmi", "height", "weight"}),
    (q("height", ">", 150), {"height"}),
    ({"all": []}, set()),
    (None, set()),
]


@pytest.mark.parametrize("rule, codes", REFERENCED_CASES)
def test_it_lists_the_questions_a_rule_reads(rule, codes):
    assert referenced_questions(rule) == codes


def test_it_agrees_with_the_catalogue_on_what_is_calculated_from_what():
    rows = json.loads(QUESTIONS_JSON.read_text())
    declared = {row["code"]: tuple(row["derived_from"].split(",")) for row in rows if row["derived_from"]}
    assert declared == DERIVED_FROM


def test_it_changes_a_rule_on_age_once_the_date_of_birth_is_given():
    # The reason the sources count as read: a rule on age changes once the date of birth is given.
    rule = q("age", "not_answered")
    assert check(rule, {}).outcome == MET
    assert check(rule, {"date_of_birth": date(2000, 1, 1)}).outcome == NOT_MET


def test_it_screens_a_broken_rule_as_needs_review_instead_of_failing():
    from eligibility.engine import CriterionSpec, Outcome, TrialRules, Verdict, evaluate

    trial = TrialRules(
        "NCT00000001",
        "t",
        (
            CriterionSpec("1", "exclusion", "broken", {"q": "bmi", "op": "~~", "value": 1}),
            CriterionSpec("2", "inclusion", "fine", {"q": "hiv", "op": "=", "value": False}),
        ),
    )
    result = evaluate(trial, {"bmi": 25, "hiv": False}, date(2026, 11, 21), CATALOGUE)
    assert [(c.outcome, c.code) for c in result.criteria] == [
        (Outcome.NEEDS_REVIEW, "invalid_rule"),
        (Outcome.MET, "equal"),
    ]
    assert result.verdict == Verdict.UNDETERMINED
