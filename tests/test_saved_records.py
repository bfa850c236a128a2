"""A saved screening is the record of what was shown: saved compactly (the protocol's words once per trial and
criteria version, each result only the patient's outcomes), it reads back exactly, and the print summary, the
refer page, the candidate page and analytics keep showing it after the trial's criteria change."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from eligibility import report
from eligibility.engine import CriterionResult, Outcome, TrialResult, Verdict
from screening.models import CurrentResult, SavedCriteria, Screening, Snapshot, SnapshotResult
from screening.pipeline import screen
from tests.conftest import make_user
from tests.factories import BASE, open_many_trials, post, refer
from trials.models import Criterion, Trial

pytestmark = pytest.mark.django_db


@pytest.fixture
def screening(seeded, clinician):
    s = Screening.objects.create(patient_ref="JD-2014", clinician=clinician)
    s.trials.set(Trial.objects.all())
    return s


def save(client, s, **answers):
    response = client.post(reverse("screening:detail", args=[s.pk]), {**BASE, **answers, "save": "1"})
    assert response.status_code == 302
    return s.latest_snapshot()


def main(html):
    """The page's content, without the per-request CSRF token of the page's frame."""
    return html[html.index("<main") : html.index("</main>")]


def change_bmi_criterion(nct_id="NCT01219465"):
    """The protocol changes after the save: other words, another threshold (a new criteria version)."""
    bmi = Criterion.objects.get(trial__nct_id=nct_id, text="Body Mass Index >30.")
    bmi.text = "Body Mass Index above 40 kg/m²."
    bmi.rule = {"q": "bmi", "op": ">", "value": 40, "unit": "kg/m²"}
    bmi.save()
    return bmi


class TestCompactForm:
    """eligibility.report's compact form, pure: what is saved reads back as the same TrialResult."""

    RESULT = TrialResult(
        "NCT01219465",
        "Teplizumab",
        Verdict.UNDETERMINED,
        (
            CriterionResult(
                "1", "inclusion", "Diagnosed < 9 weeks.", Outcome.MET, "within", "6 weeks ago", (), date(2026, 12, 20)
            ),
            CriterionResult(
                "2", "exclusion", "BMI >30.", Outcome.UNKNOWN, "missing", "BMI: not answered yet", ("height", "weight")
            ),
            CriterionResult("3", "exclusion", "Retinopathy.", *report.NO_RULE_RESULT),
            CriterionResult(
                "4", "exclusion", "Odd.", Outcome.NEEDS_REVIEW, "invalid_rule", "The rule cannot be evaluated"
            ),
        ),
        version=3,
    )

    def test_it_reads_back_the_very_result_it_was_made_from(self):
        saved = report.outcomes_json(self.RESULT)
        words = report.criteria_words(self.RESULT)
        assert report.from_outcomes(saved, words, "undetermined", 3) == self.RESULT
        assert report.trial_json(report.from_outcomes(saved, words, "undetermined", 3)) == report.trial_json(
            self.RESULT
        )

    def test_it_keeps_a_criterion_without_a_rule_as_one_number_and_nothing_else_of_the_protocol(self):
        saved = report.outcomes_json(self.RESULT)
        assert saved["outcomes"][2] == report.NO_RULE
        assert "Retinopathy." not in str(saved) and "BMI >30." not in str(saved)

    def test_it_refuses_outcomes_that_do_not_belong_to_the_words(self):
        saved = report.outcomes_json(self.RESULT)
        with pytest.raises(ValueError, match="4 saved outcomes for 3 criteria"):
            report.from_outcomes(saved, report.criteria_words(self.RESULT)[:3], "undetermined", 3)


