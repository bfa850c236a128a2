"""Sessions in a real browser: the idle warning with "Stay signed in" (the browser's clock is Playwright's), and an
htmx request whose session has ended takes the whole page to the login page, which returns to the screening."""

import re
from datetime import datetime, timedelta

import pytest
from django.contrib.sessions.models import Session
from playwright.sync_api import expect

from screening.models import Screening
from tests.browser import log_in
from trials.models import Trial

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_idle_warning_offers_to_stay_signed_in(live_server, page, demo, settings):
    settings.SESSION_IDLE_MINUTES = 3
    settings.SESSION_WARNING_SECONDS = 178  # the warning is due 2 seconds after the page loads
    page.clock.install()
    log_in(page, live_server, "clinician", "clinician-demo")
    page.clock.pause_at(datetime.now() + timedelta(seconds=1))  # the browser's timers run only when told
    warning = page.locator("#session-warning")
    expect(warning).to_be_hidden()
    page.clock.fast_forward("00:03")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("signed out in two minutes")
    with page.expect_response(lambda r: r.url.endswith("/account/session/") and r.request.method == "POST") as answer:
        warning.get_by_role("button", name="Stay signed in").click()
    assert answer.value.json()["remaining"] == 180
    expect(warning).to_be_hidden()


def test_an_htmx_request_after_the_session_ended_goes_to_the_login_page_and_back(live_server, page, demo):
    log_in(page, live_server, "clinician", "clinician-demo")
    screening = Screening.objects.create(patient_ref="IDLE-01", clinician_id=page_user_id())
    screening.trials.set(Trial.objects.all())
    page.goto(f"{live_server.url}/screenings/{screening.pk}/")
    Session.objects.all().delete()  # the session ends on the server (idle timeout, lifetime, an admin)
    page.fill("#id_age_0", "40")  # live evaluation: an htmx POST
    expect(page).to_have_url(re.compile(rf"/login/\?next=%2Fscreenings%2F{screening.pk}%2F$"))
    expect(page.locator("#results")).to_have_count(0)  # the whole page, not a login form inside the panel
    page.fill("#id_username", "clinician")
    page.fill("#id_password", "clinician-demo")
    page.click("main button[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/screenings/{screening.pk}/")


def page_user_id():
    from django.contrib.auth.models import User

    return User.objects.get(username="clinician").pk
