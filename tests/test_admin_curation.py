"""Curating trials in the admin: the rule builder (with and without htmx), raw JSON, approving drafts,
example patients, criteria versions and history, the trial list's filters and the question catalogue.

Pure rule-builder logic is tested first, from tables and without a database; the admin pages then as
adam, the Admin-group persona (staff, not a superuser).
"""

import json
import re

import pytest
from django.urls import reverse

from curation import rule_builder as rb
from tests.factories import BMI, SEED, change_url, cond, criterion, page_form, seed_catalogue

CATALOGUE = seed_catalogue()
SEED_RULES = [
    c["rule"]
    for nct in ("NCT01219465", "NCT03835312")
    for c in json.loads((SEED / f"{nct}.json").read_text())["criteria"]
]


# --- The builder as pure logic ---------------------------------------------------------------


@pytest.mark.parametrize("rule", SEED_RULES, ids=lambda r: json.dumps(r)[:60])
def test_it_round_trips_every_seed_rule(rule):
    rule_back, problems = rb.build(rb.from_rule(rule), CATALOGUE)
    assert problems == []
    assert rule_back == rule


BUILT = [
    # (posted fields, rule)
    ({"rb-kind": "none"}, None),
    ({}, None),
    ({"rb-kind": "all"}, {"all": []}),
    ({"rb-kind": "all", **cond("rb.0", "bmi", ">", value="30")}, {"q": "bmi", "op": ">", "value": 30, "unit": "kg/m²"}),
    (
        {"rb-kind": "all", **cond("rb.0", "hba1c", "between", low="6.5", high="10")},
        {"q": "hba1c", "op": "between", "value": [6.5, 10], "unit": "%"},
    ),
    ({"rb-kind": "all", **cond("rb.0", "hiv", "=", value="false")}, {"q": "hiv", "op": "=", "value": False}),
    ({"rb-kind": "all", **cond("rb.0", "sex", "in", values=["female"])}, {"q": "sex", "op": "in", "value": ["female"]}),
    (
        {"rb-kind": "all", **cond("rb.0", "t1d_diagnosis_date", "within", amount="9", unit="weeks")},
        {"q": "t1d_diagnosis_date", "op": "within", "value": "9 weeks"},
    ),
    (
        {
            "rb-kind": "all",
            **cond("rb.0", "age", "age_between", min_amount="3", min_unit="years", max_amount="", max_unit="years"),
        },
        {"q": "age", "op": "age_between", "value": {"min": "3 years"}},
    ),
    ({"rb-kind": "all", **cond("rb.0", "c_peptide", "answered")}, {"q": "c_peptide", "op": "answered"}),
    (
        {"rb-kind": "any", **cond("rb.0", "hiv", "=", value="true"), **cond("rb.1", "hepatitis_b", "=", value="true")},
        {"any": [{"q": "hiv", "op": "=", "value": True}, {"q": "hepatitis_b", "op": "=", "value": True}]},
    ),
    (
        {
            "rb-kind": "at_least",
            "rb-count": "2",
            **cond("rb.0", "hiv", "=", value="true"),
            **cond("rb.1", "hepatitis_b", "=", value="true"),
            **cond("rb.2", "hepatitis_c", "=", value="true"),
        },
        {
            "at_least": 2,
            "of": [
                {"q": "hiv", "op": "=", "value": True},
                {"q": "hepatitis_b", "op": "=", "value": True},
                {"q": "hepatitis_c", "op": "=", "value": True},
            ],
        },
    ),
    # Nested: all of (BMI > 30, not (any of HIV, hepatitis B)); children sorted by number, not by text.
    (
        {
            "rb-kind": "all",
            **cond("rb.0", "bmi", ">", value="30"),
            "rb.1-kind": "not",
            "rb.1.0-kind": "any",
            **cond("rb.1.0.0", "hiv", "=", value="true"),
            **cond("rb.1.0.1", "hepatitis_b", "=", value="true"),
        },
        {
            "all": [
                {"q": "bmi", "op": ">", "value": 30, "unit": "kg/m²"},
                {
                    "not": {
                        "any": [{"q": "hiv", "op": "=", "value": True}, {"q": "hepatitis_b", "op": "=", "value": True}]
                    }
                },
            ]
        },
    ),
    # Several conditions under "not": not all of them together.
    (
        {"rb-kind": "not", **cond("rb.0", "hiv", "=", value="true"), **cond("rb.1", "malignancy", "=", value="true")},
        {"not": {"all": [{"q": "hiv", "op": "=", "value": True}, {"q": "malignancy", "op": "=", "value": True}]}},
    ),
]


