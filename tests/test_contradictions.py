"""The one contradiction policy (eligibility/contradictions.py) and what the pipeline does with it. Pure: no database."""

from datetime import date

import pytest

from eligibility import contradictions, pipeline
from eligibility.answers import parse_answers
from eligibility.engine import EXCLUSION, INCLUSION, CriterionSpec, Outcome, TrialRules, Verdict, evaluate
from eligibility.fhir import _when
from tests.factories import CATALOGUE

AS_OF = date(2026, 11, 21)
BMI_HWB = ("bmi", "height", "weight")
AGE_DOB = ("age", "date_of_birth")
T1D = ("t1d_diagnosis", "t1d_diagnosis_date")

CASES = [
    # (typed answers, [(contradiction code, questions involved)])
    # An entered BMI against the BMI height and weight give, each direction.
    ({"bmi": 31, "height": 140, "weight": 35}, [("bmi_mismatch", BMI_HWB)]),  # entered high, calculated 17.9
    ({"bmi": 22, "height": 170, "weight": 100}, [("bmi_mismatch", BMI_HWB)]),  # entered low, calculated 34.6
    ({"bmi": 30.5, "height": 160, "weight": 76.8}, []),  # calculated exactly 30: 0.5 is within the tolerance
    ({"bmi": 29.5, "height": 160, "weight": 76.8}, []),
    ({"bmi": 30.6, "height": 160, "weight": 76.8}, [("bmi_mismatch", BMI_HWB)]),
    ({"bmi": 29.4, "height": 160, "weight": 76.8}, [("bmi_mismatch", BMI_HWB)]),
    ({"bmi": 31, "height": 140}, []),  # half a pair calculates nothing
    # A calculated value outside its question's plausible range (BMI 8–90, age 0–120), each side.
    ({"height": 68, "weight": 220}, [("implausible_bmi", BMI_HWB)]),  # 475.8: pounds and inches
    ({"height": 68, "weight": 220, "bmi": 33.5}, [("implausible_bmi", BMI_HWB)]),
    ({"height": 250, "weight": 4}, [("implausible_bmi", BMI_HWB)]),  # 0.64
    ({"height": 172, "weight": 99.8}, []),  # 33.7
    # An entered age against the date of birth's (completed years), each direction.
    ({"age": 40, "date_of_birth": date(1990, 1, 1)}, [("age_mismatch", AGE_DOB)]),  # entered older
    ({"age": 30, "date_of_birth": date(1990, 1, 1)}, [("age_mismatch", AGE_DOB)]),  # entered younger
    ({"age": 36.5, "date_of_birth": date(1990, 1, 1)}, []),
    ({"date_of_birth": date(1905, 11, 22)}, []),  # 120, and 121 tomorrow
    ({"date_of_birth": date(1905, 11, 21)}, [("implausible_age", AGE_DOB)]),  # 121 today
    ({"date_of_birth": date(1900, 1, 1)}, [("implausible_age", AGE_DOB)]),
    # A no with the date of that very event (and only a no).
    ({"t1d_diagnosis": False, "t1d_diagnosis_date": date(2026, 10, 24)}, [("no_with_date", T1D)]),
    ({"t1d_diagnosis": True, "t1d_diagnosis_date": date(2026, 10, 24)}, []),
    ({"t1d_diagnosis": False}, []),
    ({"t1d_diagnosis_date": date(2026, 10, 24)}, []),
    # Any date before the date of birth; the day of birth itself is possible.
    (
        {"date_of_birth": date(2012, 3, 4), "t1d_diagnosis_date": date(2012, 3, 3)},
        [("before_birth", ("t1d_diagnosis_date", "date_of_birth"))],
    ),
    ({"date_of_birth": date(2012, 3, 4), "t1d_diagnosis_date": date(2012, 3, 4)}, []),
    # Several at once, each reported.
    (
        {"bmi": 22, "height": 170, "weight": 100, "age": 9, "date_of_birth": date(2012, 3, 4), "t1d_diagnosis": False,
         "t1d_diagnosis_date": date(2010, 1, 1)},
        [
            ("bmi_mismatch", BMI_HWB),
            ("age_mismatch", AGE_DOB),
            ("no_with_date", T1D),
            ("before_birth", ("t1d_diagnosis_date", "date_of_birth")),
        ],
    ),
]  # fmt: skip


@pytest.mark.parametrize("answers, expected", CASES)
def test_it_finds_each_contradiction_on_every_question_involved(answers, expected):
    found = contradictions.find(answers, CATALOGUE, AS_OF)
    assert [(c.code, c.questions) for c in found] == expected


