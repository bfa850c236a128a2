"""Login throttling (django-axes): username + IP locked after AXES_FAILURE_LIMIT wrong passwords, for the cool-off
(a fake clock moves time on); both login pages; admins see and lift lockouts; wrong API tokens throttled per IP."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from freezegun import freeze_time

from tests.factories import bearer, post

LOGIN = "/login/"
ADMIN_LOGIN = "/admin/login/"
START = "2026-12-01 09:00:00"


def attempt(client, url, username, password, ip="10.0.0.1"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


def fail(client, url, username, times, ip="10.0.0.1"):
    return [attempt(client, url, username, "wrong", ip).status_code for _ in range(times)]


pytestmark = pytest.mark.usefixtures("urls_loaded")


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


@pytest.mark.django_db
class TestLoginLockout:
    def test_it_locks_a_username_and_ip_after_five_failures_even_for_the_right_password(self, client, clinician):
        with freeze_time(START):
            assert fail(client, LOGIN, "alice", 4) == [200] * 4  # the form again, with its error
            response = attempt(client, LOGIN, "alice", "wrong")
            assert response.status_code == 429
            assert b"Too many failed logins" in response.content
            assert b"15 minutes" in response.content
            right = attempt(client, LOGIN, "alice", "pw-alice")
            assert right.status_code == 429
            assert "_auth_user_id" not in client.session

    def test_it_lets_the_user_in_again_after_the_cool_off(self, client, clinician):
        with freeze_time(START) as clock:
            fail(client, LOGIN, "alice", 5)
            clock.tick(timedelta(minutes=14))
            assert attempt(client, LOGIN, "alice", "pw-alice").status_code == 429
            # Each attempt while locked starts the wait again (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT).
            clock.tick(timedelta(minutes=15, seconds=1))
            response = attempt(client, LOGIN, "alice", "pw-alice")
            assert response.status_code == 302
            assert client.session["_auth_user_id"] == str(clinician.pk)

    def test_a_success_before_the_limit_starts_the_count_again(self, client, clinician):
        fail(client, LOGIN, "alice", 4)
        assert attempt(client, LOGIN, "alice", "pw-alice").status_code == 302
        client.logout()
        assert fail(client, LOGIN, "alice", 4) == [200] * 4

    def test_one_ip_cannot_lock_out_every_user(self, client, clinician, clinician_b):
        fail(client, LOGIN, "alice", 5, ip="10.6.6.6")
        assert attempt(client, LOGIN, "bob", "pw-bob", ip="10.6.6.6").status_code == 302

    def test_a_username_locked_from_one_ip_still_logs_in_from_another(self, client, clinician):
        fail(client, LOGIN, "alice", 5, ip="10.6.6.6")
        assert attempt(client, LOGIN, "alice", "pw-alice", ip="10.0.0.2").status_code == 302

    def test_the_admin_login_page_is_throttled_too(self, client, admin_user):
        assert fail(client, ADMIN_LOGIN, "adam", 5)[-1] == 429
        assert attempt(client, ADMIN_LOGIN, "adam", "pw-adam").status_code == 429

    def test_an_admin_sees_the_lockout_and_lifts_it(self, client, clinician, admin_user):
        fail(client, LOGIN, "alice", 5)
        attempt_row = AccessAttempt.objects.get(username="alice")
        assert attempt_row.failures_since_start == 5
        admin_user.is_superuser = True
        admin_user.save()
        client.force_login(admin_user)
        listing = client.get(reverse("admin:axes_accessattempt_changelist"))
        assert listing.status_code == 200
        assert b"alice" in listing.content
        delete_url = reverse("admin:axes_accessattempt_delete", args=[attempt_row.pk])
        assert client.post(delete_url, {"post": "yes"}).status_code == 302
        client.logout()
        assert attempt(client, LOGIN, "alice", "pw-alice").status_code == 302


@pytest.mark.django_db
class TestApiTokenThrottle:
    def test_it_answers_429_after_too_many_wrong_tokens_from_one_address(self, client, seeded, settings, alice_key):
        settings.API_TOKEN_FAILURE_LIMIT = 3
        with freeze_time(START) as clock:
            codes = [post(client, {"answers": {}}, **bearer("psk_wrong")).status_code for _ in range(3)]
            assert codes == [401, 401, 401]
            refused = post(client, {"answers": {"age": 10}}, **bearer(alice_key))
            assert refused.status_code == 429
            assert refused["Retry-After"] == str(15 * 60)
            assert "too many invalid API tokens" in refused.json()["error"]
            other = post(Client(REMOTE_ADDR="10.9.9.9"), {"answers": {"age": 10}}, **bearer(alice_key))
            assert other.status_code == 200
            clock.tick(timedelta(minutes=15, seconds=1))
            assert post(client, {"answers": {"age": 10}}, **bearer(alice_key)).status_code == 200

    def test_right_tokens_are_never_counted(self, client, seeded, settings, alice_key):
        settings.API_TOKEN_FAILURE_LIMIT = 2
        codes = [post(client, {"answers": {"age": 10}}, **bearer(alice_key)).status_code for _ in range(4)]
        assert codes == [200] * 4
