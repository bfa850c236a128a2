"""What the referring clinician and the coordinators read about a referral: the screen-fail reason wherever the
status is shown (criterion and description), the timeline on the clinician's home, and a history without "None"
where nothing was noted. (The badge on the screening: tests/test_screening_views.py.)"""

import csv
import io

import pytest
from django.urls import reverse

from referrals.models import Referral
from tests.factories import refer
from trials.models import Criterion

pytestmark = pytest.mark.django_db

RETINOPATHY = "evidence of retinopathy at baseline."


def screen_fail(referral, coordinator, **reason):
    referral.move_to("under_review", by=coordinator, version=referral.version)
    referral.move_to("screen_failed", by=coordinator, version=referral.version, **reason)
    return referral


def retinopathy(referral):
    return Criterion.objects.get(trial=referral.trial, text=RETINOPATHY)


class TestScreenFailReason:
    def pages(self, client, people, referral):
        client.force_login(people["coordinator"])
        detail = client.get(reverse("candidates:detail", args=[referral.pk])).content.decode()
        rows = list(csv.DictReader(io.StringIO(client.get(reverse("candidates:csv")).content.decode())))
        client.force_login(people["clinician"])
        home = client.get("/").content.decode()
        return detail, rows[0]["status_reason"], home

    def test_a_criterion_and_a_description_are_both_shown_on_every_page_and_the_csv(self, client, people, referral):
        screen_fail(
            referral, people["coordinator"], reason_criterion=retinopathy(referral), reason_text="seen at eye clinic"
        )
        detail, cell, home = self.pages(client, people, referral)
        expected = f"Exclusion criterion: “{RETINOPATHY}” — seen at eye clinic"
        assert cell == expected
        workflow = detail.split('class="small status-reason"')[1].split("</p>")[0]
        assert RETINOPATHY in workflow and "seen at eye clinic" in workflow
        history = detail.split('class="list-unstyled small history"')[1]
        assert RETINOPATHY in history and "seen at eye clinic" in history
        reason = home.split('class="step-reason"')[1].split("</div>")[0]
        assert RETINOPATHY in reason and "seen at eye clinic" in reason

    def test_a_criterion_alone_is_shown_as_the_criterion(self, client, people, referral):
        screen_fail(referral, people["coordinator"], reason_criterion=retinopathy(referral))
        detail, cell, home = self.pages(client, people, referral)
        assert cell == f"Exclusion criterion: “{RETINOPATHY}”"  # its words once, not twice
        assert f"Exclusion criterion: “{RETINOPATHY}”" in home.replace("&quot;", '"')

    def test_a_description_alone_is_shown_as_typed(self, client, people, referral):
        screen_fail(referral, people["coordinator"], reason_text="moved abroad")
        detail, cell, home = self.pages(client, people, referral)
        assert cell == "moved abroad" and "Reason: moved abroad" in detail and "moved abroad" in home


class TestTimelineOnHome:
    def test_it_shows_each_status_with_its_date_role_and_reason(self, client, people, referral):
        coordinator = people["coordinator"]
        referral.move_to("under_review", by=coordinator, version=referral.version, note="a note, not a step")
        referral.move_to("contacted", by=coordinator, version=referral.version)
        referral.move_to(
            "screen_failed", by=coordinator, version=referral.version, reason_criterion=retinopathy(referral)
        )
        client.force_login(people["clinician"])
        html = client.get("/").content.decode()
        timeline = html.split('class="referral-timeline')[1].split("</ol>")[0]
        steps = [part.split("</span>")[0] for part in timeline.split('<span class="fw-semibold">')[1:]]
        assert steps == ["Referred", "Under review", "Contacted", "Screen failed"]
        assert timeline.count("by the clinician") == 1 and timeline.count("by the coordinator") == 3
        assert "carol" not in timeline  # roles, not the coordinators' names
        for h in referral.history.all():
            assert h.history_date.strftime("%Y-%m-%d") in timeline
        assert RETINOPATHY in timeline.split("step-screen_failed")[1]

    def test_the_home_page_has_a_bounded_number_of_queries(self, client, people, django_assert_max_num_queries):
        for i in range(6):
            r = refer(client, people["clinician"], "NCT01219465", ref=f"P-{i}")
            screen_fail(r, people["coordinator"], reason_text="moved abroad")
        client.force_login(people["clinician"])
        client.get("/")
        with django_assert_max_num_queries(16):
            html = client.get("/").content.decode()
        assert html.count("step-screen_failed") == 6


def test_the_admin_history_leaves_an_empty_change_reason_empty(client, people, referral):
    from django.contrib.auth.models import User

    referral.move_to("under_review", by=people["coordinator"], version=referral.version, note="checked the chart")
    client.force_login(User.objects.create_superuser("root", password="pw-root"))
    html = client.get(reverse("admin:referrals_referral_history", args=[referral.pk])).content.decode()
    table = html.split('id="change-history"')[1].split("</table>")[0]
    assert "checked the chart" in table
    assert ">None<" not in table.replace(" ", "").replace("\n", "")
    assert Referral.objects.get().history.filter(history_change_reason__isnull=True).exists()


def test_the_admin_cannot_revert_a_referral_from_its_history(client, people, referral):
    # simple-history's past-version page saves that version back on POST: a referral's status is never reverted.
    first = referral.history.order_by("history_id").first()
    referral.move_to("under_review", by=people["coordinator"], version=referral.version)
    admin = people["admin"]  # the Admin role may change referrals (through the candidate page)
    admin.is_staff = True
    admin.save()
    client.force_login(admin)
    url = reverse("admin:referrals_referral_simple_history", args=[referral.pk, first.history_id])
    assert client.get(url).status_code == 200
    assert client.post(url, {}).status_code == 403
    referral.refresh_from_db()
    assert referral.status == "under_review"
