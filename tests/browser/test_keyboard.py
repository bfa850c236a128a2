"""Keyboard paths through the questionnaire, the results panel, the candidate queue and the rule builder: every step
by keyboard alone, focus kept where the user is when htmx redraws around it, and results announced politely."""

import pytest
from playwright.sync_api import expect

from tests.browser import admin_log_in
from tests.factories import BMI, change_url, criterion

pytestmark = pytest.mark.django_db(transaction=True)


def focused(page):
    return page.evaluate("document.activeElement && (document.activeElement.id || document.activeElement.tagName)")


def tab_to(page, selector, limit=200):
    """Press Tab until the element matching `selector` has the focus (fails after `limit` presses)."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} never took the focus by Tab")


def keyboard_log_in(page, live_server, username, password):
    page.goto(f"{live_server.url}/login/")
    tab_to(page, "#id_username")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")


def test_a_clinician_screens_by_keyboard_and_keeps_the_focus_while_results_update(live_server, page, demo_referral):
    keyboard_log_in(page, live_server, "clinician", "clinician-demo")
    page.goto(f"{live_server.url}/screenings/{demo_referral.screening.pk}/")
    # The skip link comes first and takes the keyboard past the navigation.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to content"
    expect(page.locator("#results[aria-live=polite]")).to_have_count(1)
    tab_to(page, "#id_weight_0")
    page.keyboard.press("Control+A")
    page.keyboard.type("90")
    # The panel is redrawn (htmx) around the field being typed in: the focus stays in it.
    expect(page.locator("#results .deciding").first).to_contain_text("above 30")
    assert focused(page) == "id_weight_0"
    # On to the results: a trial's "Why?" opens with Enter and its criteria load, the focus staying on it.
    tab_to(page, "#results details[id^=details-] > summary")
    summary_id = page.evaluate("document.activeElement.parentElement.id")
    page.keyboard.press("Enter")
    expect(page.locator(f"#{summary_id} .criteria-slot")).not_to_be_empty()
    assert page.evaluate("document.activeElement.parentElement.id") == summary_id


def test_a_coordinator_opens_a_candidate_from_the_queue_by_keyboard(live_server, page, demo_referral):
    keyboard_log_in(page, live_server, "coordinator", "coordinator-demo")
    page.goto(f"{live_server.url}/candidates/")
    tab_to(page, f"a[href$='/candidates/{demo_referral.pk}/']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/candidates/{demo_referral.pk}/")
    # A criterion is verified by keyboard: note, then the button.
    tab_to(page, "tr.criterion-row input[name=note]")
    page.keyboard.type("checked in chart")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("tr.criterion-row .verification").first).to_contain_text("Verified")


def test_an_admin_edits_a_rule_with_the_builder_by_keyboard(live_server, page, curator):
    curator.is_superuser = True
    curator.save()
    bmi = criterion(*BMI)
    admin_log_in(page, live_server)
    page.goto(live_server.url + change_url(bmi))
    tab_to(page, "input[name='rb.0-value']")
    page.keyboard.press("Control+A")
    page.keyboard.type("35")
    page.keyboard.press("Tab")
    # The builder redraws (htmx) on the change; the sentence follows, and the focus is not lost to the page.
    expect(page.locator("#rb-sentence")).to_have_text("BMI > 35 kg/m²")
    assert page.evaluate("document.activeElement !== document.body")
