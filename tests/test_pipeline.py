"""The one screening pipeline: compiled verdicts equal the interpretive engine's; the catalogue is cheap to check."""

import json
from datetime import date
from pathlib import Path

import pytest

from eligibility import pipeline
from eligibility.answers import parse_answers
from eligibility.compiled import Compiler, compile_catalogue
from eligibility.engine import BOOLEAN, EXCLUSION, INCLUSION, CriterionSpec, QuestionSpec, TrialRules, Verdict, evaluate
from screening.pipeline import screen
from trials.models import Question, catalogue, screening_data

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2026, 11, 21)


def example_patients():
    """(name, raw answers, reference date) of every example patient that ships with the project."""
    for path in sorted((ROOT / "examples").glob("*.json")):
        yield path.name, json.loads(path.read_text()), AS_OF
    for nct_id, examples in json.loads((ROOT / "curation" / "seed" / "examples.json").read_text()).items():
        for example in examples:
            yield f"{nct_id}: {example['name']}", example["answers"], date.fromisoformat(example["as_of"])


@pytest.mark.django_db
def test_it_gives_the_engines_verdicts_for_every_example_patient(seeded):
    data = screening_data()
    trials = list(data.trials.values())
    for name, raw, as_of in example_patients():
        result = pipeline.screen(catalogue=data.questions, trials=trials, as_of=as_of, answers=raw, explain=())
        typed, _ = parse_answers(raw, data.questions, as_of)
        expected = [evaluate(t, typed, as_of, data.questions).verdict for t in trials]
        assert [v.verdict for v in result.verdicts] == expected, name
        assert result.explained == {}


@pytest.mark.django_db
def test_it_explains_only_the_trials_asked_for(seeded):
    result = screen(as_of=AS_OF, answers={"age": 10}, explain=["NCT03835312"])
    assert [r.nct_id for r in result.results] == ["NCT03835312"]
    assert len(result.verdicts) == 2


@pytest.mark.django_db
def test_it_reports_problems_with_codes_and_screens_nothing(seeded):
    result = screen(as_of=AS_OF, answers={"shoe_size": 44}, bundle={"resourceType": "Patient"}, trials=["NCT99999999"])
    assert [(p.source, p.code) for p in result.problems] == [
        ("trials", "unknown_trial"),
        ("fhir", "not_bundle"),
        ("answers", "answer"),
    ]
    assert result.verdicts == () and not result.ok


@pytest.mark.django_db
def test_a_second_catalogue_read_costs_one_query_and_a_change_is_seen(seeded, django_assert_max_num_queries):
    catalogue()
    screening_data()
    with django_assert_max_num_queries(1):
        catalogue()
    with django_assert_max_num_queries(1):
        screening_data()
    question = Question.objects.get(code="bmi")
    question.label = "BMI!"
    question.save()
    assert catalogue()["bmi"].label == "BMI!"


# --------------------------------------------------------------------------------------------
# Incremental recompiles (pure: no database)

BOOLEAN_CATALOGUE = {code: QuestionSpec(code, code, BOOLEAN) for code in ("hiv", "smoker", "pregnant")}


def flag_trial(n, version=0, flag="hiv", value=False):
    rule = {"all": [{"q": flag, "op": "=", "value": value}, {"q": "smoker", "op": "!=", "value": True}]}
    criteria = (
        CriterionSpec("1", INCLUSION, "", rule),
        CriterionSpec("2", EXCLUSION, "", {"q": "pregnant", "op": "=", "value": True}),
    )
    return TrialRules(f"NCT{n:08d}", f"Trial {n}", criteria, version)


@pytest.fixture
def compiles(monkeypatch):
    """The trials the pipeline compiled from their rules, in order."""
    pipeline.clear_cache()
    compiled_trials = []
    compile_trial = Compiler._trial

    def counted(self, trial):
        compiled_trials.append(trial.nct_id)
        return compile_trial(self, trial)

    monkeypatch.setattr(Compiler, "_trial", counted)
    yield compiled_trials
    pipeline.clear_cache()


def screened_verdicts(trials, answers):
    return pipeline.compiled(trials, BOOLEAN_CATALOGUE).verdicts(answers, AS_OF)


def test_it_recompiles_only_the_trial_whose_rules_changed(compiles):
    trials = [flag_trial(n) for n in range(600)]
    answers = {"hiv": False, "smoker": False}
    assert screened_verdicts(trials, answers) == [Verdict.UNDETERMINED] * 600  # pregnancy is not answered
    assert len(compiles) == 600

    compiles.clear()
    trials[300] = flag_trial(300, version=1, value=True)  # now requires HIV
    answers["pregnant"] = False
    verdicts = screened_verdicts(trials, answers)
    assert compiles == ["NCT00000300"]
    assert verdicts == [evaluate(t, answers, AS_OF, BOOLEAN_CATALOGUE).verdict for t in trials]
    assert verdicts.count(Verdict.INELIGIBLE) == 1 and verdicts[300] == Verdict.INELIGIBLE


def test_it_compiles_only_an_added_trial_and_nothing_for_a_removed_one(compiles):
    trials = [flag_trial(n) for n in range(10)]
    screened_verdicts(trials, {})
    compiles.clear()
    fewer = trials[:4] + trials[5:]
    assert screened_verdicts(fewer, {"hiv": True}) == [Verdict.INELIGIBLE] * 9
    assert compiles == []
    more = [*fewer, flag_trial(99, flag="pregnant", value=True)]
    answers = {"hiv": False, "smoker": False, "pregnant": False}
    assert screened_verdicts(more, answers) == [Verdict.ELIGIBLE] * 9 + [Verdict.INELIGIBLE]
    assert compiles == ["NCT00000099"]


def test_a_recompile_lays_out_no_more_nodes_than_a_fresh_compile(compiles):
    trials = [flag_trial(n, flag=("hiv", "smoker")[n % 2]) for n in range(20)]
    screened_verdicts(trials, {})
    for version in range(1, 4):  # each edit leaves the old rule's nodes behind in the compiler's graph
        trials[0] = flag_trial(0, version, flag="pregnant", value=version % 2 == 0)
        screened_verdicts(trials, {})
    incremental = pipeline.compiled(trials, BOOLEAN_CATALOGUE).catalogue
    assert incremental._size == compile_catalogue(trials, BOOLEAN_CATALOGUE)._size


def test_it_recompiles_rules_built_by_hand_that_change_without_a_new_version(compiles):
    screened_verdicts([flag_trial(1)], {"hiv": False, "smoker": False, "pregnant": False})
    changed = [flag_trial(1, value=True)]  # still version 0
    assert screened_verdicts(changed, {"hiv": False, "smoker": False, "pregnant": False}) == [Verdict.INELIGIBLE]
    assert compiles == ["NCT00000001", "NCT00000001"]