class TestSaving:
    def test_each_result_reads_back_exactly_as_it_was_screened(self, client, screening, clinician):
        open_many_trials(30)
        for criterion in Criterion.objects.filter(trial__nct_id="NCT90000003"):
            criterion.rule = None  # not machine-checkable: needs review
            criterion.save()
        screening.trials.set(Trial.objects.all())
        client.force_login(clinician)
        diagnosed = (timezone.localdate() - timedelta(weeks=3)).isoformat()
        snapshot = save(client, screening, t1d_diagnosis_date=diagnosed, height_0="")  # time-limited; BMI unknown
        screening.refresh_from_db()
        shown = screen(
            as_of=snapshot.as_of, answers=screening.answers, trials=[t.nct_id for t in screening.trials.all()]
        )
        saved = {r.report["nct_id"]: r.report for r in snapshot.results.select_related("criteria")}
        assert saved == {r.nct_id: report.trial_json(r) for r in shown.results}
        criteria = [c for r in saved.values() for c in r["criteria"]]
        assert any(c["met_until"] for c in criteria) and any(c["missing"] for c in criteria)
        assert {c["outcome"] for c in criteria} >= {"met", "unknown", "needs_review"}

    def test_it_keeps_each_trial_s_words_once_per_criteria_version(self, client, screening, clinician):
        client.force_login(clinician)
        first = save(client, screening)
        save(client, screening, weight_0="75")
        other = Screening.objects.create(patient_ref="XY-2001", clinician=clinician)
        other.trials.set(Trial.objects.all())
        save(client, other)
        assert SavedCriteria.objects.count() == 2, "three saves, two trials: each trial's words once"
        change_bmi_criterion()
        latest = save(client, screening)
        assert SavedCriteria.objects.count() == 3
        old = first.results.get(trial__nct_id="NCT01219465")
        new = latest.results.get(trial__nct_id="NCT01219465")
        assert old.criteria != new.criteria and new.criteria.version == old.criteria.version + 1

    def test_the_api_saves_the_same_record(self, client, seeded, clinician):
        client.force_login(clinician)
        body = {"answers": {"age": 14, "sex": "female", "t1d_diagnosis": True}, "save": True, "patient_ref": "AP-1"}
        response = post(client, body)
        assert response.status_code == 201
        data = response.json()
        snapshot = Snapshot.objects.get(pk=data["saved"]["snapshot"])
        saved = [r.report for r in snapshot.results.select_related("criteria").order_by("trial__nct_id")]
        assert saved == sorted(data["trials"], key=lambda t: t["nct_id"])

    def test_saving_takes_as_many_queries_for_500_trials_as_for_2(self, screening, clinician):
        """Flat in the number of trials, but for the database's own limit on one statement's parameters
        (SQLite splits a bulk insert into batches; PostgreSQL inserts any number of rows at once)."""

        def queries_to_save(s):
            today = timezone.localdate()
            results = screen(as_of=today, answers={"age": 14}, trials=[t.nct_id for t in s.trials.all()]).results
            with CaptureQueriesContext(connection) as ctx:
                s.save_snapshot({"age": 14}, results, clinician, today)
            inserts = [q["sql"].split('"')[1] for q in ctx if q["sql"].startswith("INSERT")]
            return [q["sql"].split(" ", 1)[0] for q in ctx if not q["sql"].startswith("INSERT")], inserts

        def batches(model, rows):
            fields = [f for f in model._meta.concrete_fields if not f.primary_key]
            return -(-rows // connection.ops.bulk_batch_size(fields, [model()] * rows))

        first, first_inserts = queries_to_save(screening)
        again, again_inserts = queries_to_save(screening)  # the trials' words are kept now
        open_many_trials(498)
        big = Screening.objects.create(patient_ref="BIG-1", clinician=clinician)
        big.trials.set(Trial.objects.all())
        big_first, big_first_inserts = queries_to_save(big)
        big_again, big_again_inserts = queries_to_save(big)
        assert big_first == first and big_again == again
        results = ["screening_snapshotresult"] * batches(SnapshotResult, 500)
        words = ["screening_savedcriteria"] * batches(SavedCriteria, 498)
        current = ["screening_currentresult"] * batches(CurrentResult, 500)
        assert first_inserts == [
            "screening_historicalscreening",  # the screening's history row: its answers changed
            "screening_snapshot",
            "screening_savedcriteria",
            "screening_snapshotresult",
            "screening_currentresult",
        ]
        history = "screening_historicalscreening"
        assert big_first_inserts == [history, "screening_snapshot", *words, *results, *current]
        assert big_again_inserts == [history, "screening_snapshot", *results, *current]
        assert big.latest_snapshot().results.count() == 500


class TestTheRecordAfterTheCriteriaChange:
    def test_the_print_summary_shows_the_words_and_explanations_saved(self, client, screening, clinician):
        client.force_login(clinician)
        save(client, screening, weight_0="90")  # BMI 35.2: the BMI exclusion applies
        url = reverse("screening:print", args=[screening.pk])
        client.get(url)  # shows the "Screening saved." message
        before = main(client.get(url).content.decode())
        change_bmi_criterion()
        after = main(client.get(url).content.decode())
        assert after == before
        assert "Body Mass Index &gt;30." in after and "BMI 35.2 kg/m² (calculated) is above 30" in after
        assert "above 40" not in after

    def test_the_refer_page_and_the_referral_carry_the_saved_verdict(self, client, screening, clinician):
        client.force_login(clinician)
        save(client, screening, weight_0="90")
        version = Trial.objects.get(nct_id="NCT01219465").criteria_version
        change_bmi_criterion()
        url = reverse("screening:refer", args=[screening.pk, "NCT01219465"])
        page = client.get(url).content.decode()
        assert f"(criteria version {version})" in page and "The saved verdict is “not eligible”" in page
        client.post(url, {"note": "recheck BMI", "justification": "weight gain since"})
        saved = screening.referrals.get().snapshot_result
        assert (saved.verdict, saved.criteria_version) == ("ineligible", version)

    def test_the_candidate_page_shows_the_outcome_saved_then_and_today_s_words_now(self, client, seeded):
        clinician, coordinator = make_user("alice", "Clinician"), make_user("carol", "Coordinator")
        Trial.objects.get(nct_id="NCT01219465").coordinators.add(coordinator)
        referral = refer(client, clinician, "NCT01219465", weight_0="90")  # referred while the BMI excluded
        bmi = change_bmi_criterion()
        client.force_login(coordinator)
        page = client.get(reverse("candidates:detail", args=[referral.pk])).content.decode()
        row = page[page.index(f'id="crit-{bmi.pk}"') :]
        row = row[: row.index("</tr>")]
        then, now = row.split("</td>")[:2]
        assert 'title="Exclusion applies"' in then  # as saved
        assert 'title="Exclusion does not apply"' in now and "above 40" in row  # today's criteria

    def test_analytics_counts_todays_results_not_the_words_saved(self, client, seeded):
        # Analytics reads current results (re-screened when criteria change), not the saved record.
        clinician, coordinator = make_user("alice", "Clinician"), make_user("carol", "Coordinator")
        Trial.objects.get(nct_id="NCT01219465").coordinators.add(coordinator)
        refer(client, clinician, "NCT01219465", weight_0="90")
        client.force_login(coordinator)
        before = client.get(reverse("candidates:analytics", args=["NCT01219465"])).content.decode()
        assert "Body Mass Index &gt;30." in before
        change_bmi_criterion()
        after = client.get(reverse("candidates:analytics", args=["NCT01219465"])).content.decode()
        assert "Body Mass Index &gt;30." not in after and "Saved, now" in after
