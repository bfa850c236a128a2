"""Current results and re-screening: a criteria change or time passing updates them (only what changed), who is
told (the clinician, the coordinator), the tasks, the command, and lists whose queries do not grow with trials."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks import default_task_backend
from freezegun import freeze_time

from eligibility.current import summarise
from eligibility.engine import CriterionResult, Outcome, TrialResult, Verdict
from referrals.models import Referral
from screening import rescreen
from screening.models import CurrentResult, RescreenRun, Screening
from screening.pipeline import screen
from screening.tasks import rescreen_trial, schedule_daily
from tests.factories import DUMMY, ELIGIBLE_FOR_BOTH, IMMEDIATE, open_many_trials
from trials.models import Criterion, Trial

pytestmark = pytest.mark.django_db

SAVED_ON = date(2026, 11, 21)  # ELIGIBLE_FOR_BOTH: diagnosed 2026-10-24, "less than 9 weeks" met until 2026-12-25
STOUT = {**ELIGIBLE_FOR_BOTH, "weight": 80}  # BMI 35.6: the BMI > 30 exclusion of NCT01219465 applies


def saved(clinician, answers, ref="P-1", as_of=SAVED_ON, trials=None):
    """A screening saved as the questionnaire saves it: the answers, a snapshot, and its current results."""
    screening_ = Screening.objects.create(patient_ref=ref, clinician=clinician)
    screening_.trials.set(trials if trials is not None else Trial.objects.all())
    nct_ids = [t.nct_id for t in screening_.trials.all()]
    results = screen(as_of=as_of, answers=answers, trials=nct_ids).results
    screening_.save_snapshot(answers, results, by=clinician, as_of=as_of)
    return screening_


def current(screening_, nct_id="NCT01219465"):
    return CurrentResult.objects.get(screening=screening_, trial__nct_id=nct_id)


def bmi_limit(limit):
    """Change NCT01219465's BMI exclusion to "BMI > limit" (an admin's edit: a criterion saved)."""
    bmi = Criterion.objects.get(trial__nct_id="NCT01219465", text="Body Mass Index >30.")
    bmi.rule = {"q": "bmi", "op": ">", "value": limit, "unit": "kg/m²"}
    bmi.save()
    return bmi


@pytest.fixture
def immediate(settings):
    settings.TASKS = IMMEDIATE


@pytest.fixture
def dummy(settings):
    settings.TASKS = DUMMY
    default_task_backend.clear()
    return default_task_backend


# --------------------------------------------------------------------------------------------
# The pure summary


def _criterion(key, kind, outcome, met_until=None, missing=()):
    return CriterionResult(key, kind, f"criterion {key}", outcome, "x", "x", missing, met_until)


@pytest.mark.parametrize(
    "criteria, verdict, deciding, met_until, stable_until",
    [
        # An inclusion not met and an exclusion that applies both rule the patient out; the open one does not.
        (
            [
                _criterion("1", "inclusion", Outcome.NOT_MET),
                _criterion("2", "exclusion", Outcome.MET),
                _criterion("3", "inclusion", Outcome.UNKNOWN, missing=("bmi",)),
            ],
            Verdict.INELIGIBLE,
            ["1", "2"],
            None,
            None,
        ),
        # Undetermined: the open criteria decide it.
        (
            [_criterion("1", "inclusion", Outcome.MET), _criterion("2", "inclusion", Outcome.UNKNOWN)],
            Verdict.UNDETERMINED,
            ["2"],
            None,
            None,
        ),
        # Eligible: the time-relative criterion that lapses first; a "not met until" date counts for re-screening.
        (
            [
                _criterion("1", "inclusion", Outcome.MET, date(2026, 12, 25)),
                _criterion("2", "inclusion", Outcome.MET, date(2027, 3, 1)),
                _criterion("3", "exclusion", Outcome.NOT_MET, date(2026, 12, 1)),
            ],
            Verdict.ELIGIBLE,
            ["3"],
            date(2026, 12, 1),
            date(2026, 12, 1),
        ),
    ],
)
def test_it_summarises_a_result_with_what_decides_it(criteria, verdict, deciding, met_until, stable_until):
    from eligibility.engine import verdict_of

    result = TrialResult("NCT00000001", "t", verdict_of(criteria), tuple(criteria), 3)
    summary = summarise(result)
    assert summary.verdict == verdict
    assert list(summary.deciding) == deciding
    assert summary.met_until == met_until and summary.stable_until == stable_until
    assert summary.met + summary.not_met + summary.unknown == len(criteria)


def test_rescreening_many_patients_gives_what_the_engine_gives_each(seeded):
    """rescreen() shares criterion evaluations between patients who answered alike: it must change nothing."""
    import random
    from datetime import timedelta

    from eligibility import engine
    from eligibility.answers import parse_answers
    from eligibility.current import rescreen as rescreen_many
    from trials.models import screening_data

    rng = random.Random(5)
    data = screening_data()
    patients = []
    for _ in range(300):
        answers = {
            **ELIGIBLE_FOR_BOTH,
            "date_of_birth": (SAVED_ON - timedelta(days=rng.randint(365, 40 * 365))).isoformat(),
            "t1d_diagnosis_date": (SAVED_ON - timedelta(days=rng.randint(1, 200))).isoformat(),
            "weight": rng.choice([30, 45, 60, 80]),
            "hiv": rng.random() < 0.3,
            "sex": rng.choice(["female", "male"]),
        }
        for code in rng.sample(sorted(answers), 3):
            answers.pop(code)  # some answers missing
        patients.append(parse_answers(answers, data.questions, None)[0])
    for nct_id, rules in data.trials.items():
        for as_of in (SAVED_ON, SAVED_ON + timedelta(days=400)):
            expected = [summarise(engine.evaluate(rules, p, as_of, data.questions)) for p in patients]
            assert rescreen_many(rules, patients, as_of, data.questions) == expected, nct_id


# --------------------------------------------------------------------------------------------
# Saving writes current results


def test_saving_writes_one_current_result_per_trial_unchanged(seeded, clinician):
    s = saved(clinician, ELIGIBLE_FOR_BOTH)
    rows = CurrentResult.objects.filter(screening=s)
    assert rows.count() == 2
    row = current(s)
    assert row.verdict == row.saved_verdict == Verdict.ELIGIBLE and not row.changed
    assert (
        row.met_until == date(2026, 12, 25)
        and row.criteria_version == Trial.objects.get(pk=row.trial_id).criteria_version
    )
    assert row.unknown == 0 and row.not_met == 0 and row.met > 0


# --------------------------------------------------------------------------------------------
# A criteria change re-screens, flags, and writes only what changed


def test_a_criteria_change_updates_current_results_and_flags_the_right_screenings_and_referrals(
    seeded, clinician, coordinator, client, immediate, django_capture_on_commit_callbacks
):
    Trial.objects.get(nct_id="NCT01219465").coordinators.add(coordinator)
    lean = saved(clinician, ELIGIBLE_FOR_BOTH, ref="LEAN-1")  # BMI 17.8
    stout = saved(clinician, STOUT, ref="STOUT-1")  # BMI 35.6: already ruled out by BMI > 30
    medium = saved(clinician, {**ELIGIBLE_FOR_BOTH, "weight": 60}, ref="MED-1")  # BMI 26.7
    for s in (lean, stout, medium):
        Referral.create_from(s, Trial.objects.get(nct_id="NCT01219465"), by=clinician, justification="x")

    with django_capture_on_commit_callbacks(execute=True):
        bmi = bmi_limit(25)  # now BMI > 25 rules out the medium patient too

    assert current(medium).verdict == Verdict.INELIGIBLE and current(medium).changed
    assert current(medium).deciding == [str(bmi.pk)]
    assert not current(lean).changed and not current(stout).changed  # same verdicts as saved
    assert not current(medium, "NCT03835312").changed  # the other trial is not re-screened
    run = RescreenRun.objects.get(trigger=RescreenRun.Trigger.CRITERIA)
    assert run.status == RescreenRun.Status.DONE and run.screenings_checked == 3
    assert run.rows_changed == 1  # the medium patient's; the others' results are unchanged
    assert run.criteria_version == Trial.objects.get(nct_id="NCT01219465").criteria_version

    # The clinician is told, with the criterion in the protocol's words and a link to the screening.
    client.force_login(clinician)
    home = client.get(reverse("home")).content.decode()
    notice = home.split('class="list-group-item px-0 notice notice-changed"')[1].split("</li>")[0]
    assert "MED-1" in notice and "NCT01219465 now:" in notice and "Not eligible" in notice
    assert "because “Body Mass Index &gt;30.”" in notice and reverse("screening:detail", args=[medium.pk]) in notice
    assert "LEAN-1" not in home.split('id="notices-title"')[1].split("</section>")[0]
    assert "MED-1" in client.get(reverse("screening:list")).content.decode().split("</section>")[0]

    # The coordinator sees it flagged in the queue, and can filter to it.
    client.force_login(coordinator)
    queue = client.get(reverse("candidates:queue")).content.decode()
    row = queue.split("MED-1")[1].split("</tr>")[0]
    assert "changed since referral" in row
    assert "changed since referral" not in queue.split("LEAN-1")[1].split("</tr>")[0]
    only = client.get(reverse("candidates:queue"), {"changed": "on"}).content.decode()
    assert "MED-1" in only and "LEAN-1" not in only and "STOUT-1" not in only


def test_a_second_rescreen_writes_nothing(seeded, clinician):
    saved(clinician, ELIGIBLE_FOR_BOTH, ref="A")
    saved(clinician, {**ELIGIBLE_FOR_BOTH, "weight": 60}, ref="B")
    bmi_limit(25)  # no task runs here (the test's transaction never commits): re-screen by hand
    trial = Trial.objects.get(nct_id="NCT01219465")
    first = rescreen.run_inline(rescreen.start(RescreenRun.Trigger.COMMAND, trial=trial))
    assert (first.screenings_checked, first.rows_changed) == (2, 1)
    before = list(CurrentResult.objects.order_by("pk").values())
    second = rescreen.run_inline(rescreen.start(RescreenRun.Trigger.COMMAND, trial=trial))
    assert (second.screenings_checked, second.rows_changed) == (2, 0)
    assert list(CurrentResult.objects.order_by("pk").values()) == before  # not even computed_at moved


def test_rescreening_never_decides_from_saved_answers_that_contradict_each_other(seeded, clinician):
    # Saved before the contradiction policy: a BMI of 31 beside height and weight that give 17.8.
    answers = {**ELIGIBLE_FOR_BOTH, "bmi": 31}
    s = Screening.objects.create(patient_ref="P-1", clinician=clinician)
    s.trials.set(Trial.objects.all())
    results = screen(as_of=SAVED_ON, answers=answers, trials=["NCT01219465"], screen_with_problems=True).results
    s.save_snapshot(answers, results, by=clinician, as_of=SAVED_ON)
    assert current(s).verdict == Verdict.UNDETERMINED  # the pipeline left BMI, height and weight out
    bmi_limit(25)
    trial = Trial.objects.get(nct_id="NCT01219465")
    rescreen.run_inline(rescreen.start(RescreenRun.Trigger.COMMAND, trial=trial))
    # Read as saved, the entered 31 would be above 25 and rule the patient out.
    assert current(s).verdict == Verdict.UNDETERMINED and not current(s).changed


def test_a_chunk_for_an_outdated_version_leaves_the_rows_to_the_newer_run(seeded, clinician):
    s = saved(clinician, {**ELIGIBLE_FOR_BOTH, "weight": 60})
    trial = Trial.objects.get(nct_id="NCT01219465")
    run = rescreen.start(RescreenRun.Trigger.COMMAND, trial=trial)
    bmi_limit(25)  # the criteria change again before the chunk runs
    rescreen.run_inline(run)
    assert current(s).verdict == Verdict.ELIGIBLE, "the outdated run wrote nothing"


def test_a_failed_chunk_is_recorded_on_the_run(seeded, clinician, monkeypatch):
    saved(clinician, ELIGIBLE_FOR_BOTH)
    monkeypatch.setattr(rescreen, "rescreen_rows", lambda rows, as_of: 1 / 0)
    run = rescreen.start(RescreenRun.Trigger.COMMAND, trial=Trial.objects.get(nct_id="NCT01219465"))
    with pytest.raises(ZeroDivisionError):
        rescreen.run_inline(run)
    run.refresh_from_db()
    assert run.status == RescreenRun.Status.FAILED and "ZeroDivisionError" in run.error and run.finished_at


def test_admins_see_runs_read_only(seeded, clinician, client, admin_user):
    saved(clinician, ELIGIBLE_FOR_BOTH)
    rescreen.run_inline(rescreen.start(RescreenRun.Trigger.COMMAND, trial=Trial.objects.get(nct_id="NCT01219465")))
    client.force_login(admin_user)
    html = client.get(reverse("admin:screening_rescreenrun_changelist")).content.decode()
    assert "1 of 1" in html and "manage.py rescreen" in html
    assert client.get(reverse("admin:screening_rescreenrun_add")).status_code == 403


# --------------------------------------------------------------------------------------------
# Enqueued on commit, once per version


def test_a_rolled_back_criteria_change_enqueues_nothing(seeded, dummy, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            bmi_limit(25)
            raise RuntimeError("the admin's save failed")
    assert callbacks == [] and dummy.results == []
    assert Criterion.objects.get(text="Body Mass Index >30.").rule["value"] == 30


def test_a_committed_criteria_change_enqueues_its_rescreen_on_commit(seeded, dummy, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        bmi_limit(25)
        assert dummy.results == [], "nothing is enqueued before the commit"
    for callback in callbacks:
        callback()
    trial = Trial.objects.get(nct_id="NCT01219465")
    assert [(r.task.name, r.args) for r in dummy.results] == [("rescreen_trial", [trial.pk, trial.criteria_version])]


def test_a_request_for_an_older_version_or_twice_for_the_same_does_nothing(seeded, clinician, immediate):
    saved(clinician, {**ELIGIBLE_FOR_BOTH, "weight": 60})
    trial = Trial.objects.get(nct_id="NCT01219465")
    rescreen_trial.call(trial.pk, trial.criteria_version - 1)
    assert not RescreenRun.objects.exists()
    rescreen_trial.call(trial.pk, trial.criteria_version)
    rescreen_trial.call(trial.pk, trial.criteria_version)
    assert RescreenRun.objects.count() == 1


def test_the_daily_rescreen_is_scheduled_once(dummy, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert schedule_daily() is True
    with django_capture_on_commit_callbacks(execute=True):
        assert schedule_daily() is False, "already scheduled"
    (result,) = dummy.results
    assert result.task.name == "rescreen_due" and result.task.run_after is not None


# --------------------------------------------------------------------------------------------
# Time passing


def test_a_time_driven_lapse_is_rescreened_daily_and_told(seeded, clinician, client, immediate):
    s = saved(clinician, ELIGIBLE_FOR_BOTH)  # "less than 9 weeks since diagnosis": met until 2026-12-25
    with freeze_time("2026-12-15"):
        client.force_login(clinician)  # sessions expire: sign in on the day
        notice = client.get(reverse("home")).content.decode().split('id="notices-title"')[1]
        assert "NCT01219465: eligibility lapses after 2026-12-25" in notice
        assert "Confirmed diagnosis of type 1 diabetes" in notice.split("</li>")[0]
        run = rescreen.run_inline(rescreen.start(RescreenRun.Trigger.DAILY, due=True))
        assert run.rows_changed == 0, "nothing has lapsed yet"
    with freeze_time("2026-12-27"):
        client.force_login(clinician)
        call_command("rescreen", "--due", stdout=StringIO(), stderr=StringIO())
        row = current(s)
        assert row.verdict == Verdict.INELIGIBLE and row.changed and row.lapsed_on == date(2026, 12, 26)
        home = client.get(reverse("home")).content.decode()
        assert "NCT01219465 lapsed on 2026-12-26, now:" in home
        assert "NCT01219465 lapsed on 2026-12-26, now:" in client.get(reverse("screening:list")).content.decode()
    assert not current(s, "NCT03835312").changed


# --------------------------------------------------------------------------------------------
# The command


def test_the_command_rescreens_a_trial_with_a_progress_bar(seeded, clinician):
    s = saved(clinician, {**ELIGIBLE_FOR_BOTH, "weight": 60})
    bmi_limit(25)
    out, err = StringIO(), StringIO()
    call_command("rescreen", "--trial", "NCT01219465", stdout=out, stderr=err)
    assert "NCT01219465: 1 results checked, 1 changed (done)" in out.getvalue()
    assert "[##############################] 1/1 chunks" in err.getvalue()
    assert current(s).changed
    out = StringIO()
    call_command("rescreen", "--all", stdout=out, stderr=StringIO())
    assert "2 results checked, 0 changed" in out.getvalue()


@pytest.mark.parametrize(
    "args, message",
    [((), "give --trial"), (("--all", "--due"), "give --trial"), (("--trial", "NCT00000000"), "unknown trial")],
)
def test_the_command_refuses_bad_arguments(seeded, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("rescreen", *args, stdout=StringIO(), stderr=StringIO())


# --------------------------------------------------------------------------------------------
# Lists: a constant number of queries, whatever the number of trials


def _queries(client, url, **params):
    client.get(url, params)  # warm the per-process caches
    with CaptureQueriesContext(transaction.get_connection()) as ctx:
        assert client.get(url, params).status_code == 200
    return len(ctx)


def _list_queries(client, clinician, coordinator):
    pages = {}
    client.force_login(clinician)
    pages["my screenings"] = _queries(client, reverse("screening:list"))
    pages["clinician home"] = _queries(client, reverse("home"))
    client.force_login(coordinator)
    pages["candidate queue"] = _queries(client, reverse("candidates:queue"))
    pages["queue, changed only"] = _queries(client, reverse("candidates:queue"), changed="on")
    pages["coordinator home"] = _queries(client, reverse("home"))
    pages["analytics"] = _queries(client, reverse("candidates:analytics", args=["NCT01219465"]))
    return pages


def test_lists_read_current_results_in_as_many_queries_for_2_and_500_trials(seeded, clinician, coordinator, client):
    def network(limit):
        for trial in Trial.objects.all():
            trial.coordinators.add(coordinator)
        screenings = [saved(clinician, ELIGIBLE_FOR_BOTH, ref=f"P-{i}") for i in range(3)]
        screenings.append(saved(clinician, {**ELIGIBLE_FOR_BOTH, "weight": 60}, ref="MED-1"))
        for s in screenings:
            Referral.create_from(s, Trial.objects.get(nct_id="NCT01219465"), by=clinician, justification="x")
        bmi_limit(limit)
        call_command("rescreen", "--trial", "NCT01219465", stdout=StringIO(), stderr=StringIO())
        return screenings

    network(25)  # the medium patient (BMI 26.7) is now ruled out
    assert CurrentResult.objects.filter(changed=True).count() == 1
    two = _list_queries(client, clinician, coordinator)
    Referral.objects.all().delete()
    Screening.objects.all().delete()
    open_many_trials(498)
    assert Trial.objects.count() == 500
    network(28)  # saved under "BMI > 25", the medium patient is back in
    assert CurrentResult.objects.filter(changed=True).count() == 1
    assert _list_queries(client, clinician, coordinator) == two


# --------------------------------------------------------------------------------------------
# Every path that changes criteria asks for a re-screen: a draft approved, a re-import


def _requested(dummy):
    return {(r.task.name, r.args[0]) for r in dummy.results}


def test_approving_a_draft_asks_for_a_rescreen(seeded, adam, dummy, django_capture_on_commit_callbacks):
    bmi = Criterion.objects.get(trial__nct_id="NCT01219465", text="Body Mass Index >30.")
    Criterion.objects.filter(pk=bmi.pk).update(rule_status=Criterion.RuleStatus.DRAFT)  # no signal: a fresh draft
    with django_capture_on_commit_callbacks(execute=True):
        adam.post(
            reverse("admin:trials_criterion_changelist"),
            {"action": "approve_drafts", "_selected_action": [bmi.pk], "post": "yes", "password": "pw-adam"},
        )
    assert _requested(dummy) == {("rescreen_trial", bmi.trial_id)}


def test_a_reimport_that_changes_the_protocol_asks_for_a_rescreen(
    seeded, tmp_path, dummy, django_capture_on_commit_callbacks
):
    import json

    from ctgov.importer import import_paths
    from tests.factories import ELIGIBILITY, study

    first = tmp_path / "first.json"
    first.write_text(json.dumps(study()))
    import_paths([first])
    assert dummy.results == [], "a new trial has no stored screenings to re-screen"
    second = tmp_path / "second.json"
    second.write_text(
        json.dumps(study(criteria=ELIGIBILITY.replace("Adults with asthma", "Adults with severe asthma")))
    )
    with django_capture_on_commit_callbacks(execute=True):
        import_paths([second])
    assert _requested(dummy) == {("rescreen_trial", Trial.objects.get(nct_id="NCT09000001").pk)}
