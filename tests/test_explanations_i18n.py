"""Explanations and the pure core's messages in both languages (issue 14 item 2).

The engine gives codes and parameters (eligibility.wording.Message); the words are made when shown, through gettext,
in the active language. Pure tables first (Django's translation machinery, no database), then `screen --language`,
the API with Accept-Language, and the questionnaire's "Why?" under the zh-hans cookie.

The Chinese strings come from locale/zh_Hans (filled from the translators' dictionaries, compiled by `make install`).
"""

import json
from dataclasses import replace
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from eligibility import report
from eligibility.answers import parse_answers
from eligibility.contradictions import find
from eligibility.engine import INCLUSION, CriterionSpec, TrialRules, evaluate
from eligibility.fhir import FhirError, answers_from_bundle
from eligibility.identifiers import check_reference, find_identifiers
from eligibility.rules import describe, validate_rule
from eligibility.wording import Message, render, text_from_json, text_to_json
from tests.factories import BASE, CATALOGUE, post, q

AS_OF = date(2026, 11, 21)

# The catalogue as the catalogue's translation gives it in Chinese (question names are data to the engine).
ZH_NAMES = {
    "t1d_diagnosis_date": "1型糖尿病确诊日期",
    "t1d_diagnosis": "确诊1型糖尿病",
    "hiv": "HIV感染",
    "hepatitis_b": "乙型肝炎",
    "sex": "性别",
    "weight": "体重",
    "height": "身高",
}
ZH_CATALOGUE = {
    code: replace(
        spec,
        short_label=ZH_NAMES.get(code, spec.short_label),
        choices=tuple((k, {"female": "女", "male": "男"}.get(k, v)) for k, v in spec.choices),
    )
    for code, spec in CATALOGUE.items()
}

EXPLANATIONS = [
    # (rule, answers, English, Chinese)
    (q("bmi", ">", 30), {"bmi": 32.4}, "BMI 32.4 kg/m² is above 30", "BMI 32.4 kg/m²，高于 30"),
    (q("hba1c", "<", 7.5), {"hba1c": 7.4}, "HbA1c 7.4 % is below 7.5", "HbA1c 7.4 %，低于 7.5"),
    (q("hba1c", "<=", 7.5), {"hba1c": 7.5}, "HbA1c 7.5 % is exactly 7.5", "HbA1c 7.5 %，恰好等于 7.5"),
    (
        q("bmi", "between", [18.5, 25]),
        {"bmi": 22},
        "BMI 22 kg/m² is between 18.5 and 25",
        "BMI 22 kg/m²，介于 18.5 与 25 之间",
    ),
    (
        q("t1d_diagnosis_date", "within", "9 weeks"),
        {"t1d_diagnosis_date": date(2026, 10, 24)},
        "Type 1 diabetes diagnosed 2026-10-24 is 4 weeks ago, less than 9 weeks",
        "1型糖尿病确诊日期 2026-10-24，距今 4 周，不足 9 周",
    ),
    (
        q("t1d_diagnosis_date", "within", "1 week"),
        {"t1d_diagnosis_date": date(2026, 11, 12)},
        "Type 1 diabetes diagnosed 2026-11-12 is 1 week 2 days ago, not less than 1 week",
        "1型糖尿病确诊日期 2026-11-12，距今 1 周 2 天，不少于 1 周",
    ),
    (
        q("t1d_diagnosis_date", "within", "9 weeks"),
        {"t1d_diagnosis_date": date(2026, 11, 20)},
        "Type 1 diabetes diagnosed 2026-11-20 is 1 day ago, less than 9 weeks",
        "1型糖尿病确诊日期 2026-11-20，距今 1 天，不足 9 周",
    ),
    (
        q("t1d_diagnosis_date", "before", "100 days"),
        {"t1d_diagnosis_date": date(2026, 1, 1)},
        "Type 1 diabetes diagnosed 2026-01-01 is 324 days ago, at least 100 days",
        "1型糖尿病确诊日期 2026-01-01，距今 324 天，已满 100 天",
    ),
    (q("hiv", "=", True), {"hiv": False}, "HIV infection: no", "HIV感染：否"),
    (q("sex", "=", "female"), {"sex": "male"}, "Sex is Male, not Female", "性别为男，而非女"),
    (
        q("bmi", ">", 30),
        {"height": 160, "weight": 76.8},
        "BMI 30 kg/m² (calculated) is exactly 30",
        "BMI 30 kg/m²（计算值），恰好等于 30",
    ),
    (q("hiv", "=", True), {}, "HIV infection is not answered yet", "HIV感染尚未回答"),
    (
        {"any": [q("hiv", "=", True), q("hepatitis_b", "=", True)]},
        {},
        "Not answered yet: HIV infection, Hepatitis B",
        "尚未回答：HIV感染、乙型肝炎",
    ),
    (
        {"q": "age", "op": "age_between", "value": {"min": "18 years", "max": "65 years"}},
        {"date_of_birth": date(1986, 1, 1)},
        "Age 40 years (born 1986-01-01) is within the limit (18 years to 65 years)",
        "年龄 40 岁（出生于 1986-01-01），在限定范围内（18 岁至 65 岁）",
    ),
    (
        {"q": "age", "op": "age_between", "value": {"min": "2 years"}},
        {"date_of_birth": date(2025, 6, 1)},
        "Age 1 year (born 2025-06-01) is below 2 years (allowed: 2 years or older)",
        "年龄 1 岁（出生于 2025-06-01），低于 2 岁（允许范围：2 岁及以上）",
    ),
    (
        {"not": q("hiv", "=", True)},
        {"hiv": True},
        "not so: HIV infection: yes",
        "不成立：HIV感染：是",
    ),
]