MESSAGES = [
    # (answers, words every message must hold: both values of the conflict)
    (
        {"bmi": 31, "height": 140, "weight": 35},
        "BMI 31 kg/m² does not match height 140 cm and weight 35 kg, which give BMI 17.9",
    ),
    (
        {"height": 68, "weight": 220},
        "BMI 475.8 kg/m² calculated from weight 220 kg and height 68 cm is not plausible (expected 8–90 kg/m²): "
        "check the units; if they were 220 lb (99.8 kg) and 68 in (172.7 cm), the BMI would be 33.5",
    ),
    (
        {"height": 170, "weight": 700 * 0.45},  # 315 kg: no reading makes a human of it
        "calculated from weight 315 kg and height 170 cm is not plausible (expected 8–90 kg/m²): check the units",
    ),
    ({"age": 40, "date_of_birth": date(1990, 1, 1)}, "age 40 years does not match the date of birth 1990-01-01 (36"),
    (
        {"date_of_birth": date(1900, 1, 1)},
        "the date of birth 1900-01-01 gives an age of 126 years on 2026-11-21, not a plausible age",
    ),
    (
        {"t1d_diagnosis": False, "t1d_diagnosis_date": date(2026, 10, 24)},
        "“Confirmed type 1 diabetes” is answered no, yet “Type 1 diabetes diagnosed” has the date 2026-10-24",
    ),
]


@pytest.mark.parametrize("answers, words", MESSAGES)
def test_its_messages_name_the_values_on_both_sides(answers, words):
    [found] = contradictions.find(answers, CATALOGUE, AS_OF)
    assert words in found.message


def test_it_hints_at_pounds_or_inches_only_when_that_reading_fits():
    [bmi] = contradictions.find({"height": 68, "weight": 220}, CATALOGUE, AS_OF)
    assert "lb" in bmi.message and " in (" in bmi.message
    [light] = contradictions.find({"height": 250, "weight": 4}, CATALOGUE, AS_OF)
    assert "lb" not in light.message and " in (" not in light.message


def test_an_age_of_thousands_against_a_far_reference_date_is_refused():
    [found] = contradictions.find({"date_of_birth": date(1990, 1, 1)}, CATALOGUE, date(4000, 1, 1))
    assert found.code == "implausible_age" and "2010 years" in found.message


def test_a_date_question_belongs_to_the_yes_no_question_it_is_named_after():
    assert contradictions.date_pairs(CATALOGUE) == {"t1d_diagnosis_date": "t1d_diagnosis"}


def test_parse_answers_reports_a_contradiction_on_each_question():
    _, errors = parse_answers({"bmi": 31, "height": 140, "weight": 35}, CATALOGUE, AS_OF)
    assert [e.code for e in errors] == list(BMI_HWB)
    assert len({e.message for e in errors}) == 1


# --------------------------------------------------------------------------------------------
# Calculated values compared unrounded (rounded only for people)

BMI_ABOVE_30 = TrialRules(
    "NCT00000001", "BMI", (CriterionSpec("1", EXCLUSION, "BMI > 30", {"q": "bmi", "op": ">", "value": 30}),)
)

BOUNDARIES = [
    # (height cm, weight kg, exact BMI, the exclusion's outcome, explanation)
    (160, 76.88, 30.03125, Outcome.MET, "BMI 30.03 kg/m² (calculated) is above 30"),  # was rounded to 30.0: "not above"
    (160, 76.72, 29.96875, Outcome.NOT_MET, "BMI 29.97 kg/m² (calculated) is below 30"),  # was 30.0: "exactly 30"
    (160, 76.8, 30.0, Outcome.NOT_MET, "BMI 30 kg/m² (calculated) is exactly 30"),  # no float noise: 30, not 30.000…4
    (170, 86.7, 30.0, Outcome.NOT_MET, "BMI 30 kg/m² (calculated) is exactly 30"),
    (175, 95, 31.020408163, Outcome.MET, "BMI 31 kg/m² (calculated) is above 30"),  # one decimal is enough here
]


@pytest.mark.parametrize("height, weight, exact, outcome, words", BOUNDARIES)
def test_a_calculated_bmi_is_compared_unrounded_and_shown_rounded(height, weight, exact, outcome, words):
    screened = pipeline.screen(
        catalogue=CATALOGUE, trials=[BMI_ABOVE_30], as_of=AS_OF, answers={"height": height, "weight": weight}
    )
    [criterion] = screened.explained[BMI_ABOVE_30.nct_id].criteria
    assert criterion.outcome == outcome and criterion.explanation == words
    expected = Verdict.INELIGIBLE if outcome == Outcome.MET else Verdict.ELIGIBLE
    assert screened.verdict_of(BMI_ABOVE_30.nct_id) == expected  # the compiled verdict agrees
    assert evaluate(BMI_ABOVE_30, {"height": height, "weight": weight}, AS_OF, CATALOGUE).verdict == expected
    assert abs(evaluate_bmi(height, weight) - exact) < 1e-9


def evaluate_bmi(height, weight):
    from eligibility.engine import derive

    return derive({"height": height, "weight": weight}, AS_OF)[0]["bmi"]


def test_an_entered_bmi_just_above_the_limit_and_a_calculated_one_are_treated_alike():
    entered = pipeline.screen(catalogue=CATALOGUE, trials=[BMI_ABOVE_30], as_of=AS_OF, answers={"bmi": 30.01})
    calculated = pipeline.screen(
        catalogue=CATALOGUE, trials=[BMI_ABOVE_30], as_of=AS_OF, answers={"height": 160, "weight": 76.83}
    )
    assert entered.verdict_of("NCT00000001") == calculated.verdict_of("NCT00000001") == Verdict.INELIGIBLE


