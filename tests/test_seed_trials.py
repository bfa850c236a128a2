"""Patient vignettes that drive every criterion of both seed trials to met, not met and unknown."""

import json
from datetime import date

import pytest
from django.core.management import call_command

from eligibility.engine import Outcome, Verdict, evaluate
from tests.factories import ELIGIBLE_FOR_BOTH
from trials.models import Criterion, Question, Trial, catalogue
from trials.seed import SEED_DIR

AS_OF = date(2026, 11, 21)


def screen(nct_id, answers):
    from eligibility.answers import parse_answers

    questions = catalogue()
    clean, errors = parse_answers(answers, questions, AS_OF)
    assert not errors, errors
    rules = Trial.objects.filter(nct_id=nct_id).rules()[0]
    return evaluate(rules, clean, AS_OF, questions)


def outcome_of(result, text_start):
    matches = [c for c in result.criteria if c.text.startswith(text_start)]
    assert len(matches) == 1, f"no single criterion starting {text_start!r}"
    return matches[0]


def without(answers, *codes):
    return {k: v for k, v in answers.items() if k not in codes}


@pytest.fixture(autouse=True)
def _seed(seeded):
    pass


@pytest.mark.django_db
class TestSeedLoading:
    def test_it_loads_every_protocol_bullet_verbatim(self):
        for nct_id, bullets in (("NCT01219465", 9), ("NCT03835312", 10)):
            trial = Trial.objects.get(nct_id=nct_id)
            protocol = trial.criteria.filter(source=Criterion.Source.PROTOCOL)
            assert protocol.count() == bullets
            source = SEED_DIR.parent.parent.parent / "shared" / "seeds" / f"{nct_id}.txt"
            published = source.read_text() if source.exists() else trial.eligibility_text
            for criterion in protocol:
                assert criterion.text in published

    def test_it_structures_every_criterion(self):
        assert not Criterion.objects.filter(rule__isnull=True).exists()
        problems = [c.full_clean() for c in Criterion.objects.all()]  # raises on an invalid rule
        assert problems == [None] * Criterion.objects.count()

    def test_it_adds_the_registry_limits_as_criteria(self):
        texts = set(Criterion.objects.filter(source="registry").values_list("text", flat=True))
        assert "Ages Eligible for Study: 3 Years to 35 Years" in texts
        assert "Ages Eligible for Study: up to 18 Years" in texts
        assert "Accepts Healthy Volunteers: No" in texts

    def test_loading_twice_changes_nothing(self):
        versions = dict(Trial.objects.values_list("nct_id", "criteria_version"))
        history = Criterion.history.count()
        call_command("load_seed_trials", stdout=open("/dev/null", "w"))
        assert dict(Trial.objects.values_list("nct_id", "criteria_version")) == versions
        assert Criterion.history.count() == history
        assert Question.objects.count() == len(json.loads((SEED_DIR / "questions.json").read_text()))

    def test_it_keeps_the_seed_json_rules_valid(self):
        from eligibility.rules import validate_rule

        for nct_id in ("NCT01219465", "NCT03835312"):
            data = json.loads((SEED_DIR / f"{nct_id}.json").read_text())
            for row in data["criteria"]:
                assert validate_rule(row["rule"], catalogue()) == [], row["text"]


@pytest.mark.django_db
class TestBothEligible:
    @pytest.mark.parametrize("nct_id", ["NCT01219465", "NCT03835312"])
    def test_it_finds_the_vignette_eligible(self, nct_id):
        result = screen(nct_id, ELIGIBLE_FOR_BOTH)
        assert result.verdict == Verdict.ELIGIBLE, [(c.text[:30], c.outcome) for c in result.criteria]
        assert all(c.satisfied for c in result.criteria)

    def test_it_says_when_the_nine_week_window_closes(self):
        result = screen("NCT01219465", ELIGIBLE_FOR_BOTH)
        criterion = outcome_of(result, "Confirmed diagnosis of type 1 diabetes")
        # Diagnosed 2026-10-24: less than 9 weeks until 2026-12-25 inclusive.
        assert criterion.met_until == date(2026, 12, 25)
        assert result.met_until == date(2026, 12, 25)


