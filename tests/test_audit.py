"""The access log: each action logged once with the right fields and no answers; the hash chain shows an edited or
removed row (`manage.py verify_audit`); PostgreSQL refuses UPDATE and DELETE on the log and on history tables;
admins browse it read-only, and a superuser exports it as CSV."""

import csv
import io
import threading

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from audit.log import GENESIS, record, verify
from audit.models import AccessLog
from screening.models import Screening
from tests.conftest import make_user
from tests.factories import bearer, post, refer
from trials.models import Trial

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("urls_loaded")]

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only triggers exist on PostgreSQL only"
)
SECRET = "pw-alice"


def entries(action=None):
    log = AccessLog.objects.order_by("id")
    return list(log.filter(action=action) if action else log)


def only(action):
    found = entries(action)
    assert len(found) == 1, [str(e) for e in found]
    return found[0]


def assert_no_answers(entry):
    text = f"{entry.obj_ref} {entry.detail}"
    for value in ("JD-2014", SECRET, "t1d_diagnosis", "weight", "male"):
        assert value not in text


@pytest.fixture
def screening(clinician):
    screening = Screening.objects.create(patient_ref="JD-2014", clinician=clinician, answers={"weight": 40})
    return screening


class TestSigningInAndOut:
    def test_it_logs_a_login_with_user_and_address(self, client, clinician):
        client.post("/login/", {"username": "alice", "password": SECRET}, REMOTE_ADDR="10.0.0.7")
        entry = only("login")
        assert (entry.user_id, entry.username, entry.ip, entry.detail) == (clinician.pk, "alice", "10.0.0.7", {})

    def test_it_logs_a_logout(self, alice, clinician):
        alice.post("/logout/")
        assert only("logout").user_id == clinician.pk

    def test_it_logs_a_failed_login_by_username_without_the_password(self, client, clinician):
        client.post("/login/", {"username": "alice", "password": "guess-1"}, REMOTE_ADDR="10.0.0.8")
        entry = only("login_failed")
        assert (entry.user_id, entry.username, entry.ip) == (None, "alice", "10.0.0.8")
        assert "guess-1" not in str(entry.detail)

    def test_it_logs_a_lockout(self, client, clinician, settings):
        settings.AXES_FAILURE_LIMIT = 2
        for _ in range(2):
            client.post("/login/", {"username": "alice", "password": "wrong"}, REMOTE_ADDR="10.0.0.9")
        entry = only("lockout")
        assert (entry.username, entry.ip) == ("alice", "10.0.0.9")


class TestPatientRecords:
    def test_it_logs_opening_a_screening_but_not_the_answers(self, alice, clinician, screening):
        assert alice.get(reverse("screening:detail", args=[screening.pk])).status_code == 200
        entry = only("view_screening")
        assert (entry.user_id, entry.obj_ref, entry.detail) == (clinician.pk, f"screening:{screening.pk}", {})
        assert_no_answers(entry)

    def test_it_logs_the_print_summary(self, alice, screening):
        assert alice.get(reverse("screening:print", args=[screening.pk])).status_code == 200
        assert only("view_print").obj_ref == f"screening:{screening.pk}"

    def test_it_does_not_log_someone_elses_screening_it_refused(self, client, screening, clinician_b):
        client.force_login(clinician_b)
        assert client.get(reverse("screening:detail", args=[screening.pk])).status_code == 404
        assert entries("view_screening") == []

    def test_it_logs_a_candidate_and_a_csv_export_with_its_filters_and_row_count(self, client, seeded):
        clinician, coordinator = make_user("alice", "Clinician"), make_user("carol", "Coordinator")
        Trial.objects.get(nct_id="NCT01219465").coordinators.add(coordinator)
        referral = refer(client, clinician, "NCT01219465")
        client.force_login(coordinator)
        client.get(reverse("candidates:detail", args=[referral.pk]))
        assert only("view_candidate").obj_ref == f"referral:{referral.pk}"
        client.get(reverse("candidates:csv") + "?trial=NCT01219465&status=&sort=")
        entry = only("csv_export")
        assert (entry.user_id, entry.obj_ref) == (coordinator.pk, "candidates.csv")
        assert entry.detail == {"filters": {"trial": "NCT01219465"}, "rows": 1}

    def test_it_logs_admin_views_of_screenings_and_referral_history(self, client, seeded):
        superuser = User.objects.create_superuser("root", password="pw-root")
        clinician = make_user("alice", "Clinician")
        referral = refer(client, clinician, "NCT01219465")
        client.force_login(superuser)
        client.get(reverse("admin:screening_screening_change", args=[referral.screening.pk]))
        client.get(reverse("admin:referrals_referral_history", args=[referral.pk]))
        client.get(reverse("admin:screening_screening_changelist"))  # a list is not a record
        logged = [(e.obj_ref, e.detail["view"]) for e in entries("admin_view")]
        assert logged == [(f"screening:{referral.screening.pk}", "change"), (f"referral:{referral.pk}", "history")]

    def test_it_logs_an_api_call_with_endpoint_and_status_but_not_the_answers(self, client, seeded, alice_key):
        response = post(
            client,
            {
                "answers": {"weight": 40, "height": 150},
                "trials": ["NCT01219465"],
                "save": True,
                "patient_ref": "JD-2014",
            },
            **bearer(alice_key),
        )
        assert response.status_code == 201
        entry = only("api_call")
        assert entry.username == "alice"
        assert (entry.obj_ref, entry.detail) == ("/api/v1/screen", {"method": "POST", "status": 201})
        assert_no_answers(entry)

    def test_it_logs_a_refused_api_call_too(self, client):
        assert post(client, {"answers": {}}).status_code == 401
        entry = only("api_call")
        assert (entry.user_id, entry.detail["status"]) == (None, 401)


