"""Schemathesis against the API's own OpenAPI document: positive and negative cases, each answered without a
server error and as the document says (status, content type, body schema)."""

import os

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from schemathesis.generation import GenerationMode

from screening.models import ApiToken

IN_CI = os.environ.get("PRESCREEN_CI") == "1"
SCREEN = ("POST", "/api/v1/screen")


@pytest.fixture
def api_key(clinician):
    _token, key = ApiToken.create_for(clinician, "fuzz")
    return key


@pytest.fixture
def api_schema(seeded, api_key):
    # As Django's test client does: a request's end must not close the test's connection (and its transaction).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        auth = {"Authorization": f"Bearer {api_key}"}
        yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application(), headers=auth), auth
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_it_answers_every_generated_request_as_the_document_says(api_schema, mode):
    schema, auth = api_schema
    operation = schema[SCREEN[1]][SCREEN[0]]

    @hypothesis.settings(
        max_examples=30, deadline=None, derandomize=IN_CI, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        # No positive_data_acceptance: what JSON Schema cannot say (the answers must agree with each other and with
        # the record, no date after as_of, a Bundle with one Patient) is refused with 400, as the document notes.
        if mode == GenerationMode.POSITIVE:
            case.call_and_validate(headers=auth, excluded_checks=[schemathesis.checks.positive_data_acceptance])
        else:
            # Named, not left to the defaults: a request the document rules out must be refused (4xx).
            case.call_and_validate(headers=auth, additional_checks=[schemathesis.checks.negative_data_rejection])

    check()
