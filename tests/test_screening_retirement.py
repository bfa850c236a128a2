"""Screenings have a history; one with saved results is never deleted from the admin (one by one or in bulk): an
admin retires it instead, which hides it from every list and is recorded in its history and the access log. A
never-saved draft may still be deleted, and that is logged too."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from audit.models import AccessLog
from screening import rescreen
from screening.models import CurrentResult, Screening
from tests.factories import BASE
from trials.models import Trial

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("urls_loaded")]
CHANGELIST = reverse("admin:screening_screening_changelist")


def saved_screening(client, clinician, ref="JD-2014", **answers):
    """A screening of NCT01219465 saved through the questionnaire (a snapshot and current results)."""
    client.force_login(clinician)
    screening = Screening.objects.create(patient_ref=ref, clinician=clinician)
    screening.trials.set(Trial.objects.filter(nct_id="NCT01219465"))
    client.post(reverse("screening:detail", args=[screening.pk]), {**BASE, **answers, "save": "1"})
    client.logout()
    assert screening.snapshots.exists()
    return screening


def draft(clinician, ref="DR-1"):
    screening = Screening.objects.create(patient_ref=ref, clinician=clinician)
    screening.trials.set(Trial.objects.filter(nct_id="NCT01219465"))
    return screening


@pytest.fixture
def root(client, seeded):
    return User.objects.create_superuser("root", password="pw-root")


def logged(action):
    return [e.obj_ref for e in AccessLog.objects.filter(action=action).order_by("id")]


class TestHistory:
    def test_saving_a_screening_is_in_its_history_with_who_and_the_answers(self, client, clinician, seeded):
        screening = saved_screening(client, clinician, weight_0="61")
        rows = list(screening.history.order_by("history_id"))
        assert [r.history_type for r in rows] == ["+", "~"]
        assert rows[-1].history_user == clinician and rows[-1].answers["weight"] == 61


class TestDeleting:
    def test_the_admin_refuses_to_delete_a_screening_with_saved_results(self, client, clinician, root):
        screening = saved_screening(client, clinician)
        client.force_login(root)
        change = client.get(reverse("admin:screening_screening_change", args=[screening.pk])).content.decode()
        url = reverse("admin:screening_screening_delete", args=[screening.pk])
        assert url not in change and reverse("admin:screening_screening_retire", args=[screening.pk]) in change
        for method in (client.get, client.post):
            response = method(url, {"post": "yes"}, follow=True)
            assert "has saved results: it cannot be deleted. Retire it instead" in response.content.decode()
        assert Screening.objects.filter(pk=screening.pk).exists() and screening.snapshots.exists()
        assert logged("delete") == []

    def test_bulk_delete_deletes_nothing_when_one_selected_screening_has_saved_results(self, client, clinician, root):
        saved, unsaved = saved_screening(client, clinician), draft(clinician)
        client.force_login(root)
        action = {"action": "delete_selected", "_selected_action": [saved.pk, unsaved.pk], "post": "yes"}
        html = client.post(CHANGELIST, action, follow=True).content.decode()
        assert f"Nothing was deleted: screening {saved.pk} has saved results and cannot be deleted" in html
        assert Screening.objects.filter(pk__in=[saved.pk, unsaved.pk]).count() == 2
        assert logged("delete") == []

    def test_a_never_saved_draft_can_be_deleted_and_it_is_logged(self, client, clinician, root):
        screening = draft(clinician)
        client.force_login(root)
        response = client.post(reverse("admin:screening_screening_delete", args=[screening.pk]), {"post": "yes"})
        assert response.status_code == 302
        assert not Screening.objects.filter(pk=screening.pk).exists()
        assert logged("delete") == [f"screening:{screening.pk}"]
        assert Screening.history.filter(id=screening.pk, history_type="-").exists()

    def test_never_saved_drafts_can_be_deleted_in_bulk_each_logged(self, client, clinician, root):
        drafts = [draft(clinician, "DR-1"), draft(clinician, "DR-2")]
        client.force_login(root)
        action = {"action": "delete_selected", "_selected_action": [d.pk for d in drafts], "post": "yes"}
        assert client.post(CHANGELIST, action).status_code == 302
        assert not Screening.objects.filter(pk__in=[d.pk for d in drafts]).exists()
        assert sorted(logged("delete")) == sorted(f"screening:{d.pk}" for d in drafts)

    def test_an_admin_without_the_delete_permission_is_not_offered_delete(self, client, clinician, adam):
        screening = draft(clinician)
        response = adam.post(reverse("admin:screening_screening_delete", args=[screening.pk]), {"post": "yes"})
        assert response.status_code == 403
        assert Screening.objects.filter(pk=screening.pk).exists()


class TestRetiring:
    def test_an_admin_retires_a_screening_with_a_reason_recorded_in_history_and_log(
        self, client, clinician, admin_user, seeded
    ):
        screening = saved_screening(client, clinician)
        client.force_login(admin_user)  # the Admin role, not a superuser
        change = client.get(reverse("admin:screening_screening_change", args=[screening.pk])).content.decode()
        url = reverse("admin:screening_screening_retire", args=[screening.pk])
        assert url in change
        assert 'name="reason"' in client.get(url).content.decode()

        refused = client.post(url, {"post": "yes", "reason": " "}).content.decode()
        assert "This field is required" in refused
        screening.refresh_from_db()
        assert screening.retired_at is None

        assert client.post(url, {"post": "yes", "reason": "entered twice"}).status_code == 302
        screening.refresh_from_db()
        assert screening.retired_at is not None and screening.retired_by == admin_user
        assert screening.retire_reason == "entered twice"
        last = screening.history.first()
        assert (last.history_user, last.history_change_reason) == (admin_user, "Retired: entered twice")
        assert last.retired_at == screening.retired_at
        assert logged("retire") == [f"screening:{screening.pk}"]
        assert screening.snapshots.exists()  # the saved results are kept
        page = client.get(reverse("admin:screening_screening_change", args=[screening.pk])).content.decode()
        assert "Retired on" in page and "entered twice" in page and url not in page

    def test_a_reason_with_a_patient_identifier_is_refused(self, client, clinician, adam):
        screening = saved_screening(client, clinician)
        adam.force_login(User.objects.get(username="adam"))  # saved_screening logged the shared client out
        url = reverse("admin:screening_screening_retire", args=[screening.pk])
        html = adam.post(url, {"post": "yes", "reason": "wrong patient, call 13812345678"}).content.decode()
        assert "phone" in html
        screening.refresh_from_db()
        assert screening.retired_at is None

    def test_the_retire_action_retires_the_selected_screenings(self, client, clinician, adam):
        first, second = saved_screening(client, clinician, "A-1"), saved_screening(client, clinician, "B-1")
        adam.force_login(User.objects.get(username="adam"))
        action = {"action": "retire_selected", "_selected_action": [first.pk, second.pk]}
        assert 'name="reason"' in adam.post(CHANGELIST, action).content.decode()
        assert adam.post(CHANGELIST, {**action, "post": "yes", "reason": "test data"}).status_code == 302
        assert Screening.objects.filter(pk__in=[first.pk, second.pk], retired_at__isnull=False).count() == 2
        assert sorted(logged("retire")) == sorted([f"screening:{first.pk}", f"screening:{second.pk}"])

    def test_a_clinician_cannot_retire(self, client, clinician, seeded):
        screening = saved_screening(client, clinician)
        client.force_login(clinician)
        response = client.post(
            reverse("admin:screening_screening_retire", args=[screening.pk]), {"post": "yes", "reason": "x"}
        )
        assert response.status_code == 302 and "/login/" in response["Location"]  # not staff
        screening.refresh_from_db()
        assert screening.retired_at is None


class TestRetiredScreeningsAreHidden:
    def test_it_leaves_my_screenings_home_and_the_questionnaire(self, client, clinician, admin_user, seeded):
        kept = saved_screening(client, clinician, "KEPT-1")
        gone = saved_screening(client, clinician, "GONE-1")
        gone.retire(by=admin_user, reason="entered twice")
        client.force_login(clinician)
        listing = client.get(reverse("screening:list")).content.decode()
        home = client.get(reverse("home")).content.decode()
        for page in (listing, home):
            assert "KEPT-1" in page and "GONE-1" not in page
        assert client.get(reverse("screening:detail", args=[gone.pk])).status_code == 404
        assert client.get(reverse("screening:detail", args=[kept.pk])).status_code == 200

    def test_rescreening_and_notices_leave_it_out(self, client, clinician, admin_user, seeded):
        gone = saved_screening(client, clinician, "GONE-1")
        assert CurrentResult.objects.filter(screening=gone).exists()
        gone.retire(by=admin_user, reason="entered twice")
        assert not CurrentResult.objects.filter(screening=gone).exists()
        run = rescreen.run_inline(rescreen.start("command"))
        assert run.screenings_checked == 0
        assert not CurrentResult.objects.filter(screening=gone).exists()
        assert list(CurrentResult.objects.notices_for(clinician, gone.created_at.date())) == []

    def test_it_cannot_be_retired_twice_or_without_a_reason(self, client, clinician, admin_user, seeded):
        screening = saved_screening(client, clinician)
        with pytest.raises(ValueError, match="reason"):
            screening.retire(by=admin_user, reason="  ")
        screening.retire(by=admin_user, reason="duplicate")
        with pytest.raises(ValueError, match="already retired"):
            screening.retire(by=admin_user, reason="again")


def test_no_one_reverts_a_screening_from_its_admin_history(client, clinician, admin_user, seeded):
    # simple-history's "revert" form saves an old version on POST with only the view permission checked: it would
    # undo a retirement. Screenings (like referrals and verifications) are read-only in the admin, history included.
    screening = saved_screening(client, clinician)
    before = screening.history.order_by("history_id").last()
    screening.retire(by=admin_user, reason="entered twice")
    for user in (admin_user, User.objects.create_superuser("root", password="pw-root")):
        client.force_login(user)
        url = reverse("admin:screening_screening_simple_history", args=[screening.pk, before.history_id])
        assert client.get(url).status_code == 200  # looking is fine
        assert client.post(url, {}).status_code == 403
        screening.refresh_from_db()
        assert screening.retired_at is not None
