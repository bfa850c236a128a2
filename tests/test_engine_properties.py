"""Properties of the engine over random rules and random answers (hypothesis). Pure: no database.

The rules are generated valid (each is checked with validate_rule) over a small catalogue taken from
the seed questions: yes/no, number, date and choice questions, including the calculated age and BMI.
"""

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from eligibility import pipeline
from eligibility.answers import consistency_errors, parse_answers, to_json
from eligibility.engine import (
    EXCLUSION,
    INCLUSION,
    CriterionSpec,
    Duration,
    Outcome,
    TrialRules,
    Verdict,
    completed,
    completed_years,
    evaluate,
    referenced_questions,
    shift,
)
from eligibility.rules import COMPARISONS, OPERATORS, describe, validate_rule
from tests.factories import seed_catalogue

CODES = (
    "age",
    "date_of_birth",
    "height",
    "weight",
    "bmi",
    "hba1c",
    "sex",
    "hiv",
    "t1d_diagnosis",
    "t1d_diagnosis_date",
)
CATALOGUE = {code: spec for code, spec in seed_catalogue().items() if code in CODES}
UNITS = ("days", "weeks", "months", "years")

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------------------------
# Strategies: rules

# Amounts that a protocol might use, so that limits land near the patients' ages and dates.
LONGEST = {"days": 1000, "weeks": 200, "months": 60, "years": 100}
durations = st.sampled_from(UNITS).flatmap(lambda unit: st.integers(0, LONGEST[unit]).map(lambda n: f"{n} {unit}"))


def number_values(code):
    spec = CATALOGUE[code]
    low, high = int(spec.min_value), int(spec.max_value)
    return st.integers(low, high) | st.floats(low, high).map(lambda x: round(x, 1))


def leaf_rules(code, presence, age_comparisons=True, date_ops=("within", "before")):
    spec = CATALOGUE[code]
    options = []
    if spec.type == "boolean":
        options.append(
            st.builds(lambda op, v: {"q": code, "op": op, "value": v}, st.sampled_from(("=", "!=")), st.booleans())
        )
    elif spec.type == "number" and (age_comparisons or code != "age"):
        values = number_values(code)
        options.append(st.builds(lambda op, v: {"q": code, "op": op, "value": v}, st.sampled_from(COMPARISONS), values))
        options.append(st.builds(lambda a, b: {"q": code, "op": "between", "value": sorted([a, b])}, values, values))
    elif spec.type == "date":
        options.append(st.builds(lambda op, d: {"q": code, "op": op, "value": d}, st.sampled_from(date_ops), durations))
    elif spec.type == "choice":
        keys = [k for k, _ in spec.choices]
        options.append(
            st.builds(
                lambda op, v: {"q": code, "op": op, "value": v}, st.sampled_from(("=", "!=")), st.sampled_from(keys)
            )
        )
        options.append(
            st.builds(
                lambda op, vs: {"q": code, "op": op, "value": vs},
                st.sampled_from(("in", "not_in")),
                st.lists(st.sampled_from(keys), min_size=1, unique=True),
            )
        )
    if code == "age":
        limits = st.fixed_dictionaries({}, optional={"min": durations, "max": durations}).filter(bool)
        options.append(limits.map(lambda value: {"q": "age", "op": "age_between", "value": value}))
    if presence:
        options.append(st.sampled_from(("answered", "not_answered")).map(lambda op: {"q": code, "op": op}))
    return st.one_of(options)


def rules(presence=True, negation=True, age_comparisons=True, codes=CODES, date_ops=("within", "before")):
    leaves = st.sampled_from(codes).flatmap(lambda code: leaf_rules(code, presence, age_comparisons, date_ops))

    def groups(kids):
        options = [
            st.lists(kids, max_size=3).map(lambda xs: {"all": xs}),
            st.lists(kids, min_size=1, max_size=3).map(lambda xs: {"any": xs}),
            st.lists(kids, min_size=1, max_size=3).flatmap(
                lambda xs: st.integers(1, len(xs)).map(lambda n: {"at_least": n, "of": xs})
            ),
        ]
        if negation:
            options.append(kids.map(lambda x: {"not": x}))
        return st.one_of(options)

    return st.recursive(leaves, groups, max_leaves=6)


