"""Clinician screening pages: access, live evaluation, save, snapshots, referrals, print."""

import pytest
from django.urls import reverse

from referrals.models import Referral
from screening.models import Screening, Snapshot
from tests.conftest import make_user
from tests.factories import BASE, IMMEDIATE, PREFILL_BUNDLE, open_many_trials
from trials.models import Criterion, Trial

pytestmark = pytest.mark.django_db


@pytest.fixture
def screening(seeded, clinician):
    s = Screening.objects.create(patient_ref="JD-2014", clinician=clinician)
    s.trials.set(Trial.objects.all())
    return s


def detail(s):
    return reverse("screening:detail", args=[s.pk])


class TestAccess:
    def test_it_lets_clinicians_start_a_screening(self, client, seeded, clinician):
        client.force_login(clinician)
        response = client.post(reverse("screening:new"), {"patient_ref": "AB-2010"})
        screening = Screening.objects.get()
        assert response.status_code == 302 and response["Location"] == detail(screening)
        assert screening.clinician == clinician
        assert set(screening.trials.values_list("nct_id", flat=True)) == {"NCT01219465", "NCT03835312"}

    def test_it_screens_only_the_chosen_trials(self, client, seeded, clinician):
        client.force_login(clinician)
        client.post(reverse("screening:new"), {"patient_ref": "AB-2010", "scope": "listed", "trials": "NCT03835312"})
        assert list(Screening.objects.get().trials.values_list("nct_id", flat=True)) == ["NCT03835312"]

    def test_it_screens_a_network_s_trials_in_one_posted_field(self, client, seeded, clinician):
        open_many_trials(1_200)  # more than Django's default limit of 1,000 posted fields
        client.force_login(clinician)
        response = client.post(reverse("screening:new"), {"patient_ref": "AB-2010", "scope": "all"})
        assert response.status_code == 302
        assert Screening.objects.get().trials.count() == 1_202
        every = "\n".join(Trial.objects.values_list("nct_id", flat=True))
        response = client.post(reverse("screening:new"), {"patient_ref": "AB-2011", "scope": "listed", "trials": every})
        assert response.status_code == 302
        assert Screening.objects.get(patient_ref="AB-2011").trials.count() == 1_202

    @pytest.mark.parametrize("ref", ["Jane 1234567", "jane@example.org", "+44 7700 900123"])
    def test_it_refuses_identifiers_as_patient_reference(self, client, seeded, clinician, ref):
        client.force_login(clinician)
        response = client.post(reverse("screening:new"), {"patient_ref": ref})
        assert response.status_code == 200
        assert "pseudonymous reference" in response.content.decode()
        assert not Screening.objects.exists()

    @pytest.mark.parametrize("role", ["Coordinator", "Admin"])
    def test_other_roles_cannot_start_screenings(self, client, seeded, role):
        client.force_login(make_user("someone", role))
        assert client.get(reverse("screening:new")).status_code == 403
        assert client.get(reverse("screening:list")).status_code == 403

    def test_a_coordinator_who_is_also_a_clinician_can(self, client, seeded):
        client.force_login(make_user("dual", "Coordinator", "Clinician"))
        assert client.get(reverse("screening:new")).status_code == 200

    def test_a_clinician_cannot_open_another_clinicians_screening(self, client, screening, clinician_b):
        client.force_login(clinician_b)
        for name in ("screening:detail", "screening:print"):
            assert client.get(reverse(name, args=[screening.pk])).status_code == 404
        assert client.post(detail(screening), {**BASE, "save": "1"}).status_code == 404
        assert client.get(reverse("screening:refer", args=[screening.pk, "NCT01219465"])).status_code == 404
        assert not Snapshot.objects.exists()


