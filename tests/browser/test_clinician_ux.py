"""What clinicians hit in the questionnaire (issue 13), in a real browser: a warning before leaving unsaved answers,
the Save bar above a focused input, a verdict strip on a phone, discarding a draft."""

import re

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


UNDER_THE_BAR = """sel => {
  const bar = document.querySelector(".form-actions"), input = document.querySelector(sel);
  window.scrollTo({top: 0, behavior: "instant"});
  window.scrollBy({top: input.getBoundingClientRect().top - bar.getBoundingClientRect().top + 4, behavior: "instant"});
  input.focus({preventScroll: true});
  const top = bar.getBoundingClientRect().top;
  const hit = document.elementFromPoint(input.getBoundingClientRect().left + 5, top + 8);
  return {inputTop: input.getBoundingClientRect().top, barTop: top, barOnTop: bar.contains(hit), hit: hit.outerHTML.slice(0, 80)};
}"""


def test_a_focused_input_never_draws_over_the_save_bar(live_server, page, draft):
    page.set_viewport_size({"width": 1280, "height": 800})
    open_questionnaire(page, live_server, draft)
    # A number with a unit is an input group, whose focused control Bootstrap raises (z-index 5).
    seen = page.evaluate(UNDER_THE_BAR, "#id_weight_0")
    assert abs(seen["inputTop"] - seen["barTop"]) < 10, seen  # the input is where the bar is
    assert seen["barOnTop"], seen

    # Moving to an answer that the bar hides scrolls it clear of the bar.
    page.focus("#id_height_1")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_weight_0"
    page.wait_for_function(
        """() => document.activeElement.getBoundingClientRect().bottom
                 <= document.querySelector(".form-actions").getBoundingClientRect().top"""
    )


def test_on_a_phone_a_verdict_strip_stays_in_view_follows_the_answers_and_opens_the_results(live_server, page, draft):
    page.set_viewport_size({"width": 390, "height": 844})
    open_questionnaire(page, live_server, draft)
    strip = page.locator("#verdict-strip")
    expect(strip).to_contain_text("2 undetermined")
    # Far down the form the strip is still at the top of the window.
    page.locator("#id_weight_0").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy({top: 400, behavior: 'instant'})")
    box = strip.bounding_box()
    assert box is not None and 0 <= box["y"] < 5 and box["height"] < 60, box
    results = page.locator("#results").bounding_box()
    assert results["y"] > 844, "the results are below the window"

    # Answers change the counts (the same htmx swap as the panel): BMI 32 rules out NCT01219465.
    page.fill("#id_height_0", "160")
    page.fill("#id_weight_0", "82")
    expect(strip).to_contain_text("1 not eligible")
    expect(strip).to_contain_text("1 undetermined")

    strip.click()
    expect(page.locator("#result-NCT01219465")).to_be_in_viewport()
    assert 0 <= page.locator("#results").bounding_box()["y"] < 844


def test_on_a_desktop_the_results_are_beside_the_form_and_there_is_no_strip(live_server, page, draft):
    page.set_viewport_size({"width": 1280, "height": 800})
    open_questionnaire(page, live_server, draft)
    expect(page.locator("#verdict-strip")).to_be_hidden()
    expect(page.locator("#results")).to_be_in_viewport()


def test_a_clinician_is_told_of_a_reference_in_use_and_discards_the_abandoned_draft(live_server, page, draft):
    log_in(page, live_server, "clinician", "clinician-demo")
    page.click("text=New screening")
    page.fill("#id_patient_ref", "ux-0001")
    hint = page.locator("#ref-hint")
    expect(hint).to_contain_text("You already have a screening for UX-0001 started on")
    expect(hint.locator("a", has_text="open it?")).to_have_attribute("href", f"/screenings/{draft.pk}/")
    page.fill("#id_patient_ref", "UX-0002")
    expect(hint).to_be_empty()

    page.goto(f"{live_server.url}/screenings/")
    row = page.locator("tr", has_text="UX-0001")
    row.locator("a.discard").click()
    expect(page.locator("h1")).to_have_text("Discard this draft?")
    page.click("main button[type=submit]")
    expect(page.locator(".alert-success")).to_contain_text("The draft screening UX-0001 was discarded.")
    expect(page.locator("tr", has_text="UX-0001")).to_have_count(0)
    assert not Screening.objects.filter(pk=draft.pk).exists()


def test_the_trials_page_follows_the_search_as_it_is_typed(live_server, page, demo):
    Trial.objects.bulk_create(
        Trial(nct_id=f"NCT8{i:07d}", brief_title=f"Closed asthma study {i}", open_for_screening=False) for i in range(3)
    )
    log_in(page, live_server, "clinician", "clinician-demo")
    page.click("nav >> text=Trials")
    rows = page.locator("tr.trial-row")
    expect(rows).to_have_count(2)  # open for screening here: the seed's two
    page.select_option("#id_show", "all")
    expect(rows).to_have_count(5)
    page.fill("#id_q", "asthma")
    expect(rows).to_have_count(3)
    expect(page).to_have_url(re.compile(r"q=asthma"))
    page.fill("#id_q", "NCT0121")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("NCT01219465")
