"""The compiled catalogue gives exactly engine.evaluate's verdicts. Pure: no database."""

import json
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility import engine
from eligibility.compiled import Compiler, compile_catalogue
from eligibility.engine import (
    BOOLEAN,
    CHOICE,
    DATE,
    EXCLUSION,
    INCLUSION,
    MULTI,
    NUMBER,
    CriterionSpec,
    Duration,
    QuestionSpec,
    TrialRules,
    Verdict,
    shift,
)
from tests.factories import seed_catalogue

E, I, U = Verdict.ELIGIBLE, Verdict.INELIGIBLE, Verdict.UNDETERMINED  # noqa: E741  (table columns: one letter each)
SEED = Path(__file__).resolve().parent.parent / "trials" / "seed"


def engine_verdicts(trials, answers, as_of, catalogue):
    return [engine.evaluate(t, answers, as_of, catalogue).verdict for t in trials]


# --------------------------------------------------------------------------------------------
# Random rules, answers and dates against a small catalogue

CATALOGUE = {
    q.code: q
    for q in [
        QuestionSpec("date_of_birth", "Date of birth", DATE),
        QuestionSpec("age", "Age", NUMBER, unit="years"),
        QuestionSpec("height", "Height", NUMBER, unit="cm"),
        QuestionSpec("weight", "Weight", NUMBER, unit="kg"),
        QuestionSpec("bmi", "BMI", NUMBER, unit="kg/m²"),
        QuestionSpec("hba1c", "HbA1c", NUMBER, unit="%"),
        QuestionSpec("sex", "Sex", CHOICE, choices=(("female", "Female"), ("male", "Male"))),
        QuestionSpec("stage", "Stage", CHOICE, choices=(("i", "I"), ("ii", "II"), ("iii", "III"))),
        QuestionSpec("symptoms", "Symptoms", MULTI, choices=(("cough", "Cough"), ("fever", "Fever"), ("rash", "Rash"))),
        QuestionSpec("hiv", "HIV", BOOLEAN),
        QuestionSpec("smoker", "Smoker", BOOLEAN),
        QuestionSpec("diagnosis_date", "Diagnosed", DATE),
        QuestionSpec("last_dose", "Last dose", DATE),
    ]
}
CHOICES = {code: [k for k, _ in q.choices] for code, q in CATALOGUE.items() if q.choices}
NUMBERS = [0, 6.5, 17.5, 18, 18.0, 25, 29.9, 30, 30.0, 32.5, 65, 150]
DURATIONS = [
    "0 days",
    "1 day",
    "30 days",
    "1 week",
    "9 weeks",
    "0 months",
    "1 month",
    "6 months",
    "13 months",
    "1 year",
    "2 years",
    "18 years",
]
AGE_LIMITS = ["3 years", "18 years", "35 years", "65 years", "6 months", "24 months", "12 weeks", "30 days"]
NUMBER_QUESTIONS = ["age", "height", "weight", "bmi", "hba1c"]
DATE_QUESTIONS = ["date_of_birth", "diagnosis_date", "last_dose"]


def leaf(q, op, value=None):
    return {"q": q, "op": op, "value": value}


def age_bounds(low, high):
    return {key: v for key, v in (("min", low), ("max", high)) if v}


leaves = st.one_of(
    st.builds(leaf, st.sampled_from(["hiv", "smoker"]), st.sampled_from(["=", "!="]), st.booleans()),
    st.builds(
        leaf,
        st.sampled_from(NUMBER_QUESTIONS),
        st.sampled_from(["<", "<=", ">", ">=", "=", "!="]),
        st.sampled_from(NUMBERS),
    ),
    st.builds(
        leaf,
        st.sampled_from(NUMBER_QUESTIONS),
        st.just("between"),
        st.lists(st.sampled_from(NUMBERS), min_size=2, max_size=2).map(sorted),
    ),
    st.builds(leaf, st.sampled_from(list(CATALOGUE)), st.sampled_from(["answered", "not_answered"])),
    st.sampled_from(["sex", "stage"]).flatmap(
        lambda q: st.one_of(
            st.builds(leaf, st.just(q), st.sampled_from(["=", "!="]), st.sampled_from(CHOICES[q])),
            st.builds(
                leaf,
                st.just(q),
                st.sampled_from(["in", "not_in"]),
                st.lists(st.sampled_from(CHOICES[q]), min_size=1, unique=True),
            ),
        )
    ),
    st.builds(
        leaf,
        st.just("symptoms"),
        st.sampled_from(["in", "not_in"]),
        st.lists(st.sampled_from(CHOICES["symptoms"]), min_size=1, unique=True),
    ),
    st.builds(leaf, st.sampled_from(DATE_QUESTIONS), st.sampled_from(["within", "before"]), st.sampled_from(DURATIONS)),
    st.builds(
        leaf,
        st.just("age"),
        st.just("age_between"),
        st.builds(age_bounds, st.sampled_from([None] + AGE_LIMITS), st.sampled_from([None] + AGE_LIMITS)),
    ),
)

