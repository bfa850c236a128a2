"""The question catalogue in English and 简体中文: texts per language, one compiled catalogue, the seed, the admin,
the questionnaire and the trials' optional Chinese titles (issue 14, item 3)."""

import importlib
import json
from datetime import date

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from eligibility import compiled as compiled_module
from eligibility import pipeline as eligibility_pipeline
from screening.models import Screening
from screening.pipeline import screen
from trials.models import Question, Trial, catalogue
from trials.seed import SEED_DIR

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 12, 1)
ZH = "zh-hans"


def seed_row(code):
    return next(r for r in json.loads((SEED_DIR / "questions.json").read_text()) if r["code"] == code)


class TestQuestionTexts:
    def test_it_shows_the_active_language_s_texts(self, seeded):
        sex = Question.objects.get(code="sex")
        assert (sex.label, sex.choices) == ("Sex", [["female", "Female"], ["male", "Male"]])
        with translation.override(ZH):
            sex = Question.objects.get(code="sex")
            assert (sex.label, sex.short_label) == ("性别", "性别")
            assert sex.choices == [["female", "女"], ["male", "男"]]

    def test_an_empty_chinese_text_falls_back_to_english(self, seeded):
        Question.objects.filter(code="hba1c").update(label_zh_hans="", help_text_zh_hans=None)
        Question.objects.filter(code="sex").update(choices_zh_hans=[])
        with translation.override(ZH):
            assert Question.objects.get(code="hba1c").label == "HbA1c"
            assert Question.objects.get(code="sex").choices == [["female", "Female"], ["male", "Male"]]

    def test_translated_choices_must_keep_the_values_and_their_order(self, seeded):
        sex = Question.objects.get(code="sex")
        sex.choices_zh_hans = [["male", "男"], ["female", "女"]]
        with pytest.raises(ValidationError) as raised:
            sex.full_clean()
        assert "same values in the same order" in str(raised.value.message_dict["choices_zh_hans"])
        sex.choices_zh_hans = [["female", "女"], ["man", "男"]]
        with pytest.raises(ValidationError):
            sex.full_clean()
        sex.choices_zh_hans = [["female", "女"], ["male"]]
        with pytest.raises(ValidationError) as raised:
            sex.full_clean()
        assert "[[value, label], ...]" in str(raised.value.message_dict["choices_zh_hans"])
        sex.choices_zh_hans = [["female", "女性"], ["male", "男性"]]
        sex.full_clean()  # relabelled only: fine

    def test_the_history_keeps_both_languages(self, seeded):
        sex = Question.objects.get(code="sex")
        sex.label_zh_hans = "生理性别"
        sex.save()
        latest = sex.history.first()
        assert (latest.label_en_gb, latest.label_zh_hans) == ("Sex", "生理性别")
        assert latest.choices_zh_hans == [["female", "女"], ["male", "男"]]


class TestSeed:
    def test_the_seed_ships_every_question_in_both_languages(self, seeded):
        rows = json.loads((SEED_DIR / "questions.json").read_text())
        for row in rows:
            assert row["label_zh_hans"] and row["short_label_zh_hans"], row["code"]
            assert [v for v, _ in row["choices_zh_hans"]] == [v for v, _ in row["choices"]], row["code"]
            assert bool(row["help_text_zh_hans"]) == bool(row["help_text"]), row["code"]
        bmi = Question.objects.get(code="bmi")
        assert (bmi.label_en_gb, bmi.label_zh_hans) == ("Body mass index", "体重指数（BMI）")
        assert bmi.help_text_zh_hans == seed_row("bmi")["help_text_zh_hans"]

    def test_loading_the_seed_under_chinese_writes_each_language_to_its_own_column(self, seeded):
        from trials.seed import load_questions

        with translation.override(ZH):
            assert load_questions()["updated"] == 0
        assert Question.objects.get(code="age").label_en_gb == "Age"
        assert Question.objects.get(code="age").label_zh_hans == "年龄"

    def test_the_migration_fills_empty_texts_and_keeps_written_ones(self, seeded):
        fill = importlib.import_module("trials.migrations.0013_fill_question_texts_per_language").fill
        Question.objects.filter(code="age").update(label_en_gb="", label_zh_hans=None, label="Age")
        Question.objects.filter(code="height").update(label_zh_hans="身长")
        fill(apps, None)
        age, height = Question.objects.get(code="age"), Question.objects.get(code="height")
        assert (age.label_en_gb, age.label_zh_hans) == ("Age", "年龄")
        assert height.label_zh_hans == "身长", "a Chinese text an admin wrote is kept"


