"""Contradictory answers in a real browser: shown on every field involved, and the trials that need them left open."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from screening.models import Screening
from tests.browser import log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = os.environ.get("PRESCREEN_SHOTS")  # also save desktop and phone shots there (a folder), when set


def test_a_bmi_that_contradicts_height_and_weight_is_shown_on_all_three(live_server, page, demo):
    log_in(page, live_server, "clinician", "clinician-demo")
    page.goto(f"{live_server.url}/screenings/new/")
    page.fill("#id_patient_ref", "CON-01")
    page.click("main button[name=start]")
    assert Screening.objects.exists()

    page.fill("#id_age_0", "14")
    page.fill("#id_height_0", "160")
    page.fill("#id_weight_0", "52")
    page.fill("#id_bmi_0", "31")  # height and weight give 20.3; an entered 31 used to rule out NCT01219465
    page.locator("#id_bmi_0").blur()
    message = "BMI 31 kg/m² does not match height 160 cm and weight 52 kg, which give BMI 20.3"
    for code in ("bmi", "height", "weight"):
        expect(page.locator(f"#note-{code}")).to_contain_text(message)
    card = page.locator("#result-NCT01219465")
    expect(card).to_have_attribute("data-verdict", "undetermined")
    expect(card.locator(".conflicts")).to_contain_text("BMI")
    expect(page.locator(".contradictions")).to_contain_text("Answers contradict each other")
    screenshot(page, "20-contradiction")
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        for name, width, height in (("desktop", 1280, 900), ("phone", 390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            for part in ("q-height", "results"):
                page.locator(f"#{part}").evaluate("e => e.scrollIntoView({behavior: 'instant'})")
                page.screenshot(path=f"{SHOTS}/contradiction-{name}-{part}.png")

    # Corrected: the BMI agrees with height and weight, and the trial is decided again.
    page.fill("#id_bmi_0", "20.3")
    page.locator("#id_bmi_0").blur()
    expect(page.locator("#note-height")).not_to_contain_text("does not match")
    expect(page.locator(".contradictions")).to_have_count(0)
