"""New screening at any scale: all open trials by default (one field), the open trials of a condition or phase,
or NCT ids (pasted, or ticked among the search's results); a count of what is selected; htmx updates with a
plain-form fallback; never a 400, every bad id named, only trials open for screening accepted."""

import pytest
from django.urls import reverse

from screening.models import Screening
from tests.factories import open_many_trials
from trials.models import Trial

pytestmark = pytest.mark.django_db

URL = reverse("screening:new")
HTMX = {"HX-Request": "true", "HX-Target": "found"}


@pytest.fixture
def alice(client, seeded, clinician):
    client.force_login(clinician)
    return client


def chosen(ref="AB-2010"):
    return set(Screening.objects.get(patient_ref=ref).trials.values_list("nct_id", flat=True))


class TestTwoTrials:
    def test_it_offers_all_open_trials_by_default_and_lists_both_to_tick(self, alice):
        html = alice.get(URL).content.decode()
        assert 'name="scope"' not in html and "Leave all unticked to screen against every trial" in html
        assert 'name="trials" value="NCT01219465"' in html and 'name="trials" value="NCT03835312"' in html
        assert "Selected: <strong>2</strong> trials" in html
        assert 'name="condition"' not in html and 'name="find"' not in html, "two trials: no search needed"

    def test_it_starts_with_every_open_trial_when_none_is_ticked(self, alice):
        response = alice.post(URL, {"patient_ref": "AB-2010"})
        assert response.status_code == 302
        assert chosen() == {"NCT01219465", "NCT03835312"}

    def test_it_starts_with_the_trial_ticked(self, alice):
        alice.post(URL, {"patient_ref": "AB-2010", "trials": "NCT01219465", "start": ""})
        assert chosen() == {"NCT01219465"}

    def test_htmx_keeps_the_ticks_and_counts_them(self, alice):
        html = alice.post(URL, {"trials": ["NCT03835312"]}, headers=HTMX).content.decode()
        assert 'value="NCT03835312" id="add-NCT03835312" checked' in html
        assert 'value="NCT01219465" id="add-NCT01219465">' in html
        assert "Selected: <strong>1</strong> trial" in html


class TestAtScale:
    @pytest.fixture
    def many(self, seeded):
        open_many_trials(498)  # copies of the seeds: half titled as each, with its conditions and phase

    def test_it_lists_no_trial_until_searched_but_counts_them_all(self, alice, many):
        html = alice.get(URL).content.decode()
        assert "All open trials (500)" in html and "Selected: <strong>500</strong> trials" in html
        assert 'name="add"' not in html

    def test_htmx_search_lists_the_first_matches_and_says_how_many_there_are(self, alice, many):
        response = alice.post(URL, {"scope": "listed", "find": "umbilical cord"}, headers=HTMX)
        html = response.content.decode()
        assert response.status_code == 200 and html.lstrip().startswith('<div id="found"')
        assert html.count('name="add"') == 20 and "250 trials match" in html
        assert '<div id="selected-count"' in html and 'hx-swap-oob="true"' in html
        assert "Choose at least one trial" in html  # nothing chosen yet: the count says why it is 0
        assert not Screening.objects.exists()

    def test_it_finds_a_trial_by_its_nct_id(self, alice, many):
        html = alice.post(URL, {"scope": "listed", "find": "nct90000042"}, headers=HTMX).content.decode()
        assert html.count('name="add"') == 1 and 'value="NCT90000042"' in html

    def test_ticking_a_found_trial_adds_it_to_the_list(self, alice, many):
        fields = {"scope": "listed", "find": "copy 4", "trials": "NCT01219465", "add": "NCT90000004"}
        html = alice.post(URL, fields, headers=HTMX).content.decode()
        listed = html[html.index('<textarea name="trials"') :]
        assert "NCT01219465\nNCT90000004</textarea>" in listed
        assert 'value="NCT90000004" id="add-NCT90000004" checked disabled' in html
        assert "Selected: <strong>2</strong> trials" in html

    def test_without_javascript_search_shows_the_page_again_keeping_the_choice(self, alice, many):
        fields = {"patient_ref": "", "scope": "listed", "find": "copy 1", "trials": "NCT01219465", "search": "1"}
        html = alice.post(URL, fields).content.decode()
        assert not Screening.objects.exists()
        assert "This field is required" not in html, "the reference is checked when the screening starts"
        assert 'id="add-NCT90000001"' in html and ">NCT01219465</textarea>" in html
        assert 'id="scope-listed" checked' in html

    def test_it_selects_the_open_trials_of_a_condition_and_a_phase(self, alice, many):
        phase = Trial.objects.get(nct_id="NCT01219465").phase or "PHASE2"
        condition = Trial.objects.get(nct_id="NCT01219465").conditions[0]
        expected = {
            t.nct_id
            for t in Trial.objects.all()
            if t.phase == phase and any(condition.lower()[2:9] in c.lower() for c in t.conditions)
        }
        fields = {"scope": "matching", "condition": condition.upper()[2:9], "phase": phase}
        html = alice.post(URL, fields, headers=HTMX).content.decode()
        assert f"Selected: <strong>{len(expected)}</strong> trials" in html
        alice.post(URL, {"patient_ref": "AB-2010", **fields})
        assert chosen() == expected and 0 < len(expected) < 500

    def test_a_condition_no_trial_has_is_an_error(self, alice, many):
        html = alice.post(URL, {"patient_ref": "AB-2010", "scope": "matching", "condition": "zzz"}).content.decode()
        assert "No open trial matches." in html and not Screening.objects.exists()

    def test_pasted_nct_ids_in_one_field(self, alice, many):
        pasted = "nct90000001, NCT90000002;NCT90000003\n NCT90000001"
        alice.post(URL, {"patient_ref": "AB-2010", "scope": "listed", "trials": pasted})
        assert chosen() == {"NCT90000001", "NCT90000002", "NCT90000003"}

    def test_the_choice_s_queries_do_not_grow_with_the_trials(self, alice, seeded, django_assert_num_queries):
        def queries(request):
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as ctx:
                request()
            return len(ctx)

        pages = [
            lambda: alice.get(URL),
            lambda: alice.post(URL, {"scope": "listed", "find": "copy"}, headers=HTMX),
            lambda: alice.post(URL, {"scope": "matching", "condition": "diabetes"}, headers=HTMX),
        ]
        for page in pages:
            page()  # warm: the first request of a session also reads what later ones find cached
        two = [queries(p) for p in pages]
        open_many_trials(498)
        assert [queries(p) for p in pages] == two


