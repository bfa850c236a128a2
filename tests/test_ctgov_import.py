"""Importing ClinicalTrials.gov records: reading files, mapping a study, the importer, the command, the admin page.

tests/data/ctgov_two_studies.json holds two real API v2 records (NCT02587988, NCT02560883) from
../shared/data/ctgov/ctgov_v2_broad.json.gz, with contact names removed (tests/factories.py: TWO_STUDIES).
"""

import gzip
import json
import time
from io import StringIO

import pytest
from django.core.management import call_command

from ctgov.archives import ReadError, read_studies, study_files
from ctgov.importer import import_paths
from ctgov.studies import StudyError, trial_record
from tests.conftest import shared_data
from tests.factories import ELIGIBILITY, TWO_STUDIES, database_state, seed_catalogue, study
from trials.models import Criterion, Trial

CATALOGUE = seed_catalogue()


def write(tmp_path, data, name="studies.json"):
    path = tmp_path / name
    raw = json.dumps(data).encode()
    path.write_bytes(gzip.compress(raw) if name.endswith(".gz") else raw)
    return path


def run_import(*paths):
    out, err = StringIO(), StringIO()
    try:
        call_command("import_ctgov", *map(str, paths), stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


# --- Reading files (pure) ---


@pytest.mark.parametrize(
    "data",
    [
        study(),
        [study(), study("NCT09000002")],
        {"studies": [study(), study("NCT09000002")]},
    ],
)
def test_it_reads_a_study_a_list_or_a_studies_object(tmp_path, data):
    studies = read_studies(write(tmp_path, data))
    assert [trial_record(s, CATALOGUE).nct_id for s in studies][:1] == ["NCT09000001"]


def test_it_reads_gzip_by_its_content(tmp_path):
    assert len(read_studies(write(tmp_path, [study()], "studies.json.gz"))) == 1


def test_it_finds_json_files_in_folders(tmp_path):
    write(tmp_path, study(), "a.json")
    write(tmp_path, study(), "b.json.gz")
    (tmp_path / "notes.txt").write_text("not a study")
    assert [p.name for p in study_files([tmp_path])] == ["a.json", "b.json.gz"]


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"{not json", "not valid JSON"),
        (b"\x1f\x8b\x08\x00broken", "not a valid gzip file"),
        (b'"just text"', "expected a study object, a list of studies"),
        (b'{"studies": {"nctId": "NCT09000001"}}', "'studies' must be a list"),
        (b'[{"protocolSection": {}}, 3]', "item 2 of the list is not an API v2 study"),
        (b'{"hello": "world"}', "the object is not an API v2 study"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"[" * 100_000, "not valid JSON: nested too deeply to be a study record"),
        (b'{"studies": [' + b"9" * 5000 + b"]}", "not valid JSON: it holds a number too long to read"),
    ],
)
def test_it_names_the_problem_with_a_malformed_file(tmp_path, content, problem):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ReadError, match=problem):
        read_studies(path)


@pytest.mark.parametrize(
    "nct_id, problem",
    [
        (None, "study 2 has no NCT id"),
        ("NCT123", "'NCT123' is not an NCT id"),
    ],
)
def test_it_rejects_a_study_without_a_valid_nct_id(nct_id, problem):
    bad = study()
    bad["protocolSection"]["identificationModule"]["nctId"] = nct_id
    with pytest.raises(StudyError, match=problem):
        trial_record(bad, CATALOGUE, index=2)


# --- One study as a trial (pure) ---


def test_it_maps_the_registry_fields():
    record = trial_record(study(), CATALOGUE)
    assert record.nct_id == "NCT09000001"
    assert record.fields == {
        "brief_title": "Asthma study",
        "official_title": "The Asthma study",
        "phase": "Phase 2/Phase 3",
        "overall_status": "RECRUITING",
        "conditions": ["Asthma"],
        "keywords": ["inhaler"],
        "sites": ["Hôpital A, Lyon, France", "Paris, France"],
        "minimum_age": "18 Years",
        "maximum_age": "65 Years",
        "sex": "ALL",
        "healthy_volunteers": False,
        "eligibility_text": ELIGIBILITY,
    }


def test_it_turns_registry_limits_into_rules():
    rows = trial_record(study(sex="FEMALE", healthyVolunteers=True, maximumAge="N/A"), CATALOGUE).criteria
    assert [(r.text, r.source, r.rule, r.rule_status) for r in rows[:3]] == [
        (
            "Ages Eligible for Study: 18 Years and older",
            "registry",
            {"q": "age", "op": "age_between", "value": {"min": "18 years"}},
            "approved",
        ),
        ("Sexes Eligible for Study: Female", "registry", {"q": "sex", "op": "=", "value": "female"}, "approved"),
        ("Accepts Healthy Volunteers: Yes", "registry", {"all": []}, "approved"),
    ]