class TestQuestionnaire:
    def test_it_asks_only_questions_the_trials_use(self, client, seeded, clinician):
        client.force_login(clinician)
        s = Screening.objects.create(patient_ref="X-1", clinician=clinician)
        s.trials.set(Trial.objects.filter(nct_id="NCT01219465"))
        html = client.get(detail(s)).content.decode()
        assert 'name="bmi_0"' in html and 'name="height_0"' in html  # BMI and what it is derived from
        assert 'name="immune_gene_mutation"' not in html  # only the other trial uses it

    def test_htmx_gets_only_the_results_panel(self, client, screening, clinician):
        client.force_login(clinician)
        response = client.post(detail(screening), {**BASE, "weight_0": "82"}, HTTP_HX_REQUEST="true")
        html = response.content.decode()
        assert response.status_code == 200
        assert html.lstrip().startswith('<section id="results"')
        assert "<html" not in html and 'name="age_0"' not in html
        assert "BMI 32 kg/m² (calculated) is above 30" in html
        assert response["Vary"] and "HX-Request" in response["Vary"]
        assert not Snapshot.objects.exists(), "live evaluation never saves"

    def test_the_same_post_without_htmx_renders_the_full_page(self, client, screening, clinician):
        client.force_login(clinician)
        html = client.post(detail(screening), {**BASE, "evaluate": "1"}).content.decode()
        assert "<html" in html and 'id="results"' in html and 'name="age_0"' in html

    def test_it_converts_units_and_shows_the_canonical_value(self, client, screening, clinician):
        client.force_login(clinician)
        html = client.post(
            detail(screening), {**BASE, "weight_0": "180", "weight_1": "lb"}, HTTP_HX_REQUEST="true"
        ).content.decode()
        assert "= 81.65 kg" in html
        assert "BMI 31.9 kg/m²" in html

    @pytest.mark.parametrize(
        "field, value, message",
        [
            ({"age_0": "250"}, None, "not a plausible Age"),
            ({"height_0": "", "weight_0": "", "bmi_0": "3"}, None, "not a plausible BMI"),
            ({"t1d_diagnosis_date": "2099-01-01"}, None, "is in the future"),
            (
                {"age_0": "40", "date_of_birth": "2000-01-01"},
                None,
                "Age 40 years does not match the date of birth 2000-01-01",
            ),
            (
                {"date_of_birth": "2000-01-01", "t1d_diagnosis_date": "1999-01-01"},
                None,
                "1999-01-01 is before the date of birth",
            ),
        ],
    )
    def test_implausible_values_are_field_errors_that_never_reach_the_engine(
        self, client, screening, clinician, field, value, message
    ):
        client.force_login(clinician)
        html = client.post(detail(screening), {**BASE, **field}, HTTP_HX_REQUEST="true").content.decode()
        assert message in html
        assert 'hx-swap-oob="true"' in html

    def test_validation_errors_keep_answers_and_save_nothing(self, client, screening, clinician):
        client.force_login(clinician)
        response = client.post(detail(screening), {**BASE, "age_0": "250", "save": "1"})
        html = response.content.decode()
        assert response.status_code == 200
        assert "Nothing was saved" in html
        assert 'value="250"' in html and 'value="160"' in html
        assert not Snapshot.objects.exists()
        screening.refresh_from_db()
        assert screening.answers == {}

    def test_next_best_questions_rank_by_trials_they_could_decide(self, client, screening, clinician):
        client.force_login(clinician)
        html = client.post(detail(screening), {}, HTTP_HX_REQUEST="true").content.decode()
        assert "Next best questions" in html
        first = html.split('class="small next-questions"')[1].split("</li>")[0]
        assert "could decide 2 trials" in first

    def test_time_limited_eligibility_is_flagged(self, client, screening, clinician):
        from datetime import timedelta

        from django.utils import timezone

        client.force_login(clinician)
        diagnosed = timezone.localdate() - timedelta(weeks=8)
        html = client.post(
            detail(screening),
            {**BASE, "t1d_diagnosis_date": diagnosed.isoformat()},
            HTTP_HX_REQUEST="true",
        ).content.decode()
        last = diagnosed + timedelta(weeks=9) - timedelta(days=1)
        assert f"eligibility lapses after <strong>{last.isoformat()}</strong>" in html
        # The criterion that lapses says so in the trial's criteria, which load when its card is expanded.
        criteria = client.post(
            reverse("screening:criteria", args=[screening.pk, "NCT01219465"]),
            {**BASE, "t1d_diagnosis_date": diagnosed.isoformat()},
            HTTP_HX_REQUEST="true",
        ).content.decode()
        assert f"met until {last.isoformat()}" in criteria

    def test_a_criterion_that_time_will_meet_says_until_when_it_is_not_met(self, client, screening, clinician):
        from datetime import date

        from django.utils import timezone

        client.force_login(clinician)
        today = timezone.localdate()
        born = date(today.year - 2, 1, 1)  # 2 years old: NCT01219465 takes 3 to 35 years
        data = {**BASE, "age_0": "", "date_of_birth": born.isoformat()}
        html = client.post(detail(screening), data, HTTP_HX_REQUEST="true").content.decode()
        # Three years old on 1 January next year: not met until the day before.
        assert f"not met until {today.year}-12-31" in html

    def test_the_questionnaire_page_has_a_bounded_number_of_queries(
        self, client, screening, clinician, django_assert_max_num_queries
    ):
        client.force_login(clinician)
        client.get(detail(screening))  # warm the rules cache
        # 14, and the access-log entry: savepoint, (advisory lock on PostgreSQL,) the last hash, insert, release.
        with django_assert_max_num_queries(18):
            client.get(detail(screening))