@pytest.mark.parametrize("data, rule", BUILT)
def test_it_turns_form_fields_into_a_rule(data, rule):
    state = rb.read(data, CATALOGUE)
    assert state.problems == []
    assert state.rule == rule


def test_it_orders_children_by_number():
    data = {"rb-kind": "any", **{k: v for i in range(12) for k, v in cond(f"rb.{i}", "hiv", "=", value="true").items()}}
    data["rb.10-q"] = data["rb.10-prev_q"] = "malignancy"
    rule = rb.read(data, CATALOGUE).rule
    assert rule["any"][10]["q"] == "malignancy"


PROBLEMS = [
    # (posted condition, problem code, where)
    (cond("rb.0", "bmi", ">", value="300"), "out_of_range", "rule"),
    (cond("rb.0", "bmi", ">", value="abc"), "bad_value", "rule"),
    (cond("rb.0", "sex", "=", value=""), "unknown_choice", "rule"),
    (cond("rb.0", "t1d_diagnosis_date", "within", amount="", unit="weeks"), "bad_duration", "rule"),
    (cond("rb.0", "age", "age_between"), "bad_value", "rule"),
    (cond("rb.0", "", ""), "no_question", "rule"),
]


@pytest.mark.parametrize("data, code, path", PROBLEMS)
def test_it_reports_a_problem_at_its_condition(data, code, path):
    state = rb.read({"rb-kind": "all", **data}, CATALOGUE)
    assert [(p.code, p.path) for p in state.problems] == [(code, path)]
    assert [p.code for p in rb.find(state.root, "rb.0").problems] == [code]


def test_it_reports_every_problem_at_once():
    data = {"rb-kind": "any", **cond("rb.0", "bmi", ">", value="300"), **cond("rb.1", "sex", "in"), "rb.2-kind": "not"}
    state = rb.read(data, CATALOGUE)
    assert {(p.path, p.code) for p in state.problems} == {
        ("rule.any[0]", "out_of_range"),
        ("rule.any[1]", "bad_value"),
        ("rule.any[2]", "empty_not"),
    }
    assert not state.valid


def test_it_offers_only_operators_that_fit_the_question():
    assert [op for op, _ in rb.operator_choices(CATALOGUE["hiv"])] == ["=", "!=", "answered", "not_answered"]
    assert "between" in dict(rb.operator_choices(CATALOGUE["bmi"]))
    assert [op for op, _ in rb.operator_choices(CATALOGUE["t1d_diagnosis_date"])][:2] == ["within", "before"]
    assert rb.operators_for(CATALOGUE["age"])[0] == "age_between"


def test_it_starts_a_condition_afresh_when_its_question_changes():
    data = {"rb-kind": "all", **cond("rb.0", "sex", "=", value="female")}
    data["rb.0-q"] = "bmi"  # prev_q is still "sex"
    node = rb.find(rb.read(data, CATALOGUE).root, "rb.0")
    assert (node.q, node.op, node.value, node.input) == ("bmi", ">", "", "number")


@pytest.mark.parametrize(
    "action, rule",
    [
        ("add_condition:rb", {"all": [{"q": "hiv", "op": "=", "value": True}, {"q": "", "op": ""}]}),
        ("remove:rb.0", {"all": []}),
        ("add_group:rb", {"all": [{"q": "hiv", "op": "=", "value": True}, {"all": []}]}),
    ],
)
def test_its_buttons_edit_the_tree(action, rule):
    state = rb.read({"rb-kind": "all", **cond("rb.0", "hiv", "=", value="true"), rb.ACTION: action}, CATALOGUE)
    assert state.rule == rule
    assert state.origin == rb.BUILDER


