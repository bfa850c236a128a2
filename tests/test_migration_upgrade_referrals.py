"""A database made before the referrals app existed upgrades in place: its referrals, verifications, access log
and their history are read through the referrals models afterwards, and the role groups keep their permissions."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

# The last screening migration before the models moved out.
BEFORE = ("screening", "0005_admin_audit_permissions")


def migrate_back_to_before():
    """Migrate back to BEFORE (which unapplies the referrals app) and return the models as they were then."""
    MigrationExecutor(connection).migrate([BEFORE])
    loader = MigrationLoader(connection)
    applied = [node for node in loader.applied_migrations if node in loader.graph.nodes]
    return loader.project_state(applied).apps


def migrate_to_latest():
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_rows_made_before_the_move():
    old = migrate_back_to_before()
    User = old.get_model("auth", "User")
    alice = User.objects.create(username="alice")
    carol = User.objects.create(username="carol")
    trial = old.get_model("trials", "Trial").objects.create(nct_id="NCT01219465", brief_title="Teplizumab")
    criterion = old.get_model("trials", "Criterion").objects.create(trial=trial, kind="exclusion", text="Retinopathy.")
    screening = old.get_model("screening", "Screening").objects.create(patient_ref="JD-2014", clinician=alice)
    snapshot = old.get_model("screening", "Snapshot").objects.create(
        screening=screening, saved_by=alice, as_of=timezone.localdate()
    )
    result = old.get_model("screening", "SnapshotResult").objects.create(
        snapshot=snapshot,
        trial=trial,
        verdict="undetermined",
        criteria_version=1,
        result={"criteria": []},
    )
    referral = old.get_model("screening", "Referral").objects.create(
        screening=screening,
        trial=trial,
        snapshot_result=result,
        referred_by=alice,
        note="please review",
        status="under_review",
        version=2,
    )
    old.get_model("screening", "HistoricalReferral").objects.create(
        id=referral.pk,
        screening=screening,
        trial=trial,
        snapshot_result=result,
        referred_by=alice,
        status="under_review",
        version=2,
        created_at=referral.created_at,
        updated_at=referral.updated_at,
        history_date=timezone.now(),
        history_type="~",
        history_user=carol,
        history_change_reason="looks good",
    )
    verification = old.get_model("screening", "Verification").objects.create(
        referral=referral,
        criterion=criterion,
        status="verified_not_met",
        note="chart checked",
        verified_by=carol,
    )
    old.get_model("screening", "HistoricalVerification").objects.create(
        id=verification.pk,
        referral=referral,
        criterion=criterion,
        status="verified_not_met",
        verified_by=carol,
        verified_at=verification.verified_at,
        history_date=timezone.now(),
        history_type="+",
        history_user=carol,
    )
    old.get_model("screening", "ReferralView").objects.create(referral=referral, user=carol)
    content_type, _ = old.get_model("contenttypes", "ContentType").objects.get_or_create(
        app_label="screening", model="referral"
    )
    permission, _ = old.get_model("auth", "Permission").objects.get_or_create(
        content_type=content_type,
        codename="view_referral",
        defaults={"name": "Can view referral"},
    )
    old.get_model("auth", "Group").objects.get_or_create(name="Coordinator")[0].permissions.add(permission)

    migrate_to_latest()

    from referrals.models import Referral, ReferralView, Verification

    moved = Referral.objects.select_related("screening", "trial", "referred_by").get()
    assert (moved.pk, moved.screening.patient_ref, moved.trial.nct_id) == (referral.pk, "JD-2014", "NCT01219465")
    assert (moved.status, moved.version, moved.note, moved.referred_by.username) == (
        "under_review",
        2,
        "please review",
        "alice",
    )
    assert moved.snapshot_result_id == result.pk
    assert [(h.history_user.username, h.history_change_reason) for h in moved.history.all()] == [
        ("carol", "looks good")
    ]
    checked = Verification.objects.get()
    assert (checked.referral_id, checked.criterion_id, checked.status, checked.note) == (
        referral.pk,
        criterion.pk,
        "verified_not_met",
        "chart checked",
    )
    assert checked.version == 1  # the lock's starting point for rows made before it existed
    assert Verification.history.get().history_user.username == "carol"
    assert ReferralView.objects.get().user.username == "carol"
    # The new models still write to the old tables.
    assert Verification.objects.filter(referral__screening__patient_ref="JD-2014").count() == 1
    ContentType.objects.clear_cache()
    assert ContentType.objects.get_for_model(Referral).app_label == "referrals"
    assert not ContentType.objects.filter(app_label="screening", model="referral").exists()
    coordinators = Group.objects.get(name="Coordinator")
    assert coordinators.permissions.filter(content_type__app_label="referrals", codename="view_referral").exists()
