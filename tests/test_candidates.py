"""Coordinator workspace: permissions, workflow, verification, conflicts, audit trail, CSV."""

import csv
import io
from unittest import mock

import pytest
from django.urls import reverse

from eligibility.engine import Verdict
from referrals.models import Conflict, Referral, ReferralView, Verification, Versioned
from screening.models import Screening
from tests.conftest import make_user
from tests.factories import BASE, refer
from trials.models import Criterion, Trial

pytestmark = pytest.mark.django_db


def urls(referral):
    criterion = referral.trial.criteria.first()
    return [
        ("get", reverse("candidates:detail", args=[referral.pk])),
        ("post", reverse("candidates:status", args=[referral.pk])),
        ("post", reverse("candidates:verify", args=[referral.pk, criterion.pk])),
    ]


class TestPermissions:
    @pytest.mark.parametrize(
        "who, allowed",
        [
            ("coordinator", True),
            ("admin", True),
            ("other_coordinator", False),
            ("clinician", False),
            (None, False),
        ],
    )
    def test_every_candidate_url(self, client, people, referral, who, allowed):
        if who:
            client.force_login(people[who])
        for method, url in urls(referral):
            response = getattr(client, method)(
                url, {"status": "under_review", "version": 1} if method == "post" else None
            )
            if who is None:
                assert response.status_code == 302 and "/login/" in response["Location"], url
            elif allowed:
                assert response.status_code in (200, 302), url
            elif who == "clinician":
                assert response.status_code == 403, url
            else:
                assert response.status_code == 404, url
        for url in (reverse("candidates:queue"), reverse("candidates:csv")):
            response = client.get(url)
            if who is None:
                assert response.status_code == 302
            elif who == "clinician":
                assert response.status_code == 403
            else:
                assert response.status_code == 200
                assert (b"JD-2014" in response.content) == allowed, url

    def test_csv_only_includes_permitted_rows(self, client, people, referral):
        refer(client, people["clinician"], "NCT03835312", ref="KL-2012")
        client.force_login(people["coordinator"])
        rows = list(csv.DictReader(io.StringIO(client.get(reverse("candidates:csv")).content.decode())))
        assert [(r["patient_ref"], r["nct_id"]) for r in rows] == [("JD-2014", "NCT01219465")]
        client.force_login(people["admin"])
        rows = list(csv.DictReader(io.StringIO(client.get(reverse("candidates:csv")).content.decode())))
        assert {r["patient_ref"] for r in rows} == {"JD-2014", "KL-2012"}

    def test_csv_follows_the_filters(self, client, people, referral):
        client.force_login(people["admin"])
        refer(client, people["clinician"], "NCT03835312", ref="KL-2012")
        client.force_login(people["admin"])
        content = client.get(reverse("candidates:csv") + "?trial=NCT03835312").content.decode()
        assert "KL-2012" in content and "JD-2014" not in content


class TestQueue:
    def test_it_filters_sorts_and_pages_with_working_urls(self, client, people):
        for i in range(23):
            refer(client, people["clinician"], "NCT01219465", ref=f"P-{i:02d}")
        client.force_login(people["coordinator"])
        page1 = client.get(reverse("candidates:queue") + "?sort=patient").content.decode()
        assert "P-00" in page1 and "P-22" not in page1 and "Page 1 of 2" in page1
        page2 = client.get(reverse("candidates:queue") + "?sort=patient&page=2").content.decode()
        assert "P-22" in page2
        partial = client.get(reverse("candidates:queue") + "?status=enrolled", HTTP_HX_REQUEST="true").content.decode()
        assert partial.lstrip().startswith('<div id="table">') and "No candidates match" in partial

    def test_the_queue_has_a_bounded_number_of_queries(self, client, people, django_assert_max_num_queries):
        for i in range(8):
            refer(client, people["clinician"], "NCT01219465", ref=f"P-{i}")
        client.force_login(people["coordinator"])
        client.get(reverse("candidates:queue"))
        with django_assert_max_num_queries(12):
            client.get(reverse("candidates:queue"))