def test_an_empty_group_inside_another_is_a_problem_but_an_empty_rule_is_not():
    state = rb.read({"rb-kind": "any", **cond("rb.0", "hiv", "=", value="true"), "rb.1-kind": "all"}, CATALOGUE)
    assert [(p.path, p.code) for p in state.problems] == [("rule.any[1]", "empty_group")]
    assert rb.read({"rb-kind": "all"}, CATALOGUE).problems == []


def test_adding_a_condition_to_no_rule_starts_one():
    state = rb.read({"rb-kind": "none", rb.ACTION: "add_condition:rb"}, CATALOGUE)
    assert state.root.kind == "all" and len(state.root.children) == 1
    assert [p.code for p in state.problems] == ["no_question"]


@pytest.mark.parametrize(
    "text, codes",
    [
        ("", []),
        ("null", []),
        ('{"q": "bmi", "op": ">", "value": 30}', []),
        ('{"q": "bmi", "op": ">", "value": 30', ["bad_json"]),
        ('{"q": "bmi", "op": "within", "value": 30}', ["operator_type"]),
        (
            '{"any": [{"q": "nope", "op": "="}, {"q": "bmi", "op": ">", "value": 900}]}',
            ["unknown_question", "out_of_range"],
        ),
    ],
)
def test_it_checks_json_text_like_the_builder(text, codes):
    state = rb.read({rb.JSON_FIELD: text, rb.ORIGIN: rb.JSON}, CATALOGUE)
    assert [p.code for p in state.problems] == codes


def test_valid_json_redraws_the_builder():
    text = '{"any": [{"q": "hiv", "op": "=", "value": true}, {"q": "bmi", "op": ">", "value": 30}]}'
    state = rb.read({rb.JSON_FIELD: text, rb.ACTION: "json"}, CATALOGUE)
    assert state.origin == rb.JSON
    assert state.root.kind == "any" and [c.q for c in state.root.children] == ["hiv", "bmi"]
    assert state.words == "any of: HIV infection, BMI > 30 kg/m²"


def test_it_writes_json_for_people():
    rule = {
        "any": [{"q": "hiv", "op": "=", "value": True}, {"at_least": 1, "of": [{"q": "sle", "op": "=", "value": True}]}]
    }
    text = rb.dump(rule)
    assert json.loads(text) == rule
    assert text.splitlines()[1] == '  {"q": "hiv", "op": "=", "value": true},'


# --- The admin pages -------------------------------------------------------------------------


def with_rule(data, **fields):
    """The criterion form with its builder replaced by `fields` (a tree posted as a browser would)."""
    kept = {k: v for k, v in data.items() if not k.startswith("rb")}
    return {**kept, **fields}


def test_the_admin_group_can_use_every_curation_page(adam):
    from trials.models import Question, Trial

    trial = Trial.objects.get(nct_id="NCT01219465")
    bmi = criterion(*BMI)
    for url in [
        reverse("admin:trials_trial_changelist"),
        change_url(trial),
        reverse("admin:trials_trial_criteria_versions", args=[trial.pk]),
        reverse("admin:trials_criterion_changelist"),
        change_url(bmi),
        reverse("admin:trials_criterion_add"),
        reverse("admin:trials_criterion_history", args=[bmi.pk]),
        reverse("admin:trials_question_changelist"),
        change_url(Question.objects.get(code="bmi")),
    ]:
        assert adam.get(url).status_code == 200, url