def explain(rule, answers, catalogue):
    trial = TrialRules("NCT00000000", "Test trial", (CriterionSpec("1", INCLUSION, "criterion", rule),))
    return evaluate(trial, answers, AS_OF, catalogue).criteria[0]


@pytest.mark.parametrize(("rule", "answers", "english", "chinese"), EXPLANATIONS)
def test_it_explains_in_english_and_in_chinese(rule, answers, english, chinese):
    with translation.override("en-gb"):
        assert explain(rule, answers, CATALOGUE).explanation == english
    with translation.override("zh-hans"):
        assert explain(rule, answers, ZH_CATALOGUE).explanation == chinese


def test_a_result_is_worded_when_shown_not_when_computed():
    with translation.override("en-gb"):
        result = explain(q("bmi", ">", 30), {"bmi": 32.4}, CATALOGUE)
    with translation.override("zh-hans"):
        assert result.explanation == "BMI 32.4 kg/m²，高于 30"
    assert result.code == "above_max" and result.reason.code == "above"


def test_a_saved_result_keeps_the_code_and_parameters_and_reads_in_the_readers_language():
    trial = TrialRules("NCT00000000", "T", (CriterionSpec("1", INCLUSION, "criterion", q("bmi", ">", 30)),))
    result = evaluate(trial, {"bmi": 32.4}, AS_OF, CATALOGUE)
    saved = json.loads(json.dumps(report.outcomes_json(result)))
    again = report.from_outcomes(saved, report.criteria_words(result), "eligible", 0)
    assert again.criteria == result.criteria
    with translation.override("zh-hans"):
        assert report.trial_json(again)["criteria"][0]["explanation"] == "BMI 32.4 kg/m²，高于 30"


def test_words_saved_before_messages_are_shown_as_they_are():
    assert text_from_json("BMI 32.4 kg/m² is above 30") == "BMI 32.4 kg/m² is above 30"
    assert text_from_json({"m": "a code from a later version", "p": {}}) == Message("a code from a later version")
    with translation.override("zh-hans"):
        assert render(text_from_json("BMI 32.4 kg/m² is above 30")) == "BMI 32.4 kg/m² is above 30"
        assert render(Message("a code from a later version")) == "a code from a later version"  # never a crash


def test_a_message_survives_json():
    reason = explain(q("t1d_diagnosis_date", "within", "1 week"), {"t1d_diagnosis_date": date(2026, 11, 12)}, CATALOGUE)
    assert text_from_json(json.loads(json.dumps(text_to_json(reason.reason)))) == reason.reason


