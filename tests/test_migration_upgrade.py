"""An existing database upgrades in place when ImportJob (to ctgov) and CriteriaVersion and ExamplePatient (to
curation) leave the trials app: the rows stay in their tables and read through the new models (issue 9)."""

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("trials", "0006_importjob")]  # the trials app's last migration while it still had the three models


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_rows_and_permissions_of_the_models_that_leave_trials():
    old = migrate(BEFORE)
    User, Group, Permission = (old.get_model("auth", name) for name in ("User", "Group", "Permission"))
    Trial = old.get_model("trials", "Trial")
    adam = User.objects.create(username="adam")
    trial = Trial.objects.create(nct_id="NCT09000001", brief_title="A trial from before the move")
    job = old.get_model("trials", "ImportJob").objects.create(
        file_name="old.json", size=12, started_by=adam, status="done", summary={"created": 1}
    )
    version = old.get_model("trials", "CriteriaVersion").objects.create(
        trial=trial, version=3, changed_by=adam, criteria=[{"id": 1, "text": "Adults"}]
    )
    example = old.get_model("trials", "ExamplePatient").objects.create(
        trial=trial, name="Ann", answers={"bmi": 31.5}, expected_verdict="ineligible", as_of=date(2026, 1, 5)
    )
    admins, _ = Group.objects.get_or_create(name="Admin")
    admins.permissions.add(Permission.objects.get(content_type__app_label="trials", codename="view_importjob"))

    migrate(latest())

    from django.contrib.auth.models import Group as CurrentGroup
    from django.contrib.contenttypes.models import ContentType

    from ctgov.models import ImportJob
    from curation.models import CriteriaVersion, ExamplePatient

    ContentType.objects.clear_cache()
    moved_job = ImportJob.objects.get(pk=job.pk)
    assert (
        moved_job.file_name,
        moved_job.size,
        moved_job.started_by.username,
        moved_job.status,
        moved_job.summary,
    ) == ("old.json", 12, "adam", ImportJob.Status.DONE, {"created": 1})
    moved_version = CriteriaVersion.objects.get(pk=version.pk)
    assert (
        moved_version.trial.nct_id,
        moved_version.version,
        moved_version.changed_by.username,
        moved_version.criteria,
    ) == ("NCT09000001", 3, "adam", [{"id": 1, "text": "Adults"}])
    moved_example = ExamplePatient.objects.get(pk=example.pk)
    assert (
        moved_example.trial_id,
        moved_example.name,
        moved_example.answers,
        moved_example.expected_verdict,
        moved_example.as_of,
    ) == (trial.pk, "Ann", {"bmi": 31.5}, "ineligible", date(2026, 1, 5))
    assert list(moved_example.trial.criteria_versions.all()) == [moved_version]

    # The content types moved with the models, so what was granted on them still holds.
    assert not ContentType.objects.filter(
        app_label="trials", model__in=["importjob", "criteriaversion", "examplepatient"]
    )
    assert ContentType.objects.get_for_model(ImportJob).app_label == "ctgov"
    assert ContentType.objects.get_for_model(ExamplePatient).app_label == "curation"
    assert (
        CurrentGroup.objects.get(name="Admin")
        .permissions.filter(content_type__app_label="ctgov", codename="view_importjob")
        .exists()
    )