rules = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=3).map(lambda cs: {"all": cs}),
        st.lists(children, max_size=3).map(lambda cs: {"any": cs}),
        st.builds(lambda n, cs: {"at_least": n, "of": cs}, st.integers(-1, 4), st.lists(children, max_size=4)),
        children.map(lambda c: {"not": c}),
    ),
    max_leaves=8,
)

INTERESTING_DAYS = [
    date(2024, 2, 29),
    date(2023, 2, 28),
    date(2024, 3, 31),
    date(2023, 12, 31),
    date(2024, 1, 31),
    date(2024, 4, 30),
    date(2023, 3, 1),
]
as_of_dates = st.one_of(st.sampled_from(INTERESTING_DAYS), st.dates(date(2016, 1, 1), date(2030, 12, 31)))


def draw_trials(data, count=None, first=0):
    """A few trials drawing criteria from a shared pool, so rules are shared as in a real catalogue."""
    pool = data.draw(st.lists(rules, min_size=1, max_size=6))
    criterion = st.tuples(
        st.sampled_from([INCLUSION, EXCLUSION]),
        st.one_of(st.none(), st.integers(0, len(pool) - 1), st.integers(0, len(pool) - 1)),
    )
    trials = []
    for n in range(first, first + (data.draw(st.integers(1, 5)) if count is None else count)):
        specs = data.draw(st.lists(criterion, max_size=6))
        trials.append(
            TrialRules(
                f"NCT{n:08d}",
                f"Trial {n}",
                tuple(
                    CriterionSpec(str(k), kind, "", None if i is None else pool[i]) for k, (kind, i) in enumerate(specs)
                ),
            )
        )
    return trials


def draw_date_near(data, as_of):
    """A date close to a boundary (a whole number of units before as_of, give or take a day) or anywhere."""
    unit = data.draw(st.sampled_from(["days", "weeks", "months", "years"]))
    amount = data.draw(st.integers(0, {"days": 60, "weeks": 20, "months": 30, "years": 70}[unit]))
    near = shift(as_of, Duration(amount, unit), -1) + timedelta(days=data.draw(st.integers(-2, 2)))
    return data.draw(st.one_of(st.just(near), st.dates(date(1930, 1, 1), date(2031, 12, 31))))


def draw_answers(data, as_of):
    answers = {}
    if data.draw(st.booleans()):
        answers["date_of_birth"] = draw_date_near(data, as_of)
    for code in DATE_QUESTIONS[1:]:
        if data.draw(st.booleans()):
            answers[code] = draw_date_near(data, as_of)
    numbers = {
        "age": st.one_of(
            st.integers(0, 90), st.sampled_from([0.5, 2.99, 17.999, 18.0, 35.99, 1 / 12]), st.floats(0, 100)
        ),
        "height": st.floats(100, 200),
        "weight": st.floats(30, 150),
        "bmi": st.one_of(st.sampled_from(NUMBERS), st.floats(15, 45)),
        "hba1c": st.sampled_from(NUMBERS),
    }
    for code, values in numbers.items():
        if data.draw(st.booleans()):
            answers[code] = data.draw(values)
    for code in ("sex", "stage"):
        if data.draw(st.booleans()):
            answers[code] = data.draw(st.sampled_from(CHOICES[code]))
    if data.draw(st.booleans()):
        answers["symptoms"] = tuple(data.draw(st.lists(st.sampled_from(CHOICES["symptoms"]), unique=True)))
    for code in ("hiv", "smoker"):
        if data.draw(st.booleans()):
            answers[code] = data.draw(st.booleans())
    return answers