def trials(presence=True):
    criterion = st.tuples(st.sampled_from((INCLUSION, EXCLUSION)), rules(presence) | st.none())
    return st.lists(criterion, min_size=1, max_size=4).map(
        lambda rows: TrialRules(
            "NCT0",
            "Random trial",
            tuple(CriterionSpec(str(i), kind, f"criterion {i}", rule) for i, (kind, rule) in enumerate(rows)),
        )
    )


# --------------------------------------------------------------------------------------------
# Strategies: answers

reference_dates = st.dates(date(2010, 1, 1), date(2035, 12, 31))


def answer_values(code, as_of):
    """Any plausible answer to one question, as typed answers."""
    spec = CATALOGUE[code]
    if spec.type == "boolean":
        return st.booleans()
    if spec.type == "number":
        return number_values(code)
    if spec.type == "choice":
        return st.sampled_from([k for k, _ in spec.choices])
    if code == "date_of_birth":
        # Young children half the time: that is where limits in months, weeks and days matter.
        return st.dates(as_of - timedelta(days=5 * 366), as_of) | st.dates(
            date(max(1900, as_of.year - 110), 1, 1), as_of
        )
    return st.dates(as_of - timedelta(days=3 * 366), as_of)


@st.composite
def any_answers(draw, as_of):
    """Independent plausible answers to some of the questions (not necessarily about one patient)."""
    codes = draw(st.sets(st.sampled_from(CODES)))
    return {code: draw(answer_values(code, as_of)) for code in sorted(codes)}


@st.composite
def patients(draw, as_of):
    """Every answer about one patient, consistent with each other (age and BMI as calculated)."""
    born = draw(answer_values("date_of_birth", as_of))
    height = draw(st.integers(140, 200) | st.floats(140, 200).map(lambda x: round(x, 1)))
    weight = draw(st.integers(40, 150))
    return {
        "date_of_birth": born,
        "age": completed_years(born, as_of),
        "height": height,
        "weight": weight,
        "bmi": round(weight / (height / 100.0) ** 2, 1),
        "hba1c": draw(number_values("hba1c")),
        "sex": draw(answer_values("sex", as_of)),
        "hiv": draw(st.booleans()),
        "t1d_diagnosis": draw(st.booleans()),
        # Not before birth: parse_answers refuses a diagnosis date before the date of birth.
        "t1d_diagnosis_date": draw(st.dates(max(born, as_of - timedelta(days=3 * 366)), as_of)),
    }


def typed(answers, as_of):
    """The answers as the app receives them: through JSON and parse_answers, which must accept each of them.

    Independent answers may contradict one another (an age that is not the date of birth's), which the app
    refuses; the engine gets them anyway, as it must never fail on any set of valid values."""
    clean, errors = parse_answers(to_json(answers), CATALOGUE, as_of)
    assert [e for e in errors if e not in consistency_errors(clean, CATALOGUE, as_of)] == []
    return clean


def has_presence_test(rule):
    if isinstance(rule, dict):
        if rule.get("op") in ("answered", "not_answered"):
            return True
        return any(has_presence_test(v) for v in rule.values())
    if isinstance(rule, list):
        return any(has_presence_test(v) for v in rule)
    return False


DECIDED = (Outcome.MET, Outcome.NOT_MET)


# --------------------------------------------------------------------------------------------
# Properties


@SETTINGS
@given(rules())
def test_it_generates_only_valid_rules(rule):
    assert validate_rule(rule, CATALOGUE) == []