def test_it_leaves_no_healthy_volunteers_and_odd_ages_for_review():
    rows = trial_record(study(minimumAge="12 Hours", maximumAge=None), CATALOGUE).criteria
    assert [(r.text, r.rule) for r in rows[:3]] == [
        ("Ages Eligible for Study: 12 Hours and older", None),  # hours: not a limit the engine compares
        ("Sexes Eligible for Study: All", {"all": []}),
        ("Accepts Healthy Volunteers: No", None),  # "has the condition": only a trial-specific question says it
    ]


def test_it_makes_no_age_criterion_without_limits():
    rows = trial_record(study(minimumAge=None, maximumAge=None), CATALOGUE).criteria
    assert [r.text for r in rows if r.source == "registry"] == [
        "Sexes Eligible for Study: All",
        "Accepts Healthy Volunteers: No",
    ]


def test_it_drafts_rules_for_protocol_bullets():
    rows = trial_record(study(), CATALOGUE).criteria[3:]
    assert [(r.kind, r.text, r.rule_status, r.rule is not None) for r in rows] == [
        ("inclusion", "Adults with asthma", "approved", False),  # no rule: needs review
        ("inclusion", "BMI \\> 30 kg/m2", "draft", True),
        ("exclusion", "Pregnancy", "draft", True),
        ("exclusion", "Current smokers", "approved", False),
    ]


# --- The importer ---


@pytest.fixture
def questions(seeded):
    """The catalogue (ages, sex, BMI, pregnancy ...) in the database."""


def import_studies(tmp_path, *studies, name="studies.json"):
    return import_paths([write(tmp_path, list(studies), name)])