def assert_agrees_with_the_engine(compiled, trials, answers, as_of):
    """Everything the results panel reads agrees with engine.evaluate: the verdict (from the arrays), and each
    criterion's outcome, the missing questions and met_until (from explain)."""
    verdicts = compiled.verdicts(answers, as_of)
    explained = compiled.explain(range(len(trials)), answers, as_of)
    for trial, verdict, result in zip(trials, verdicts, explained, strict=True):
        expected = engine.evaluate(trial, answers, as_of, CATALOGUE)
        assert verdict == result.verdict == expected.verdict
        assert [(c.key, c.outcome, c.code) for c in result.criteria] == [
            (c.key, c.outcome, c.code) for c in expected.criteria
        ]
        assert [(c.missing, c.met_until) for c in result.criteria] == [
            (c.missing, c.met_until) for c in expected.criteria
        ]
        assert (result.missing, result.met_until) == (expected.missing, expected.met_until)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_it_agrees_with_the_engine_for_random_rules_and_patients(data):
    trials = draw_trials(data)
    compiler = Compiler(CATALOGUE)
    compiled = compiler.compile(trials)
    for _ in range(2):  # one compiled catalogue serves many patients
        as_of = data.draw(as_of_dates)
        assert_agrees_with_the_engine(compiled, trials, draw_answers(data, as_of), as_of)
    # One trial edited (new rules, next version), one added: the compiler recompiles those two only.
    edited = data.draw(st.integers(0, len(trials) - 1))
    [replacement, added] = draw_trials(data, count=2, first=len(trials))
    trials[edited] = replace(replacement, nct_id=trials[edited].nct_id, version=trials[edited].version + 1)
    trials.append(added)
    recompiled = compiler.compile(trials)
    assert recompiled._size == compile_catalogue(trials, CATALOGUE)._size  # nothing stale is evaluated
    as_of = data.draw(as_of_dates)
    assert_agrees_with_the_engine(recompiled, trials, draw_answers(data, as_of), as_of)


@settings(max_examples=1000, deadline=None)
@given(st.data())
def test_it_decides_every_comparison_like_the_engine(data):
    rule = data.draw(leaves)
    kind = data.draw(st.sampled_from([INCLUSION, EXCLUSION]))
    trials = [TrialRules("NCT00000001", "One comparison", (CriterionSpec("1", kind, "", rule),))]
    as_of = data.draw(as_of_dates)
    answers = draw_answers(data, as_of)
    if rule["q"] in NUMBER_QUESTIONS and rule["op"] != "age_between" and data.draw(st.booleans()):
        limits = rule["value"] if isinstance(rule["value"], list) else [rule["value"]]
        answers[rule["q"]] = data.draw(st.sampled_from(limits))  # right on the boundary
    if rule["op"] in ("within", "before") and data.draw(st.booleans()):
        boundary = shift(as_of, engine.parse_duration(rule["value"]), -1)
        answers[rule["q"]] = boundary + timedelta(days=data.draw(st.integers(-2, 2)))
    assert compile_catalogue(trials, CATALOGUE).verdicts(answers, as_of) == engine_verdicts(
        trials, answers, as_of, CATALOGUE
    )


FLAGS = ("hiv", "smoker")
flag_rules = st.recursive(
    st.builds(leaf, st.sampled_from(FLAGS), st.sampled_from(["=", "!="]), st.booleans()),
    lambda children: st.one_of(
        st.lists(children, max_size=4).map(lambda cs: {"all": cs}),
        st.lists(children, max_size=4).map(lambda cs: {"any": cs}),
        st.builds(lambda n, cs: {"at_least": n, "of": cs}, st.integers(-1, 5), st.lists(children, max_size=5)),
        children.map(lambda c: {"not": c}),
    ),
    max_leaves=14,
)


@settings(max_examples=600, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from([INCLUSION, EXCLUSION]), flag_rules), max_size=4),
    st.fixed_dictionaries({}, optional={code: st.booleans() for code in FLAGS}),
)
def test_it_combines_unknowns_like_the_engine(criteria, answers):
    specs = tuple(CriterionSpec(str(i), kind, "", rule) for i, (kind, rule) in enumerate(criteria))
    trials = [TrialRules("NCT00000001", "Logic", specs)]
    as_of = date(2024, 6, 1)
    assert compile_catalogue(trials).verdicts(answers, as_of) == engine_verdicts(trials, answers, as_of, {})


# --------------------------------------------------------------------------------------------
# Rules and answers the arrays do not model are left to the engine


def one_trial(rule, kind=INCLUSION):
    return [TrialRules("NCT00000001", "Odd", (CriterionSpec("1", kind, "", rule),))]


NEITHER = {"hiv": False, "smoker": False}
RAISES = "raises"  # whatever the engine raises, the compiled catalogue raises too