class TestWorkflow:
    def move(self, client, referral, status, **extra):
        referral.refresh_from_db()
        return client.post(
            reverse("candidates:status", args=[referral.pk]),
            {"status": status, "version": referral.version, **extra},
            HTTP_HX_REQUEST="true",
        )

    def test_it_moves_through_the_workflow_with_history(self, client, people, referral):
        client.force_login(people["coordinator"])
        for status in ("under_review", "contacted", "consented", "enrolled"):
            # Consented and enrolled are signed with the password (tests/test_esignatures.py).
            response = self.move(client, referral, status, note=f"now {status}", password="pw-carol")
            assert response.status_code == 200 and b'id="workflow"' in response.content
        referral.refresh_from_db()
        assert referral.status == "enrolled"
        history = list(referral.history.order_by("history_date"))
        assert [h.status for h in history] == ["referred", "under_review", "contacted", "consented", "enrolled"]
        assert history[0].history_user == people["clinician"]
        assert all(h.history_user == people["coordinator"] for h in history[1:])
        assert history[2].history_change_reason == "now contacted"
        assert history[2].prev_record.status == "under_review"  # before and after are both recorded

    @pytest.mark.parametrize("status", ["enrolled", "consented", "bogus", ""])
    def test_it_rejects_forged_transitions(self, client, people, referral, status):
        client.force_login(people["coordinator"])
        html = self.move(client, referral, status).content.decode()
        referral.refresh_from_db()
        assert referral.status == "referred" and referral.version == 1
        assert "cannot move" in html or "is not a referral status" in html or "Please correct" in html

    def test_screen_failed_needs_a_reason_and_shows_it_to_the_clinician(self, client, people, referral):
        client.force_login(people["coordinator"])
        html = self.move(client, referral, "screen_failed").content.decode()
        assert "needs a reason" in html
        criterion = Criterion.objects.get(trial=referral.trial, text="evidence of retinopathy at baseline.")
        self.move(client, referral, "screen_failed", reason_criterion=criterion.pk)
        referral.refresh_from_db()
        assert referral.status == "screen_failed" and referral.status_reason == "evidence of retinopathy at baseline."
        client.force_login(people["clinician"])
        home = client.get("/").content.decode()
        assert "Screen failed" in home and "evidence of retinopathy at baseline." in home

    def test_a_reason_criterion_of_another_trial_is_refused(self, client, people, referral):
        client.force_login(people["coordinator"])
        foreign = Criterion.objects.filter(trial__nct_id="NCT03835312").first()
        self.move(client, referral, "screen_failed", reason_criterion=foreign.pk)
        referral.refresh_from_db()
        assert referral.status == "referred"

    def test_simultaneous_edits_do_not_lose_updates(self, client, people, referral):
        second = make_user("cora", "Coordinator")
        referral.trial.coordinators.add(second)
        stale_version = referral.version
        client.force_login(people["coordinator"])
        self.move(client, referral, "under_review", note="mine")
        client.force_login(second)
        response = client.post(
            reverse("candidates:status", args=[referral.pk]),
            {"status": "declined", "version": stale_version, "note": "theirs"},
            HTTP_HX_REQUEST="true",
        )
        html = response.content.decode()
        assert "Changed by carol at" in html and "reload" in html
        referral.refresh_from_db()
        assert referral.status == "under_review"
        assert referral.history.first().history_change_reason == "mine"
        # The second coordinator's form is kept so nothing they typed is lost.
        assert 'value="theirs"' in html

    def test_the_model_raises_conflict_on_a_stale_version(self, people, referral):
        referral.move_to("under_review", by=people["coordinator"], version=1)
        with pytest.raises(Conflict):
            referral.move_to("contacted", by=people["coordinator"], version=1)