@pytest.mark.django_db
class TestImporter:
    def test_it_creates_trials_with_their_criteria(self, questions, tmp_path):
        summary = import_studies(tmp_path, study())
        assert (summary.created, summary.updated, summary.unchanged, summary.errors) == (1, 0, 0, [])
        assert (summary.criteria, summary.drafts_made, summary.needs_review, summary.awaiting_approval) == (7, 2, 3, 2)
        trial = Trial.objects.get(nct_id="NCT09000001")
        assert trial.open_for_screening is False  # a site opts in
        assert (trial.phase, trial.sex, trial.minimum_age, trial.eligibility_text) == (
            "Phase 2/Phase 3",
            "ALL",
            "18 Years",
            ELIGIBILITY,
        )
        assert list(trial.criteria.values_list("order", "source", "kind", "text", "rule_status")) == [
            (1, "registry", "inclusion", "Ages Eligible for Study: 18 Years to 65 Years", "approved"),
            (2, "registry", "inclusion", "Sexes Eligible for Study: All", "approved"),
            (3, "registry", "inclusion", "Accepts Healthy Volunteers: No", "approved"),
            (4, "protocol", "inclusion", "Adults with asthma", "approved"),
            (5, "protocol", "inclusion", "BMI \\> 30 kg/m2", "draft"),
            (6, "protocol", "exclusion", "Pregnancy", "draft"),
            (7, "protocol", "exclusion", "Current smokers", "approved"),
        ]
        assert Criterion.history.filter(trial_id=trial.pk).count() == 7  # audited, though written in bulk

    def test_drafts_do_not_count_in_screening_until_approved(self, questions, tmp_path):
        import_studies(tmp_path, study())
        rules = Trial.objects.get(nct_id="NCT09000001").rules()
        by_text = {c.text: c.rule for c in rules.criteria}
        assert by_text["Sexes Eligible for Study: All"] == {"all": []}
        assert by_text["BMI \\> 30 kg/m2"] is None  # a draft screens as "needs review"

    def test_a_second_import_of_the_same_record_writes_nothing(self, questions, tmp_path):
        import_studies(tmp_path, study())
        before = database_state()
        summary = import_studies(tmp_path, study())
        assert (summary.created, summary.updated, summary.unchanged, summary.drafts_made) == (0, 0, 1, 0)
        assert database_state() == before

    def test_a_changed_record_keeps_curated_rules_of_unchanged_criteria(self, questions, tmp_path):
        import_studies(tmp_path, study())
        trial = Trial.objects.get(nct_id="NCT09000001")
        trial.open_for_screening = True
        trial.save()
        curated = trial.criteria.get(text="Adults with asthma")
        curated.rule, curated.rule_status = {"all": []}, "approved"
        curated.save()
        approved = trial.criteria.get(text="Pregnancy")
        approved.rule_status = "approved"
        approved.save()
        version = Trial.objects.get(pk=trial.pk).criteria_version

        changed = (
            ELIGIBILITY.replace("* Current smokers", "* Current smokers or vapers")
            .replace("* BMI \\> 30 kg/m2\n", "* BMI \\> 30 kg/m2\n* Asthma for at least 1 year\n")
            .replace("* Adults with asthma\n", "")
        )
        changed = "Inclusion Criteria:\n\n* Adults with asthma\n" + changed.split("Inclusion Criteria:\n\n", 1)[1]
        summary = import_studies(tmp_path, study(criteria=changed, title="Asthma study, v2"))

        assert (summary.updated, summary.unchanged) == (1, 0)
        trial.refresh_from_db()
        assert trial.brief_title == "Asthma study, v2"
        assert trial.open_for_screening is True  # the site's choice stays
        assert trial.criteria_version > version
        rows = {c.text: c for c in trial.criteria.all()}
        assert (rows["Adults with asthma"].rule, rows["Adults with asthma"].rule_status) == ({"all": []}, "approved")
        assert rows["Pregnancy"].rule_status == "approved"  # approved by an admin: stays approved
        assert rows["Asthma for at least 1 year"].rule is None  # new: needs review
        assert rows["Current smokers or vapers"].rule is None  # changed: needs review
        assert "Current smokers" not in rows  # removed
        assert [c.text for c in trial.criteria.order_by("order")][3:] == [
            "Adults with asthma",
            "BMI \\> 30 kg/m2",
            "Asthma for at least 1 year",
            "Pregnancy",
            "Current smokers or vapers",
        ]
        history = Criterion.history.filter(trial_id=trial.pk, history_type="-")
        assert list(history.values_list("text", flat=True)) == ["Current smokers"]

    def test_the_same_words_without_markdown_escapes_keep_the_curated_rule(self, questions, tmp_path):
        # Legacy XML has no markdown escapes and the registry re-wraps text; API v2 writes "BMI \> 30".
        import_studies(tmp_path, study(criteria="Inclusion Criteria:\n* BMI > 30 kg/m2\n* Adults  with asthma"))
        bmi = Criterion.objects.get(text="BMI > 30 kg/m2")
        bmi.rule, bmi.rule_status = {"q": "bmi", "op": ">", "value": 30, "unit": "kg/m²"}, "approved"
        bmi.save()
        summary = import_studies(
            tmp_path, study(criteria="Inclusion Criteria:\n* BMI \\> 30 kg/m2\n* Adults with asthma")
        )
        assert (summary.updated, summary.drafts_made) == (1, 0)
        bmi.refresh_from_db()
        assert bmi.text == "BMI \\> 30 kg/m2"  # the registry's current text
        assert (bmi.rule["value"], bmi.rule_status) == (30, "approved")
        assert Criterion.objects.filter(text="Adults with asthma").exists()
        assert bmi.history.first().history_change_reason == "Imported from ClinicalTrials.gov"

    @pytest.mark.parametrize(
        "a, b, same",
        [
            ("BMI \\> 30", "BMI > 30", True),
            ("8\\. Pregnancy", "8. Pregnancy", True),
            ("Adults\n  with asthma", "Adults with asthma", True),
            ("HbA1c \\<= 9%", "HbA1c <= 9 %", False),
            ("C:\\path", "C:\\path", True),
        ],
    )
    def test_it_matches_words_not_escapes_or_spacing(self, a, b, same):
        from ctgov.importer import same_words

        assert (same_words(a) == same_words(b)) is same

    def test_a_criterion_moving_from_inclusion_to_exclusion_is_new(self, questions, tmp_path):
        import_studies(tmp_path, study(criteria="Inclusion Criteria:\n* Smokers\nExclusion Criteria:\n* Pregnancy"))
        criterion = Criterion.objects.get(text="Smokers")
        criterion.rule = {"all": []}
        criterion.save()
        import_studies(tmp_path, study(criteria="Inclusion Criteria:\n* Pregnancy\nExclusion Criteria:\n* Smokers"))
        assert Criterion.objects.get(text="Smokers").kind == "exclusion"
        assert Criterion.objects.get(text="Smokers").rule is None

    def test_a_file_with_a_bad_study_imports_nothing(self, questions, tmp_path):
        import_studies(tmp_path, study("NCT09000009"))
        before = database_state()
        bad = study("NCT09000002")
        bad["protocolSection"]["identificationModule"].pop("nctId")
        summary = import_studies(tmp_path, study(title="changed"), bad, study("NCT09000003"), name="mixed.json")
        assert summary.errors == [
            f"{tmp_path / 'mixed.json'}: study 2 has no NCT id (protocolSection.identificationModule.nctId)"
        ]
        assert (summary.created, summary.updated) == (0, 0)
        assert database_state() == before

    def test_a_failure_half_way_through_a_file_rolls_the_whole_file_back(self, questions, tmp_path, monkeypatch):
        from django.db import DatabaseError

        from ctgov import importer

        create = importer._create
        calls = []

        def fail_on_the_second(*args):
            calls.append(1)
            if len(calls) == 2:
                raise DatabaseError("value too long")
            return create(*args)

        monkeypatch.setattr(importer, "_create", fail_on_the_second)
        before = database_state()
        summary = import_studies(tmp_path, study("NCT09000001"), study("NCT09000002"), name="two.json")
        assert summary.errors == [f"{tmp_path / 'two.json'}: the database refused it (value too long)"]
        assert database_state() == before

    @pytest.mark.parametrize("existing", [False, True])
    def test_the_same_nct_id_twice_in_a_file_ends_as_the_last_copy(self, questions, tmp_path, existing):
        if existing:
            import_studies(tmp_path, study())
        summary = import_studies(
            tmp_path, study(title="v2"), study(title="v3", criteria="Inclusion Criteria:\n* Adults")
        )
        assert (summary.created, summary.updated, summary.errors) == (0 if existing else 1, 2 if existing else 1, [])
        trial = Trial.objects.get(nct_id="NCT09000001")
        assert trial.brief_title == "v3"
        assert list(trial.criteria.filter(source="protocol").values_list("text", flat=True)) == ["Adults"]

    def test_it_imports_real_records(self, questions):
        summary = import_paths([TWO_STUDIES])
        assert (summary.created, summary.errors) == (2, [])
        trial = Trial.objects.get(nct_id="NCT02587988")
        assert (trial.sex, trial.minimum_age, trial.maximum_age, trial.phase) == ("MALE", "19 Years", "", "Phase 3")
        assert trial.criteria.filter(source="registry").get(text__startswith="Sexes").rule == {
            "q": "sex",
            "op": "=",
            "value": "male",
        }
        drafts = dict(trial.criteria.filter(rule_status="draft").values_list("text", "rule"))
        assert drafts == {
            "≥19 age": {"q": "age", "op": "age_between", "value": {"min": "19 years"}},
            "Uncontrolled diabetes mellitus (HbA1C \\>12%)": {"q": "hba1c", "op": ">", "value": 12, "unit": "%"},
        }