@SETTINGS
@given(st.data(), reference_dates, trials(presence=False))
def test_it_never_changes_a_decided_outcome_when_more_is_answered(data, as_of, trial):
    patient = data.draw(patients(as_of))
    known = data.draw(st.sets(st.sampled_from(CODES)))
    more = known | data.draw(st.sets(st.sampled_from(CODES)))
    before = evaluate(trial, typed({c: patient[c] for c in known}, as_of), as_of, CATALOGUE)
    after = evaluate(trial, typed({c: patient[c] for c in more}, as_of), as_of, CATALOGUE)
    for first, second in zip(before.criteria, after.criteria):
        if first.outcome in DECIDED:
            assert second.outcome == first.outcome, (first.explanation, second.explanation)
    if before.verdict != Verdict.UNDETERMINED:
        assert after.verdict == before.verdict


@SETTINGS
@given(
    reference_dates,
    st.integers(0, 8 * 366),
    st.fixed_dictionaries({}, optional={"min": durations, "max": durations}).filter(bool),
)
def test_it_never_lets_an_entered_age_contradict_the_date_of_birth(as_of, days_old, limits):
    # The focused case of the property above: an entered age is whole years, so it can only decide
    # what the date of birth would decide the same way.
    born = as_of - timedelta(days=days_old)
    trial = TrialRules(
        "NCT0", "t", (CriterionSpec("1", INCLUSION, "c", {"q": "age", "op": "age_between", "value": limits}),)
    )
    entered = evaluate(trial, {"age": completed_years(born, as_of)}, as_of, CATALOGUE).criteria[0]
    exact = evaluate(trial, {"date_of_birth": born}, as_of, CATALOGUE).criteria[0]
    assert exact.outcome in DECIDED
    if entered.outcome in DECIDED:
        assert entered.outcome == exact.outcome  # (codes may differ when min is above max)
    else:
        assert entered.missing == ("date_of_birth",)


def test_it_lets_answered_tests_change_once_answered():
    # Why the property above leaves them out: "not answered" stops holding once it is answered.
    trial = TrialRules("NCT0", "t", (CriterionSpec("1", INCLUSION, "c", {"q": "hiv", "op": "not_answered"}),))
    assert evaluate(trial, {}, date(2026, 1, 1), CATALOGUE).criteria[0].outcome == Outcome.MET
    assert evaluate(trial, {"hiv": False}, date(2026, 1, 1), CATALOGUE).criteria[0].outcome == Outcome.NOT_MET


@SETTINGS
@given(st.data(), reference_dates, trials())
def test_it_leaves_a_rule_alone_when_a_question_it_does_not_read_is_answered(data, as_of, trial):
    answers = data.draw(any_answers(as_of))
    unanswered = [c for c in CODES if c not in answers]
    if not unanswered:
        return
    code = data.draw(st.sampled_from(unanswered))
    more = {**answers, code: data.draw(answer_values(code, as_of))}
    before = evaluate(trial, typed(answers, as_of), as_of, CATALOGUE)
    after = evaluate(trial, typed(more, as_of), as_of, CATALOGUE)
    for spec, first, second in zip(trial.criteria, before.criteria, after.criteria):
        if code not in referenced_questions(spec.rule):
            assert second == first


def expected_verdict(result):
    """The verdict recomputed from the criterion outcomes, independently of the engine."""
    against, settled = False, True
    for c in result.criteria:
        if c.kind == INCLUSION:
            against = against or c.outcome == Outcome.NOT_MET
            settled = settled and c.outcome == Outcome.MET
        else:
            against = against or c.outcome == Outcome.MET
            settled = settled and c.outcome == Outcome.NOT_MET
    if against:
        return Verdict.INELIGIBLE
    return Verdict.ELIGIBLE if settled else Verdict.UNDETERMINED


@SETTINGS
@given(st.data(), reference_dates, trials())
def test_it_derives_the_verdict_from_the_criterion_outcomes(data, as_of, trial):
    result = evaluate(trial, typed(data.draw(any_answers(as_of)), as_of), as_of, CATALOGUE)
    assert result.verdict == expected_verdict(result)
    assert sum(result.counts.values()) == len(result.criteria)
    assert bool(result.deciding) == (result.verdict == Verdict.INELIGIBLE)
    for c in result.criteria:
        assert (c.outcome == Outcome.NEEDS_REVIEW) == (trial.criteria[int(c.key)].rule is None)
        # Unknown always says which answers would settle it, and only unknown does.
        assert bool(c.missing) == (c.outcome == Outcome.UNKNOWN)
        assert set(c.missing) <= referenced_questions(trial.criteria[int(c.key)].rule)
    if result.verdict == Verdict.UNDETERMINED:
        reviewing = any(c.outcome == Outcome.NEEDS_REVIEW for c in result.criteria)
        assert result.missing or reviewing
    else:
        assert result.missing == ()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), reference_dates, st.lists(trials(), min_size=1, max_size=4), trials())