ODD_CASES = [
    # (rule, answers, expected verdict, or the exception both raise)
    (leaf("bmi", "nonsense", 1), {}, U),  # an unknown operator on an unanswered question is unknown
    (leaf("bmi", "nonsense", 1), {"bmi": 20}, engine.RuleError),
    (leaf("bmi", ">", 30), {"bmi": "high"}, TypeError),
    (leaf("hiv", "=", True), {"hiv": ["yes"]}, I),  # unhashable answer: compared, never equal
    (leaf("hiv", "=", [True]), {"hiv": True}, I),  # unhashable target
    (leaf("bmi", "<", 2**60 + 1), {"bmi": 2**60}, E),  # beyond float64's exact integers
    (leaf("bmi", ">", 30), {"bmi": 2**60}, E),
    (leaf("bmi", ">", 30), {"bmi": float("nan")}, I),
    (leaf("bmi", "between", [20, 30]), {"bmi": float("nan")}, E),  # the engine never says NaN is outside
    (leaf("bmi", "=", float("nan")), {"bmi": float("nan")}, I),
    (leaf("hba1c", ">=", True), {"hba1c": 1}, E),
    (leaf("diagnosis_date", "within", "9 fortnights"), {}, U),
    (leaf("diagnosis_date", "within", "9 fortnights"), {"diagnosis_date": date(2024, 1, 1)}, engine.RuleError),
    (leaf("diagnosis_date", "within", "9 weeks"), {"diagnosis_date": "2024-05-01"}, U),  # not a date
    (leaf("diagnosis_date", "within", "9000 years"), {"diagnosis_date": date(2024, 1, 1)}, ValueError),
    (leaf("diagnosis_date", "before", "999999 weeks"), {"diagnosis_date": date(2024, 1, 1)}, OverflowError),
    (leaf("diagnosis_date", "within", "1 month"), {"diagnosis_date": date(2024, 5, 1)}, I),  # exactly a month
    (leaf("diagnosis_date", "within", "1 month"), {"diagnosis_date": date(2024, 5, 2)}, E),
    (leaf("diagnosis_date", "within", "9 weeks"), {"diagnosis_date": date(2024, 7, 1)}, I),  # in the future
    (leaf("symptoms", "in", ["c"]), {"symptoms": "cough"}, E),  # a string is a set of letters to the engine
    (leaf("sex", "in", "fm"), {"sex": "f"}, E),
    (leaf("age", "age_between", {"min": "18 years"}), {"age": True}, U),  # a boolean is not an age
    (leaf("age", "age_between", {"min": "18 years"}), {"age": float("inf")}, U),
    (leaf("age", "age_between", {"max": "1000 days"}), {"age": 1e308}, RAISES),
    (leaf("age", "age_between", {"min": "217 months"}), {"age": 18}, U),  # 18 y entered: 216 to 227 months
    (leaf("age", "age_between", {}), {"age": 40}, E),
    (leaf("age", "age_between", ["18 years"]), {"age": 40}, AttributeError),
    ({"at_least": "2", "of": [leaf("hiv", "=", False), leaf("smoker", "=", False)]}, NEITHER, E),
    ({"at_least": 3, "of": [leaf("hiv", "=", False), leaf("smoker", "=", False)]}, NEITHER, I),
    ({"all": []}, {}, E),  # "no_conditions"
    ({"any": []}, {}, I),  # validation rejects an empty "any"; the engine does not call it met
    ({"at_least": 0, "of": []}, {}, E),
    ({"all": [leaf("hiv", "=", False), {"bogus": 1}]}, {}, engine.RuleError),
    ({"all": [leaf("hiv", "=", False), None]}, {}, engine.RuleError),
    ({"not": {"not": leaf("hiv", "=", True)}}, {"hiv": True}, E),
]


@pytest.mark.parametrize("rule, answers, expected", ODD_CASES)
def test_it_leaves_what_it_cannot_vectorise_to_the_engine(rule, answers, expected):
    as_of = date(2024, 6, 1)
    trials = one_trial(rule)
    compiled = compile_catalogue(trials, CATALOGUE)
    if expected == RAISES or isinstance(expected, type):
        # The engine no longer raises for a rule it cannot evaluate: that criterion screens as
        # "needs review" (code invalid_rule), and the compiled path agrees on the verdict.
        result = engine.evaluate(trials[0], answers, as_of, CATALOGUE)
        assert "invalid_rule" in [c.code for c in result.criteria]
        assert compiled.verdicts(answers, as_of) == [result.verdict]
    else:
        assert engine_verdicts(trials, answers, as_of, CATALOGUE) == [expected]
        assert compiled.verdicts(answers, as_of) == [expected]


def test_it_treats_a_trial_without_criteria_as_eligible():
    trials = [TrialRules("NCT00000001", "Empty", ())]
    assert compile_catalogue(trials).verdicts({}, date(2024, 6, 1)) == [E]


