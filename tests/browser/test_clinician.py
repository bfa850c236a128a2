"""A clinician screens a new-onset type 1 diabetes patient in a real browser."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from referrals.models import Referral
from screening.models import Snapshot
from tests.browser import log_in, screenshot
from tests.factories import PREFILL_BUNDLE

pytestmark = pytest.mark.django_db(transaction=True)


def verdict(page, nct_id):
    return page.locator(f"#result-{nct_id} .badge").first


def test_clinician_screens_saves_and_refers(live_server, page, demo):
    log_in(page, live_server, "clinician", "clinician-demo")
    page.click("text=New screening")
    page.fill("#id_patient_ref", "T1D-NEW-01")
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_contain_text("T1D-NEW-01")
    expect(verdict(page, "NCT01219465")).to_have_text("Needs more information")

    diagnosed = timezone.localdate() - timedelta(weeks=4)
    page.fill("#id_age_0", "14")
    page.check("input[name=t1d_diagnosis][value=yes]")
    page.fill("#id_t1d_diagnosis_date", diagnosed.isoformat())
    page.check("input[name=consent_possible][value=yes]")
    page.fill("#id_height_0", "160")
    page.fill("#id_weight_0", "70")
    for code in (
        "diabetic_ketoacidosis",
        "diabetic_retinopathy",
        "severe_organ_damage",
        "hiv",
        "hepatitis_b",
        "hepatitis_c",
        "active_infection",
        "severe_psychiatric_disorder",
        "malignancy",
    ):
        page.check(f"input[name={code}][value=no]")
    expect(verdict(page, "NCT01219465")).to_have_text("Likely eligible")
    expect(page.locator("#note-bmi")).to_contain_text("27.3 kg/m²")
    screenshot(page, "01-questionnaire-eligible")

    # BMI crosses 30: the verdict changes without a page load.
    page.fill("#id_weight_0", "82")
    expect(verdict(page, "NCT01219465")).to_have_text("Not eligible")
    page.click("#details-NCT01219465 summary")
    bmi = page.locator("#details-NCT01219465 li.criterion", has_text="Body Mass Index >30.")
    expect(bmi).to_be_visible()
    expect(bmi).to_contain_text("BMI 32 kg/m² (calculated) is above 30")
    expect(bmi).to_contain_text("Exclusion applies")
    screenshot(page, "02-bmi-over-30-explained")

    # Weight in pounds: converted, back under 30, and the expanded explanation stays open.
    page.select_option("#id_weight_1", "lb")
    page.fill("#id_weight_0", "154")
    expect(verdict(page, "NCT01219465")).to_have_text("Likely eligible")
    expect(page.locator("#note-weight")).to_contain_text("= 69.85 kg")
    expect(page.locator("#details-NCT01219465")).to_have_attribute("open", "")

    page.click("button[name=save]")
    expect(page.locator(".alert-success")).to_contain_text("Screening saved")
    assert Snapshot.objects.count() == 1

    page.click("#result-NCT01219465 >> text=Refer to coordinator")
    page.fill("#id_note", "New onset, family keen to hear more")
    screenshot(page, "03-refer")
    page.click("main button[type=submit]")
    expect(page.locator("#result-NCT01219465 .referral-status")).to_contain_text("Referred")
    referral = Referral.objects.get()
    assert referral.trial.nct_id == "NCT01219465" and referral.referred_by.username == "clinician"

    page.click("text=Print summary")
    expect(page.locator("h1")).to_contain_text("Pre-screening summary")
    screenshot(page, "04-print-summary")
    page.click("nav >> text=My screenings")
    expect(page.locator("table")).to_contain_text("T1D-NEW-01")
    screenshot(page, "05-my-screenings")


def test_it_reads_well_at_phone_width(live_server, browser, demo):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in(page, live_server, "clinician", "clinician-demo")
    page.goto(f"{live_server.url}/screenings/new/")
    page.fill("#id_patient_ref", "PHONE-1")
    page.click("main button[type=submit]")
    page.fill("#id_age_0", "40")
    expect(verdict(page, "NCT03835312")).to_have_text("Not eligible")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page scrolls sideways at phone width ({width}px)"
    screenshot(page, "06-phone")
    context.close()


def test_clinician_prefills_from_a_fhir_bundle(live_server, page, demo, tmp_path):
    import json

    bundle = json.loads(json.dumps(PREFILL_BUNDLE))
    onset = (timezone.localdate() - timedelta(weeks=3)).isoformat()
    bundle["entry"][1]["resource"]["onsetDateTime"] = onset
    path = tmp_path / "patient-bundle.json"
    path.write_text(json.dumps(bundle))

    log_in(page, live_server, "clinician", "clinician-demo")
    page.goto(f"{live_server.url}/screenings/new/")
    page.fill("#id_patient_ref", "FHIR-01")
    page.click("main button[type=submit]")
    page.click("#prefill summary")
    page.set_input_files("#id_bundle", str(path))
    page.click("#prefill button[type=submit]")
    expect(page.locator(".alert-info")).to_contain_text("Pre-filled")
    expect(page.locator("#id_t1d_diagnosis_date")).to_have_value(onset)
    expect(page.locator("#note-date_of_birth")).to_contain_text("From the record: Patient.birthDate")
    expect(page.locator("#note-t1d_diagnosis")).to_contain_text("Condition SNOMED CT 46635009")
    # Answers stay editable and verdicts stay live; nothing is saved until the clinician saves.
    page.click("#details-NCT01219465 summary")
    page.check("input[name=consent_possible][value=yes]")
    consent = page.locator("#details-NCT01219465 li.criterion", has_text="Ability to provide written informed consent")
    expect(consent).to_contain_text("Inclusion met")  # the live evaluation ran on the pre-filled answers
    expect(page.locator("#details-NCT01219465")).to_contain_text("Type 1 diabetes diagnosed " + onset)
    expect(page.locator("#details-NCT01219465")).to_contain_text("born 2012-03-04")
    expect(page.locator("#note-date_of_birth")).to_contain_text("From the record")
    expect(page.locator(".alert-danger")).to_have_count(0)
    screenshot(page, "07-prefilled-from-fhir")
    assert not Snapshot.objects.exists()


def test_clinician_sees_a_saved_screening_that_a_criteria_change_made_ineligible(live_server, page, demo, settings):
    """An admin tightens the BMI exclusion; the re-screen runs when that commits; the clinician is told."""
    from django.contrib.auth.models import User
    from django.db import transaction

    from screening.models import Screening
    from screening.pipeline import screen
    from tests.factories import ELIGIBLE_FOR_BOTH, IMMEDIATE
    from trials.models import Criterion, Trial

    settings.TASKS = IMMEDIATE
    clinician = User.objects.get(username="clinician")
    screening = Screening.objects.create(patient_ref="BMI-27", clinician=clinician)
    screening.trials.set(Trial.objects.all())
    answers = {**ELIGIBLE_FOR_BOTH, "weight": 61}  # BMI 27.1
    today = timezone.localdate()
    screening.save_snapshot(answers, screen(as_of=today, answers=answers).results, by=clinician, as_of=today)
    with transaction.atomic():
        bmi = Criterion.objects.get(trial__nct_id="NCT01219465", text="Body Mass Index >30.")
        bmi.rule = {"q": "bmi", "op": ">", "value": 25, "unit": "kg/m²"}
        bmi.save()

    log_in(page, live_server, "clinician", "clinician-demo")
    notice = page.locator(".notice-changed").first
    expect(notice).to_contain_text("NCT01219465 now:")
    expect(notice).to_contain_text("Body Mass Index >30.")
    screenshot(page, "20-home-changed-since-saved")
    notice.locator("a").click()
    expect(page.locator("h1")).to_contain_text("BMI-27")
    page.goto(f"{live_server.url}/screenings/")
    expect(page.locator(".notice-changed").first).to_contain_text("BMI-27")
    screenshot(page, "21-my-screenings-changed-since-saved")
