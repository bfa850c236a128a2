"""Issue 13: pre-filling from the record in a real browser keeps what the clinician typed, shows each difference
with both values, and "Use record value" takes the record's value in place (static JS, under the strict CSP)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from screening.models import Screening, Snapshot
from tests.browser import log_in, screenshot
from tests.factories import observation, patient

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = "/tmp/shots/prefill"


def test_clinician_keeps_typed_answers_and_chooses_the_record_value(live_server, page, demo, tmp_path):
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    recent = (timezone.localdate() - timedelta(days=20)).isoformat()
    old = (timezone.localdate() - timedelta(days=3 * 365)).isoformat()
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": patient(birth="2012-03-04")},
            {"resource": observation("8302-2", 172, "cm", when=recent)},
            {"resource": observation("29463-7", 30, "kg", when=old)},  # measured at 11: too old to use at 14
        ],
    }
    path = tmp_path / "record.json"
    path.write_text(json.dumps(bundle))

    log_in(page, live_server, "clinician", "clinician-demo")
    page.goto(f"{live_server.url}/screenings/new/")
    page.fill("#id_patient_ref", "MERGE-01")
    page.click("main button[type=submit]")
    # Typed, not saved.
    page.fill("#id_height_0", "160")
    page.check("input[name=consent_possible][value=yes]")
    page.click("#prefill summary")
    page.set_input_files("#id_bundle", str(path))
    page.click("#prefill button[type=submit]")

    expect(page.locator(".alert-info")).to_contain_text("1 answer already given differs from the record")
    # What was typed is still there; an empty question took the record's value; an old one was not filled.
    expect(page.locator("#id_height_0")).to_have_value("160")
    expect(page.locator("input[name=consent_possible][value=yes]")).to_be_checked()
    expect(page.locator("#id_date_of_birth")).to_have_value("2012-03-04")
    expect(page.locator("#id_weight_0")).to_have_value("")
    expect(page.locator("#note-weight")).to_contain_text("measured 3 years ago: too old to fill in")
    conflict = page.locator("#note-height .record-conflict")
    expect(conflict).to_contain_text("Your answer: 160 cm")
    expect(conflict).to_contain_text(f"Record says 172 cm (Observation LOINC 8302-2 (LOINC 8302-2), {recent})")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator("#q-height").scroll_into_view_if_needed()
    page.screenshot(path=f"{SHOTS}/merge-desktop.png")
    screenshot(page, "13-prefill-merge-choice")

    # The clinician takes the record's value: set in place (no page load), the panel and the note follow.
    page.evaluate("window.__kept = true")
    conflict.get_by_role("button", name="Use record value").click()
    expect(page.locator("#id_height_0")).to_have_value("172")
    expect(page.locator("#note-height")).to_contain_text("From the record: Observation LOINC 8302-2")
    expect(page.locator("#note-height .record-conflict")).to_have_count(0)
    assert page.evaluate("window.__kept === true"), "the page was reloaded"
    expect(page.locator("input[name=consent_possible][value=yes]")).to_be_checked()
    # Not saved yet: Refer is not offered for a result of unsaved answers.
    expect(page.locator("a", has_text="Refer to coordinator")).to_have_count(0)

    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("#q-height").scroll_into_view_if_needed()
    page.screenshot(path=f"{SHOTS}/merge-phone.png")

    page.click("button[name=save]")
    expect(page.locator(".alert-success")).to_contain_text("Screening saved")
    screening = Screening.objects.get(patient_ref="MERGE-01")
    assert screening.answers["height"] == 172 and set(screening.answer_sources) >= {"height", "date_of_birth"}
    assert Snapshot.objects.filter(screening=screening).count() == 1
    expect(page.locator("#note-height")).to_contain_text("From the record: Observation LOINC 8302-2")
    assert violations == []

    # The print summary and the coordinator's candidate page show the answers as the questionnaire does, with sources.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/screenings/{screening.pk}/print/")
    expect(page.locator("#answer-height")).to_contain_text("172 cm")
    expect(page.locator("#answer-height")).to_contain_text("From the record: Observation LOINC 8302-2")
    page.screenshot(path=f"{SHOTS}/print.png", full_page=True)
    from django.contrib.auth.models import User

    from referrals.models import Referral
    from trials.models import Trial

    referral = Referral.create_from(
        screening, Trial.objects.get(nct_id="NCT01219465"), User.objects.get(username="clinician")
    )
    page.context.clear_cookies()
    log_in(page, live_server, "coordinator", "coordinator-demo")
    page.goto(f"{live_server.url}/candidates/{referral.pk}/")
    page.click("summary:has-text('Answers in the screening')")
    expect(page.locator("#answer-height")).to_have_text(
        "172 cmFrom the record: Observation LOINC 8302-2 (LOINC 8302-2), " + recent
    )
    expect(page.locator("#answer-consent_possible")).to_have_text("Yes")
    page.locator("#answer-height").scroll_into_view_if_needed()
    page.screenshot(path=f"{SHOTS}/candidate-desktop.png")
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("#answer-height").scroll_into_view_if_needed()
    page.screenshot(path=f"{SHOTS}/candidate-phone.png")
    assert violations == []