def test_other_roles_cannot_use_the_builder(client, clinician, seeded):
    client.force_login(clinician)
    response = client.post(reverse("admin:trials_criterion_rule_builder"), {"rb-kind": "all"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_criterion_page_shows_the_rule_in_plain_words_and_as_json(adam):
    html = adam.get(change_url(criterion(*BMI))).content.decode()
    assert "BMI &gt; 30 kg/m²" in html
    assert 'name="rb.0-q"' in html and 'value="bmi" selected' in html
    assert "&quot;q&quot;: &quot;bmi&quot;" in html  # the JSON textarea


def test_it_saves_a_rule_made_with_the_builder(adam):
    from trials.models import Trial

    bmi = criterion(*BMI)
    version = Trial.objects.get(pk=bmi.trial_id).criteria_version
    # ≥ 30 rather than > 30: no example patient's verdict changes, so it saves at once (see test_admin_examples.py).
    data = with_rule(page_form(adam, bmi), **{"rb-kind": "all", **cond("rb.0", "bmi", ">=", value="30")}, _save="Save")
    response = adam.post(change_url(bmi), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    bmi.refresh_from_db()
    assert bmi.rule == {"q": "bmi", "op": ">=", "value": 30, "unit": "kg/m²"}
    assert Trial.objects.get(pk=bmi.trial_id).criteria_version == version + 1


def test_it_saves_nothing_and_lists_every_problem_of_an_invalid_rule(adam):
    from trials.models import Trial

    bmi = criterion(*BMI)
    before, version = bmi.rule, Trial.objects.get(pk=bmi.trial_id).criteria_version
    data = with_rule(
        page_form(adam, bmi),
        **{
            "rb-kind": "any",
            **cond("rb.0", "bmi", ">", value="300"),
            **cond("rb.1", "sex", "=", value="other"),
        },
        _save="Save",
    )
    response = adam.post(change_url(bmi), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Please correct the error" in html
    assert "rule.any[0]: 300 is outside the plausible range of &#x27;bmi&#x27; (8–90 kg/m²)" in html
    assert "rule.any[1]: &#x27;other&#x27; is not a choice of &#x27;sex&#x27;" in html
    bmi.refresh_from_db()
    assert bmi.rule == before
    assert Trial.objects.get(pk=bmi.trial_id).criteria_version == version


def test_the_builder_round_trips_through_htmx(adam):
    """Pick a question → its operators; add a condition → plain words; a bad value → problems; nothing saved."""
    from trials.models import Trial

    bmi = criterion(*BMI)
    before, version = bmi.rule, Trial.objects.get(pk=bmi.trial_id).criteria_version
    url = reverse("admin:trials_criterion_rule_builder")
    form = page_form(adam, bmi)
    htmx = {"HTTP_HX_REQUEST": "true"}

    # Pick the sex question in place of BMI: the operators become those of a choice question.
    data = {**form, "rb.0-q": "sex", rb.CHANGE: "1"}
    html = adam.post(url, data, **htmx).content.decode()
    assert '<option value="in">is one of</option>' in html
    assert '<option value="&gt;"' not in html
    assert 'name="rb.0-value"' in html and '<option value="female">Female</option>' in html

    # Add a condition, fill it in: the plain words follow.
    html = adam.post(url, {**form, rb.ACTION: "add_condition:rb"}, **htmx).content.decode()
    assert 'name="rb.1-q"' in html and "pick a question" in html
    data = {**form, "rb-kind": "any", **cond("rb.1", "hiv", "=", value="true"), rb.CHANGE: "1"}
    html = adam.post(url, data, **htmx).content.decode()
    assert "any of: BMI &gt; 30 kg/m², HIV infection" in html
    assert "A valid rule" in html
    assert 'id="id_rule_json"' in html and 'hx-swap-oob="true"' in html  # the JSON is kept in step

    # A value outside the plausible range: listed with its path, at its condition.
    data = {**form, "rb.0-value": "300", rb.CHANGE: "1"}
    html = adam.post(url, data, **htmx).content.decode()
    assert "1 problem" in html and "300 is outside the plausible range" in html
    assert 'class="rb-cond rb-invalid"' in html

    bmi.refresh_from_db()
    assert bmi.rule == before
    assert Trial.objects.get(pk=bmi.trial_id).criteria_version == version


def test_the_builder_works_as_a_plain_form_post(adam):
    bmi = criterion(*BMI)
    before = bmi.rule
    data = {**page_form(adam, bmi), rb.ACTION: "add_condition:rb"}
    html = adam.post(change_url(bmi), data).content.decode()
    assert 'name="rb.1-q"' in html  # the new condition
    assert "Please correct the error" not in html
    assert "Nothing is saved until you press Save" in html
    bmi.refresh_from_db()
    assert bmi.rule == before


@pytest.mark.parametrize(
    "text, message",
    [
        (
            '{"q": "bmi", "op": ">", "value": 30',
            "not valid JSON: Expecting &#x27;,&#x27; delimiter (line 1, column 36)",
        ),
        (
            '{"q": "bmi", "op": "within", "value": "soon"}',
            "operator &#x27;within&#x27; does not fit number question &#x27;bmi&#x27;",
        ),
        (
            '{"all": [{"q": "pregnant", "op": "=", "value": "yes"}, {"q": "sex", "op": "in", "value": []}]}',
            "rule.all[1]: &#x27;in&#x27; needs a non-empty list of choices",
        ),
    ],
)
def test_raw_json_is_checked_the_same_way_and_nothing_is_saved(adam, text, message):
    bmi = criterion(*BMI)
    before = bmi.rule
    data = {**page_form(adam, bmi), rb.JSON_FIELD: text, rb.ORIGIN: rb.JSON, "_save": "Save"}
    response = adam.post(change_url(bmi), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    bmi.refresh_from_db()
    assert bmi.rule == before


def test_raw_json_saves_when_valid(adam):
    bmi = criterion(*BMI)
    text = '{"any": [{"q": "bmi", "op": ">", "value": 32}, {"q": "weight", "op": ">", "value": 120}]}'
    data = {**page_form(adam, bmi), rb.JSON_FIELD: text, rb.ORIGIN: rb.JSON, "_save": "Save"}
    assert adam.post(change_url(bmi), data).status_code == 302
    bmi.refresh_from_db()
    assert bmi.rule == json.loads(text)


def confirmed(adam, url, data):
    """Post a change that breaks an example patient: the preview comes first, then "Save anyway"."""
    response = adam.post(url, data)
    html = response.content.decode()
    assert response.status_code == 200 and 'id="example-preview"' in html, html[:3000]
    confirm = re.search(r'name="_confirm_examples" value="([^"]+)"', html).group(1)
    return adam.post(url, {**data, "_confirm_examples": confirm})


def test_an_empty_rule_means_needs_review(adam):
    bmi = criterion(*BMI)
    data = with_rule(page_form(adam, bmi), **{"rb-kind": "none"}, _save="Save")
    # The example "Adult with BMI 32.9" then needs review: asked first.
    assert confirmed(adam, change_url(bmi), data).status_code == 302
    bmi.refresh_from_db()
    assert bmi.rule is None


def test_a_post_without_the_builder_leaves_the_rule_alone(adam):
    bmi = criterion(*BMI)
    before = bmi.rule
    data = {
        k: v for k, v in page_form(adam, bmi).items() if not k.startswith("rb") and k not in (rb.JSON_FIELD, rb.ORIGIN)
    }
    data["text"] = ["Body Mass Index above 30."]
    assert adam.post(change_url(bmi), {**data, "_save": "Save"}).status_code == 302
    bmi.refresh_from_db()
    assert (bmi.text, bmi.rule) == ("Body Mass Index above 30.", before)


def make_draft(nct_id, text_start, rule):
    c = criterion(nct_id, text_start)
    c.rule, c.rule_status = rule, "draft"
    c.save()
    return c


def test_the_approve_button_approves_a_valid_draft(adam):
    bmi = make_draft(*BMI, {"q": "bmi", "op": ">", "value": 30, "unit": "kg/m²"})
    html = adam.get(change_url(bmi)).content.decode()
    assert 'name="_approve"' in html
    signed = {"_approve": "Sign and approve draft", "approve_password": "pw-adam"}  # tests/test_esignatures.py
    response = adam.post(change_url(bmi), {**page_form(adam, bmi), **signed})
    assert response.status_code == 302 and response["Location"] == change_url(bmi)
    bmi.refresh_from_db()
    assert bmi.rule_status == "approved"


def test_the_approve_button_refuses_an_invalid_rule(adam):
    bmi = make_draft(*BMI, {"q": "bmi", "op": ">", "value": 30, "unit": "kg/m²"})
    data = with_rule(
        page_form(adam, bmi), **{"rb-kind": "all", **cond("rb.0", "bmi", ">", value="300")}, _approve="Approve draft"
    )
    assert adam.post(change_url(bmi), data).status_code == 200
    bmi.refresh_from_db()
    assert bmi.rule_status == "draft" and bmi.rule["value"] == 30


def test_the_approve_action_approves_valid_drafts_only(adam):
    from trials.models import Criterion

    good = make_draft(*BMI, {"q": "bmi", "op": ">", "value": 30, "unit": "kg/m²"})
    empty = make_draft("NCT01219465", "Severe psychiatric", None)
    response = adam.post(
        reverse("admin:trials_criterion_changelist"),
        {
            "action": "approve_drafts",
            "_selected_action": [good.pk, empty.pk],
            "post": "yes",
            "password": "pw-adam",  # signed (tests/test_esignatures.py)
        },
        follow=True,
    )
    html = response.content.decode()
    assert "Approved 1 draft rule." in html and "Not approved" in html
    assert Criterion.objects.get(pk=good.pk).rule_status == "approved"
    assert Criterion.objects.get(pk=empty.pk).rule_status == "draft"


def test_the_seed_examples_all_pass(seeded):
    from curation.models import ExamplePatient

    results = ExamplePatient.objects.results()
    assert len(results) == 8
    assert {r.example.expected_verdict for r in results} == {"eligible", "ineligible", "undetermined"}
    assert [r.example.name for r in results if not r.passed] == []


def test_the_trial_page_shows_an_example_that_fails_after_a_change(adam):
    from trials.models import Trial

    trial = Trial.objects.get(nct_id="NCT01219465")
    html = adam.get(change_url(trial)).content.decode()
    assert "All 4 examples pass." in html

    bmi = criterion(*BMI)
    data = with_rule(
        page_form(adam, bmi), **{"rb-kind": "all", **cond("rb.0", "bmi", ">", value="35")}, _continue="Save"
    )
    response = adam.post(change_url(bmi), data)
    assert response.status_code == 200 and 'id="example-preview"' in response.content.decode()  # asked first
    confirm = re.search(r'name="_confirm_examples" value="([^"]+)"', response.content.decode()).group(1)
    response = adam.post(change_url(bmi), {**data, "_confirm_examples": confirm}, follow=True)
    assert "1 of 4 fail" in response.content.decode()  # said right after the change

    html = adam.get(change_url(trial)).content.decode()
    assert "1 of 4 examples fails." in html
    failing = html[html.index("✗ FAIL") :]
    assert "Adult with BMI 32.9" in failing[:600]
    assert "Likely eligible" in failing[:1500]  # what the engine says now; expected: not eligible


def test_it_shows_why_an_example_fails(adam):
    from curation.models import ExamplePatient
    from trials.models import Trial

    trial = Trial.objects.get(nct_id="NCT03835312")
    ExamplePatient.objects.create(
        trial=trial,
        name="Expected eligible at 19",
        expected_verdict="eligible",
        as_of="2026-11-21",
        answers={"date_of_birth": "2007-03-10"},
    )
    html = adam.get(change_url(trial)).content.decode()
    assert "Ages Eligible for Study: up to 18 Years" in html
    assert "is above 18 years" in html


def test_example_answers_are_checked_and_nothing_is_saved(adam):
    from curation.models import ExamplePatient
    from trials.models import Trial

    trial = Trial.objects.get(nct_id="NCT01219465")
    data = page_form(adam, trial)
    i = int(data["examples-TOTAL_FORMS"][0])
    data.update(
        {
            "examples-TOTAL_FORMS": [str(i + 1)],
            f"examples-{i}-name": ["Bad answers"],
            f"examples-{i}-as_of": ["2026-11-21"],
            f"examples-{i}-expected_verdict": ["eligible"],
            f"examples-{i}-note": [""],
            f"examples-{i}-answers": ['{"bmi": 300, "hiv": "maybe", "nope": 1, "t1d_diagnosis_date": "2027-01-01"}'],
            f"examples-{i}-trial": [str(trial.pk)],
        }
    )
    html = adam.post(change_url(trial), data).content.decode()
    for message in [
        "bmi: 300 kg/m² is not a plausible BMI",
        "hiv: expected yes/no",
        "nope: unknown question code",
        "t1d_diagnosis_date: 2027-01-01 is in the future",
    ]:
        assert message in html
    assert not ExamplePatient.objects.filter(name="Bad answers").exists()

    data[f"examples-{i}-answers"] = ["{not json"]
    assert (
        "Not valid JSON: Expecting property name enclosed in double quotes (line 1, column 2)."
        in adam.post(change_url(trial), data).content.decode()
    )
    data[f"examples-{i}-answers"] = ['{"bmi": 31}']
    assert adam.post(change_url(trial), data).status_code == 302
    assert ExamplePatient.objects.get(name="Bad answers").answers == {"bmi": 31}


def test_the_criteria_at_an_earlier_version_show_the_old_rule(adam):
    from trials.models import Trial

    bmi = criterion(*BMI)
    trial = Trial.objects.get(pk=bmi.trial_id)
    assert trial.criteria_version == 1
    data = with_rule(page_form(adam, bmi), **{"rb-kind": "all", **cond("rb.0", "bmi", ">", value="35")}, _save="Save")
    confirmed(adam, change_url(bmi), data)

    url = reverse("admin:trials_trial_criteria_versions", args=[trial.pk])
    old = adam.get(url, {"version": 1}).content.decode()
    assert "BMI &gt; 30 kg/m²" in old and "BMI &gt; 35 kg/m²" not in old
    assert old.count('<tr class="change-') == 12
    now = adam.get(url).content.decode()
    assert "BMI &gt; 35 kg/m²" in now and "was: BMI &gt; 30 kg/m²" in now
    assert 'class="change-changed"' in now
    assert "admin" not in adam.get(url, {"version": 99}).content.decode().split("errornote")[0][-10:]
    assert "Version 99 was not recorded" in adam.get(url, {"version": 99}).content.decode()


def test_versions_record_added_and_removed_criteria(adam):
    from curation.models import CriteriaVersion
    from trials.models import Criterion, Trial

    trial = Trial.objects.get(nct_id="NCT03835312")
    Criterion.objects.create(
        trial=trial, kind="exclusion", order=99, text="Pregnancy.", rule={"q": "pregnant", "op": "=", "value": True}
    )
    criterion("NCT03835312", "Combination of other fatal").delete()
    trial.refresh_from_db()
    assert trial.criteria_version == 3
    assert list(CriteriaVersion.objects.filter(trial=trial).values_list("version", flat=True)) == [3, 2, 1]
    html = adam.get(reverse("admin:trials_trial_criteria_versions", args=[trial.pk])).content.decode()
    assert 'class="change-removed"' in html and "Combination of other fatal diseases." in html
    html = adam.get(reverse("admin:trials_trial_criteria_versions", args=[trial.pk]), {"version": 2}).content.decode()
    assert 'class="change-added"' in html and "Pregnancy." in html


def test_deleting_a_trial_deletes_its_versions(seeded):
    from curation.models import CriteriaVersion
    from trials.models import Trial

    Trial.objects.get(nct_id="NCT03835312").delete()
    assert not CriteriaVersion.objects.filter(trial__nct_id="NCT03835312").exists()


def test_the_criterion_history_says_what_changed_in_plain_words(adam, admin_user):
    bmi = criterion(*BMI)
    data = with_rule(page_form(adam, bmi), **{"rb-kind": "all", **cond("rb.0", "bmi", ">", value="35")})
    data["text"] = ["Body Mass Index >35."]
    data["_save"] = ["Save"]
    confirmed(adam, change_url(bmi), data)
    html = adam.get(reverse("admin:trials_criterion_history", args=[bmi.pk])).content.decode()
    assert "adam" in html
    assert '<span class="before">BMI &gt; 30 kg/m²</span> &rarr; <span class="after">BMI &gt; 35 kg/m²</span>' in html
    assert "<del>&gt;30.</del> <ins>&gt;35.</ins>" in html


def test_the_trial_list_filters_trials_whose_criteria_need_review(adam):
    from trials.models import Criterion, Trial

    make_draft(*BMI, {"q": "bmi", "op": ">", "value": 30, "unit": "kg/m²"})
    Criterion.objects.create(trial=Trial.objects.get(nct_id="NCT01219465"), kind="exclusion", order=50, text="Unclear.")
    url = reverse("admin:trials_trial_changelist")
    some = adam.get(url, {"needs_review": "some"}).content.decode()
    assert "NCT01219465" in some and "NCT03835312" not in some
    assert '?q=NCT01219465&amp;state=to_curate" title="Criteria with no rule or a draft rule">2</a>' in some
    to_curate = adam.get(reverse("admin:trials_criterion_changelist"), {"q": "NCT01219465", "state": "to_curate"})
    assert to_curate.content.decode().count('<tr><td class="action-checkbox">') == 2
    none = adam.get(url, {"needs_review": "none"}).content.decode()
    assert "NCT03835312" in none and "NCT01219465" not in none


def test_the_trial_list_searches_and_filters_by_condition(adam):
    url = reverse("admin:trials_trial_changelist")
    found = adam.get(url, {"q": "Immunologic"}).content.decode()
    assert "NCT03835312" in found and "NCT01219465</a>" not in found
    by_condition = adam.get(url, {"condition": "Diabetes Mellitus"}).content.decode()
    assert "NCT01219465" in by_condition and "NCT03835312</a>" not in by_condition


def test_the_trial_page_lists_criteria_in_protocol_order_with_their_state(adam):
    from trials.models import Trial

    make_draft(*BMI, {"q": "bmi", "op": ">", "value": 30, "unit": "kg/m²"})
    trial = Trial.objects.get(nct_id="NCT01219465")
    html = adam.get(change_url(trial)).content.decode()
    html = html[html.index('id="criteria-group"') :]
    ages, bmi = html.index("Ages Eligible for Study"), html.index("Body Mass Index &gt;30.")
    assert ages < bmi
    assert '<span class="state state-draft">draft</span>' in html
    assert "any of: HIV infection, Hepatitis B, Hepatitis C, Active infection" in html
    assert change_url(criterion(*BMI)) in html  # "Edit in rule builder"


def test_the_question_list_says_which_trials_use_each_question(adam, django_assert_max_num_queries):
    url = reverse("admin:trials_question_changelist")
    with django_assert_max_num_queries(12):
        html = adam.get(url).content.decode()
    assert "2 trials: NCT01219465, NCT03835312" in html  # HIV
    assert "1 trial: NCT01219465" in html  # BMI, consent
    assert "8–90 kg/m²" in html and "Female, Male" in html


def test_the_question_page_links_the_trials_that_use_it(adam):
    from trials.models import Question, Trial

    html = adam.get(change_url(Question.objects.get(code="malignancy"))).content.decode()
    for trial in Trial.objects.all():
        assert f'<a href="{change_url(trial)}">{trial.nct_id}</a>: 1 criterion' in html


def test_list_pages_take_a_fixed_number_of_queries(adam, django_assert_max_num_queries):
    from trials.models import Trial

    with django_assert_max_num_queries(15):
        adam.get(reverse("admin:trials_criterion_changelist"))
    with django_assert_max_num_queries(30):
        adam.get(change_url(Trial.objects.get(nct_id="NCT03835312")))


@pytest.mark.django_db
def test_an_example_patient_whose_answers_contradict_is_refused_once_naming_every_question(seeded):
    from datetime import date

    from django.core.exceptions import ValidationError

    from curation.models import ExamplePatient
    from trials.models import Trial

    example = ExamplePatient(
        trial=Trial.objects.get(nct_id="NCT01219465"),
        name="BMI against height and weight",
        answers={"bmi": 31, "height": 140, "weight": 35},
        expected_verdict="ineligible",
        as_of=date(2026, 11, 21),
    )
    with pytest.raises(ValidationError) as refused:
        example.clean()
    [message] = refused.value.message_dict["answers"]
    assert message.startswith("bmi, height, weight: BMI 31 kg/m² does not match height 140 cm and weight 35 kg")
    result = example.evaluate()  # the one pipeline: no verdict from half of the conflict, the same problem
    assert result.actual is None and result.problems == (message,) and not result.passed
