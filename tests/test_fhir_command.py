"""`manage.py screen --fhir`: end to end on the seed trials, alone and with an answers file."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from tests.conftest import shared_data
from tests.factories import NEW_ONSET, SAME_AS_ANSWERS, bundle, patient

AS_OF = "2026-11-21"


def run_screen(*args):
    out = StringIO()
    call_command("screen", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def write(tmp_path):
    def write(name, content):
        path = tmp_path / name
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        return str(path)

    return write


@pytest.mark.django_db
class TestScreenFhir:
    def test_it_gives_the_same_json_as_the_equivalent_answers_file(self, seeded, write):
        from_fhir = run_screen("--fhir", write("b.json", NEW_ONSET), "--as-of", AS_OF, "--format", "json")
        from_answers = run_screen("--answers", write("a.json", SAME_AS_ANSWERS), "--as-of", AS_OF, "--format", "json")
        assert json.loads(from_fhir) == json.loads(from_answers)
        by_id = {t["nct_id"]: t for t in json.loads(from_fhir)["trials"]}
        first = by_id["NCT01219465"]
        diagnosis = next(c for c in first["criteria"] if c["text"].startswith("Confirmed diagnosis of type 1"))
        assert diagnosis["outcome"] == "met" and diagnosis["met_until"] == "2026-12-25"
        bmi = next(c for c in first["criteria"] if c["text"] == "Body Mass Index >30.")
        assert bmi["outcome"] == "not_met"  # derived: 45 / 1.523² = 19.4
        # The resolved malignancy leaves the exclusion open rather than "not met".
        malignancy = next(c for c in first["criteria"] if c["text"] == "Presence of malignancy.")
        assert malignancy["outcome"] == "unknown" and "malignancy" in first["missing"]

    def test_the_answers_file_overrides_the_bundle_and_null_clears_an_answer(self, seeded, write):
        args = ("--fhir", write("b.json", NEW_ONSET), "--as-of", AS_OF, "--format", "json", "--trial", "NCT01219465")
        # A BMI of 32 beside the record's height and weight (BMI 19.4) would contradict them: the weight is cleared.
        overrides = {"malignancy": False, "t1d_diagnosis_date": None, "bmi": 32.0, "weight": None}
        both = json.loads(run_screen(*args, "--answers", write("a.json", overrides)))
        expected = {**SAME_AS_ANSWERS, "malignancy": False, "bmi": 32.0}
        del expected["t1d_diagnosis_date"], expected["weight"]
        alone = json.loads(run_screen("--answers", write("c.json", expected), *args[2:]))
        assert both == alone
        [trial] = both["trials"]
        assert trial["verdict"] == "ineligible"  # BMI 32 from the answers file
        malignancy = next(c for c in trial["criteria"] if c["text"] == "Presence of malignancy.")
        assert malignancy["outcome"] == "not_met"

    def test_the_text_format_shows_where_each_answer_came_from(self, seeded, write):
        text = run_screen("--fhir", write("b.json", NEW_ONSET), "--as-of", AS_OF)
        assert "From the FHIR Bundle (Used 1 Condition, 3 Observation, 1 Patient; skipped 1 Condition):" in text
        assert "t1d_diagnosis_date = 2026-10-24  ← Condition ICD-10-CM E10.9" in text
        assert "hba1c = 8.01 %  ← Observation LOINC 4548-4 (LOINC 4548-4), 2026-11-01; 64 mmol/mol = 8.01 %" in text
        assert "is resolved: it does not answer “Active malignancy”" in text
        assert "NCT01219465  " in text

    def test_it_screens_a_synthetic_patient_end_to_end(self, seeded):
        path = next(shared_data("fhir").glob("Carlene_Schamberger_*.json"))
        data = json.loads(run_screen("--fhir", str(path), "--as-of", "2021-01-01", "--format", "json"))
        by_id = {t["nct_id"]: t for t in data["trials"]}
        age = next(c for c in by_id["NCT01219465"]["criteria"] if c["text"].startswith("Ages Eligible"))
        assert age["outcome"] == "met" and "Age 10 years" in age["explanation"]
        bmi = next(c for c in by_id["NCT01219465"]["criteria"] if c["text"] == "Body Mass Index >30.")
        assert bmi["outcome"] == "not_met" and "19.52" in bmi["explanation"]
        # No type 1 diabetes in the record: the question stays open, it is never answered "no".
        assert by_id["NCT01219465"]["verdict"] == "undetermined"
        assert "t1d_diagnosis" in by_id["NCT01219465"]["missing"]


BAD_FHIR = [
    ("{not json", "is not valid JSON"),
    ("[]", "not a FHIR Bundle"),
    ('{"resourceType": "Patient"}', "not a FHIR Bundle (resourceType is 'Patient')"),
    ('{"resourceType": "Bundle", "type": "batch"}', "Bundle type 'batch' is not supported"),
    ('{"resourceType": "Bundle", "type": "collection", "entry": []}', "has no Patient"),
    (json.dumps(bundle(patient(pid="p2"))), "has 2 Patient resources"),
    (json.dumps(bundle(with_patient=False) | {"entry": [{"resource": patient(birth="1990-02-30")}]}), "not valid FHIR"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("content, message", BAD_FHIR)
def test_it_rejects_a_bad_bundle_with_one_line_and_status_2(seeded, write, content, message):
    err = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("screen", "--fhir", write("b.json", content), "--as-of", AS_OF, stderr=err)
    assert exit_info.value.code == 2
    output = err.getvalue().strip()
    assert output.startswith("screen: error: FHIR file ") and message in output
    assert "\n" not in output and "Traceback" not in output


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args, message",
    [
        ([], "give --answers FILE, --fhir FILE or both"),
        (["--fhir", "/nonexistent/b.json"], "FHIR file /nonexistent/b.json does not exist"),
    ],
)
def test_it_needs_an_input_that_exists(seeded, args, message):
    err = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("screen", *args, stderr=err)
    assert exit_info.value.code == 2
    assert message in err.getvalue()


@pytest.mark.django_db
def test_a_bad_answers_file_still_fails_when_the_bundle_is_good(seeded, write):
    err = StringIO()
    with pytest.raises(SystemExit):
        call_command(
            "screen", "--fhir", write("b.json", NEW_ONSET), "--answers", write("a.json", {"shoe_size": 44}), stderr=err
        )
    assert "shoe_size: unknown question code" in err.getvalue()


@pytest.mark.django_db
def test_an_answers_file_that_contradicts_the_record_fails_with_one_line(seeded, write):
    err = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command(
            "screen",
            "--fhir",
            write("b.json", NEW_ONSET),
            "--answers",
            write("a.json", {"age": 40}),
            "--as-of",
            AS_OF,
            stderr=err,
        )
    assert exit_info.value.code == 2
    assert err.getvalue().strip() == (
        "screen: error: age, date_of_birth: age 40 years does not match the date of birth 2012-03-04 "
        "(14 years on 2026-11-21): correct one of them, or leave the age empty"
    )