def test_it_compiles_an_empty_catalogue():
    compiled = compile_catalogue([], CATALOGUE)
    assert len(compiled) == 0
    assert compiled.verdicts({}, date(2024, 6, 1)) == []


# --------------------------------------------------------------------------------------------
# The two seed trials, read straight from their JSON


def seed_trial(nct_id):
    data = json.loads((SEED / f"{nct_id}.json").read_text())
    criteria = tuple(CriterionSpec(str(i), c["kind"], c["text"], c.get("rule")) for i, c in enumerate(data["criteria"]))
    return TrialRules(data["nct_id"], data["brief_title"], criteria)


SEED_TRIALS = [seed_trial("NCT01219465"), seed_trial("NCT03835312")]  # stem cells 3-35 y; children <= 18 y
SEED_CATALOGUE = seed_catalogue()
AS_OF = date(2024, 6, 1)
NO_EXCLUSIONS = {
    code: False
    for code in (
        "diabetic_ketoacidosis",
        "diabetic_retinopathy",
        "severe_organ_damage",
        "hiv",
        "hepatitis_b",
        "hepatitis_c",
        "active_infection",
        "severe_psychiatric_disorder",
        "malignancy",
        "mental_disorder",
        "other_fatal_disease",
        "effective_treatment_available",
    )
}
NEW_ADULT = {
    "date_of_birth": date(2000, 3, 15),
    "t1d_diagnosis": True,
    "t1d_diagnosis_date": date(2024, 5, 1),
    "consent_possible": True,
    "height": 175,
    "weight": 70,
    **NO_EXCLUSIONS,
}
CHILD_WITH_GENE = {
    "age": 10,
    "t1d_diagnosis": True,
    "t1d_diagnosis_date": date(2022, 1, 10),
    "immune_gene_mutation": True,
    "inflammatory_bowel_disease": True,
    "organ_damage_recurred": True,
    "consent_possible": True,
    "height": 140,
    "weight": 35,
    **NO_EXCLUSIONS,
}

VIGNETTES = [
    # (answers, verdict for NCT01219465, verdict for NCT03835312)
    ({}, U, U),
    (NEW_ADULT, E, I),  # 24 years: too old for the children's trial
    ({**NEW_ADULT, "weight": 95}, I, I),  # BMI 31.0 (calculated) > 30 excludes
    ({**NEW_ADULT, "height": None, "weight": None}, U, I),  # BMI unknown
    ({**NEW_ADULT, "t1d_diagnosis_date": date(2024, 3, 30)}, I, I),  # exactly 9 weeks ago: not "less than 9 weeks"
    ({**NEW_ADULT, "t1d_diagnosis_date": date(2024, 3, 31)}, E, I),  # 8 weeks 6 days
    ({**NEW_ADULT, "date_of_birth": date(1988, 6, 2)}, E, I),  # 35 years 364 days: still 35 completed years
    ({**NEW_ADULT, "date_of_birth": date(1988, 6, 1)}, I, I),  # 36 today
    ({**NEW_ADULT, "hepatitis_b": None}, U, I),  # one "any" exclusion unanswered
    ({**NEW_ADULT, "hepatitis_b": True}, I, I),
    (CHILD_WITH_GENE, I, E),  # diagnosed over two years ago
    ({**CHILD_WITH_GENE, "age": 18.5}, I, E),  # 18 completed years is still "up to 18 years"
    ({**CHILD_WITH_GENE, "age": 19}, I, I),
    ({**CHILD_WITH_GENE, "inflammatory_bowel_disease": False}, I, U),  # the other organ damage is unanswered
    ({**CHILD_WITH_GENE, "t1d_diagnosis_date": date(2024, 5, 20), "mental_disorder": True}, E, I),
]


@pytest.mark.parametrize("answers, first, second", VIGNETTES)
def test_it_screens_seed_vignettes_like_the_engine(answers, first, second):
    compiled = compile_catalogue(SEED_TRIALS, SEED_CATALOGUE)
    assert engine_verdicts(SEED_TRIALS, answers, AS_OF, SEED_CATALOGUE) == [first, second]
    assert compiled.verdicts(answers, AS_OF) == [first, second]


def test_it_explains_only_the_trials_asked_for():
    compiled = compile_catalogue(SEED_TRIALS, SEED_CATALOGUE)
    [result] = compiled.explain([1], NEW_ADULT, AS_OF)
    assert result.nct_id == "NCT03835312"
    assert result.verdict == Verdict.INELIGIBLE
    assert [c.code for c in result.deciding] == ["age_above_max"]
