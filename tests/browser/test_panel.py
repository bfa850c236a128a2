"""The results panel against 500 trials in a real browser: live updates, show more, search, criteria on demand."""

import pytest
from playwright.sync_api import expect

from screening.models import Screening
from tests.browser import log_in, screenshot
from tests.factories import open_many_trials
from trials.models import Trial

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_panel_keeps_up_with_500_trials(live_server, page, demo):
    open_many_trials(498)
    log_in(page, live_server, "clinician", "clinician-demo")
    page.goto(f"{live_server.url}/screenings/new/")
    page.fill("#id_patient_ref", "MANY-01")
    page.click("main button[name=start]")
    assert Screening.objects.get().trials.count() == Trial.objects.count() == 500
    expect(page.locator(".verdict-counts")).to_contain_text("500 needs more information")
    expect(page.locator("#group-undetermined article.result")).to_have_count(20)

    # Typed answers update the panel: a BMI over 30 rules out every copy of NCT01219465.
    page.fill("#id_age_0", "14")
    page.fill("#id_height_0", "160")
    page.fill("#id_weight_0", "82")
    expect(page.locator(".verdict-counts")).to_contain_text("250 not eligible")
    expect(page.locator("#group-ineligible")).not_to_have_attribute("open", "")
    page.click("#group-ineligible > summary")
    # Leaving the weight field evaluates once more ("change"): let that swap land before clicking in the panel.
    page.wait_for_load_state("networkidle")
    first = page.locator("#group-ineligible article.result").first
    expect(first.locator(".deciding")).to_contain_text("BMI 32 kg/m² (calculated) is above 30")

    # Show more appends the next 20 cards of that group.
    page.click("#group-ineligible .show-more")
    expect(page.locator("#group-ineligible article.result")).to_have_count(40)

    # A trial's criteria load when its card is expanded, for the answers in the form (not saved).
    first.locator("details > summary").click()
    bmi = first.locator("li.criterion", has_text="Body Mass Index >30.")
    expect(bmi).to_contain_text("Exclusion applies")
    screenshot(page, "08-panel-500-trials")

    # Back under 30: the panel and the open explanation follow; the ineligible group stays open.
    page.fill("#id_weight_0", "60")
    expect(page.locator(".verdict-counts")).to_contain_text("0 not eligible")
    expect(page.locator("#group-ineligible")).to_have_count(0)

    # Search narrows the panel without interrupting the typing.
    page.fill("input[name=find]", "copy 17)")
    expect(page.locator("article.result")).to_have_count(1)
    expect(page.locator("#result-NCT90000017")).to_be_visible()
    expect(page.locator("input[name=find]")).to_have_value("copy 17)")
    screenshot(page, "09-panel-search")