class TestContradictions:
    """The one contradiction policy in the questionnaire: on both (every) field involved, and never decided from."""

    @staticmethod
    def note(html, code):
        return html.split(f'id="note-{code}"')[1].split("</div>")[0]

    @staticmethod
    def card(html, nct_id):
        return html.split(f'id="result-{nct_id}"')[1].split("</article>")[0]

    def test_an_entered_bmi_against_height_and_weight_is_marked_on_all_three_and_decides_nothing(
        self, client, screening, clinician
    ):
        client.force_login(clinician)
        # Height 160 cm and weight 52 kg give BMI 20.3: an entered 31 used to win and rule out NCT01219465 (BMI > 30).
        html = client.post(detail(screening), {**BASE, "bmi_0": "31"}, HTTP_HX_REQUEST="true").content.decode()
        message = "BMI 31 kg/m² does not match height 160 cm and weight 52 kg, which give BMI 20.3"
        for code in ("bmi", "height", "weight"):
            assert message in self.note(html, code) and "text-danger" in self.note(html, code)
        card = self.card(html, "NCT01219465")
        assert 'data-verdict="undetermined"' in card
        assert "Contradictory answers to correct:" in card and ">BMI</a>" in card
        assert "Answers contradict each other: Height, Weight, BMI" in html
        # NCT03835312 reads neither BMI, height nor weight: it is screened as without them.
        without = client.post(detail(screening), {**BASE, "height_0": "", "weight_0": ""}, HTTP_HX_REQUEST="true")
        other = self.card(without.content.decode(), "NCT03835312").split(">")[0]
        assert other == self.card(html, "NCT03835312").split(">")[0]

    def test_the_explanation_says_the_answers_contradict(self, client, screening, clinician):
        client.force_login(clinician)
        criteria = client.post(
            reverse("screening:criteria", args=[screening.pk, "NCT01219465"]),
            {**BASE, "bmi_0": "31"},
            HTTP_HX_REQUEST="true",
        ).content.decode()
        assert "BMI is unknown: the answers contradict each other" in criteria

    def test_an_age_against_the_date_of_birth_leaves_the_age_limits_open(self, client, screening, clinician):
        from datetime import date

        from django.utils import timezone

        client.force_login(clinician)
        born = date(timezone.localdate().year - 41, 1, 1)  # 40 or 41: over 35, where the entered 14 is within
        data = {**BASE, "date_of_birth": born.isoformat()}
        html = client.post(detail(screening), data, HTTP_HX_REQUEST="true").content.decode()
        for code in ("age", "date_of_birth"):
            assert "Age 14 years does not match the date of birth" in self.note(html, code)
        # Decided from the date of birth alone it was "not eligible" (3 to 35 years); now it is open.
        assert 'data-verdict="undetermined"' in self.card(html, "NCT01219465")

    def test_a_no_with_a_diagnosis_date_is_questioned_on_both(self, client, screening, clinician):
        client.force_login(clinician)
        data = {**BASE, "t1d_diagnosis": "no", "t1d_diagnosis_date": "2026-01-05"}
        html = client.post(detail(screening), data, HTTP_HX_REQUEST="true").content.decode()
        for code in ("t1d_diagnosis", "t1d_diagnosis_date"):
            assert "is answered no, yet “Type 1 diabetes diagnosed” has the date 2026-01-05" in self.note(html, code)
        for nct_id in ("NCT01219465", "NCT03835312"):  # "no" used to rule both out
            assert 'data-verdict="undetermined"' in self.card(html, nct_id)

    def test_a_calculated_bmi_no_human_has_names_its_inputs_and_the_units(self, client, screening, clinician):
        client.force_login(clinician)
        data = {**BASE, "height_0": "68", "weight_0": "220"}
        html = client.post(detail(screening), data, HTTP_HX_REQUEST="true").content.decode()
        for code in ("bmi", "height", "weight"):
            note = self.note(html, code)
            assert "calculated from weight 220 kg and height 68 cm is not plausible" in note
            assert "220 lb (99.8 kg) and 68 in (172.7 cm)" in note
        assert 'data-verdict="undetermined"' in self.card(html, "NCT01219465")  # was ruled out on BMI 476

    def test_contradictory_answers_are_not_saved(self, client, screening, clinician):
        client.force_login(clinician)
        response = client.post(detail(screening), {**BASE, "bmi_0": "31", "save": "1"})
        assert "Nothing was saved" in response.content.decode()
        assert not Snapshot.objects.exists()

    def test_saved_answers_that_contradict_are_shown_and_not_screened_on(self, client, screening, clinician):
        # Saved before the policy: BMI 31 with height 160 and weight 52.
        screening.answers = {"age": 14, "height": 160, "weight": 52, "bmi": 31, "hiv": False}
        screening.save()
        client.force_login(clinician)
        html = client.get(detail(screening)).content.decode()
        for code in ("bmi", "height", "weight"):
            assert "BMI 31 kg/m² does not match height 160 cm" in self.note(html, code)
        assert 'data-verdict="undetermined"' in self.card(html, "NCT01219465")

    @pytest.mark.parametrize("typed", ["20120304", "2012-W10-1", " 2012-03-04", "2012-03-04 ", "03/04/2012"])
    def test_dates_are_read_as_yyyy_mm_dd_only(self, client, screening, clinician, typed):
        client.force_login(clinician)
        data = {**BASE, "age_0": "", "date_of_birth": typed}
        html = client.post(detail(screening), data, HTTP_HX_REQUEST="true").content.decode()
        assert "Enter a real date as YYYY-MM-DD" in self.note(html, "date_of_birth")


