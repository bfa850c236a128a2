"""The coordinator's and the admin's pages in Simplified Chinese: the queue, a candidate, the analytics and an admin
criterion page say their words in Chinese, and so do the models' choice labels (the stored values stay English)."""

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from referrals.models import Referral, Verification
from tests.factories import BMI, change_url, criterion
from trials.models import Criterion

pytestmark = pytest.mark.django_db


def in_chinese(client):
    client.cookies["django_language"] = "zh-hans"
    return client


def test_it_shows_the_coordinators_queue_in_chinese(client, people, referral):
    client = in_chinese(client)
    client.force_login(people["coordinator"])
    html = client.get(reverse("candidates:queue")).content.decode()
    assert '<html lang="zh-hans"' in html
    for words in ("候选受试者", "导出 CSV", "患者代码（化名）", "转介人", "已转介"):
        assert words in html, words
    assert "Export CSV" not in html and "Referred by" not in html


def test_it_shows_a_candidate_in_chinese(client, people, referral):
    client = in_chinese(client)
    client.force_login(people["coordinator"])
    html = client.get(reverse("candidates:detail", args=[referral.pk])).content.decode()
    for words in ("更改状态", "状态：", "核实满足", "核实不满足", "筛选失败原因", "历史", "变更为"):
        assert words in html, words
    assert "Change status" not in html and "Verified met" not in html
    assert referral.screening.patient_ref in html  # the patient reference is never translated


def test_it_shows_the_analytics_in_chinese(client, people, referral):
    client = in_chinese(client)
    client.force_login(people["coordinator"])
    html = client.get(reverse("candidates:analytics", args=["NCT01219465"])).content.decode()
    for words in ("筛选失败分析", "漏斗", "最常导致排除的标准", "包含本试验的已保存筛查"):
        assert words in html, words
    assert "Screen-failure analytics" not in html


def test_it_shows_an_admin_criterion_page_in_chinese(adam):
    adam = in_chinese(adam)
    bmi = criterion(*BMI)
    html = adam.get(change_url(bmi)).content.decode()
    for words in ("文字描述", "标准版本", "以 JSON 编辑（供高级用户）", "保存规则的来源", "删除此条件"):
        assert words in html, words
    assert "In plain words" not in html
    assert escape(bmi.text) in html  # the protocol's own words stay as they are


def test_it_translates_a_status_change_message(client, people, referral):
    client = in_chinese(client)
    client.force_login(people["coordinator"])
    client.post(reverse("candidates:status", args=[referral.pk]), {"status": "under_review", "version": 1})
    html = client.get(reverse("candidates:detail", args=[referral.pk])).content.decode()
    assert "状态已变更为“审核中”。" in html


def test_the_models_choice_labels_come_out_in_chinese():
    with translation.override("zh-hans"):
        assert str(Referral.Status.REFERRED.label) == "已转介"
        assert str(Referral.Status.SCREEN_FAILED.label) == "筛选失败"
        assert str(Referral.Status.ENROLLED.label) == "已入组"
        assert str(Verification.Status.VERIFIED_MET.label) == "核实满足"
        assert str(Criterion.Kind.INCLUSION.label) == "入选"
        assert dict(Referral.Status.choices)["consented"] == "已知情同意"
    with translation.override("en-gb"):
        assert str(Referral.Status.SCREEN_FAILED.label) == "Screen failed"
    assert Referral.Status.SCREEN_FAILED == "screen_failed"  # the stored value does not change with the language