# (trial, criterion text start, answers change, expected outcome, expected code)
NCT01219465_CASES = [
    ("Ages Eligible", {"date_of_birth": "2024-01-01"}, Outcome.NOT_MET, "age_below_min"),
    ("Ages Eligible", {"date_of_birth": "1990-01-01"}, Outcome.NOT_MET, "age_above_max"),
    ("Ages Eligible", {"date_of_birth": "1991-05-21"}, Outcome.MET, "age_in_range"),  # 35 y 6 m
    ("Ages Eligible", {"date_of_birth": None}, Outcome.UNKNOWN, "missing"),
    # "No" with a diagnosis date would contradict it (eligibility/contradictions.py): the date goes too.
    ("Accepts Healthy Volunteers", {"t1d_diagnosis": False, "t1d_diagnosis_date": None}, Outcome.NOT_MET, "not_equal"),
    ("Confirmed diagnosis", {"t1d_diagnosis_date": "2026-09-19"}, Outcome.NOT_MET, "outside_window"),  # exactly 9 weeks
    ("Confirmed diagnosis", {"t1d_diagnosis_date": "2026-09-20"}, Outcome.MET, "all_met"),
    ("Confirmed diagnosis", {"t1d_diagnosis_date": None}, Outcome.UNKNOWN, "missing"),
    ("Ability to provide written informed consent", {"consent_possible": False}, Outcome.NOT_MET, "not_equal"),
    ("Ability to provide written informed consent", {"consent_possible": None}, Outcome.UNKNOWN, "missing"),
    ("diabetic ketoacidosis", {"diabetic_ketoacidosis": True}, Outcome.MET, "equal"),
    ("diabetic ketoacidosis", {"diabetic_ketoacidosis": None}, Outcome.UNKNOWN, "missing"),
    ("evidence of retinopathy", {"diabetic_retinopathy": True}, Outcome.MET, "equal"),
    ("Body Mass Index >30.", {"height": 160, "weight": 82}, Outcome.MET, "above_max"),  # BMI 32.0
    ("Body Mass Index >30.", {"height": None, "weight": None, "bmi": 30}, Outcome.NOT_MET, "at_max"),
    ("Body Mass Index >30.", {"height": None}, Outcome.UNKNOWN, "missing"),
    ("Severe or acute organ damage", {"severe_organ_damage": True}, Outcome.MET, "equal"),
    ("Infectious diseases", {"hepatitis_c": True}, Outcome.MET, "equal"),
    ("Infectious diseases", {"hiv": None}, Outcome.UNKNOWN, "missing"),
    ("Severe psychiatric disorder", {"severe_psychiatric_disorder": True}, Outcome.MET, "equal"),
    ("Presence of malignancy", {"malignancy": True}, Outcome.MET, "equal"),
    ("Presence of malignancy", {"malignancy": None}, Outcome.UNKNOWN, "missing"),
]