class TestCatalogue:
    def test_it_is_cached_per_language_with_the_same_codes_and_values(self, seeded, django_assert_num_queries):
        english = catalogue()
        with translation.override(ZH):
            chinese = catalogue()
            with django_assert_num_queries(1):  # the stamp: the Chinese catalogue is cached too
                assert catalogue() is chinese
        assert catalogue() is english
        assert english.keys() == chinese.keys()
        assert (english["sex"].name, chinese["sex"].name) == ("Sex", "性别")
        assert chinese["sex"].choices == (("female", "女"), ("male", "男"))
        for code, spec in english.items():
            zh = chinese[code]
            assert (zh.type, zh.unit, zh.min_value, zh.max_value) == (
                spec.type,
                spec.unit,
                spec.min_value,
                spec.max_value,
            )
            assert [v for v, _ in zh.choices] == [v for v, _ in spec.choices]

    def test_switching_language_does_not_recompile_and_explains_in_chinese(self, seeded, monkeypatch):
        compiles = []
        original = compiled_module.Compiler.compile
        monkeypatch.setattr(
            compiled_module.Compiler, "compile", lambda self, t: compiles.append(t) or original(self, t)
        )
        eligibility_pipeline.clear_cache()
        answers = {"age": 14, "sex": "female"}
        english = screen(as_of=AS_OF, answers=answers)
        assert len(compiles) == 1
        with translation.override(ZH):
            chinese = screen(as_of=AS_OF, answers=answers)
        assert len(compiles) == 1, "the Chinese catalogue reuses the compiled rules"
        assert chinese.verdicts == english.verdicts
        explained = [c.explanation for r in chinese.results for c in r.criteria]
        assert any("确诊 1 型糖尿病" in e for e in explained)
        assert not any("Confirmed type 1 diabetes" in e for e in explained)
        assert any("Confirmed type 1 diabetes" in c.explanation for r in english.results for c in r.criteria)

    def test_a_change_to_what_rules_read_still_recompiles(self, seeded, monkeypatch):
        compiles = []
        original = compiled_module.Compiler.compile
        monkeypatch.setattr(
            compiled_module.Compiler, "compile", lambda self, t: compiles.append(t) or original(self, t)
        )
        eligibility_pipeline.clear_cache()
        screen(as_of=AS_OF, answers={"age": 14})
        Question.objects.filter(code="sex").update(choices_zh_hans=[["female", "女性"], ["male", "男性"]])
        bmi = Question.objects.get(code="bmi")
        bmi.label_zh_hans = "BMI 指数"
        bmi.save()  # a new stamp: the catalogue is rebuilt, its texts changed, its compiled rules did not
        screen(as_of=AS_OF, answers={"age": 14})
        assert len(compiles) == 1
        bmi.max_value = 80
        bmi.save()
        screen(as_of=AS_OF, answers={"age": 14})
        assert len(compiles) == 2


@pytest.fixture
def screening(seeded, clinician):
    s = Screening.objects.create(patient_ref="ZH-2014", clinician=clinician)
    s.trials.set(Trial.objects.all())
    return s