class TestSaveAndHistory:
    def save(self, client, s, **extra):
        return client.post(detail(s), {**BASE, "save": "1", **extra})

    def test_it_saves_answers_and_a_snapshot_per_trial(self, client, screening, clinician):
        client.force_login(clinician)
        response = self.save(client, screening)
        assert response.status_code == 302
        screening.refresh_from_db()
        assert screening.answers["weight"] == 52.0 and screening.answers["t1d_diagnosis"] is True
        snapshot = Snapshot.objects.get()
        assert snapshot.saved_by == clinician
        versions = dict(Trial.objects.values_list("nct_id", "criteria_version"))
        assert {(r.trial.nct_id, r.criteria_version) for r in snapshot.results.all()} == set(versions.items())
        saved = snapshot.results.get(trial__nct_id="NCT01219465").report
        assert saved["verdict"] == "undetermined"
        assert any(c["code"] == "below_max" for c in saved["criteria"])
        self.save(client, screening)
        assert Snapshot.objects.count() == 2, "each save makes a new snapshot"

    def test_reopening_shows_the_saved_answers(self, client, screening, clinician):
        client.force_login(clinician)
        self.save(client, screening)
        html = client.get(detail(screening)).content.decode()
        assert 'value="52.0"' in html or 'value="52"' in html

    def test_a_snapshot_keeps_the_old_result_and_flags_todays(
        self, client, screening, clinician, settings, django_capture_on_commit_callbacks
    ):
        settings.TASKS = IMMEDIATE
        client.force_login(clinician)
        self.save(client, screening, weight_0="75")  # BMI 29.3: the BMI exclusion does not apply
        bmi = Criterion.objects.get(text="Body Mass Index >30.")
        bmi.rule = {"q": "bmi", "op": ">", "value": 27, "unit": "kg/m²"}
        with django_capture_on_commit_callbacks(execute=True):
            bmi.save()  # the re-screen task runs when this commits

        summary = client.get(reverse("screening:print", args=[screening.pk])).content.decode()
        assert "BMI 29.3 kg/m² (calculated) is below 30" in summary  # the record stays true
        listing = client.get(reverse("screening:list")).content.decode()
        assert "changed" in listing  # today's criteria give a different verdict
        page = client.get(detail(screening)).content.decode()
        assert "under older criteria" in page

    def test_my_screenings_never_screens_it_reads_the_current_results(
        self, client, screening, clinician, monkeypatch, settings, django_capture_on_commit_callbacks
    ):
        import eligibility.current as current
        import eligibility.engine as engine

        settings.TASKS = IMMEDIATE
        calls, rescreened = [], []
        real, real_rescreen = engine.evaluate, current.rescreen
        monkeypatch.setattr(engine, "evaluate", lambda *a, **kw: calls.append(a) or real(*a, **kw))
        monkeypatch.setattr(
            current,
            "rescreen",
            lambda rules, patients, *a: (
                rescreened.append((rules.nct_id, len(patients))) or real_rescreen(rules, patients, *a)
            ),
        )
        client.force_login(clinician)
        self.save(client, screening, weight_0="75")  # BMI 29.3
        calls.clear()
        first = client.get(reverse("screening:list")).content.decode()
        assert calls == [] and rescreened == [] and "changed" not in first

        bmi = Criterion.objects.get(text="Body Mass Index >30.")
        bmi.rule = {"q": "bmi", "op": ">", "value": 27, "unit": "kg/m²"}
        with django_capture_on_commit_callbacks(execute=True):
            bmi.save()
        assert rescreened == [("NCT01219465", 1)], "the criteria change re-screened the one stored screening, once"
        assert "changed" in client.get(reverse("screening:list")).content.decode()
        assert calls == [] and len(rescreened) == 1, "and the list screens nothing"

    def test_my_screenings_counts_verdicts_for_many_trials_and_names_only_what_changed(
        self, client, screening, clinician, django_assert_max_num_queries, settings, django_capture_on_commit_callbacks
    ):
        settings.TASKS = IMMEDIATE
        open_many_trials(40)
        screening.trials.set(Trial.objects.all())
        client.force_login(clinician)
        self.save(client, screening, weight_0="75")  # BMI 29.3: the BMI exclusion does not apply
        listing = client.get(reverse("screening:list")).content.decode()
        assert "all the same" in listing and "NCT90000001" not in listing  # counts, not 42 lines

        bmi = Criterion.objects.get(trial__nct_id="NCT01219465", text="Body Mass Index >30.")
        bmi.rule = {"q": "bmi", "op": ">", "value": 27, "unit": "kg/m²"}
        with django_capture_on_commit_callbacks(execute=True):
            bmi.save()
        with django_assert_max_num_queries(10):
            listing = client.get(reverse("screening:list")).content.decode()
        assert "changed" in listing and "NCT01219465" in listing and "NCT90000001" not in listing

    def test_my_screenings_lists_only_mine_with_bounded_queries(
        self, client, screening, clinician, clinician_b, django_assert_max_num_queries
    ):
        other = Screening.objects.create(patient_ref="OTHER-1", clinician=clinician_b)
        other.trials.set(Trial.objects.all())
        client.force_login(clinician)
        for i in range(5):
            s = Screening.objects.create(patient_ref=f"P-{i}", clinician=clinician)
            s.trials.set(Trial.objects.all())
            self.save(client, s)
        client.get(reverse("screening:list"))
        with django_assert_max_num_queries(12):
            html = client.get(reverse("screening:list")).content.decode()
        assert "P-4" in html and "JD-2014" in html and "OTHER-1" not in html