class TestVerification:
    def verify(self, client, referral, criterion, status, seen="", note=""):
        return client.post(
            reverse("candidates:verify", args=[referral.pk, criterion.pk]),
            {"status": status, "note": note, "seen": seen},
            HTTP_HX_REQUEST="true",
        )

    def test_verifications_override_outcomes_and_recompute_the_verdict(self, client, people, referral):
        client.force_login(people["coordinator"])
        # BASE leaves the exclusions unanswered: undetermined at referral.
        assert referral.snapshot_result.verdict == Verdict.UNDETERMINED
        retinopathy = Criterion.objects.get(trial=referral.trial, text="evidence of retinopathy at baseline.")
        html = self.verify(client, referral, retinopathy, "verified_met", note="confirmed in chart").content.decode()
        assert "Verified met</strong> by carol" in html
        assert 'id="verdict-verified" hx-swap-oob="true"' in html and "Not eligible" in html
        v = Verification.objects.get()
        assert (v.status, v.note, v.verified_by) == ("verified_met", "confirmed in chart", people["coordinator"])
        page = client.get(reverse("candidates:detail", args=[referral.pk])).content.decode()
        assert "Verified met: Verified met" in page or "Verified: Verified met" in page  # in the history

    def test_clearing_a_verification_is_audited(self, client, people, referral):
        client.force_login(people["coordinator"])
        criterion = referral.trial.criteria.first()
        self.verify(client, referral, criterion, "verified_not_met")
        v = Verification.objects.get()
        seen = v.version
        self.verify(client, referral, criterion, "clear", seen=seen)
        assert not Verification.objects.exists()
        kinds = list(
            Verification.history.order_by("history_date").values_list("history_type", "history_user__username")
        )
        assert kinds == [("+", "carol"), ("-", "carol")]

    def test_a_stale_verification_form_is_refused(self, client, people, referral):
        client.force_login(people["coordinator"])
        criterion = referral.trial.criteria.first()
        self.verify(client, referral, criterion, "verified_met")
        html = self.verify(client, referral, criterion, "verified_not_met", seen="").content.decode()
        assert "Changed by carol at" in html and "reload" in html
        assert Verification.objects.get().status == "verified_met"

    def test_each_change_bumps_the_version_and_a_stale_one_is_refused(self, client, people, referral):
        client.force_login(people["coordinator"])
        criterion = referral.trial.criteria.first()
        self.verify(client, referral, criterion, "verified_met")
        self.verify(client, referral, criterion, "verified_not_met", seen=1, note="second look")
        v = Verification.objects.get()
        assert (v.version, v.status, v.note) == (2, "verified_not_met", "second look")
        html = self.verify(client, referral, criterion, "verified_met", seen=1, note="mine").content.decode()
        assert "Changed by carol at" in html and "reload" in html
        assert Verification.objects.get().version == 2

    def test_a_form_shown_before_a_clearing_cannot_pass_for_the_new_verification(self, people, referral):
        criterion, carol = referral.trial.criteria.first(), people["coordinator"]
        Verification.record(referral, criterion, "verified_met", by=carol, seen=None)
        Verification.record(referral, criterion, Verification.CLEAR, by=carol, seen=1)
        again = Verification.record(referral, criterion, "verified_not_met", by=carol, seen=None)
        assert again.version == 2
        with pytest.raises(Conflict):
            Verification.record(referral, criterion, "verified_met", by=carol, seen=1)

    def test_a_concurrent_first_verification_is_a_conflict_not_a_server_error(self, client, people, referral):
        criterion, carol = referral.trial.criteria.first(), people["coordinator"]
        Verification.record(referral, criterion, "verified_met", by=carol, seen=None)
        # The other coordinator's request read "no verification yet" just before carol's was saved.
        with mock.patch.object(Verification, "lock", return_value=None):
            client.force_login(carol)
            response = self.verify(client, referral, criterion, "verified_not_met")
        assert response.status_code == 200
        assert "Changed by carol at" in response.content.decode()
        assert Verification.objects.get().status == "verified_met"


def test_referrals_and_verifications_share_one_lock():
    assert issubclass(Referral, Versioned) and issubclass(Verification, Versioned)


def test_viewing_a_candidate_is_logged(client, people, referral):
    client.force_login(people["coordinator"])
    client.get(reverse("candidates:detail", args=[referral.pk]))
    log = ReferralView.objects.get()
    assert (log.referral, log.user) == (referral, people["coordinator"])


def test_the_detail_flags_a_verdict_changed_by_new_criteria(client, people, referral):
    bmi = Criterion.objects.get(trial=referral.trial, text="Body Mass Index >30.")
    bmi.rule = {"q": "bmi", "op": ">", "value": 18, "unit": "kg/m²"}
    bmi.save()
    client.force_login(people["coordinator"])
    html = client.get(reverse("candidates:detail", args=[referral.pk])).content.decode()
    assert "changed since referral" in html