class TestBadInput:
    @pytest.fixture
    def closed(self, seeded):
        Trial.objects.filter(nct_id="NCT03835312").update(open_for_screening=False)

    def test_it_names_every_id_that_is_not_one(self, alice):
        html = alice.post(URL, {"patient_ref": "AB-2010", "trials": "NCT0121946 hello NCT01219465"}).content.decode()
        assert "“NCT0121946” is not an NCT id." in html and "“hello” is not an NCT id." in html
        assert not Screening.objects.exists()

    def test_it_accepts_only_trials_open_for_screening(self, alice, closed):
        fields = {"patient_ref": "AB-2010", "scope": "listed", "trials": "NCT03835312 NCT09999999 NCT01219465"}
        response = alice.post(URL, fields)
        html = response.content.decode()
        assert response.status_code == 200
        assert "NCT03835312 is not a trial open for screening." in html
        assert "NCT09999999 is not a trial open for screening." in html
        assert not Screening.objects.exists()
        alice.post(URL, {"patient_ref": "AB-2010", "scope": "all"})
        assert chosen() == {"NCT01219465"}, "all open trials: the closed one is not among them"

    def test_it_names_ten_bad_ids_and_counts_the_others(self, alice, closed):
        pasted = " ".join(f"NCT0999{i:04d}" for i in range(25))
        html = alice.post(URL, {"patient_ref": "AB-2010", "scope": "listed", "trials": pasted}).content.decode()
        assert html.count("is not a trial open for screening.") == 10 and "… and 15 more." in html

    def test_a_ticked_value_that_is_no_nct_id_is_named(self, alice):
        html = alice.post(URL, {"patient_ref": "AB-2010", "scope": "listed", "add": "1"}).content.decode()
        assert "“1” is not an NCT id." in html and not Screening.objects.exists()

    @pytest.mark.parametrize(
        "fields",
        [
            {"scope": "everything"},
            {"scope": "matching", "phase": ["PHASE9", "x" * 500]},
            {"scope": "matching", "condition": "x" * 5000},
            {"scope": "listed", "trials": "\x00NCT01219465"},
            {"scope": "listed", "trials": "NCT" + "1" * 10_000},
            {"scope": "listed", "add": [f"NCT9{i:07d}" for i in range(900)]},
            {"find": "\x00" * 300, "search": "1"},
        ],
    )
    @pytest.mark.parametrize("htmx", [False, True])
    def test_it_never_answers_400_or_500(self, alice, fields, htmx):
        response = alice.post(URL, {"patient_ref": "AB-2010", **fields}, headers=HTMX if htmx else {})
        assert response.status_code == 200
        assert not Screening.objects.exists()

    def test_with_no_trial_open_it_says_so(self, alice):
        Trial.objects.update(open_for_screening=False)
        html = alice.post(URL, {"patient_ref": "AB-2010"}).content.decode()
        assert "No trials are open for screening yet." in html and not Screening.objects.exists()