class TestHashChain:
    def test_each_entry_chains_to_the_one_before(self, db):
        first = record(None, AccessLog.Action.LOGIN_FAILED, username="x")
        second = record(None, AccessLog.Action.LOGIN_FAILED, username="y")
        assert first.prev_hash == GENESIS
        assert second.prev_hash == first.hash
        assert second.hash == second.compute_hash()

    def test_an_entry_with_a_nul_character_is_saved_and_verifies(self, db):
        # PostgreSQL stores no NUL in text or JSON: a CSV export filtered by "NCT0121946\x00" must still be logged.
        entry = record(None, AccessLog.Action.CSV_EXPORT, "candidates\x00.csv", filters={"trial": "NCT0121946\x00"})
        entry.refresh_from_db()
        assert entry.detail == {"filters": {"trial": "NCT0121946\ufffd"}} and entry.obj_ref == "candidates\ufffd.csv"
        assert verify()[1] is None

    def test_verify_audit_says_the_chain_is_intact(self, db):
        for name in ("x", "y", "z"):
            record(None, AccessLog.Action.LOGIN_FAILED, username=name, attempt={"n": 1, "at": "here"})
        out = io.StringIO()
        call_command("verify_audit", stdout=out)
        assert out.getvalue().strip() == "3 entries, chain intact"

    def test_verify_audit_finds_an_edited_row(self, db):
        entries_made = [record(None, AccessLog.Action.LOGIN_FAILED, username=n) for n in ("x", "y", "z")]
        with unprotected():
            AccessLog.objects.filter(pk=entries_made[1].pk).update(username="someone-else")
        assert verify()[:2] == (1, AccessLog.objects.get(pk=entries_made[1].pk))
        with pytest.raises(CommandError, match=f"entry {entries_made[1].pk} .*edited"):
            call_command("verify_audit")

    def test_verify_audit_finds_a_removed_row(self, db):
        entries_made = [record(None, AccessLog.Action.LOGIN_FAILED, username=n) for n in ("x", "y", "z")]
        with unprotected():
            AccessLog.objects.filter(pk=entries_made[1].pk).delete()
        with pytest.raises(CommandError, match=f"entry {entries_made[2].pk} .*removed"):
            call_command("verify_audit")


class unprotected:
    """The append-only triggers off for the test's transaction (a table owner can; the app's role in production cannot)."""

    def __enter__(self):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ALTER TABLE audit_accesslog DISABLE TRIGGER USER")

    def __exit__(self, *exc):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ALTER TABLE audit_accesslog ENABLE TRIGGER USER")


def history_models():
    return [m for m in apps.get_models() if m.__name__.startswith("Historical")]