NCT03835312_CASES = [
    ("Ages Eligible", {"date_of_birth": "2007-11-21"}, Outcome.NOT_MET, "age_above_max"),  # 19th birthday
    ("Ages Eligible", {"date_of_birth": "2007-11-22"}, Outcome.MET, "age_in_range"),  # 18 y 364 d
    ("1.Type 1 diabetes mellitus children", {"immune_gene_mutation": False}, Outcome.NOT_MET, "not_equal"),
    ("1.Type 1 diabetes mellitus children", {"immune_gene_mutation": None}, Outcome.UNKNOWN, "missing"),
    (
        "Meet the diagnostic criteria",
        {"t1d_diagnosis": False, "t1d_diagnosis_date": None},
        Outcome.NOT_MET,
        "not_equal",
    ),
    (
        "Existence of extrapancreatic organ damage",
        {"inflammatory_bowel_disease": False},
        Outcome.NOT_MET,
        "at_least_not_met",
    ),
    ("Existence of extrapancreatic organ damage", {"inflammatory_bowel_disease": None}, Outcome.UNKNOWN, "missing"),
    ("Existence of extrapancreatic organ damage", {"organ_damage_recurred": False}, Outcome.NOT_MET, "not_equal"),
    ("Gene mutation was found", {"immune_gene_mutation": False}, Outcome.NOT_MET, "not_equal"),
    ("Mature and effective treatment", {"effective_treatment_available": True}, Outcome.MET, "equal"),
    ("Mature and effective treatment", {"effective_treatment_available": None}, Outcome.UNKNOWN, "missing"),
    ("HIV, HBV and HCV", {"hepatitis_b": True}, Outcome.MET, "equal"),
    ("A the active period of infection", {"active_infection": True}, Outcome.MET, "equal"),
    ("At the active stage of malignant tumors", {"malignancy": True}, Outcome.MET, "equal"),
    ("Combination of other fatal diseases", {"other_fatal_disease": True}, Outcome.MET, "equal"),
    (
        "Existence of mental and psychological diseases",
        {"severe_psychiatric_disorder": True, "mental_disorder": None},
        Outcome.MET,
        "equal",
    ),
    ("Existence of mental and psychological diseases", {"mental_disorder": None}, Outcome.UNKNOWN, "missing"),
]


def _expected_verdict(kind, outcome):
    against = (kind == "exclusion" and outcome == Outcome.MET) or (kind == "inclusion" and outcome == Outcome.NOT_MET)
    if against:
        return Verdict.INELIGIBLE
    return Verdict.ELIGIBLE if outcome != Outcome.UNKNOWN else Verdict.UNDETERMINED


@pytest.mark.django_db
@pytest.mark.parametrize(
    "nct_id, text, change, outcome, code",
    [("NCT01219465", *case) for case in NCT01219465_CASES] + [("NCT03835312", *case) for case in NCT03835312_CASES],
)
def test_it_decides_each_criterion(nct_id, text, change, outcome, code):
    answers = {k: v for k, v in {**ELIGIBLE_FOR_BOTH, **change}.items() if v is not None}
    result = screen(nct_id, answers)
    criterion = outcome_of(result, text)
    assert (criterion.outcome, criterion.code) == (outcome, code), criterion.explanation
    assert result.verdict == _expected_verdict(criterion.kind, outcome)
    if result.verdict == Verdict.INELIGIBLE:
        # The criterion we changed is (one of) the reasons for the verdict.
        assert criterion in result.deciding
    if outcome == Outcome.UNKNOWN:
        assert criterion.missing, "an unknown criterion names the questions that would decide it"
        assert set(criterion.missing) <= set(result.missing)


@pytest.mark.django_db
def test_it_explains_bmi_with_the_values_compared():
    result = screen("NCT01219465", {**ELIGIBLE_FOR_BOTH, "height": None, "weight": None, "bmi": 32.4})
    criterion = outcome_of(result, "Body Mass Index >30.")
    assert criterion.explanation == "BMI 32.4 kg/m² is above 30"
    assert result.verdict == Verdict.INELIGIBLE


@pytest.mark.django_db
def test_an_adult_new_onset_patient_fits_only_the_first_trial():
    adult = {**ELIGIBLE_FOR_BOTH, "date_of_birth": "1996-03-10"}
    assert screen("NCT01219465", adult).verdict == Verdict.ELIGIBLE
    second = screen("NCT03835312", adult)
    assert second.verdict == Verdict.INELIGIBLE
    assert [c.code for c in second.deciding] == ["age_above_max"]


def test_the_catalogue_file_reads_as_the_database_gives_it(seeded):
    from tests.factories import seed_catalogue
    from trials.models import catalogue

    assert seed_catalogue() == catalogue()
