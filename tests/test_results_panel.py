"""The questionnaire's results panel at scale: grouped by verdict, paged, criteria loaded when expanded, search."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from screening.models import Screening
from tests.conftest import make_user
from tests.factories import BASE, open_many_trials
from trials.models import Trial

pytestmark = pytest.mark.django_db

EXCLUSIONS = (
    "diabetic_ketoacidosis",
    "diabetic_retinopathy",
    "severe_organ_damage",
    "hiv",
    "hepatitis_b",
    "hepatitis_c",
    "active_infection",
    "severe_psychiatric_disorder",
    "malignancy",
)


def eligible_answers():
    """BASE, diagnosed four weeks ago and no exclusion: likely eligible for NCT01219465."""
    diagnosed = timezone.localdate() - timedelta(weeks=4)
    return {**BASE, "t1d_diagnosis_date": diagnosed.isoformat(), **{code: "no" for code in EXCLUSIONS}}


def screening_of(clinician, trials=None):
    s = Screening.objects.create(patient_ref="JD-2014", clinician=clinician)
    s.trials.set(trials if trials is not None else Trial.objects.all())
    return s


def detail(s):
    return reverse("screening:detail", args=[s.pk])


def evaluate(client, s, answers, **extra):
    return client.post(detail(s), {**answers, **extra}, HTTP_HX_REQUEST="true")


def cards(html, verdict=None):
    """The NCT ids of the cards in `html`, in order (of one verdict group when given)."""
    if verdict:
        html = html.split(f'id="group-{verdict}"')[1].split('id="group-')[0]
    return re.findall(r'<article class="card mb-2 result" id="result-(NCT\d+)"', html)


@pytest.fixture
def many(seeded):
    """498 more open trials: 500 in all, alternating copies of the two seed trials."""
    return open_many_trials(498)


class TestGroups:
    def test_it_shows_likely_eligible_first_then_needs_more_information(self, client, seeded, clinician):
        client.force_login(clinician)
        html = evaluate(client, screening_of(clinician), eligible_answers()).content.decode()
        assert cards(html, "eligible") == ["NCT01219465"]
        assert cards(html, "undetermined") == ["NCT03835312"]
        assert html.index('id="group-eligible"') < html.index('id="group-undetermined"')
        assert 'id="group-ineligible"' not in html  # an empty group is not shown
        assert "1 likely eligible" in html and "1 needs more information" in html and "0 not eligible" in html

    def test_it_names_the_criterion_that_rules_a_trial_out(self, client, seeded, clinician):
        client.force_login(clinician)
        html = evaluate(client, screening_of(clinician), {**BASE, "weight_0": "82"}).content.decode()
        assert cards(html, "ineligible") == ["NCT01219465"]
        card = html.split('id="result-NCT01219465"')[1].split("</article>")[0]
        deciding = card.split('class="list-unstyled small mt-1 mb-0 deciding"')[1]
        assert "Body Mass Index &gt;30." in deciding and "BMI 32 kg/m² (calculated) is above 30" in deciding
        assert 'class="criterion' not in card.split("<details")[1], "the full list loads when expanded"

    def test_it_says_what_is_missing_for_an_undetermined_trial(self, client, seeded, clinician):
        client.force_login(clinician)
        html = evaluate(client, screening_of(clinician), BASE).content.decode()
        card = html.split('id="result-NCT03835312"')[1].split("</article>")[0]
        assert re.search(r"\d+ answers missing: <a href=\"#q-", card)

    def test_not_eligible_is_collapsed_once_there_are_many_trials(self, client, many, clinician):
        client.force_login(clinician)
        html = evaluate(client, screening_of(clinician), {**BASE, "weight_0": "82"}).content.decode()
        group = re.search(r'<details id="group-ineligible"[^>]*>', html).group(0)
        assert " open" not in group
        assert "250 not eligible" in html
        assert 'Not eligible <span class="badge text-bg-secondary">250</span>' in html

    def test_undetermined_trials_come_fewest_missing_answers_first(self, client, many, clinician):
        client.force_login(clinician)
        s = screening_of(clinician)
        html = evaluate(client, s, BASE).content.decode()
        first = [int(n) for n in re.findall(r"(\d+) answers? missing", html)]
        url = reverse("screening:more", args=[s.pk, "undetermined"])
        more = client.post(f"{url}?start=480", BASE, HTTP_HX_REQUEST="true").content.decode()
        last = [int(n) for n in re.findall(r"(\d+) answers? missing", more)]
        assert len(first) == len(last) == 20
        assert max(first) < min(last)  # copies of NCT01219465 (fewer open questions) before NCT03835312's


class TestShowMore:
    def test_it_pages_each_group_at_20_cards(self, client, many, clinician):
        client.force_login(clinician)
        s = screening_of(clinician)
        html = evaluate(client, s, BASE).content.decode()
        first = cards(html, "undetermined")
        assert len(first) == 20
        assert "Show more (480 more needs more information)" in html
        url = reverse("screening:more", args=[s.pk, "undetermined"])
        assert f'hx-post="{url}?start=20"' in html

        more = client.post(f"{url}?start=20", BASE, HTTP_HX_REQUEST="true").content.decode()
        following = cards(more)
        assert len(following) == 20 and not set(following) & set(first)
        assert f'hx-post="{url}?start=40"' in more and "<html" not in more

        last = client.post(f"{url}?start=490", BASE, HTTP_HX_REQUEST="true").content.decode()
        assert len(cards(last)) == 10 and "Show more" not in last

    def test_without_javascript_show_more_submits_the_form_for_more_cards(self, client, many, clinician):
        client.force_login(clinician)
        s = screening_of(clinician)
        html = client.post(detail(s), {**BASE, "show_undetermined": "40"}).content.decode()
        assert "<html" in html and len(cards(html, "undetermined")) == 40
        assert 'name="show_undetermined" value="60"' in html
        # A link to the endpoint itself (no htmx) lands on the page with more cards, for the saved answers.
        response = client.get(reverse("screening:more", args=[s.pk, "undetermined"]) + "?start=20")
        assert response.status_code == 302 and response["Location"] == f"{detail(s)}?show_undetermined=40"
        assert len(cards(client.get(response["Location"]).content.decode(), "undetermined")) == 40

    @pytest.mark.parametrize("value", ["abc", "-5", "0", "99999999999999999999", "1e9", ""])
    def test_it_never_fails_on_bad_paging(self, client, seeded, clinician, value):
        client.force_login(clinician)
        s = screening_of(clinician)
        assert client.post(detail(s), {**BASE, "show_undetermined": value}).status_code == 200
        assert client.get(f"{detail(s)}?show_ineligible={value}").status_code == 200
        url = reverse("screening:more", args=[s.pk, "undetermined"])
        assert client.post(f"{url}?start={value}", BASE, HTTP_HX_REQUEST="true").status_code == 200

    def test_it_refuses_an_unknown_group(self, client, seeded, clinician):
        client.force_login(clinician)
        s = screening_of(clinician)
        assert client.post(reverse("screening:more", args=[s.pk, "maybe"]), HTTP_HX_REQUEST="true").status_code == 404


class TestTrialCriteria:
    def url(self, s, nct_id="NCT01219465"):
        return reverse("screening:criteria", args=[s.pk, nct_id])

    def test_it_explains_one_trial_for_the_answers_in_the_form(self, client, seeded, clinician):
        client.force_login(clinician)
        s = screening_of(clinician)
        html = client.post(self.url(s), {**BASE, "weight_0": "82"}, HTTP_HX_REQUEST="true").content.decode()
        assert html.lstrip().startswith('<ul class="list-unstyled small mt-2 mb-1 criteria">')
        assert html.count('class="mb-2 criterion"') == Trial.objects.get(nct_id="NCT01219465").criteria.count()
        assert "BMI 32 kg/m² (calculated) is above 30" in html and "Exclusion applies" in html

    def test_without_javascript_it_is_a_page_for_the_saved_answers(self, client, seeded, clinician):
        client.force_login(clinician)
        s = screening_of(clinician)
        client.post(detail(s), {**BASE, "weight_0": "82", "save": "1"})
        response = client.get(self.url(s))
        html = response.content.decode()
        assert "<html" in html and "BMI 32 kg/m² (calculated) is above 30" in html
        assert "HX-Request" in response["Vary"]

    def test_it_needs_a_clinician_and_their_own_screening(self, client, seeded, clinician, clinician_b):
        s = screening_of(clinician)
        assert client.get(self.url(s))["Location"].startswith(reverse("login"))
        client.force_login(make_user("carol", "Coordinator"))
        assert client.get(self.url(s)).status_code == 403
        client.force_login(clinician_b)
        assert client.get(self.url(s)).status_code == 404
        assert client.post(self.url(s), BASE, HTTP_HX_REQUEST="true").status_code == 404
        more = reverse("screening:more", args=[s.pk, "eligible"])
        assert client.post(more, BASE, HTTP_HX_REQUEST="true").status_code == 404

    def test_a_trial_outside_the_screening_is_not_found(self, client, seeded, clinician):
        client.force_login(clinician)
        s = screening_of(clinician, Trial.objects.filter(nct_id="NCT03835312"))
        assert client.get(self.url(s)).status_code == 404


class TestSearch:
    def test_it_finds_trials_by_title_nct_id_or_condition(self, client, many, clinician):
        client.force_login(clinician)
        s = screening_of(clinician)
        html = evaluate(client, s, BASE, find="NCT03835312").content.decode()
        assert cards(html) == ["NCT03835312"] and "1 match" in html
        html = evaluate(client, s, BASE, find="copy 17)").content.decode()
        assert cards(html) == ["NCT90000017"]
        Trial.objects.filter(nct_id="NCT90000005").update(conditions=["Wolfram syndrome"])
        html = evaluate(client, s, BASE, find="WOLFRAM").content.decode()
        assert cards(html) == ["NCT90000005"]
        html = evaluate(client, s, BASE, find="no such trial").content.decode()
        assert cards(html) == [] and "No trial matches the search" in html

    def test_it_filters_by_phase(self, client, many, clinician):
        client.force_login(clinician)
        s = screening_of(clinician)
        Trial.objects.filter(nct_id="NCT90000003").update(phase="PHASE9")
        page = client.get(detail(s)).content.decode()
        assert 'name="find"' in page and '<option value="PHASE9">' in page
        assert cards(evaluate(client, s, BASE, phase="PHASE9").content.decode()) == ["NCT90000003"]

    def test_a_screening_of_a_few_trials_has_no_search_box(self, client, seeded, clinician):
        client.force_login(clinician)
        assert 'name="find"' not in client.get(detail(screening_of(clinician))).content.decode()


class TestScale:
    def queries(self, client, s):
        evaluate(client, s, BASE)  # warm the caches
        with CaptureQueriesContext(connection) as context:
            response = evaluate(client, s, {**BASE, "weight_0": "60"})
        assert response.status_code == 200
        return len(context.captured_queries), response

    def test_live_evaluation_takes_as_many_queries_for_500_trials_as_for_2(self, client, seeded, clinician):
        client.force_login(clinician)
        few, _ = self.queries(client, screening_of(clinician))
        open_many_trials(498)
        many, response = self.queries(client, screening_of(clinician))
        assert Trial.objects.count() == 500
        assert many == few, (few, many)

    def test_live_evaluation_of_500_trials_is_small(self, client, many, clinician):
        client.force_login(clinician)
        s = screening_of(clinician)
        response = evaluate(client, s, {**BASE, "weight_0": "82"})
        assert len(response.content) < 100_000, len(response.content)
        assert len(cards(response.content.decode())) <= 60
