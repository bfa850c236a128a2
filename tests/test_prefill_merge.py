"""Issue 13, pre-fill from the record on the questionnaire: it merges (typed answers win, differences shown with
both values), leaves out values too old, refuses a deceased patient, never offers Refer for a result the form does
not show, and saves each answer's record source for the reopened screening, the print summary and coordinators."""

import json
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from screening.models import Screening
from tests.factories import BASE, SCREEN_URL, observation, patient, post
from trials.models import Question, Trial

pytestmark = pytest.mark.django_db


def days_ago(n):
    return (timezone.localdate() - timedelta(days=n)).isoformat()


def record(*resources, who=None):
    """A 14-year-old girl (born 2012-03-04, as BASE's age says) with these resources."""
    entries = [who or patient(birth="2012-03-04")] + list(resources)
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in entries]}


HEIGHT_172 = observation("8302-2", 172, "cm", when=days_ago(30), oid="obs-h-1")


@pytest.fixture
def screening(seeded, clinician):
    s = Screening.objects.create(patient_ref="JD-2014", clinician=clinician)
    s.trials.set(Trial.objects.all())
    return s


def detail(s):
    return reverse("screening:detail", args=[s.pk])


def upload(client, screening, bundle, form=None, name="record.json"):
    """Pre-fill as the page does: the file sent with the questionnaire as it stands (`form`), or alone."""
    data = {"bundle": SimpleUploadedFile(name, json.dumps(bundle).encode(), content_type="application/json")}
    if form is not None:
        data.update({"questionnaire": "1", **form})
    return client.post(reverse("screening:prefill", args=[screening.pk]), data)


def field_value(html, name):
    """The value attribute of the input named `name` in the page."""
    at = html.index(f'name="{name}"')
    tag = html[html.rindex("<", 0, at) : html.index(">", at)]
    return tag.split('value="')[1].split('"')[0] if 'value="' in tag else ""


def checked(html, name):
    """The value of the checked radio button named `name`, or None."""
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag and "checked" in tag:
            return re.search(r'value="([^"]*)"', tag).group(1)
    return None


class TestMerge:
    def test_typed_unsaved_answers_win_and_empty_questions_are_filled(self, client, screening, clinician):
        client.force_login(clinician)
        html = upload(client, screening, record(HEIGHT_172), form=BASE).content.decode()
        assert field_value(html, "height_0") == "160"  # typed, not saved: kept
        assert field_value(html, "weight_0") == "52"
        assert checked(html, "consent_possible") == "yes"  # typed, not in the record: still answered
        assert field_value(html, "date_of_birth") == "2012-03-04"  # empty: filled from the record
        assert not screening.snapshots.exists()

    def test_each_difference_is_shown_under_its_question_with_both_values_and_a_choice(
        self, client, screening, clinician
    ):
        client.force_login(clinician)
        html = upload(client, screening, record(HEIGHT_172), form=BASE).content.decode()
        note = html[html.index('id="note-height"') :][:1500]
        assert "Your answer: <strong>160 cm</strong>" in note
        assert "Record says 172 cm (Observation LOINC 8302-2" in note and days_ago(30) in note
        assert 'name="use_record" value="height"' in note and 'data-value="172"' in note and 'data-unit="cm"' in note
        assert "1 answer already given differs from the record" in html

    def test_a_saved_answer_is_kept_over_the_record_when_only_the_file_is_sent(self, client, screening, clinician):
        client.force_login(clinician)
        client.post(detail(screening), {**BASE, "save": "1"})
        html = upload(client, screening, record(HEIGHT_172)).content.decode()
        assert field_value(html, "height_0") == "160"
        assert "Record says 172 cm" in html
        assert field_value(html, "date_of_birth") == "2012-03-04"

    def test_use_record_value_without_javascript_takes_the_records_value(self, client, screening, clinician):
        client.force_login(clinician)
        upload(client, screening, record(HEIGHT_172), form=BASE)
        html = client.post(
            detail(screening), {**BASE, "date_of_birth": "2012-03-04", "use_record": "height"}
        ).content.decode()
        assert field_value(html, "height_0") == "172"
        assert "From the record: Observation LOINC 8302-2" in html
        assert not screening.snapshots.exists()

    def test_the_record_note_follows_the_live_panel(self, client, screening, clinician):
        client.force_login(clinician)
        upload(client, screening, record(HEIGHT_172), form=BASE)
        live = client.post(
            detail(screening), {**BASE, "height_0": "172", "date_of_birth": "2012-03-04"}, HTTP_HX_REQUEST="true"
        ).content.decode()
        assert "From the record: Observation LOINC 8302-2" in live and "Record says" not in live
        live = client.post(detail(screening), {**BASE, "height_0": "150"}, HTTP_HX_REQUEST="true").content.decode()
        assert "Record says 172 cm" in live

    def test_a_record_value_that_contradicts_a_kept_answer_is_flagged_not_silent(self, client, screening, clinician):
        client.force_login(clinician)
        html = upload(client, screening, record(who=patient(birth="2000-01-01")), form=BASE).content.decode()
        assert field_value(html, "date_of_birth") == "2000-01-01"  # filled: the question was empty
        notes = html[html.index('id="note-date_of_birth"') :][:600] + html[html.index('id="note-age"') :][:600]
        assert 'role="alert"' in notes  # the typed age 14 and the record's birth date disagree: both are shown

    def test_no_file_or_a_bad_file_keeps_the_typed_answers(self, client, screening, clinician):
        client.force_login(clinician)
        url = reverse("screening:prefill", args=[screening.pk])
        page = client.post(url, {"questionnaire": "1", **BASE}).content.decode()
        assert "Choose a FHIR Bundle file" in page and field_value(page, "height_0") == "160"
        bad = SimpleUploadedFile("record.json", b"not json", content_type="application/json")
        page = client.post(url, {"questionnaire": "1", **BASE, "bundle": bad}).content.decode()
        assert "not valid JSON" in page and field_value(page, "weight_0") == "52"
        assert not screening.snapshots.exists()


