"""A database that cannot be reached gives 503 Service Unavailable (a page, or JSON from the API) with Retry-After,
never a generic 500; and the app recovers on its own once the database is back (PostgreSQL: a killed connection)."""

from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.test import Client

from screening.models import Screening
from tests.factories import bearer, post

pytestmark = pytest.mark.django_db(transaction=True)


def refusing(*args, **kwargs):
    raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")


@pytest.fixture
def browser():
    return Client(raise_request_exception=False)  # as in production: the handler answers, the test sees it


def test_a_page_answers_503_when_the_database_is_unavailable(browser, clinician):
    browser.force_login(clinician)
    with mock.patch.object(Screening.objects, "of", refusing):
        response = browser.get("/screenings/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "temporarily unavailable" in response.content.decode()
    assert browser.get("/screenings/").status_code == 200  # and back once it answers


def test_a_failure_before_the_view_answers_503_too(browser, clinician):
    browser.force_login(clinician)
    with mock.patch("django.contrib.sessions.backends.db.SessionStore.load", refusing):
        response = browser.get("/")
    assert response.status_code == 503


def test_the_api_answers_503_in_json(browser, seeded, alice_key):
    with mock.patch("screening.api.screen", refusing):
        response = post(browser, {"answers": {"age": 10}}, **bearer(alice_key))
    assert response.status_code == 503
    assert response.json() == {"error": "the database is unavailable: try again shortly"}


def test_other_errors_stay_500(browser, clinician):
    browser.force_login(clinician)
    with mock.patch.object(Screening.objects, "of", side_effect=RuntimeError("a bug")):
        assert browser.get("/screenings/").status_code == 500


def test_it_recovers_after_its_database_connection_is_killed(browser, clinician):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...)")
    import psycopg

    browser.force_login(clinician)
    assert browser.get("/screenings/").status_code == 200
    params = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"}, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])
    assert browser.get("/screenings/").status_code == 503  # the request that found the connection dead
    assert browser.get("/screenings/").status_code == 200  # the next one has a fresh connection
