"""The clinician's pages in Simplified Chinese: chosen with the language cookie, they show the Chinese words (and
none of a few English ones), dates in the Chinese form, and form errors in Chinese. English stays as it was."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from screening.models import Screening
from tests.factories import BASE
from trials.models import Trial

pytestmark = pytest.mark.django_db


@pytest.fixture
def zh(client, seeded, clinician):
    client.force_login(clinician)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    return client


@pytest.fixture
def screening(seeded, clinician):
    s = Screening.objects.create(patient_ref="JD-2014", clinician=clinician)
    s.trials.set(Trial.objects.all())
    return s


def page(client, url, **kwargs):
    response = client.get(url, **kwargs)
    assert response.status_code == 200
    return response.content.decode()


def text_of(html: str) -> str:
    """The words people see: tags, scripts and comments removed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def assert_chinese(html, present, absent):
    seen = text_of(html)
    assert '<html lang="zh-hans">' in html
    for words in present:
        assert words in html, words
    for words in absent:
        assert words not in seen, words


def test_home_page_is_in_chinese(zh):
    html = page(zh, reverse("home"))
    assert_chinese(
        html,
        ["欢迎，alice", "您的角色：临床医生。", "我的转介", "新建筛查", "开放筛查的试验", "退出登录", "跳到主要内容"],
        ["Welcome", "Your roles", "My referrals", "Trials open for screening", "Log out", "New screening"],
    )


def test_new_screening_page_is_in_chinese(zh):
    html = page(zh, reverse("screening:new"))
    assert_chinese(
        html,
        ["新建筛查", "化名的患者代码", "患者代码（化名）", "开始筛查", "要筛查的试验"],
        ["Use a pseudonymous reference", "Patient reference", "Start screening", "New screening"],
    )


def test_questionnaire_is_in_chinese_with_its_date_format_named(zh, screening):
    html = page(zh, reverse("screening:detail", args=[screening.pk]))
    assert_chinese(
        html,
        [
            '筛查 <span class="font-monospace">JD-2014</span>',
            "尚未保存",
            "保存筛查",
            "更新结果",
            "结果",
            "从患者病历预填",
            "格式：年-月-日（YYYY-MM-DD）。",
            "如不清楚，请不要回答该问题",
        ],
        [
            "Save screening",
            "Update results",
            "not saved yet",
            "Leave a question unanswered",
            "Next best questions",
            "My screenings",
        ],
    )


def test_unit_words_are_translated_and_their_values_kept(zh, screening):
    html = page(zh, reverse("screening:detail", args=[screening.pk]))
    assert re.search(r'<option value="years"[^>]*>岁</option>', html)
    assert re.search(r'<option value="kg"[^>]*>kg</option>', html)


def test_a_form_error_comes_out_in_chinese(zh, screening):
    url = reverse("screening:detail", args=[screening.pk])
    response = zh.post(url, {**BASE, "t1d_diagnosis_date": "04/03/2012", "save": "1"})
    html = response.content.decode()
    assert response.status_code == 200 and not screening.snapshots.exists()
    assert "请输入有效日期，格式为 YYYY-MM-DD（例如 2012-03-04）。" in html
    assert "未保存任何内容：请更正下方标出的回答。" in html
    assert "Enter a real date" not in html and "Nothing was saved" not in html


def test_the_new_screening_form_refuses_in_chinese(zh):
    response = zh.post(reverse("screening:new"), {"patient_ref": "AB-2010", "scope": "listed", "trials": "hello"})
    html = response.content.decode()
    assert "“hello”不是 NCT 编号。" in html and "is not an NCT id" not in html
    assert not Screening.objects.exists()


def test_my_screenings_and_the_print_summary_are_in_chinese_with_chinese_dates(zh, screening):
    zh.post(reverse("screening:detail", args=[screening.pk]), {**BASE, "save": "1"})
    snapshot = screening.latest_snapshot()
    day = snapshot.as_of
    chinese_day = f"{day.year}年{day.month}月{day.day}日"

    html = page(zh, reverse("screening:list"))
    assert_chinese(
        html,
        ["我的筛查", "患者代码（化名）", "最近保存", "保存时的结论", chinese_day],
        ["My screenings", "Patient reference", "Last saved", "Saved verdicts", day.isoformat()],
    )

    html = page(zh, reverse("screening:print", args=[screening.pk]))
    assert_chinese(
        html,
        [
            "预筛查摘要",
            "仅为预筛查：请对照完整方案确认资格。",
            "标准（方案原文）",
            "由临床医生填写",
            f"标准按 {chinese_day} 评估",
        ],
        ["Pre-screening summary", "Criterion (protocol text)", "Entered by the clinician", "criteria evaluated as of"],
    )


def test_trials_list_is_in_chinese(zh):
    html = page(zh, reverse("trials:list"))
    assert_chinese(
        html,
        ["试验", "按 NCT 编号、标题或疾病搜索", "本中心开放", "NCT01219465"],
        ["Search by NCT id, title or condition", "Open for screening here", "Registry status"],
    )


def test_english_pages_keep_their_words_and_iso_dates(client, seeded, clinician, screening):
    client.force_login(clinician)
    client.post(reverse("screening:detail", args=[screening.pk]), {**BASE, "save": "1"})
    html = page(client, reverse("screening:list"))
    assert '<html lang="en-gb">' in html and "My screenings" in html
    assert screening.latest_snapshot().saved_at.date().isoformat() in html


def test_date_inputs_name_their_format_in_english_too(client, seeded, clinician, screening):
    client.force_login(clinician)
    html = page(client, reverse("screening:detail", args=[screening.pk]))
    assert 'type="date"' in html and "Format: YYYY-MM-DD." in html


def test_a_page_the_role_does_not_open_says_so_in_chinese(zh):
    response = zh.get(reverse("candidates:queue"))
    html = response.content.decode()
    assert response.status_code == 403
    assert "此页面仅供以下角色使用：协调员、管理员。" in html and "您无法打开此页面" in html
    assert "This page is for" not in html
