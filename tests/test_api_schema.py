"""GET /api/v1/openapi.json: the published OpenAPI document, checked against the specification and against
what the API really answers."""

import json

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource

from eligibility.engine import QuestionSpec
from screening import api as openapi
from screening.models import ApiToken
from tests.factories import CATALOGUE, bearer, post

SCHEMA_URL = "/api/v1/openapi.json"
AS_OF = "2026-11-21"


def validator_for(document, name):
    """A JSON Schema validator for one of the document's components, its $refs resolved in the document."""
    registry = Registry().with_resource("doc", Resource.opaque(document))
    return Draft202012Validator(
        {"$ref": f"doc#/components/schemas/{name}"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def problems(document, name, instance):
    return [error.message for error in validator_for(document, name).iter_errors(instance)]


# --- The document (pure) ---


def test_it_is_a_valid_openapi_31_document():
    validate(openapi.document(CATALOGUE))  # raises on any violation of the specification


ANSWER_CASES = [
    # (code, a value the API accepts, a value it refuses)
    ("hiv", True, 1),
    ("hiv", "yes", [True]),
    ("bmi", 32.4, "high"),
    ("age", 120, 250),
    ("t1d_diagnosis_date", "2026-10-24", 20261024),
    ("sex", "female", "F"),
    ("prior_treatment", ["insulin"], ["aspirin"]),
    ("bmi", None, {}),
]


@pytest.mark.parametrize("code, good, bad", ANSWER_CASES)
def test_each_question_is_described_with_its_type_range_and_choices(code, good, bad):
    document = openapi.document(CATALOGUE)
    assert problems(document, "ScreenRequest", {"answers": {code: good}}) == []
    assert problems(document, "ScreenRequest", {"answers": {code: bad}}) != []


def test_it_refuses_unknown_codes_and_fields_as_the_api_does():
    document = openapi.document(CATALOGUE)
    assert problems(document, "ScreenRequest", {"answers": {"shoe_size": 44}})
    assert problems(document, "ScreenRequest", {"answers": {}, "patient": "x"})
    assert problems(document, "ScreenRequest", {"as_of": AS_OF})  # neither fhir nor answers
    assert problems(document, "ScreenRequest", {"answers": {}, "trials": ["nct123"]})


def test_a_number_question_names_its_unit():
    spec = QuestionSpec("weight", "Body weight", "number", unit="kg", min_value=1, max_value=400)
    assert openapi.answer_schema(spec) == {
        "title": "Body weight",
        "type": ["number", "null"],
        "minimum": 1,
        "maximum": 400,
        "description": "In kg (no other unit is converted here).",
    }


# --- The endpoint ---


@pytest.mark.django_db
class TestTheEndpoint:
    def test_a_signed_in_user_gets_the_document_with_todays_catalogue(self, alice, seeded):
        response = alice.get(SCHEMA_URL)
        assert response.status_code == 200 and response["Content-Type"] == "application/json"
        document = response.json()
        validate(document)
        answers = document["components"]["schemas"]["ScreenRequest"]["properties"]["answers"]["properties"]
        assert {"age", "bmi", "hiv", "t1d_diagnosis_date", "date_of_birth"} <= set(answers)
        assert document["servers"] == [{"url": "http://testserver/"}]

    def test_an_api_token_works_too(self, client, seeded, alice_key):
        assert client.get(SCHEMA_URL, headers=bearer(alice_key)).status_code == 200
        assert client.get(SCHEMA_URL, headers=bearer("psk_wrong")).status_code == 401

    def test_anonymous_callers_get_401_in_json(self, client, seeded):
        response = client.get(SCHEMA_URL)
        assert response.status_code == 401 and "authentication required" in response.json()["error"]
        assert client.post(SCHEMA_URL).status_code == 401

    def test_it_answers_only_get(self, alice, seeded):
        response = alice.post(SCHEMA_URL)
        assert response.status_code == 405 and response["Allow"] == "GET"


# --- What the API answers matches what the document says ---


@pytest.fixture
def document(alice, seeded):
    return alice.get(SCHEMA_URL).json()


@pytest.mark.django_db
class TestTheApiKeepsToTheDocument:
    @pytest.mark.parametrize("example", sorted(openapi.EXAMPLES))
    def test_each_example_is_valid_and_accepted(self, alice, document, example):
        body = document["paths"]["/api/v1/screen"]["post"]["requestBody"]["content"]["application/json"]["examples"][
            example
        ]["value"]
        assert problems(document, "ScreenRequest", body) == []
        response = post(alice, body)
        assert response.status_code in (200, 201), response.content
        schema = "SavedReport" if response.status_code == 201 else "Report"
        assert problems(document, schema, response.json()) == []

    def test_a_report_with_every_outcome_matches_the_report_schema(self, alice, document):
        # Answered, unanswered and time-relative criteria: met, not_met, unknown and dates in one report.
        body = {"answers": {"age": 40, "t1d_diagnosis_date": "2026-10-24", "bmi": 32.0}, "as_of": AS_OF}
        report = post(alice, body).json()
        outcomes = {c["outcome"] for trial in report["trials"] for c in trial["criteria"]}
        assert {"met", "not_met", "unknown"} <= outcomes
        assert problems(document, "Report", report) == []

    @pytest.mark.parametrize(
        "body, status",
        [
            ({"answers": {"age": 250}}, 400),
            ({"answers": {"bmi": 31, "height": 140, "weight": 35}}, 400),  # with "problems": a contradiction
            ("[1, 2]", 400),
            ("{nope", 400),
        ],
    )
    def test_errors_match_the_error_schema(self, alice, document, body, status):
        response = post(alice, body)
        assert response.status_code == status
        assert problems(document, "Error", response.json()) == []
        if "bmi" in str(body):
            [problem] = response.json()["problems"]
            assert problem["questions"] == ["bmi", "height", "weight"]
            wrong = {**response.json(), "problems": [{**problem, "questions": "bmi"}]}
            assert problems(document, "Error", wrong) != []  # the schema does describe them

    def test_refusals_match_the_error_schema(self, client, document, coordinator):
        for response in (post(client, {"answers": {}}, **bearer("psk_wrong")), client.get("/api/v1/screen")):
            assert response.status_code in (401, 405)
            assert problems(document, "Error", response.json()) == []
        _token, key = ApiToken.create_for(coordinator, "not allowed")
        response = post(client, {"answers": {}}, **bearer(key))
        assert response.status_code == 403 and problems(document, "Error", response.json()) == []

    def test_the_document_describes_every_status_the_api_uses(self, document):
        responses = document["paths"]["/api/v1/screen"]["post"]["responses"]
        assert set(responses) == {"200", "201", "400", "401", "403", "405", "413", "415", "429"}
        assert json.dumps(document).count("#/components/schemas/") >= 10