def test_the_pipeline_agrees_with_the_engine_on_everything_the_panel_reads(data, as_of, drawn, edit):
    """Compiled verdicts and explanations (verdict, each criterion's outcome, missing questions, met_until)
    equal engine.evaluate's, before and after one trial is edited (a new version, recompiled on its own)."""
    catalogue_trials = [replace(t, nct_id=f"NCT{n:08d}") for n, t in enumerate(drawn)]
    pipeline.clear_cache()
    for _ in range(2):
        raw = to_json(data.draw(any_answers(as_of)))
        screened = pipeline.screen(
            catalogue=CATALOGUE,
            trials=catalogue_trials,
            as_of=as_of,
            answers=raw,
            screen_with_problems=True,
            missing=True,
        )
        assert len(screened.verdicts) == len(catalogue_trials)
        # The open questions of every undetermined trial, from the arrays without explaining it, are the engine's.
        undetermined = [evaluate(t, screened.answers, as_of, CATALOGUE) for t in catalogue_trials]
        assert screened.missing == {r.nct_id: r.missing for r in undetermined if r.verdict == Verdict.UNDETERMINED}
        for trial, verdict in zip(catalogue_trials, screened.verdicts, strict=True):
            expected = evaluate(trial, screened.answers, as_of, CATALOGUE)
            result = screened.explained[trial.nct_id]
            assert verdict.verdict == result.verdict == expected.verdict
            assert [(c.outcome, c.code, c.missing, c.met_until) for c in result.criteria] == [
                (c.outcome, c.code, c.missing, c.met_until) for c in expected.criteria
            ]
            assert (result.missing, result.met_until) == (expected.missing, expected.met_until)
        n = data.draw(st.integers(0, len(catalogue_trials) - 1))
        old = catalogue_trials[n]
        catalogue_trials[n] = replace(edit, nct_id=old.nct_id, version=old.version + 1)


# Anything JSON can carry, including the awkward numbers.
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(10**300, 10**400),
    st.floats(),
    st.text(max_size=10),
    st.sampled_from(["yes", "female", "2026-01-01", "3 years", "9 weeks", "", "nan"]),
    st.builds(lambda n, unit: f"{n} {unit}", st.integers(0, 10**7), st.sampled_from(UNITS)),
)
json_values = st.recursive(
    json_scalars,
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.sampled_from(["min", "max", "q", "x"]), kids, max_size=2)
    ),
    max_leaves=5,
)
junk_leaves = st.fixed_dictionaries(
    {"q": st.sampled_from(CODES + ("nope",)) | json_values, "op": st.sampled_from(OPERATORS + ("=>",)) | json_values},
    optional={"value": json_values, "unit": st.sampled_from(["", "kg/m²", "kg", "years"]) | json_values},
)
junk_rules = st.recursive(
    junk_leaves | json_values,
    lambda kids: st.one_of(
        st.lists(kids, max_size=3).map(lambda xs: {"all": xs}),
        st.lists(kids, max_size=3).map(lambda xs: {"any": xs}),
        kids.map(lambda x: {"not": x}),
        st.builds(lambda n, xs: {"at_least": n, "of": xs}, json_values, st.lists(kids, max_size=3)),
    ),
    max_leaves=6,
)
junk_answers = st.dictionaries(st.sampled_from(CODES) | st.text(max_size=5), json_values, max_size=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), reference_dates, rules() | junk_rules, st.sampled_from((INCLUSION, EXCLUSION)))
def test_it_never_crashes_on_answers_and_rules_that_pass_validation(data, as_of, rule, kind):
    raw = data.draw(junk_answers | any_answers(as_of).map(to_json))
    answers, _ = parse_answers(raw, CATALOGUE, as_of)
    problems = validate_rule(rule, CATALOGUE)
    describe(rule, CATALOGUE)
    if problems:
        return
    trial = TrialRules("NCT0", "t", (CriterionSpec("1", kind, "c", rule),))
    result = evaluate(trial, answers, as_of, CATALOGUE)
    assert result.criteria[0].outcome in (Outcome.MET, Outcome.NOT_MET, Outcome.UNKNOWN)