@on_postgresql
class TestAppendOnlyOnPostgresql:
    def refused(self, queryset, change):
        with pytest.raises(DatabaseError, match="append-only|Cannot update or delete"), transaction.atomic():
            change(queryset)

    def test_it_refuses_to_update_or_delete_an_access_log_entry(self, db):
        entry = record(None, AccessLog.Action.LOGIN_FAILED, username="x")
        self.refused(AccessLog.objects.filter(pk=entry.pk), lambda q: q.update(username="y"))
        self.refused(AccessLog.objects.filter(pk=entry.pk), lambda q: q.delete())
        assert AccessLog.objects.get(pk=entry.pk).username == "x"

    def test_it_refuses_to_update_or_delete_a_history_row(self, seeded):
        rows = Trial.history.filter(nct_id="NCT01219465")
        count = rows.count()
        assert count >= 1
        self.refused(rows, lambda q: q.update(brief_title="rewritten"))
        self.refused(rows, lambda q: q.delete())
        assert rows.count() == count and not rows.filter(brief_title="rewritten").exists()

    def test_every_history_table_has_the_trigger(self, db):
        tables = sorted(m._meta.db_table for m in history_models())
        assert len(tables) >= 7 and "screening_historicalscreening" in tables  # screenings' (prescreen 0003)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE t.tgname = 'history_append_only'"
            )
            protected = {row[0] for row in cursor.fetchall()}
        assert [t for t in tables if t not in protected] == []

    def test_it_refuses_to_update_or_delete_a_screening_history_row(self, screening):
        screening.answers = {"weight": 41}
        screening.save()
        rows = Screening.history.filter(id=screening.pk)
        assert rows.count() == 2
        self.refused(rows, lambda q: q.update(answers={"weight": 99}))
        self.refused(rows, lambda q: q.delete())
        assert sorted(r.answers["weight"] for r in rows) == [40, 41]

    def test_a_user_can_still_be_deleted_and_its_history_rows_keep_everything_else(self, seeded):
        editor = make_user("ed", "Admin")
        trial = Trial.objects.get(nct_id="NCT01219465")
        trial._history_user = editor  # simple-history's way to name who made a change outside a request
        trial.brief_title = "Renamed"
        trial.save()
        row = Trial.history.get(history_user=editor)
        editor.delete()  # history_user is SET_NULL: the one UPDATE the trigger lets through
        row.refresh_from_db()
        assert (row.history_user_id, row.brief_title, row.nct_id) == (None, "Renamed", "NCT01219465")


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_simultaneous_entries_make_one_unbroken_chain():
    writers = 8
    start = threading.Barrier(writers)
    failures = []

    def write(i):
        start.wait()
        try:
            for _ in range(5):
                record(None, AccessLog.Action.LOGIN_FAILED, username=f"w{i}")
        except Exception as exc:  # noqa: BLE001 (reported below)
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert verify() == (writers * 5, None, "")


class TestAdmin:
    def test_an_admin_sees_the_log_but_cannot_add_change_or_delete(self, adam):
        entry = record(None, AccessLog.Action.LOGIN_FAILED, username="x")
        assert adam.get(reverse("admin:audit_accesslog_changelist") + "?action__exact=login_failed").status_code == 200
        page = adam.get(reverse("admin:audit_accesslog_change", args=[entry.pk]))
        assert page.status_code == 200 and b'name="_save"' not in page.content
        assert adam.get(reverse("admin:audit_accesslog_add")).status_code == 403
        assert adam.get(reverse("admin:audit_accesslog_delete", args=[entry.pk])).status_code == 403
        assert adam.post(reverse("admin:audit_accesslog_change", args=[entry.pk]), {"username": "y"}).status_code == 403
        assert AccessLog.objects.get(pk=entry.pk).username == "x"

    def test_only_a_superuser_exports_the_log_as_csv(self, adam, client):
        entry = record(None, AccessLog.Action.LOGIN_FAILED, username="=cmd|x", tried=2)
        url = reverse("admin:audit_accesslog_changelist")
        action = {"action": "export_csv", "_selected_action": [str(entry.pk)]}
        refused = adam.post(url, action)
        assert refused.get("Content-Type", "").startswith("text/html")  # "No action selected", no file

        client.force_login(User.objects.create_superuser("root", password="pw-root"))
        response = client.post(url, action)
        assert response["Content-Disposition"] == 'attachment; filename="access_log.csv"'
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        assert [(r["username"], r["action"], r["detail"]) for r in rows] == [
            ("'=cmd|x", "login_failed", '{"tried": 2}')
        ]
        assert rows[0]["hash"] == entry.hash
        assert only("csv_export").detail == {"rows": 1}
