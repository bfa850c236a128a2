"""Sessions: signed out after SESSION_IDLE_MINUTES without activity (a fake clock moves time on) and after the
absolute lifetime; an expired htmx request is sent to the login page with next= the page it came from; users change
their own password, which signs their other sessions out."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from freezegun import freeze_time

from tests.factories import BMI, change_url, criterion

START = "2026-12-01 09:00:00"


pytestmark = pytest.mark.usefixtures("urls_loaded")


@pytest.fixture(autouse=True)
def _timeouts(settings):
    settings.SESSION_IDLE_MINUTES = 30
    settings.SESSION_COOKIE_AGE = 8 * 3600


def signed_in(client):
    return "_auth_user_id" in client.session


@pytest.mark.django_db
class TestIdleTimeout:
    def test_it_signs_out_after_thirty_idle_minutes_and_comes_back_to_the_page(self, client, clinician):
        with freeze_time(START) as clock:
            client.force_login(clinician)
            assert client.get("/").status_code == 200
            clock.tick(timedelta(minutes=29))
            assert client.get("/screenings/").status_code == 200  # activity: the half hour starts again
            clock.tick(timedelta(minutes=29))
            assert client.get("/").status_code == 200
            clock.tick(timedelta(minutes=30, seconds=1))
            response = client.get("/screenings/")
            assert response.status_code == 302
            assert response["Location"] == "/login/?next=/screenings/"
            assert not signed_in(client)
            login = client.get(response["Location"])
            assert b"signed out after a period without activity" in login.content

    def test_an_expired_htmx_request_sends_the_browser_to_the_login_page_of_the_page_it_was_on(
        self, client, seeded, clinician
    ):
        from screening.models import Screening

        screening = Screening.objects.create(patient_ref="JD-2014", clinician=clinician)
        page = reverse("screening:detail", args=[screening.pk])
        with freeze_time(START) as clock:
            client.force_login(clinician)
            assert client.get(page).status_code == 200
            clock.tick(timedelta(minutes=31))
            response = client.post(
                page, {"age_0": "40"}, headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver{page}?x=1"}
            )
        assert response.status_code == 204  # nothing swapped into the results panel
        assert response["HX-Redirect"] == f"/login/?next={page.replace('/', '%2F')}%3Fx%3D1"
        assert not signed_in(client)

    def test_an_htmx_request_in_the_admin_goes_to_the_admin_login_with_the_change_page(
        self, client, admin_user, seeded
    ):
        bmi_page = change_url(criterion(*BMI))
        response = client.post(
            reverse("admin:trials_criterion_rule_builder"),
            {"_rule_change": "1"},
            headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver{bmi_page}"},
        )
        assert response.status_code == 204
        assert response["HX-Redirect"] == "/admin/login/?next=" + bmi_page.replace("/", "%2F")

    def test_a_page_of_another_site_is_never_the_next_page(self, client, clinician):
        response = client.get(
            "/screenings/", headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/x"}
        )
        assert response["HX-Redirect"] == "/login/?next=%2F"

    def test_it_signs_out_at_the_absolute_lifetime_however_active(self, client, clinician):
        with freeze_time(START) as clock:
            client.force_login(clinician)
            for _ in range(8 * 3):  # a click every 20 minutes for 8 hours
                assert client.get("/").status_code == 200
                clock.tick(timedelta(minutes=20))
            assert client.get("/").status_code == 302
            assert not signed_in(client)

    def test_asking_how_long_is_left_is_not_activity_but_staying_signed_in_is(self, client, clinician):
        status = reverse("session_status")
        with freeze_time(START) as clock:
            client.force_login(clinician)
            client.get("/")
            clock.tick(timedelta(minutes=28))
            assert client.get(status).json() == {"remaining": 120}
            clock.tick(timedelta(minutes=1))
            assert client.get(status).json() == {"remaining": 60}
            assert client.post(status).json() == {"remaining": 30 * 60}  # "Stay signed in"
            clock.tick(timedelta(minutes=29))
            assert client.get("/").status_code == 200
            clock.tick(timedelta(minutes=31))
            assert client.get(status).json() == {"remaining": 0}

    def test_every_page_carries_the_warning_with_its_timing(self, client, clinician, admin_user):
        client.force_login(clinician)
        page = client.get("/").content.decode()
        assert 'id="session-warning"' in page and 'data-idle-seconds="1800"' in page
        assert "js/session.js" in page
        client.force_login(admin_user)
        admin = client.get("/admin/").content.decode()
        assert 'id="session-warning"' in admin and "js/session.js" in admin


@pytest.mark.django_db
class TestPasswordChange:
    def test_a_user_changes_their_password_and_their_other_sessions_end(self, clinician):
        here, elsewhere = Client(), Client()
        for browser in (here, elsewhere):
            assert browser.post("/login/", {"username": "alice", "password": "pw-alice"}).status_code == 302
        form = here.get(reverse("password_change"))
        assert form.status_code == 200
        response = here.post(
            reverse("password_change"),
            {"old_password": "pw-alice", "new_password1": "a-New-long-pass-42", "new_password2": "a-New-long-pass-42"},
        )
        assert response.status_code == 302 and response["Location"] == reverse("password_change_done")
        assert here.get("/").status_code == 200  # this session goes on
        assert elsewhere.get("/").status_code == 302  # the other one is signed out
        clinician.refresh_from_db()
        assert clinician.check_password("a-New-long-pass-42")

    def test_a_wrong_old_password_changes_nothing(self, client, clinician):
        client.force_login(clinician)
        response = client.post(
            reverse("password_change"),
            {"old_password": "nope", "new_password1": "a-New-long-pass-42", "new_password2": "a-New-long-pass-42"},
        )
        assert response.status_code == 200
        assert "old_password" in response.context["form"].errors
        clinician.refresh_from_db()
        assert clinician.check_password("pw-alice")