MESSAGES = [
    # (what makes the message, English, Chinese)
    (
        lambda c: find({"age": 40, "date_of_birth": date(1990, 1, 1)}, c, AS_OF)[0].message,
        "age 40 years does not match the date of birth 1990-01-01 (36 years on 2026-11-21): correct one of them, "
        "or leave the age empty",
        "年龄 40 岁与出生日期 1990-01-01 不符（2026-11-21 时应为 36 岁）：请更正其中一项，或将年龄留空",
    ),
    (
        lambda c: find({"t1d_diagnosis": False, "t1d_diagnosis_date": date(2026, 1, 2)}, c, AS_OF)[0].message,
        "“Confirmed type 1 diabetes” is answered no, yet “Type 1 diabetes diagnosed” has the date 2026-01-02: "
        "answer yes, or clear the date",
        "“确诊1型糖尿病”回答为否，但“1型糖尿病确诊日期”填写了日期 2026-01-02：请回答是，或清除该日期",
    ),
    (
        lambda c: parse_answers({"bmi": "x"}, c)[1][0].message,
        "expected a number in kg/m², got 'x'",
        "应为以 kg/m² 为单位的数值，实际为 'x'",
    ),
    (
        lambda c: parse_answers({"weight": 900}, c)[1][0].message,
        "900 kg is not a plausible Weight (expected 2–350 kg)",
        "900 kg 不是合理的体重（应为 2–350 kg）",
    ),
    (
        lambda c: fhir_error({"resourceType": "Bundle", "type": "collection", "entry": []}),
        "the Bundle has no Patient resource",
        "该 Bundle 中没有 Patient 资源",
    ),
    (
        lambda c: check_reference("John Smith")[0].reference_message(),
        "This looks like a name. Use a pseudonymous reference (a study code) instead.",
        "这看起来像姓名。请改用化名的患者代码（研究编码）。",
    ),
    (
        lambda c: find_identifiers("call 13812345678")[0].free_text_message(),
        "This text holds what looks like a phone number (Chinese mobile): remove it (patients are pseudonymous here).",
        "此文本中含有疑似电话号码（中国手机号）的内容：请删除（本系统中患者均使用化名）。",
    ),
]


RULE_WORDS = [
    # (rule, English, Chinese): what the admin reads beside a rule, and a rule's problem
    (
        {"any": [q("hiv", "=", True), {"not": q("hepatitis_b", "=", True)}]},
        "any of: HIV infection, not (Hepatitis B)",
        "任一满足：HIV感染、非（乙型肝炎）",
    ),
    (
        q("age", "age_between", {"min": "18 years", "max": "65 years"}),
        "age 18 years to 65 years",
        "年龄 18 岁至 65 岁",
    ),
    (
        q("t1d_diagnosis_date", "within", "9 weeks"),
        "Type 1 diabetes diagnosed less than 9 weeks ago",
        "1型糖尿病确诊日期距今不足 9 周",
    ),
]


@pytest.mark.parametrize(("rule", "english", "chinese"), RULE_WORDS)
def test_a_rule_is_described_in_both_languages(rule, english, chinese):
    with translation.override("en-gb"):
        assert describe(rule, CATALOGUE) == english
    with translation.override("zh-hans"):
        assert describe(rule, ZH_CATALOGUE) == chinese


def test_a_rules_problem_reads_in_both_languages():
    [problem] = validate_rule({"any": []}, CATALOGUE)
    with translation.override("en-gb"):
        assert problem.message == "this 'any of' group is empty: it would never hold (add a condition or remove it)"
    with translation.override("zh-hans"):
        assert problem.message == "此“任一”组为空：永远不会成立（请添加条件或将其删除）"


def fhir_error(bundle):
    with pytest.raises(FhirError) as raised:
        answers_from_bundle(bundle, [], AS_OF, CATALOGUE)
    return str(raised.value)