# --------------------------------------------------------------------------------------------
# The pipeline: contradicted answers are problems, and nothing is decided from them

HIV = TrialRules("NCT00000002", "HIV", (CriterionSpec("1", EXCLUSION, "HIV", {"q": "hiv", "op": "=", "value": True}),))
AGE = TrialRules(
    "NCT00000003",
    "Adults",
    (CriterionSpec("1", INCLUSION, "18 or older", {"q": "age", "op": "age_between", "value": {"min": "18 years"}}),),
)
T1D_RECENT = TrialRules(
    "NCT00000004",
    "New onset",
    (
        CriterionSpec("1", INCLUSION, "T1D", {"q": "t1d_diagnosis", "op": "=", "value": True}),
        CriterionSpec("2", INCLUSION, "recent", {"q": "t1d_diagnosis_date", "op": "within", "value": "9 weeks"}),
    ),
)
TRIALS = [BMI_ABOVE_30, HIV, AGE, T1D_RECENT]

CONFLICTS = [
    # (answers, the trial a half of the conflict used to decide, the questions reported)
    ({"bmi": 31, "height": 140, "weight": 35, "hiv": False}, "NCT00000001", BMI_HWB),  # was ineligible
    ({"bmi": 22, "height": 170, "weight": 100, "hiv": False}, "NCT00000001", BMI_HWB),  # was eligible
    ({"height": 68, "weight": 220, "hiv": False}, "NCT00000001", BMI_HWB),  # was ineligible on BMI 476
    ({"age": 40, "date_of_birth": "2012-03-04", "hiv": False}, "NCT00000003", AGE_DOB),  # was decided on the DOB
    ({"date_of_birth": "1900-01-01", "hiv": False}, "NCT00000003", AGE_DOB),  # was eligible, aged 126
    ({"t1d_diagnosis": False, "t1d_diagnosis_date": "2026-10-24", "hiv": False}, "NCT00000004", T1D),  # was ineligible
]


@pytest.mark.parametrize("answers, trial, questions", CONFLICTS)
def test_the_pipeline_reports_a_conflict_and_decides_nothing_from_either_half(answers, trial, questions):
    refused = pipeline.screen(catalogue=CATALOGUE, trials=TRIALS, as_of=AS_OF, answers=answers)
    [problem] = refused.problems
    assert (problem.source, problem.code, problem.questions) == ("answers", "inconsistent", questions)
    assert refused.verdicts == ()  # with problems nothing is screened, unless asked (the live panel)

    live = pipeline.screen(
        catalogue=CATALOGUE, trials=TRIALS, as_of=AS_OF, answers=answers, screen_with_problems=True, missing=True
    )
    assert live.contradicted == frozenset(questions)
    assert not set(questions) & set(live.answers)  # what the engine screened on
    assert live.verdict_of(trial) == Verdict.UNDETERMINED
    result = live.explained[trial]
    assert result.verdict == Verdict.UNDETERMINED  # the explanation agrees with the compiled verdict
    assert any("contradict" in c.explanation for c in result.criteria if c.outcome == Outcome.UNKNOWN)
    assert live.verdict_of("NCT00000002") == Verdict.ELIGIBLE  # other trials are still decided


def test_a_record_and_answers_that_contradict_each_other_are_reported_as_both():
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": {"resourceType": "Patient", "id": "p", "birthDate": "2012-03-04"}}],
    }
    screened = pipeline.screen(catalogue=CATALOGUE, trials=[AGE], as_of=AS_OF, bundle=bundle, answers={"age": 40})
    [problem] = screened.problems
    assert (problem.source, problem.questions) == (pipeline.BOTH, AGE_DOB)


# --------------------------------------------------------------------------------------------
# Dates: YYYY-MM-DD only, wherever they are read

NOT_DATES = ["20120101", "2012-W01-1", "2012-001", " 2012-01-01", "2012-01-01 ", "2012-01-01\n", "2012-01-01T00:00"]


@pytest.mark.parametrize("text", NOT_DATES)
def test_answers_read_dates_as_yyyy_mm_dd_only(text):
    clean, errors = parse_answers({"t1d_diagnosis_date": text}, CATALOGUE, AS_OF)
    assert clean == {} and [e.code for e in errors] == ["t1d_diagnosis_date"]
    assert "YYYY-MM-DD" in errors[0].message


@pytest.mark.parametrize("text", ["20120304", "2012-W10-1", "2012-064", " 2012-03-04", "2012-03"])
def test_fhir_dates_need_a_full_day_as_fhir_writes_it(text):
    assert _when(text) is None


@pytest.mark.parametrize("text", ["2012-03-04", "2012-03-04T10:30:00Z", "2012-03-04T10:30:00+01:00"])
def test_fhir_reads_full_dates_and_date_times(text):
    assert _when(text)[0] == date(2012, 3, 4)
