"""axe-core on every main page, for every role, in English and in Simplified Chinese: no serious or critical
violation (contrast, labels, names, table headers...)."""

import pytest
from django.urls import reverse

from tests.browser import admin_log_in, axe_violations, log_in
from tests.factories import BMI, change_url, criterion

pytestmark = pytest.mark.django_db(transaction=True)

LANGUAGES = ("en-gb", "zh-hans")


def choose_language(page, live_server, language):
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])


def audit(page, url, problems):
    page.goto(url)
    page.wait_for_load_state("networkidle")
    problems.extend(f"{url}: {line}" for line in axe_violations(page))


def report(problems):
    assert problems == [], f"{len(problems)} violations:\n" + "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_clinicians_pages_have_no_serious_accessibility_violation(live_server, page, demo_referral, language):
    choose_language(page, live_server, language)
    problems = []
    url = live_server.url
    audit(page, url + "/login/", problems)
    log_in(page, live_server, "clinician", "clinician-demo")
    screening = demo_referral.screening
    for path in (
        "/",
        "/screenings/",
        "/screenings/new/",
        "/trials/",
        "/trials/NCT01219465/",
        reverse("screening:detail", args=[screening.pk]),
        reverse("screening:print", args=[screening.pk]),
        reverse("screening:refer", args=[screening.pk, "NCT03835312"]),
        "/account/password/",
    ):
        audit(page, url + path, problems)
    # The results panel after htmx swapped it, with an explanation open.
    page.goto(url + reverse("screening:detail", args=[screening.pk]))
    page.fill("#id_age_0", "40")
    page.locator("details[id^=details-]:visible").first.locator("summary").click()
    page.wait_for_load_state("networkidle")
    problems.extend(f"questionnaire after answering: {line}" for line in axe_violations(page))
    report(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_coordinators_pages_have_no_serious_accessibility_violation(live_server, page, demo_referral, language):
    choose_language(page, live_server, language)
    problems = []
    url = live_server.url
    log_in(page, live_server, "coordinator", "coordinator-demo")
    for path in (
        "/",
        "/candidates/",
        reverse("candidates:detail", args=[demo_referral.pk]),
        reverse("candidates:analytics", args=["NCT01219465"]),
    ):
        audit(page, url + path, problems)
    report(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_admin_pages_have_no_serious_accessibility_violation(live_server, page, curator, language):
    choose_language(page, live_server, language)
    curator.is_superuser = True
    curator.save()
    problems = []
    url = live_server.url
    admin_log_in(page, live_server)
    bmi = criterion(*BMI)
    for path in (
        "/admin/",
        "/admin/trials/trial/",
        change_url(bmi.trial),
        change_url(bmi),
        "/admin/trials/question/",
        "/admin/trials/trial/import/",
        "/admin/audit/accesslog/",
        "/admin/screening/screening/",
    ):
        audit(page, url + path, problems)
    report(problems)
