"""A clinician works entirely in 简体中文: chooses the language with the navbar's switcher, screens (explanations in
Chinese), saves and refers; then a coordinator reads the referral in Chinese."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from referrals.models import Referral
from tests.browser import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_clinician_screens_saves_and_refers_in_chinese(live_server, page, demo):
    page.goto(f"{live_server.url}/login/")
    page.select_option("#language-select", "zh-hans")
    page.click(".language-switcher button[type=submit]")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    log_in(page, live_server, "clinician", "clinician-demo")
    page.click("nav >> text=新建筛查")
    page.fill("#id_patient_ref", "ZH-0001")
    page.click("main button[name=start]")
    badge = page.locator("#result-NCT01219465 .badge").first
    expect(badge).to_have_text("需要更多信息")
    expect(page.locator("label[for=id_age_0]")).to_contain_text("年龄")

    page.fill("#id_age_0", "14")
    page.check("input[name=t1d_diagnosis][value=yes]")
    page.fill("#id_t1d_diagnosis_date", (timezone.localdate() - timedelta(weeks=4)).isoformat())
    page.check("input[name=consent_possible][value=yes]")
    page.fill("#id_height_0", "160")
    page.fill("#id_weight_0", "82")
    # Over 30: not eligible, and why, in Chinese (the protocol's words stay as published).
    expect(badge).to_have_text("不符合")
    expect(page.locator("#result-NCT01219465 .deciding")).to_contain_text("BMI 32 kg/m²（计算值），高于 30")
    expect(page.locator("#result-NCT01219465 .deciding")).to_contain_text("Body Mass Index >30.")

    page.fill("#id_weight_0", "60")
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
    expect(badge).to_have_text("可能符合")
    page.click("button[name=save]")
    expect(page.locator(".alert-success")).to_contain_text("筛查已保存")

    page.click("#result-NCT01219465 >> text=转介给协调员")
    page.fill("#id_note", "新发病例")
    page.click("main button[type=submit]")
    expect(page.locator("#result-NCT01219465 .referral-status")).to_contain_text("已转介")
    referral = Referral.objects.get()
    assert referral.trial.nct_id == "NCT01219465" and referral.note == "新发病例"

    # The coordinator, also in Chinese, reads the candidate with its explanations in Chinese.
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": live_server.url}])
    log_in(page, live_server, "coordinator", "coordinator-demo")
    page.goto(f"{live_server.url}/candidates/{referral.pk}/")
    expect(page.locator("h1")).to_contain_text("候选受试者")
    expect(page.locator("tr.criterion-row", has_text="Body Mass Index >30.")).to_contain_text("低于 30")