# --------------------------------------------------------------------------------------------
# Dates


@SETTINGS
@given(st.dates(date(1900, 1, 1), date(2100, 12, 31)), st.integers(0, 3000), st.sampled_from(UNITS))
def test_it_counts_completed_units_as_the_most_that_fit(start, days, unit):
    end = start + timedelta(days=days)
    n = completed(start, end, unit)
    assert shift(start, Duration(n, unit)) <= end < shift(start, Duration(n + 1, unit))


@SETTINGS
@given(reference_dates, st.integers(-30, 1200), durations)
def test_it_splits_the_past_between_within_and_before(as_of, days_ago, duration):
    when = as_of - timedelta(days=days_ago)
    outcomes = []
    for op in ("within", "before"):
        trial = TrialRules(
            "NCT0", "t", (CriterionSpec("1", INCLUSION, "c", {"q": "t1d_diagnosis_date", "op": op, "value": duration}),)
        )
        outcomes.append(evaluate(trial, {"t1d_diagnosis_date": when}, as_of, CATALOGUE).criteria[0])
    if days_ago < 0:
        assert [c.code for c in outcomes] == ["in_future", "in_future"]
    else:
        assert sorted(c.outcome for c in outcomes) == sorted([Outcome.MET, Outcome.NOT_MET])


# Rules on what time changes (windows since a diagnosis, age limits, comparisons on the age a date of birth
# gives), with negation and every group, and a yes/no question that time does not change.
TIME_RULES = rules(presence=False, codes=("age", "date_of_birth", "t1d_diagnosis_date", "t1d_diagnosis_date", "hiv"))


def screened_on(data, as_of, rule):
    """A random patient (age from the date of birth, so it moves with the day) and a screen on `day`."""
    answers = typed(data.draw(patients(as_of)), as_of)
    del answers["age"]
    trial = TrialRules("NCT0", "t", (CriterionSpec("1", INCLUSION, "c", rule),))
    return lambda day: evaluate(trial, answers, day, CATALOGUE).criteria[0]


@SETTINGS
@given(st.data(), reference_dates, TIME_RULES)
def test_an_outcome_holds_through_its_met_until(data, as_of, rule):
    # met_until is the last day the outcome holds ("met until", or "not met until"): it never promises too much.
    screen = screened_on(data, as_of, rule)
    result = screen(as_of)
    event(f"{result.outcome} {'with' if result.met_until else 'without'} met_until")
    if result.met_until is None:
        return
    assert result.outcome in (Outcome.MET, Outcome.NOT_MET)
    assert result.met_until >= as_of
    later = as_of + timedelta(days=data.draw(st.integers(0, (result.met_until - as_of).days)))
    assert screen(later).outcome == screen(result.met_until).outcome == result.outcome


@SETTINGS
@given(st.data(), reference_dates, st.sampled_from(("age", "date_of_birth", "t1d_diagnosis_date")))
def test_a_single_condition_changes_the_day_after_its_met_until(data, as_of, code):
    # Exact for one condition: the next day the outcome is different.
    rule = data.draw(leaf_rules(code, presence=False))
    screen = screened_on(data, as_of, rule)
    result = screen(as_of)
    event(f"{rule['op']}: {result.outcome} {'with' if result.met_until else 'without'} met_until")
    if result.met_until is not None:
        assert screen(result.met_until + timedelta(days=1)).outcome != result.outcome
