"""Engine input is cached per criteria_version and never served stale."""

import pytest

from trials.models import Criterion, Trial, _rules_cache

pytestmark = pytest.mark.django_db


def rules_of(nct_id):
    return Trial.objects.filter(nct_id=nct_id).rules()[0]


def test_it_serves_the_cached_rules_without_reading_criteria(seeded, django_assert_num_queries):
    rules_of("NCT01219465")
    with django_assert_num_queries(1):  # the trial row only
        cached = rules_of("NCT01219465")
    assert len(cached.criteria) == 12


def test_every_criteria_change_bumps_the_version_and_refreshes_the_rules(seeded):
    before = rules_of("NCT01219465")
    criterion = Criterion.objects.get(text="Body Mass Index >30.")
    criterion.rule = {"q": "bmi", "op": ">", "value": 35, "unit": "kg/m²"}
    criterion.save()
    after = rules_of("NCT01219465")
    assert after.version == before.version + 1
    assert next(c for c in after.criteria if c.text == "Body Mass Index >30.").rule["value"] == 35

    criterion.delete()
    assert rules_of("NCT01219465").version == before.version + 2
    assert len(rules_of("NCT01219465").criteria) == len(before.criteria) - 1
    assert sum(1 for key in _rules_cache if key[0] == criterion.trial_id) == 1, "old versions are dropped"


def test_bulk_deletes_from_the_admin_also_bump_the_version(seeded):
    trial = Trial.objects.get(nct_id="NCT03835312")
    version = trial.criteria_version
    trial.criteria.filter(kind="exclusion").delete()
    trial.refresh_from_db()
    assert trial.criteria_version > version
    assert all(c.kind == "inclusion" for c in rules_of("NCT03835312").criteria)


def test_a_draft_rule_does_not_count_until_approved(seeded):
    criterion = Criterion.objects.get(text="Body Mass Index >30.")
    criterion.rule_status = Criterion.RuleStatus.DRAFT
    criterion.save()
    spec = next(c for c in rules_of("NCT01219465").criteria if c.text == "Body Mass Index >30.")
    assert spec.rule is None  # screens as "needs review"


def test_a_title_edit_is_not_served_stale(seeded):
    rules_of("NCT01219465")
    trial = Trial.objects.get(nct_id="NCT01219465")
    trial.brief_title = "A new title"
    trial.save()
    assert rules_of("NCT01219465").title == "A new title"


def test_a_new_trial_that_reuses_a_deleted_trial_s_id_gets_its_own_rules(seeded):
    trial = Trial.objects.get(nct_id="NCT03835312")
    pk, version = trial.pk, trial.criteria_version
    rules_of("NCT03835312")
    trial.delete()
    again = Trial.objects.create(pk=pk, nct_id="NCT03835312", brief_title="Re-created")
    Criterion.objects.create(trial=again, kind="inclusion", order=0, text="Only this", rule=None)
    Trial.objects.filter(pk=pk).update(criteria_version=version)  # the same (id, version) as the deleted trial
    rules = rules_of("NCT03835312")
    assert [c.text for c in rules.criteria] == ["Only this"] and rules.title == "Re-created"