class TestReferral:
    def test_it_refers_a_saved_screening(self, client, screening, clinician):
        client.force_login(clinician)
        client.post(detail(screening), {**BASE, "save": "1"})
        url = reverse("screening:refer", args=[screening.pk, "NCT01219465"])
        response = client.post(url, {"note": "new onset, keen"})
        assert response.status_code == 302
        referral = Referral.objects.get()
        assert (referral.status, referral.referred_by, referral.note) == ("referred", clinician, "new onset, keen")
        assert referral.snapshot_result.trial.nct_id == "NCT01219465"
        badge = client.get(detail(screening)).content.decode().split('referral-status">')[1].split("</span>")[0]
        assert badge == "Referred"  # said once, not "Referred · Referred"
        referral.move_to("under_review", by=make_user("carol", "Coordinator"), version=referral.version)
        badge = client.get(detail(screening)).content.decode().split('referral-status">')[1].split("</span>")[0]
        assert badge == "Referred · Under review"

    def test_it_needs_a_saved_screening(self, client, screening, clinician):
        client.force_login(clinician)
        url = reverse("screening:refer", args=[screening.pk, "NCT01219465"])
        assert "Save the screening first" in client.get(url).content.decode()
        client.post(url, {"note": "x"})
        assert not Referral.objects.exists()

    def test_an_ineligible_referral_needs_a_justification(self, client, screening, clinician):
        client.force_login(clinician)
        client.post(detail(screening), {**BASE, "weight_0": "90", "save": "1"})  # BMI 35: excluded
        url = reverse("screening:refer", args=[screening.pk, "NCT01219465"])
        response = client.post(url, {"note": "please look"})
        assert "give a justification" in response.content.decode()
        assert not Referral.objects.exists()
        client.post(url, {"note": "please look", "justification": "BMI measured in oedema, recheck"})
        assert Referral.objects.get().justification.startswith("BMI measured")

    def test_it_refuses_a_second_referral_to_the_same_trial(self, client, screening, clinician):
        client.force_login(clinician)
        client.post(detail(screening), {**BASE, "save": "1"})
        url = reverse("screening:refer", args=[screening.pk, "NCT01219465"])
        client.post(url, {})
        response = client.post(url, {})
        assert "already referred" in response.content.decode(), response.content.decode()[-1500:]
        assert Referral.objects.count() == 1

    def test_it_cannot_refer_to_a_trial_outside_the_screening(self, client, seeded, clinician):
        client.force_login(clinician)
        s = Screening.objects.create(patient_ref="X-1", clinician=clinician)
        s.trials.set(Trial.objects.filter(nct_id="NCT01219465"))
        assert client.get(reverse("screening:refer", args=[s.pk, "NCT03835312"])).status_code == 404


