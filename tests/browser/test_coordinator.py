"""A coordinator reviews a referral in a real browser: verify a criterion, move the status, see the history."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from referrals.models import Referral
from screening.models import Screening
from tests.browser import log_in, screenshot
from tests.factories import BASE
from trials.models import Trial

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def referral(demo, client):
    from django.contrib.auth.models import User

    clinician = User.objects.get(username="clinician")
    client.force_login(clinician)
    screening = Screening.objects.create(patient_ref="REV-01", clinician=clinician)
    screening.trials.set(Trial.objects.all())
    client.post(reverse("screening:detail", args=[screening.pk]), {**BASE, "save": "1"})
    client.post(reverse("screening:refer", args=[screening.pk, "NCT01219465"]), {"note": "new onset"})
    return Referral.objects.get()


def test_coordinator_reviews_a_referral(live_server, page, referral):
    log_in(page, live_server, "coordinator", "coordinator-demo")
    page.click("nav >> text=Candidates")
    expect(page.locator("table")).to_contain_text("REV-01")
    page.select_option("#id_status", "referred")
    expect(page).to_have_url(re.compile(r"/candidates/\?.*status=referred"))  # bookmarkable filters
    screenshot(page, "10-candidate-queue")
    page.click("text=REV-01")
    expect(page.locator("h1")).to_contain_text("REV-01")

    row = page.locator("tr.criterion-row", has_text="evidence of retinopathy at baseline.")
    row.locator("input[name=note]").fill("fundoscopy normal in chart")
    row.locator("button[value=verified_not_met]").click()
    row = page.locator("tr.criterion-row", has_text="evidence of retinopathy at baseline.")
    expect(row.locator(".verification")).to_contain_text("Verified not met by coordinator")

    page.select_option("#id_status", "under_review")
    page.fill("#id_note", "checking chart")
    page.click("#workflow button[type=submit]")
    expect(page.locator("#workflow .referral-status")).to_have_text("Under review")
    page.select_option("#id_status", "contacted")
    page.click("#workflow button[type=submit]")
    expect(page.locator("#workflow .referral-status")).to_have_text("Contacted")
    history = page.locator("#workflow .history")
    expect(history).to_contain_text("Under review → Contacted")
    expect(history).to_contain_text("Referred → Under review — “checking chart”")
    screenshot(page, "11-candidate-detail")
    page.reload()
    expect(page.locator("#workflow .history")).to_contain_text("Verified: Verified not met")

    # Consent is a signed decision: a wrong password changes nothing, the right one signs and moves.
    page.select_option("#id_status", "consented")
    expect(page.locator("#workflow")).to_contain_text("I confirm this patient consented")
    page.fill("#id_password", "not-my-password")
    page.click("#workflow button[type=submit]")
    expect(page.locator("#workflow .alert-danger")).to_contain_text("Wrong password")
    expect(page.locator("#workflow .referral-status")).to_have_text("Contacted")
    page.select_option("#id_status", "consented")
    page.fill("#id_password", "coordinator-demo")
    page.click("#workflow button[type=submit]")
    expect(page.locator("#workflow .referral-status")).to_have_text("Consented")
    expect(page.locator("#workflow .history")).to_contain_text("Signed: I confirm this patient consented")

    referral.refresh_from_db()
    assert referral.status == "consented" and referral.version == 4

    page.goto(f"{live_server.url}{reverse('candidates:analytics', args=['NCT01219465'])}")
    expect(page.locator("svg.bar-chart").first).to_be_visible()
    screenshot(page, "12-analytics")


def test_the_clinician_sees_the_referral_timeline_with_the_screen_fail_criterion(live_server, browser, referral):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, live_server, "coordinator", "coordinator-demo")
    page.goto(f"{live_server.url}{reverse('candidates:detail', args=[referral.pk])}")
    page.select_option("#id_status", "under_review")
    page.click("#workflow button[type=submit]")
    expect(page.locator("#workflow .referral-status")).to_have_text("Under review")
    page.select_option("#id_status", "screen_failed")
    page.locator("#workflow summary", has_text="Screen-failure reason").click()
    failed = referral.trial.criteria.get(text="evidence of retinopathy at baseline.")
    page.select_option("#id_reason_criterion", str(failed.pk))
    page.fill("#id_reason_text", "seen at the eye clinic")
    page.click("#workflow button[type=submit]")
    expect(page.locator("#workflow .referral-status")).to_have_text("Screen failed")
    expect(page.locator("#workflow .status-reason")).to_contain_text("evidence of retinopathy at baseline.")
    expect(page.locator("#workflow .status-reason")).to_contain_text("seen at the eye clinic")

    page.context.clear_cookies()
    log_in(page, live_server, "clinician", "clinician-demo")
    steps = page.locator(".my-referrals .referral-timeline li")
    expect(steps).to_have_count(3)
    expect(steps.nth(0)).to_contain_text("Referred")
    expect(steps.nth(0)).to_contain_text("by the clinician")
    expect(steps.nth(1)).to_contain_text("Under review")
    expect(steps.nth(2)).to_contain_text("Screen failed")
    expect(steps.nth(2)).to_contain_text("by the coordinator")
    expect(steps.nth(2).locator(".step-reason")).to_contain_text("evidence of retinopathy at baseline.")
    expect(steps.nth(2).locator(".step-reason")).to_contain_text("seen at the eye clinic")
    screenshot(page, "13-home-referral-timeline")
    context.close()
