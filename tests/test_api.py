"""POST /api/v1/screen: authentication, roles, 400s, saving, and the same JSON as `screen --format json`."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from screening.models import ApiToken, Screening, Snapshot
from tests.factories import NEW_ONSET, SAME_AS_ANSWERS, SCREEN_URL, bearer, bundle, patient, post

AS_OF = "2026-11-21"


# --------------------------------------------------------------------------------------------
# Who may call it


@pytest.mark.django_db
class TestAuthentication:
    def test_it_answers_401_in_json_to_anonymous_requests(self, client, seeded):
        response = post(client, {"answers": {}})
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Bearer"
        assert "authentication required" in response.json()["error"]
        assert client.get(SCREEN_URL).status_code == 401  # not a redirect to the login page

    def test_it_refuses_a_coordinator(self, client, seeded, coordinator):
        client.force_login(coordinator)
        response = post(client, {"answers": {}})
        assert response.status_code == 403
        assert response.json() == {"error": "the screening API is for clinicians"}

    def test_it_refuses_a_coordinators_token(self, client, seeded, coordinator):
        _token, key = ApiToken.create_for(coordinator, "not allowed")
        assert post(client, {"answers": {}}, **bearer(key)).status_code == 403

    def test_it_screens_for_a_clinician_session(self, alice, seeded):
        response = post(alice, {"answers": {"age": 10}, "as_of": AS_OF})
        assert response.status_code == 200
        assert response.json()["as_of"] == AS_OF

    def test_it_screens_with_a_clinicians_token_and_notes_its_use(self, client, seeded, clinician, alice_key):
        response = post(client, {"answers": {"age": 10}}, **bearer(alice_key))
        assert response.status_code == 200
        assert ApiToken.objects.get().last_used_at is not None

    @pytest.mark.parametrize("header", ["Bearer psk_wrong", "Bearer ", "Token abc", "Basic YWxpY2U6cHc="])
    def test_it_answers_401_to_a_bad_token(self, client, seeded, clinician, alice_key, header):
        response = post(client, {"answers": {}}, Authorization=header)
        assert response.status_code == 401
        assert response.json() == {"error": "invalid API token"}

    def test_a_bad_token_is_refused_even_with_a_session(self, alice, seeded):
        assert post(alice, {"answers": {}}, **bearer("psk_wrong")).status_code == 401

    def test_a_token_of_an_inactive_user_is_refused(self, client, seeded, clinician, alice_key):
        clinician.is_active = False
        clinician.save()
        assert post(client, {"answers": {}}, **bearer(alice_key)).status_code == 401

    def test_session_requests_keep_csrf_protection_and_token_requests_need_none(self, seeded, clinician, alice_key):
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(clinician)
        refused = post(browser, {"answers": {}})
        assert refused.status_code == 403 and "CSRF" in refused.json()["error"]

        browser.get("/")  # sets the CSRF cookie, as any page does
        token = browser.cookies["csrftoken"].value
        assert post(browser, {"answers": {}}, **{"X-CSRFToken": token}).status_code == 200

        assert post(Client(enforce_csrf_checks=True), {"answers": {}}, **bearer(alice_key)).status_code == 200

    def test_it_only_screens_on_post(self, alice, seeded):
        response = alice.get(SCREEN_URL)
        assert response.status_code == 405 and response["Allow"] == "POST"
        assert "use POST" in response.json()["error"]

    def test_the_key_is_stored_only_as_a_hash(self, clinician):
        token, key = ApiToken.create_for(clinician, "x")
        assert key.startswith("psk_") and len(key) > 40
        assert key not in (token.key_hash, token.hint) and len(token.key_hash) == 64
        assert ApiToken.objects.user_for(key) == clinician
        assert ApiToken.objects.user_for(key + "x") is None and ApiToken.objects.user_for("") is None


@pytest.mark.django_db
def test_an_admin_creates_a_token_and_sees_the_key_once(client, admin_user, clinician):
    client.force_login(admin_user)
    response = client.post("/admin/screening/apitoken/add/", {"user": clinician.pk, "name": "ward EHR"})
    assert response.status_code == 200
    key = response.context["key"]
    assert key.startswith("psk_") and key in response.content.decode()
    token = ApiToken.objects.get()
    assert token.user == clinician and token.key_hash == ApiToken.hash(key)
    page = client.get(f"/admin/screening/apitoken/{token.pk}/change/").content.decode()
    assert key not in page and token.hint in page


# --------------------------------------------------------------------------------------------
# What it answers


def run_screen(tmp_path, *args):
    out = StringIO()
    call_command("screen", *args, "--as-of", AS_OF, "--format", "json", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
class TestScreening:
    def test_it_gives_the_same_json_as_the_command_for_a_bundle(self, alice, seeded, tmp_path):
        path = tmp_path / "b.json"
        path.write_text(json.dumps(NEW_ONSET))
        response = post(alice, {"fhir": NEW_ONSET, "as_of": AS_OF})
        assert response.status_code == 200
        assert response.json() == run_screen(tmp_path, "--fhir", str(path))

    def test_it_gives_the_same_json_as_the_command_for_answers_and_trials(self, alice, seeded, tmp_path):
        path = tmp_path / "a.json"
        path.write_text(json.dumps(SAME_AS_ANSWERS))
        response = post(alice, {"answers": SAME_AS_ANSWERS, "as_of": AS_OF, "trials": ["NCT03835312"]})
        assert response.json() == run_screen(tmp_path, "--answers", str(path), "--trial", "NCT03835312")
        assert [t["nct_id"] for t in response.json()["trials"]] == ["NCT03835312"]

    def test_answers_override_the_bundle_as_in_the_command(self, alice, seeded, tmp_path):
        (tmp_path / "b.json").write_text(json.dumps(NEW_ONSET))
        # A BMI of 32 beside the record's height and weight (BMI 19.4) would contradict them: the weight is cleared.
        answers = {"bmi": 32.0, "weight": None, "sex": None}
        (tmp_path / "a.json").write_text(json.dumps(answers))
        response = post(alice, {"fhir": NEW_ONSET, "answers": answers, "as_of": AS_OF})
        assert response.status_code == 200
        expected = run_screen(tmp_path, "--fhir", str(tmp_path / "b.json"), "--answers", str(tmp_path / "a.json"))
        assert response.json() == expected

    def test_it_stores_nothing_unless_asked(self, alice, seeded):
        post(alice, {"fhir": NEW_ONSET, "as_of": AS_OF, "patient_ref": "JD-2014"})
        assert not Screening.objects.exists() and not Snapshot.objects.exists()

    def test_it_saves_a_screening_with_a_snapshot_when_asked(self, alice, seeded, clinician):
        body = {"fhir": NEW_ONSET, "as_of": AS_OF, "trials": ["NCT01219465"], "save": True, "patient_ref": "JD-2014"}
        response = post(alice, body)
        assert response.status_code == 201
        data = response.json()
        screening = Screening.objects.get()
        assert (screening.patient_ref, screening.clinician) == ("JD-2014", clinician)
        assert [t.nct_id for t in screening.trials.all()] == ["NCT01219465"]
        assert screening.answers["t1d_diagnosis_date"] == "2026-10-24" and screening.answers["weight"] == 45
        snapshot = screening.latest_snapshot()
        assert str(snapshot.as_of) == AS_OF and snapshot.saved_by == clinician
        [saved] = snapshot.results.all()
        assert saved.verdict == data["trials"][0]["verdict"]
        assert data["saved"]["screening"] == screening.pk and data["saved"]["snapshot"] == snapshot.pk
        assert data["saved"]["url"].endswith(f"/screenings/{screening.pk}/")


BAD_BODIES = [
    # (body, words the error must contain)
    ("{not json", "the body is not valid JSON"),
    (b"\xff\xfe", "the body is not valid JSON"),
    ("", "the body is not valid JSON"),
    ("[1, 2]", "the body must be a JSON object"),
    ("[" * 100_000, "the body is not valid JSON (nested too deeply)"),
    ('{"answers": {"age": ' + "9" * 5000 + "}}", "the body is not valid JSON (it holds a number too long to read)"),
    ('"answers"', "the body must be a JSON object"),
    ({}, "give 'fhir'"),
    ({"as_of": AS_OF}, "give 'fhir'"),
    ({"answers": {}, "patient": "x"}, "unknown field 'patient'"),
    ({"answers": []}, "answers: answers must be a JSON object"),
    ({"answers": {"shoe_size": 44}}, "answers: shoe_size: unknown question code"),
    ({"answers": {"bmi": "high"}}, "answers: bmi: expected a number"),
    ({"answers": {"age": 250}}, "answers: age: 250 years is not a plausible Age"),
    ({"answers": {"bmi": 10**400}}, "answers: bmi: expected a finite number"),
    ({"answers": {"t1d_diagnosis_date": "2030-01-01"}, "as_of": AS_OF}, "is in the future"),
    ({"answers": {}, "as_of": "21/11/2026"}, "as_of: expected a date as YYYY-MM-DD"),
    ({"answers": {}, "as_of": 20261121}, "as_of: expected a date as YYYY-MM-DD"),
    ({"answers": {}, "trials": "NCT01219465"}, "trials: expected a non-empty list of NCT ids"),
    ({"answers": {}, "trials": []}, "trials: expected a non-empty list of NCT ids"),
    ({"answers": {}, "trials": [1]}, "trials: expected a non-empty list of NCT ids"),
    ({"answers": {}, "trials": ["NCT99999999", "nonsense"]}, "trials: unknown trial NCT99999999, nonsense"),
    ({"answers": {}, "save": "yes"}, "save: expected true or false"),
    ({"answers": {}, "save": True}, "patient_ref: required with save: true"),
    ({"answers": {}, "save": True, "patient_ref": 12}, "patient_ref: required with save: true"),
    ({"answers": {}, "save": True, "patient_ref": "MRN 12345678"}, "patient_ref: This looks like a record number"),
    ({"fhir": "Bundle"}, "fhir: not a FHIR Bundle"),
    ({"fhir": {"resourceType": "Patient"}}, "fhir: not a FHIR Bundle (resourceType is 'Patient')"),
    ({"fhir": {"resourceType": "Bundle", "type": "history"}}, "fhir: Bundle type 'history' is not supported"),
    ({"fhir": {"resourceType": "Bundle", "type": "collection"}}, "fhir: the Bundle has no Patient resource"),
    ({"fhir": bundle(patient(pid="p2"))}, "fhir: the Bundle has 2 Patient resources"),
    (
        {"fhir": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": patient(birth="x")}]}},
        "fhir: the Patient resource is not valid FHIR R4",
    ),
    # Answers that contradict each other, or the record: named on both (every) question involved
    (
        {"answers": {"age": 40, "date_of_birth": "1990-01-01"}, "as_of": AS_OF},
        "answers: age, date_of_birth: age 40 years does not match the date of birth 1990-01-01 (36 years on "
        "2026-11-21)",
    ),
    (
        {"fhir": bundle(), "answers": {"age": 40}, "as_of": AS_OF},
        "fhir and answers: age, date_of_birth: age 40 years does not match the date of birth 2012-03-04 (14 years on "
        "2026-11-21)",
    ),
    (
        {"fhir": bundle(), "answers": {"t1d_diagnosis_date": "2010-05-01"}, "as_of": AS_OF},
        "fhir and answers: t1d_diagnosis_date, date_of_birth: “Type 1 diabetes diagnosed” 2010-05-01 is before the "
        "date of birth 2012-03-04",
    ),
    (
        {"answers": {"bmi": 31, "height": 140, "weight": 35}, "as_of": AS_OF},
        "answers: bmi, height, weight: BMI 31 kg/m² does not match height 140 cm and weight 35 kg, which give BMI 17.9",
    ),
    (
        {"answers": {"t1d_diagnosis": False, "t1d_diagnosis_date": "2026-10-24"}, "as_of": AS_OF},
        "answers: t1d_diagnosis, t1d_diagnosis_date: “Confirmed type 1 diabetes” is answered no",
    ),
    ({"answers": {"date_of_birth": "1900-01-01"}, "as_of": AS_OF}, "gives an age of 126 years"),
    ({"answers": {"date_of_birth": "1990-01-01"}, "as_of": "4000-01-01"}, "gives an age of 2010 years"),
    ({"answers": {"t1d_diagnosis_date": "20261024"}, "as_of": AS_OF}, "expected a date as YYYY-MM-DD"),
    ({"answers": {"t1d_diagnosis_date": "2026-W43-6"}, "as_of": AS_OF}, "expected a date as YYYY-MM-DD"),
    ({"answers": {"t1d_diagnosis_date": " 2026-10-24"}, "as_of": AS_OF}, "expected a date as YYYY-MM-DD"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "answers, questions",
    [
        ({"bmi": 22, "height": 170, "weight": 100}, ["bmi", "height", "weight"]),
        ({"height": 68, "weight": 220}, ["bmi", "height", "weight"]),
        ({"age": 40, "date_of_birth": "1990-01-01"}, ["age", "date_of_birth"]),
    ],
)
def test_it_reports_a_contradiction_as_one_problem_naming_every_question(alice, seeded, answers, questions):
    response = post(alice, {"answers": answers, "as_of": AS_OF})
    assert response.status_code == 400
    [problem] = response.json()["problems"]
    assert (problem["source"], problem["code"], problem["questions"]) == ("answers", "inconsistent", questions)
    assert problem["message"] in response.json()["error"]
    assert not Screening.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("body, message", BAD_BODIES)
def test_it_answers_400_naming_the_problem(alice, seeded, body, message):
    response = post(alice, body)
    assert response.status_code == 400, response.content
    assert message in response.json()["error"]
    assert not Screening.objects.exists()


@pytest.mark.django_db
def test_it_answers_413_to_a_body_over_the_upload_limit(alice, seeded, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post(alice, {"fhir": NEW_ONSET})
    assert response.status_code == 413
    assert response.json() == {"error": "the body is larger than 1000 bytes"}


@pytest.mark.django_db
def test_it_reports_every_problem_at_once(alice, seeded):
    response = post(alice, {"answers": {"shoe_size": 1, "bmi": "x"}, "as_of": "soon", "trials": ["NCT99999999"]})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert len(errors) == 4
    assert errors[0].startswith("as_of:") and errors[1].startswith("trials:")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
FIELD_VALUES = st.fixed_dictionaries(
    {},
    optional={
        "answers": JSON | st.dictionaries(st.sampled_from(["bmi", "age", "hiv", "sex", "t1d_diagnosis_date"]), JSON),
        "fhir": JSON
        | st.fixed_dictionaries(
            {"resourceType": st.just("Bundle"), "type": st.sampled_from(["collection", "x"]), "entry": JSON}
        ),
        "as_of": JSON,
        "trials": JSON,
        "save": JSON,
        "patient_ref": JSON,
    },
)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=FIELD_VALUES | JSON)
def test_it_never_answers_500(alice, seeded, body):
    response = post(alice, body)
    assert response.status_code in (200, 201, 400), response.content
    assert response["Content-Type"] == "application/json"
