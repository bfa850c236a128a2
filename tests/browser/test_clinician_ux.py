"""What clinicians hit in the questionnaire (issue 13), in a real browser: a warning before leaving unsaved answers,
the Save bar above a focused input, a verdict strip on a phone, discarding a draft."""

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from screening.models import Screening
from tests.browser import log_in
from trials.models import Trial

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def draft(demo):
    screening = Screening.objects.create(patient_ref="UX-0001", clinician=User.objects.get(username="clinician"))
    screening.trials.set(Trial.objects.all())
    return screening


def open_questionnaire(page, live_server, screening):
    log_in(page, live_server, "clinician", "clinician-demo")
    page.goto(f"{live_server.url}/screenings/{screening.pk}/")
    page.wait_for_load_state("networkidle")


def test_leaving_unsaved_answers_asks_first_and_saving_does_not(live_server, page, draft):
    dialogs = []

    def on_dialog(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()  # stay on the page

    page.on("dialog", on_dialog)
    open_questionnaire(page, live_server, draft)
    questionnaire = page.url

    # Nothing typed: leaving does not ask.
    page.click("main >> text=My screenings")
    expect(page.locator("h1")).to_have_text("My screenings")
    assert dialogs == []

    page.goto(questionnaire)
    page.fill("#id_age_0", "14")
    # Live evaluation ran (htmx) and saved nothing: the form is still unsaved.
    expect(page.locator("#results .verdict-counts")).to_be_visible()
    page.wait_for_load_state("networkidle")
    page.click("main >> text=My screenings")  # returns once the navigation was asked for, and refused
    assert dialogs == ["beforeunload"]
    assert page.url == questionnaire and page.input_value("#id_age_0") == "14"

    # Saving carries the answers: no question, and afterwards nothing is unsaved.
    page.click("button[name=save]")
    expect(page.locator(".alert-success")).to_contain_text("Screening saved")
    page.click("main >> text=My screenings")
    expect(page.locator("h1")).to_have_text("My screenings")
    assert dialogs == ["beforeunload"]
