"""The one screening pipeline: compiled verdicts equal the interpretive engine's; the catalogue is cheap to check."""

import json
from datetime import date
from pathlib import Path

import pytest

from eligibility import pipeline
from eligibility.answers import parse_answers
from eligibility.engine import evaluate
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