class TestQuestionnaire:
    def test_it_shows_the_questions_in_chinese_under_zh_hans(self, alice, screening):
        alice.cookies["django_language"] = ZH
        html = alice.get(reverse("screening:detail", args=[screening.pk])).content.decode()
        assert "确诊 1 型糖尿病" in html or "按标准诊断标准" in html
        assert "1 型糖尿病确诊日期" in html and "病程按此日期计算。" in html  # a label and its help text
        assert "Type 1 diabetes diagnosis confirmed" not in html and "Time since diagnosis" not in html

    def test_its_choices_are_labelled_in_chinese_with_the_same_values(self, seeded):
        from screening.forms import QuestionnaireForm

        with translation.override(ZH):
            form = QuestionnaireForm(list(Question.objects.filter(code="sex")), as_of=AS_OF)
            assert list(form.fields["sex"].choices)[1:] == [("female", "女"), ("male", "男")]

    def test_it_shows_them_in_english_by_default(self, alice, screening):
        html = alice.get(reverse("screening:detail", args=[screening.pk])).content.decode()
        assert "Type 1 diabetes diagnosis confirmed" in html
        assert "按标准诊断标准" not in html


class TestAdmin:
    def test_the_admin_edits_both_languages(self, adam):
        sex = Question.objects.get(code="sex")
        url = reverse("admin:trials_question_change", args=[sex.pk])
        html = adam.get(url).content.decode()
        for field in ("label_en_gb", "label_zh_hans", "short_label_zh_hans", "help_text_zh_hans", "choices_zh_hans"):
            assert f'name="{field}"' in html, field

    def test_the_admin_refuses_chinese_choices_with_other_values(self, adam):
        from django.forms.models import model_to_dict

        sex = Question.objects.get(code="sex")
        url = reverse("admin:trials_question_change", args=[sex.pk])
        data = {k: ("" if v is None else v) for k, v in model_to_dict(sex).items() if k not in ("id",)}
        for field in ("choices", "choices_en_gb", "choices_zh_hans"):
            data[field] = json.dumps(data[field])
        data["choices_zh_hans"] = json.dumps([["male", "男"], ["female", "女"]])
        data["label_zh_hans"] = "生理性别"
        response = adam.post(url, data)
        assert response.status_code == 200
        assert "same values in the same order" in response.content.decode()
        assert Question.objects.get(code="sex").label_zh_hans == "性别", "nothing half-saved"
        data["choices_zh_hans"] = json.dumps([["female", "女性"], ["male", "男性"]])
        response = adam.post(url, data)
        assert response.status_code == 302, response.content.decode()[:2000]
        sex.refresh_from_db()
        assert (sex.label_zh_hans, sex.choices_zh_hans[0]) == ("生理性别", ["female", "女性"])
        assert sex.label_en_gb == "Sex"


class TestTrialTitles:
    TITLE = "脐带间充质干细胞输注治疗初发 1 型糖尿病"

    @pytest.fixture
    def translated(self, seeded):
        trial = Trial.objects.get(nct_id="NCT01219465")
        trial.brief_title_zh_hans = self.TITLE
        trial.save()
        return trial

    def test_lists_show_the_translated_title_under_zh_hans(self, alice, translated):
        alice.cookies["django_language"] = ZH
        html = alice.get(reverse("trials:list")).content.decode()
        assert self.TITLE in html and translated.brief_title not in html
        other = Trial.objects.get(nct_id="NCT03835312")
        assert other.brief_title in html, "a trial without a translation keeps the registry's title"
        alice.cookies["django_language"] = "en-gb"
        html = alice.get(reverse("trials:list")).content.decode()
        assert self.TITLE not in html and translated.brief_title in html

    def test_the_questionnaire_s_results_show_it_and_the_criteria_stay_verbatim(self, alice, translated, screening):
        alice.cookies["django_language"] = ZH
        html = alice.get(reverse("screening:detail", args=[screening.pk])).content.decode()
        assert self.TITLE in html
        criterion = translated.criteria.first()
        with translation.override(ZH):
            result = screen(as_of=AS_OF, answers={"age": 14}, trials=[translated.nct_id])
        assert result.verdicts[0].title == self.TITLE and result.results[0].title == self.TITLE
        assert result.results[0].criteria[0].text == criterion.text
        with translation.override("en-gb"):
            result = screen(as_of=AS_OF, answers={"age": 14}, trials=[translated.nct_id])
        assert result.results[0].title == translated.brief_title

    def test_search_finds_a_trial_by_its_translated_title(self, translated):
        assert list(Trial.objects.search("间充质干细胞")) == [translated]