# --- The command ---


@pytest.mark.django_db
class TestImportCommand:
    def test_it_prints_a_summary(self, questions):
        code, out, err = run_import(TWO_STUDIES)
        assert code == 0
        assert "Trials: 2 created, 0 updated, 0 unchanged (2 studies from 1 file)." in out
        assert "draft rules made" in out and "need review" in out

    def test_it_reports_bad_files_and_imports_the_good_ones(self, questions, tmp_path):
        not_json = tmp_path / "a_not_json.json"
        not_json.write_text("<html>")
        bad_gzip = tmp_path / "b_bad.json.gz"
        bad_gzip.write_bytes(b"\x1f\x8b\x08\x00broken")
        no_id = write(tmp_path, [{"protocolSection": {"identificationModule": {}}}], "c_no_id.json")
        good = write(tmp_path, study(), "d_good.json")
        code, out, err = run_import(tmp_path)
        assert code == 1
        assert f"Not imported: {not_json}: not valid JSON" in out
        assert f"Not imported: {bad_gzip}: not a valid gzip file" in out
        assert f"Not imported: {no_id}: study 1 has no NCT id" in out
        assert "Trials: 1 created" in out and "Traceback" not in out + err
        assert Trial.objects.filter(nct_id="NCT09000001").exists()
        assert good.exists()

    def test_a_missing_file_is_an_error_not_a_traceback(self, tmp_path):
        code, out, err = run_import(tmp_path / "nope.json")
        assert code == 1
        assert f"Not imported: {tmp_path / 'nope.json'}: no such file" in out

    def test_it_shows_progress_for_large_files(self, questions, tmp_path):
        path = write(tmp_path, [study(f"NCT09{n:06d}") for n in range(150)], "many.json")
        code, out, err = run_import(path)
        assert code == 0
        assert err.splitlines() == ["many.json: 100/150 studies", "many.json: 150/150 studies"]


# --- Every real record ---


@pytest.mark.shared_data
@pytest.mark.django_db
def test_it_imports_every_real_record_and_a_second_run_changes_nothing(questions):
    path = shared_data("ctgov", "ctgov_v2_broad.json.gz")
    started = time.perf_counter()
    first = import_paths([path])
    first_seconds = time.perf_counter() - started
    assert first.errors == []
    assert (first.created, first.studies) == (1099, 1099)
    assert Trial.objects.count() >= 1099
    assert first.drafts_made > 500

    before = database_state()
    started = time.perf_counter()
    second = import_paths([path])
    second_seconds = time.perf_counter() - started
    assert (second.created, second.updated, second.unchanged, second.drafts_made) == (0, 0, 1099, 0)
    assert database_state() == before
    print(f"\nimport of 1,099 studies: {first_seconds:.1f} s; re-import: {second_seconds:.1f} s")
    assert first_seconds + second_seconds < 120