def test_trial_and_criterion_changes_are_audited(admin_user, seeded):
    criterion = Criterion.objects.get(text="Body Mass Index >30.")
    criterion._history_user = admin_user
    criterion.rule = {"q": "bmi", "op": ">", "value": 32, "unit": "kg/m²"}
    criterion.save()
    latest = criterion.history.first()
    assert latest.history_user == admin_user
    assert latest.rule["value"] == 32 and latest.prev_record.rule["value"] == 30


class TestAnalytics:
    def test_count_current_on_hand_made_rows(self):
        from referrals.analytics import count_current

        rows = [
            ("ineligible", ["11", "12"], []),
            ("ineligible", ["11"], ["bmi"]),  # missing answers of an excluded patient are not what stops them
            ("undetermined", [], ["consent_possible", "bmi"]),
            ("undetermined", [], ["consent_possible"]),
            ("eligible", [], []),
        ]
        verdicts, excluding, unknown = count_current(rows)
        assert verdicts == {"ineligible": 2, "undetermined": 2, "eligible": 1}
        assert excluding == {"11": 2, "12": 1}
        assert unknown == {"consent_possible": 2, "bmi": 1}

    def test_the_funnel_on_a_hand_counted_data_set(self, client, people):
        c = people["clinician"]
        # 5 screenings include NCT01219465: 1 eligible-ish (undetermined), 2 excluded by BMI, 1 never saved (a draft
        # does not count), 1 saved then retired (does not count either).
        a = refer(client, c, "NCT01219465", ref="A-1")  # undetermined, referred
        b = refer(client, c, "NCT01219465", ref="B-1", weight_0="90")  # BMI 35: ineligible, referred with justification
        client.force_login(c)
        s = Screening.objects.create(patient_ref="C-1", clinician=c)
        s.trials.set(Trial.objects.all())
        client.post(reverse("screening:detail", args=[s.pk]), {**BASE, "weight_0": "95", "save": "1"})
        s2 = Screening.objects.create(patient_ref="D-1", clinician=c)
        s2.trials.set(Trial.objects.all())
        coordinator = people["coordinator"]
        for status in ("under_review", "contacted", "consented", "enrolled"):
            a.refresh_from_db()
            a.move_to(status, by=coordinator, version=a.version, signed=True)
        for status in ("under_review", "contacted", "consented", "withdrawn"):
            b.refresh_from_db()
            b.move_to(status, by=coordinator, version=b.version, signed=True)
        trial = Trial.objects.get(nct_id="NCT01219465")
        failed = Referral.create_from(s, trial, c, justification="BMI measured before the diet")
        failed.move_to("screen_failed", by=coordinator, version=failed.version, reason_criterion=trial.criteria.first())
        retired = refer(client, c, "NCT01219465", ref="E-1", weight_0="90")
        retired.move_to("screen_failed", by=coordinator, version=retired.version, reason_text="entered twice")
        retired.screening.retire(by=people["admin"], reason="entered twice")

        client.force_login(coordinator)
        html = client.get(reverse("candidates:analytics", args=["NCT01219465"])).content.decode()
        table = html.split('id="funnel-table"')[1].split("</table>")[0]
        expected = [
            ("Saved screenings that included the trial", 3),
            ("likely eligible", 0),
            ("needs more information", 1),
            ("not eligible", 2),
            ("Referred", 3),
            ("Screen failed", 1),
            ("Consented", 2),
            ("Enrolled", 1),
        ]
        for label, n in expected:
            row = table.split(label)[1].split("</tr>")[0]
            assert f'<td class="text-end">{n}</td>' in row, (label, row)
        excluding = html.split('id="excluding-table"')[1].split("</table>")[0]
        assert "Body Mass Index &gt;30." in excluding and '<td class="text-end">2</td>' in excluding
        assert "<svg" in html and "Criteria that most often exclude" in html
        chart = html.split('id="funnel-title"')[1].split("</svg>")[0]
        stages = [label for label, _ in expected]
        positions = [chart.index(label) for label in stages]
        assert positions == sorted(positions), "the funnel chart keeps the stage order"

    def test_analytics_are_limited_to_my_trials(self, client, people):
        client.force_login(people["coordinator"])
        assert client.get(reverse("candidates:analytics", args=["NCT03835312"])).status_code == 404
        client.force_login(people["clinician"])
        assert client.get(reverse("candidates:analytics", args=["NCT01219465"])).status_code == 403