class TestRefer:
    def test_refer_is_offered_only_while_the_form_shows_the_saved_answers(self, client, screening, clinician):
        client.force_login(clinician)
        client.post(detail(screening), {**BASE, "save": "1"})
        refer = reverse("screening:refer", args=[screening.pk, "NCT01219465"])
        assert refer in client.get(detail(screening)).content.decode()
        # Pre-filling over the saved answers: the panel shows the merged form, not the saved result.
        html = upload(client, screening, record(HEIGHT_172)).content.decode()
        assert refer not in html
        assert "The answers shown are not the saved ones" in html
        # Typing (live panel): changed answers, no Refer; back to the saved answers, Refer again.
        changed = client.post(detail(screening), {**BASE, "weight_0": "90"}, HTTP_HX_REQUEST="true").content.decode()
        assert refer not in changed
        same = client.post(detail(screening), BASE, HTTP_HX_REQUEST="true").content.decode()
        assert refer in same


class TestFreshness:
    def test_a_childs_height_older_than_six_months_is_shown_with_its_age_not_filled(self, client, screening, clinician):
        client.force_login(clinician)
        old = observation("8302-2", 132, "cm", when=days_ago(2 * 365 + 10))
        html = upload(client, screening, record(old), form={}).content.decode()
        assert field_value(html, "height_0") == ""
        assert "Record has 132 cm" in html and "measured 2 years ago: too old to fill in" in html
        assert "1 value is too old to use and was not filled" in html

    def test_the_limit_is_data_an_admin_can_change(self, client, screening, clinician):
        Question.objects.filter(code="height").update(freshness_days=None, child_freshness_days=None)
        Question.objects.get(code="height").save()  # signals: the cached catalogue is rebuilt
        client.force_login(clinician)
        old = observation("8302-2", 132, "cm", when=days_ago(2 * 365 + 10))
        html = upload(client, screening, record(old), form={}).content.decode()
        assert field_value(html, "height_0") == "132"

    def test_the_admin_edits_the_freshness_limits(self, admin_client, seeded):
        question = Question.objects.get(code="hba1c")
        page = admin_client.get(reverse("admin:trials_question_change", args=[question.pk])).content.decode()
        assert 'name="freshness_days"' in page and 'name="child_freshness_days"' in page
        assert "90 days" in admin_client.get(reverse("admin:trials_question_changelist")).content.decode()