class TestPrefillFromFhir:
    def upload(self, client, screening, content, name="bundle.json"):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return client.post(
            reverse("screening:prefill", args=[screening.pk]),
            {"bundle": SimpleUploadedFile(name, content, content_type="application/json")},
        )

    def test_it_prefills_answers_with_their_source_and_saves_nothing(self, client, screening, clinician):
        import json

        client.force_login(clinician)
        html = self.upload(client, screening, json.dumps(PREFILL_BUNDLE).encode()).content.decode()
        assert 'value="2012-03-04"' in html
        assert "From the record: Patient.birthDate" in html
        assert "From the record: Condition SNOMED CT 46635009" in html
        assert "49.9" in html  # 110 lb in kg
        assert "Pre-filled" in html and "Check them, then save" in html
        assert not Snapshot.objects.exists()
        screening.refresh_from_db()
        assert screening.answers == {}
        # The live panel keeps showing the source while the value is unchanged.
        live = client.post(
            detail(screening),
            {"date_of_birth": "2012-03-04", "weight_0": "49.9", "weight_1": "kg"},
            HTTP_HX_REQUEST="true",
        ).content.decode()
        assert "From the record: Patient.birthDate" in live

    @pytest.mark.parametrize(
        "content, message",
        [
            (b"not json", "not valid JSON"),
            (b'{"resourceType": "Patient"}', "Bundle"),
            (b'{"resourceType": "Bundle", "type": "collection", "entry": []}', "Patient"),
        ],
    )
    def test_a_bad_bundle_gets_a_clear_message_and_changes_nothing(
        self, client, screening, clinician, content, message
    ):
        client.force_login(clinician)
        response = self.upload(client, screening, content, name="record.json")
        assert response.status_code == 302
        page = client.get(detail(screening)).content.decode()
        assert "record.json:" in page and message in page and "Nothing was changed" in page
        screening.refresh_from_db()
        assert screening.answers == {} and not Snapshot.objects.exists()

    def test_another_clinician_cannot_prefill_my_screening(self, client, screening, clinician_b):
        client.force_login(clinician_b)
        assert self.upload(client, screening, b"{}").status_code == 404


def test_a_racing_duplicate_referral_is_refused_not_a_500(screening, clinician, client, monkeypatch):
    from django.core.exceptions import ValidationError

    client.force_login(clinician)
    client.post(detail(screening), {**BASE, "save": "1"})
    trial = Trial.objects.get(nct_id="NCT01219465")
    Referral.create_from(screening, trial, clinician)
    # Simulate the other request having passed the "already referred?" check.
    monkeypatch.setattr(Referral.objects, "filter", lambda **kw: Referral.objects.none())
    with pytest.raises(ValidationError, match="already referred"):
        Referral.create_from(screening, trial, clinician)
    assert Referral.objects.all().count() == 1