@pytest.mark.parametrize(("make", "english", "chinese"), MESSAGES)
def test_the_cores_messages_read_in_both_languages(make, english, chinese):
    with translation.override("en-gb"):
        assert make(CATALOGUE) == english
    with translation.override("zh-hans"):
        assert make(ZH_CATALOGUE) == chinese


# --------------------------------------------------------------------------------------------
# The command, the API and the questionnaire


def run_screen(*args):
    out = StringIO()
    call_command("screen", *args, "--as-of", "2026-11-21", "--format", "json", stdout=out)
    return json.loads(out.getvalue())


def bmi_criterion(data):
    trial = next(t for t in data["trials"] if t["nct_id"] == "NCT01219465")
    return next(c for c in trial["criteria"] if c["text"] == "Body Mass Index >30.")


@pytest.mark.django_db
class TestInTheApp:
    def test_screen_keeps_english_and_speaks_chinese_when_asked(self, seeded, tmp_path):
        path = tmp_path / "answers.json"
        path.write_text(json.dumps({"bmi": 32.4}))
        assert bmi_criterion(run_screen("--answers", str(path)))["explanation"] == "BMI 32.4 kg/m² is above 30"
        chinese = bmi_criterion(run_screen("--answers", str(path), "--language", "zh-hans"))
        assert chinese["explanation"] == "BMI 32.4 kg/m²，高于 30"
        assert chinese["code"] == "above_max"  # codes do not change with the language

    def test_screens_text_report_speaks_chinese_too(self, seeded, tmp_path):
        path = tmp_path / "answers.json"
        path.write_text(json.dumps({"bmi": 32.4}))
        out = StringIO()
        call_command("screen", "--answers", str(path), "--as-of", "2026-11-21", "--language", "zh-hans", stdout=out)
        text = out.getvalue()
        assert "筛查参考日期 2026-11-21" in text and "BMI 32.4 kg/m²，高于 30" in text and "不符合" in text

    def test_the_api_answers_in_the_language_asked_for(self, alice, seeded):
        body = {"answers": {"bmi": 32.4}, "as_of": "2026-11-21"}
        english = post(alice, body)
        assert bmi_criterion(english.json())["explanation"] == "BMI 32.4 kg/m² is above 30"
        chinese = post(alice, body, **{"Accept-Language": "zh-CN,zh;q=0.9"})
        assert chinese["Content-Language"] == "zh-hans"
        assert bmi_criterion(chinese.json())["explanation"] == "BMI 32.4 kg/m²，高于 30"

    def test_the_apis_problems_are_in_the_language_asked_for(self, alice, seeded):
        body = {"answers": {"bmi": "x"}, "as_of": "2026-11-21"}
        [problem] = post(alice, body, **{"Accept-Language": "zh-CN"}).json()["problems"]
        assert problem["code"] == "answer" and problem["message"] == "bmi：应为以 kg/m² 为单位的数值，实际为 'x'"

    def test_the_questionnaires_why_is_chinese_under_the_chinese_cookie(self, client, seeded, clinician):
        from screening.models import Screening
        from trials.models import Trial

        screening = Screening.objects.create(patient_ref="JD-2014", clinician=clinician)
        screening.trials.set(Trial.objects.all())
        client.force_login(clinician)
        client.cookies["django_language"] = "zh-hans"
        url = reverse("screening:criteria", args=[screening.pk, "NCT01219465"])
        page = client.post(url, {**BASE, "bmi_0": "32.4", "height_0": "", "weight_0": ""}, HTTP_HX_REQUEST="true")
        text = page.content.decode()
        assert "，高于 30" in text and "is above 30" not in text
        assert "尚未回答" in text and "not answered yet" not in text

    def test_the_questionnaires_verdicts_are_chinese_under_the_chinese_cookie(self, client, seeded, clinician):
        from screening.models import Screening
        from trials.models import Trial

        screening = Screening.objects.create(patient_ref="JD-2014", clinician=clinician)
        screening.trials.set(Trial.objects.all())
        client.force_login(clinician)
        client.cookies["django_language"] = "zh-hans"
        page = client.get(reverse("screening:detail", args=[screening.pk])).content.decode()
        assert "需要更多信息" in page and "Needs more information" not in page