class TestDeceased:
    @pytest.mark.parametrize("extra", [{"deceasedDateTime": "2025-06-30"}, {"deceasedBoolean": True}])
    def test_a_deceased_patient_is_refused_on_the_form(self, client, screening, clinician, extra):
        client.force_login(clinician)
        page = upload(client, screening, record(who={**patient(), **extra}), form=BASE).content.decode()
        assert "record.json: the record says the patient" in page and "Nothing was changed" in page
        assert field_value(page, "height_0") == "160"  # the answers typed so far are still there
        screening.refresh_from_db()
        assert screening.answers == {}

    def test_a_deceased_patient_is_a_problem_in_the_api(self, alice, seeded):
        response = post(alice, {"fhir": record(who={**patient(), "deceasedBoolean": True})})
        assert response.status_code == 400
        assert "the record says the patient has died" in response.json()["error"]
        assert SCREEN_URL == "/api/v1/screen"


def save_after_prefill(client, screening, form, bundle):
    upload(client, screening, bundle, form=form)
    return client.post(detail(screening), {**form, "save": "1"})


class TestSavedSources:
    def test_the_sources_of_record_answers_are_saved_without_resource_ids(self, client, screening, clinician):
        client.force_login(clinician)
        form = {**BASE, "height_0": "172", "date_of_birth": "2012-03-04"}
        save_after_prefill(client, screening, form, record(HEIGHT_172))
        screening.refresh_from_db()
        assert set(screening.answer_sources) == {"height", "date_of_birth"}
        assert screening.answer_sources["height"]["code"] == "8302-2"
        assert screening.answer_sources["height"]["date"] == days_ago(30)
        stored = json.dumps(screening.answer_sources) + json.dumps(screening.latest_snapshot().sources)
        assert "obs-h-1" not in stored and '"p1"' not in stored and '"id"' not in stored

    def test_a_typed_over_answer_loses_its_source(self, client, screening, clinician):
        client.force_login(clinician)
        form = {**BASE, "height_0": "172", "date_of_birth": "2012-03-04"}
        save_after_prefill(client, screening, form, record(HEIGHT_172))
        client.post(detail(screening), {**form, "height_0": "171", "save": "1"})
        screening.refresh_from_db()
        assert set(screening.answer_sources) == {"date_of_birth"}  # kept: unchanged since it came from the record

    def test_the_reopened_screening_and_the_print_summary_show_the_sources(self, client, screening, clinician):
        client.force_login(clinician)
        save_after_prefill(client, screening, {**BASE, "height_0": "172"}, record(HEIGHT_172))
        reopened = client.get(detail(screening)).content.decode()
        note = reopened[reopened.index('id="note-height"') :][:600]
        assert "From the record: Observation LOINC 8302-2" in note
        printed = client.get(reverse("screening:print", args=[screening.pk])).content.decode()
        row = printed[printed.index('id="answer-height"') :][:400]
        assert "172 cm" in row and "From the record: Observation LOINC 8302-2" in row
        weight = printed[printed.index('id="answer-weight"') :][:300]
        assert "52 kg" in weight and "Entered by the clinician" in weight

    def test_the_coordinator_sees_the_answers_as_the_questionnaire_shows_them_with_sources(self, client, people):
        clinician, coordinator = people["clinician"], people["coordinator"]
        s = Screening.objects.create(patient_ref="JD-2014", clinician=clinician)
        s.trials.set(Trial.objects.all())
        client.force_login(clinician)
        save_after_prefill(
            client, s, {**BASE, "height_0": "172.25"}, record(observation("8302-2", 172.25, "cm", when=days_ago(30)))
        )
        client.post(reverse("screening:refer", args=[s.pk, "NCT01219465"]), {"note": "x", "justification": "x"})
        client.force_login(coordinator)
        referral = s.referrals.get()
        page = client.get(reverse("candidates:detail", args=[referral.pk])).content.decode()
        answers = page[page.index('class="row small mt-2 answers"') :]
        answers = answers[: answers.index("</dl>")]
        assert "172.25 cm" in answers and "From the record: Observation LOINC 8302-2" in answers
        assert "14 years" in answers and "52 kg" in answers and ">Yes<" in answers
        assert "True" not in answers and ".0<" not in answers and ".0 " not in answers
