"""`manage.py screen`: text, JSON and error paths."""

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.factories import ELIGIBLE_FOR_BOTH

ROOT = Path(__file__).resolve().parent.parent


def run_screen(*args):
    out = StringIO()
    call_command("screen", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def answers_file(tmp_path):
    def write(answers):
        path = tmp_path / "answers.json"
        path.write_text(json.dumps(answers))
        return str(path)

    return write


@pytest.mark.django_db
class TestScreenCommand:
    def test_it_prints_the_json_contract(self, seeded, answers_file):
        path = answers_file({**ELIGIBLE_FOR_BOTH, "height": None, "weight": None, "bmi": 32.4})
        data = json.loads(run_screen("--answers", path, "--as-of", "2026-11-21", "--format", "json"))
        assert data["as_of"] == "2026-11-21"
        by_id = {t["nct_id"]: t for t in data["trials"]}
        assert set(by_id) == {"NCT01219465", "NCT03835312"}
        first = by_id["NCT01219465"]
        assert first["verdict"] == "ineligible"
        bmi = next(c for c in first["criteria"] if c["text"] == "Body Mass Index >30.")
        assert bmi.pop("id").isdigit()
        assert bmi == {
            "kind": "exclusion",
            "text": "Body Mass Index >30.",
            "outcome": "met",
            "code": "above_max",
            "explanation": "BMI 32.4 kg/m² is above 30",
            "missing": [],
            "met_until": None,
        }
        assert by_id["NCT03835312"]["verdict"] == "eligible"

    def test_it_filters_trials_and_lists_missing_answers(self, seeded, answers_file):
        path = answers_file({"age": 10, "t1d_diagnosis": True})
        data = json.loads(
            run_screen("--answers", path, "--trial", "NCT03835312", "--as-of", "2026-11-21", "--format", "json")
        )
        [trial] = data["trials"]
        assert trial["verdict"] == "undetermined"
        assert "immune_gene_mutation" in trial["missing"]
        assert "t1d_diagnosis" not in trial["missing"]

    def test_it_prints_a_table_with_icons(self, seeded, answers_file):
        path = answers_file({**ELIGIBLE_FOR_BOTH, "malignancy": True, "hiv": None})
        text = run_screen("--answers", path, "--as-of", "2026-11-21")
        assert "NCT01219465  NOT ELIGIBLE (ineligible)" in text
        assert "✓ EXC  Presence of malignancy." in text
        assert "? EXC  Infectious diseases" in text
        assert "✗ EXC  diabetic ketoacidosis." in text


ERROR_CASES = [
    ("missing.json", None, "does not exist"),
    ("answers.json", "{not json", "is not valid JSON"),
    ("answers.json", "[" * 100_000, "is not valid JSON: nested too deeply"),
    ("answers.json", '{"age": ' + "9" * 5000 + "}", "is not valid JSON: it holds a number too long to read"),
    ("answers.json", "[1, 2]", "answers must be a JSON object"),
    ("answers.json", '{"shoe_size": 44}', "shoe_size: unknown question code"),
    ("answers.json", '{"bmi": "high"}', "bmi: expected a number"),
    ("answers.json", '{"t1d_diagnosis_date": "2030-01-01"}', "is in the future"),
    ("answers.json", '{"age": 250}', "not a plausible Age"),
    # The contradiction policy, as in the API and the questionnaire: every question involved, both values.
    (
        "answers.json",
        '{"bmi": 31, "height": 140, "weight": 35}',
        "bmi, height, weight: BMI 31 kg/m² does not match height 140 cm and weight 35 kg, which give BMI 17.9",
    ),
    ("answers.json", '{"height": 68, "weight": 220}', "if they were 220 lb (99.8 kg) and 68 in (172.7 cm)"),
    ("answers.json", '{"t1d_diagnosis_date": "20261024"}', "expected a date as YYYY-MM-DD"),
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name, content, message", ERROR_CASES)
def test_it_rejects_bad_input_with_one_line_and_status_2(tmp_path, name, content, message, django_db_setup):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    from trials.seed import load_questions

    load_questions()
    with pytest.raises(SystemExit) as exit_info:
        err = StringIO()
        call_command("screen", "--answers", str(path), "--as-of", "2026-11-21", stderr=err)
    assert exit_info.value.code == 2
    output = err.getvalue().strip()
    assert message in output
    assert "\n" not in output and "Traceback" not in output


@pytest.mark.django_db
def test_it_rejects_an_unknown_trial_and_a_bad_date(seeded, answers_file):
    path = answers_file({"age": 10})
    for args, message in (
        (["--trial", "NCT99999999"], "unknown trial NCT99999999"),
        (["--as-of", "21/11/2026"], "is not a date as YYYY-MM-DD"),
    ):
        err = StringIO()
        with pytest.raises(SystemExit) as exit_info:
            call_command("screen", "--answers", path, *args, stderr=err)
        assert exit_info.value.code == 2
        assert message in err.getvalue()


def test_it_exits_2_without_traceback_as_a_real_process(tmp_path):
    db = tmp_path / "db.sqlite3"
    env = {"DATABASE_URL": f"sqlite:///{db}", "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    proc = subprocess.run(
        [sys.executable, "manage.py", "screen", "--answers", str(tmp_path / "nope.json")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("screen: error:")
    assert "Traceback" not in proc.stderr
