"""The app under its strict Content-Security-Policy in a real browser: every violation the browser reports (a
`securitypolicyviolation` event, or a CSP message on the console) fails the test, on the clinician's and the
coordinator's pages, the admin, and the rule builder at work."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser import admin_log_in, log_in
from tests.factories import BMI, change_url, criterion

pytestmark = pytest.mark.django_db(transaction=True)


def visit(page, url, where=None):
    response = page.goto(url)
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")
    page.check_csp(where or url)


def test_the_clinicians_pages_raise_no_csp_violation(live_server, watched, demo_referral):
    page, url = watched, live_server.url
    visit(page, url + "/login/")
    log_in(page, live_server, "clinician", "clinician-demo")
    page.check_csp("home")
    for path in ("/screenings/", "/screenings/new/", "/trials/", "/trials/NCT01219465/"):
        visit(page, url + path)
    screening = demo_referral.screening
    visit(page, url + reverse("screening:detail", args=[screening.pk]))
    # Live evaluation (htmx, with out-of-band swaps): answer, and the idle questions are dimmed by static JS.
    page.fill("#id_age_0", "40")
    expect(page.locator(".question.q-idle").first).to_be_attached()
    explanation = page.locator("details[id^=details-]:visible").first
    explanation.locator("summary").click()
    expect(explanation.locator(".criteria-slot")).not_to_be_empty()
    page.check_csp("questionnaire after answering")
    visit(page, url + reverse("screening:print", args=[screening.pk]))
    page.click("[data-print]")
    expect(page.locator("html")).to_have_attribute("data-printed", "yes")
    page.check_csp("print")


def test_the_coordinators_pages_raise_no_csp_violation(live_server, watched, demo_referral):
    page, url = watched, live_server.url
    log_in(page, live_server, "coordinator", "coordinator-demo")
    visit(page, url + "/candidates/")
    page.select_option("#id_status", "referred")
    expect(page).to_have_url(re.compile(r"status=referred"))
    visit(page, url + reverse("candidates:detail", args=[demo_referral.pk]))
    row = page.locator("tr.criterion-row", has_text="evidence of retinopathy at baseline.")
    row.locator("input[name=note]").fill("fundoscopy normal")
    row.locator("button[value=verified_not_met]").click()
    expect(page.locator("tr.criterion-row", has_text="retinopathy").locator(".verification")).to_contain_text(
        "Verified not met"
    )
    page.check_csp("verify")
    visit(page, url + reverse("candidates:analytics", args=["NCT01219465"]))


def test_the_admin_and_the_rule_builder_raise_no_csp_violation(live_server, watched, curator):
    page, url = watched, live_server.url
    curator.is_superuser = True
    curator.save()
    visit(page, url + "/admin/login/")
    admin_log_in(page, live_server)
    page.check_csp("admin index")
    bmi = criterion(*BMI)
    for path in (
        "/admin/trials/trial/",
        change_url(bmi.trial),
        reverse("admin:trials_trial_criteria_versions", args=[bmi.trial.pk]),
        "/admin/trials/criterion/",
        reverse("admin:trials_criterion_history", args=[bmi.pk]),
        "/admin/trials/question/",
        "/admin/trials/trial/import/",
        "/admin/axes/accessattempt/",
        "/admin/auth/user/",
        reverse("admin:auth_user_change", args=[curator.pk]),
        "/admin/screening/apitoken/add/",
    ):
        visit(page, url + path)
    # The rule builder at work: htmx redraws on every change, the JSON kept in step.
    visit(page, url + change_url(bmi))
    page.select_option("select[name='rb.0-q']", "sex")
    expect(page.locator("select[name='rb.0-op'] option[value='in']")).to_have_count(1)
    page.select_option("select[name='rb.0-q']", "bmi")
    page.fill("input[name='rb.0-value']", "35")
    page.press("input[name='rb.0-value']", "Tab")
    expect(page.locator("#rb-sentence")).to_have_text("BMI > 35 kg/m²")
    page.click("button[value^='add_condition:']")
    expect(page.locator("#rb-problems")).to_be_visible()
    page.check_csp("rule builder")
