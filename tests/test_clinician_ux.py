"""What clinicians hit (issue 13): reopened numbers as typed, discarding drafts, a hint for a reference already
in use, the deciding criteria on a card, dates only where they can change a verdict, the 403 page, the Trials list."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessLog
from screening.models import Screening
from tests.factories import BASE
from trials.models import Trial

pytestmark = pytest.mark.django_db


@pytest.fixture
def screening(seeded, clinician):
    s = Screening.objects.create(patient_ref="JD-2014", clinician=clinician)
    s.trials.set(Trial.objects.all())
    return s


def detail(s):
    return reverse("screening:detail", args=[s.pk])


class TestReopenedNumbers:
    def test_it_shows_saved_whole_numbers_as_typed(self, client, clinician, screening):
        client.force_login(clinician)
        client.post(detail(screening), {**BASE, "height_0": "160", "weight_0": "52.5", "save": "1"})
        screening.refresh_from_db()
        assert screening.answers["height"] == 160.0  # a float in JSON: what used to show as "160.0"
        html = client.get(detail(screening)).content.decode()
        assert 'name="height_0" value="160"' in html
        assert 'name="weight_0" value="52.5"' in html
        assert 'name="age_0" value="14"' in html
        assert 'value="160.0"' not in html

    def test_it_keeps_every_digit_of_a_converted_number(self, client, clinician, screening):
        client.force_login(clinician)
        client.post(detail(screening), {**BASE, "weight_0": "154", "weight_1": "lb", "save": "1"})
        screening.refresh_from_db()
        kg = screening.answers["weight"]
        html = client.get(detail(screening)).content.decode()
        assert f'name="weight_0" value="{kg!r}"' in html


class TestPermissionDenied:
    def test_a_clinician_opening_a_coordinator_page_gets_the_site_s_403_page(self, client, clinician, seeded):
        client.force_login(clinician)
        response = client.get(reverse("candidates:queue"))
        html = response.content.decode()
        assert response.status_code == 403
        assert response.templates[0].name == "403.html"
        assert 'class="navbar' in html and "My screenings" in html  # the layout, with the clinician's menu
        assert "This page is for: Coordinator, Admin." in html
        assert f'href="{reverse("home")}"' in html and "Go to the home page" in html

    def test_a_coordinator_opening_a_screening_page_gets_it_too(self, client, coordinator, screening):
        client.force_login(coordinator)
        response = client.get(detail(screening))
        assert response.status_code == 403
        assert "This page is for: Clinician." in response.content.decode()
        assert "Candidates" in response.content.decode()


class TestTrialList:
    @pytest.fixture
    def many(self, seeded):
        """The seed's two trials open, and 30 closed ones (most of a network's registry is not open here)."""
        Trial.objects.bulk_create(
            Trial(
                nct_id=f"NCT8{i:07d}",
                brief_title=f"Closed study {i}",
                conditions=["Asthma"] if i % 2 else ["Lumbar disc herniation"],
                open_for_screening=False,
            )
            for i in range(30)
        )

    def rows(self, response):
        return response.content.decode().count('class="trial-row"')

    def test_it_lists_only_trials_open_for_screening_by_default(self, client, clinician, many):
        client.force_login(clinician)
        response = client.get(reverse("trials:list"))
        html = response.content.decode()
        assert self.rows(response) == 2
        assert "NCT01219465" in html and "NCT80000001" not in html
        assert "2 trials open for screening here (of 32)" in html
        assert 'name="q"' in html and 'name="show"' in html

    def test_it_shows_every_trial_a_page_at_a_time(self, client, clinician, many):
        client.force_login(clinician)
        first = client.get(reverse("trials:list"), {"show": "all"})
        assert self.rows(first) == 25 and "Page 1 of 2" in first.content.decode()
        second = client.get(reverse("trials:list"), {"show": "all", "page": 2})
        assert self.rows(second) == 7

    @pytest.mark.parametrize(
        "q, show, expected",
        [
            ("nct0121", "open", {"NCT01219465"}),  # an NCT id, in part, any case
            ("umbilical cord", "open", {"NCT01219465"}),  # the title
            ("asthma", "all", {f"NCT8{i:07d}" for i in range(1, 30, 2)}),  # a condition
            ("asthma", "open", set()),
        ],
    )
    def test_it_searches_by_nct_id_title_and_condition(self, client, clinician, many, q, show, expected):
        client.force_login(clinician)
        response = client.get(reverse("trials:list"), {"q": q, "show": show})
        listed = {t.nct_id for t in response.context["page"]}
        assert listed == expected
        if not expected:
            assert "No trial matches the search." in response.content.decode()

    def test_htmx_gets_only_the_list(self, client, clinician, many):
        client.force_login(clinician)
        response = client.get(reverse("trials:list"), {"q": "closed", "show": "all"}, headers={"HX-Request": "true"})
        html = response.content.decode()
        assert html.lstrip().startswith('<div id="trial-results">') and '<nav class="navbar' not in html
        assert "30 trials" in html
        assert response["Vary"].count("HX-Request") == 1


def result(*criteria):
    from eligibility.engine import CriterionResult, TrialResult, verdict_of

    made = tuple(
        CriterionResult(key, kind, key, outcome, "x", "x", met_until=until) for key, kind, outcome, until in criteria
    )
    return TrialResult("NCT00000001", "t", verdict_of(made), made)


SOON = date(2026, 12, 1)


class TestDatesThatMatter:
    @pytest.mark.parametrize(
        "criteria, shown",
        [
            # Eligible: the inclusion met until a day lapses into "not eligible".
            ([("window", "inclusion", "met", SOON), ("bmi", "exclusion", "not_met", None)], {"window"}),
            # Undetermined: lapsing still rules the patient out.
            ([("window", "inclusion", "met", SOON), ("bmi", "exclusion", "unknown", None)], {"window"}),
            # Not eligible because of BMI: the window lapsing changes nothing.
            ([("window", "inclusion", "met", SOON), ("bmi", "exclusion", "met", None)], set()),
            # The one criterion ruling the patient out ends on a day: the verdict changes then.
            ([("age", "inclusion", "not_met", SOON), ("bmi", "exclusion", "not_met", None)], {"age"}),
            # Two rule them out: one ending changes nothing.
            ([("age", "inclusion", "not_met", SOON), ("bmi", "exclusion", "met", None)], set()),
            # An exclusion not met until a day (then it applies) counts as in the patient's favour.
            ([("recent", "exclusion", "not_met", SOON), ("bmi", "exclusion", "met", None)], set()),
            ([("recent", "exclusion", "not_met", SOON)], {"recent"}),
        ],
    )
    def test_it_keeps_only_dates_that_could_change_the_verdict(self, criteria, shown):
        assert result(*criteria).dates_that_matter == frozenset(shown)


class TestMetUntilShown:
    def criteria(self, client, screening, **answers):
        diagnosed = (timezone.localdate() - timedelta(weeks=4)).isoformat()
        data = {**BASE, "t1d_diagnosis_date": diagnosed, **answers}
        url = reverse("screening:criteria", args=[screening.pk, "NCT01219465"])
        return client.post(url, data, headers={"HX-Request": "true"}).content.decode()

    def test_it_shows_the_date_a_likely_verdict_lapses(self, client, clinician, screening):
        client.force_login(clinician)
        html = self.criteria(client, screening)
        assert "met until" in html

    def test_it_hides_it_when_another_criterion_rules_the_patient_out(self, client, clinician, screening):
        client.force_login(clinician)
        html = self.criteria(client, screening, weight_0="82")  # BMI 32: excluded whatever the date
        assert "Exclusion applies" in html
        assert "met until" not in html


class TestCardsNameWhatDecides:
    def card(self, html, nct_id):
        start = html.index(f'id="result-{nct_id}"')
        return html[start : html.index("</article>", start)]

    def test_a_not_eligible_card_names_every_criterion_that_rules_the_patient_out(self, client, clinician, screening):
        client.force_login(clinician)
        data = {**BASE, "age_0": "40", "weight_0": "82"}  # above 35 years, and BMI 32
        html = client.post(detail(screening), data, headers={"HX-Request": "true"}).content.decode()
        card = self.card(html, "NCT01219465")
        assert "✗ 2 failed" in card
        assert 'Not met:</strong> <q class="protocol">Ages Eligible for Study: 3 Years to 35 Years</q>' in card
        assert 'Excluded:</strong> <q class="protocol">Body Mass Index &gt;30.</q>' in card
        assert "BMI 32 kg/m² (calculated) is above 30" in card
        # The criteria themselves are not built for the card: they load when "Why?" is opened.
        assert 'class="criteria-slot"><a' in card

    def test_a_card_that_needs_more_information_names_the_missing_answers(self, client, clinician, screening):
        client.force_login(clinician)
        html = client.post(detail(screening), {"age_0": "14", "age_1": "years"}, headers={"HX-Request": "true"})
        card = self.card(html.content.decode(), "NCT01219465")
        assert "answers missing:" in card and 'href="#q-t1d_diagnosis"' in card


class TestDiscardDrafts:
    def test_my_screenings_offers_to_discard_a_draft_only(self, client, clinician, screening):
        saved = Screening.objects.create(patient_ref="AB-2010", clinician=clinician)
        saved.trials.set(Trial.objects.all())
        client.force_login(clinician)
        client.post(detail(saved), {**BASE, "save": "1"})
        html = client.get(reverse("screening:list")).content.decode()
        assert html.count('class="btn btn-sm btn-link link-danger p-0 ms-1 discard"') == 1
        assert reverse("screening:discard", args=[screening.pk]) in html
        assert reverse("screening:discard", args=[saved.pk]) not in html

    def test_it_asks_then_discards_the_draft_and_logs_it(self, client, clinician, screening):
        client.force_login(clinician)
        url = reverse("screening:discard", args=[screening.pk])
        page = client.get(url)
        assert page.status_code == 200 and "Discard this draft?" in page.content.decode()
        assert Screening.objects.filter(pk=screening.pk).exists()  # asking changes nothing
        response = client.post(url, follow=True)
        assert response.redirect_chain[-1][0] == reverse("screening:list")
        assert "The draft screening JD-2014 was discarded." in response.content.decode()
        assert not Screening.objects.filter(pk=screening.pk).exists()
        entry = AccessLog.objects.get(action=AccessLog.Action.DISCARD_SCREENING)
        assert entry.user == clinician and entry.obj_ref == f"screening:{screening.pk}"
        assert "JD-2014" not in str(entry.detail)  # never the patient reference

    def test_a_saved_screening_is_kept(self, client, clinician, screening):
        client.force_login(clinician)
        client.post(detail(screening), {**BASE, "save": "1"})
        response = client.post(reverse("screening:discard", args=[screening.pk]))
        assert response.status_code == 302 and response["Location"] == detail(screening)
        assert Screening.objects.filter(pk=screening.pk).exists()
        assert not AccessLog.objects.filter(action=AccessLog.Action.DISCARD_SCREENING).exists()

    def test_another_clinician_s_draft_is_not_found(self, client, clinician_b, screening):
        client.force_login(clinician_b)
        assert client.post(reverse("screening:discard", args=[screening.pk])).status_code == 404
        assert Screening.objects.filter(pk=screening.pk).exists()

    def test_coordinators_may_not_discard(self, client, coordinator, screening):
        client.force_login(coordinator)
        assert client.post(reverse("screening:discard", args=[screening.pk])).status_code == 403
        assert Screening.objects.filter(pk=screening.pk).exists()


class TestReferenceAlreadyInUse:
    def test_it_names_the_clinician_s_screenings_of_the_reference_typed(self, client, clinician, screening):
        client.force_login(clinician)
        response = client.get(reverse("screening:new"), {"patient_ref": "jd-2014"}, headers={"HX-Request": "true"})
        html = response.content.decode()
        assert html.lstrip().startswith('<div id="ref-hint"')
        started = timezone.localtime(screening.created_at).date().isoformat()
        assert "You already have a screening for" in html and "JD-2014" in html and started in html
        assert f'href="{detail(screening)}"' in html

    def test_it_says_nothing_for_a_new_reference_or_another_clinician_s(self, client, clinician_b, screening):
        client.force_login(clinician_b)
        response = client.get(reverse("screening:new"), {"patient_ref": "JD-2014"}, headers={"HX-Request": "true"})
        assert "You already have" not in response.content.decode()

    def test_it_is_a_hint_not_a_block(self, client, clinician, screening):
        client.force_login(clinician)
        response = client.post(reverse("screening:new"), {"patient_ref": "JD-2014"})
        assert response.status_code == 302
        assert Screening.objects.filter(patient_ref="JD-2014").count() == 2

    def test_without_javascript_a_refused_start_shows_it_too(self, client, clinician, screening):
        client.force_login(clinician)
        response = client.post(reverse("screening:new"), {"patient_ref": "JD-2014", "scope": "listed", "trials": "x"})
        assert response.status_code == 200 and "You already have a screening for" in response.content.decode()


class TestUnsavedMarker:
    def test_a_page_shown_with_answers_not_saved_is_marked_for_the_leaving_warning(self, client, clinician, screening):
        client.force_login(clinician)
        assert "data-unsaved" not in client.get(detail(screening)).content.decode()
        updated = client.post(detail(screening), {**BASE, "evaluate": "1"}).content.decode()
        assert '<form method="post" id="questionnaire" novalidate data-unsaved' in updated
        saved = client.post(detail(screening), {**BASE, "save": "1"}, follow=True).content.decode()
        assert "Screening saved." in saved and "data-unsaved" not in saved


class TestTrialListQueries:
    def test_it_reads_a_page_in_the_same_queries_however_many_trials(self, client, clinician, seeded):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client.force_login(clinician)
        client.get(reverse("trials:list"))  # the session's first request does its own bookkeeping

        def queries(closed):
            Trial.objects.bulk_create(
                Trial(nct_id=f"NCT7{n:07d}", brief_title="Closed", open_for_screening=False)
                for n in range(Trial.objects.count(), Trial.objects.count() + closed)
            )
            with CaptureQueriesContext(connection) as seen:
                assert client.get(reverse("trials:list"), {"show": "all"}).status_code == 200
            return len(seen)

        assert queries(3) == queries(60)
