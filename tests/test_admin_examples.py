"""A criterion's change that would break example patients is shown, before → after, before it is saved (issue 13):
nothing is saved until the admin confirms that very change. As adam, the Admin-group persona."""

import re

import pytest

from tests.factories import BMI, change_url, cond, criterion, page_form

pytestmark = pytest.mark.django_db

BMI_35 = {"q": "bmi", "op": ">", "value": 35, "unit": "kg/m²"}


def with_rule(data, **fields):
    return {**{k: v for k, v in data.items() if not k.startswith("rb")}, **fields}


def bmi_above(adam, bmi, value, **buttons):
    return with_rule(page_form(adam, bmi), **{"rb-kind": "all", **cond("rb.0", "bmi", ">", value=value)}, **buttons)


def confirm_value(html):
    return re.search(r'name="_confirm_examples" value="([^"]+)"', html).group(1)


def state(bmi):
    from curation.models import CriteriaVersion

    bmi.refresh_from_db()
    bmi.trial.refresh_from_db()
    return bmi.rule, bmi.rule_status, bmi.trial.criteria_version, CriteriaVersion.objects.count()


def test_a_change_that_breaks_an_example_is_shown_before_and_after_and_not_saved(adam):
    bmi = criterion(*BMI)
    before = state(bmi)
    response = adam.post(change_url(bmi), bmi_above(adam, bmi, "35", _continue="Save"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "This change would change the verdict of 1 example patient of NCT01219465" in html
    preview = html[html.index('id="example-preview"') : html.index("Save anyway")]
    row = re.search(r"<tr class=\"row-fail\">(.*?)</tr>", preview, re.S).group(1)
    cells = [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
    assert cells == ["Adult with BMI 32.9", "Not eligible", "Not eligible ✓ pass", "Likely eligible ✗ FAIL"]
    assert "Please correct the error" not in html
    assert 'value="35"' in html  # the builder still shows the change, to adjust or confirm
    assert state(bmi) == before


def test_save_anyway_saves_the_change_that_was_shown(adam):
    bmi = criterion(*BMI)
    data = bmi_above(adam, bmi, "35", _continue="Save")
    confirm = confirm_value(adam.post(change_url(bmi), data).content.decode())
    assert confirm.startswith("_continue:")
    del data["_continue"]  # "Save anyway" is the button pressed; it says which save the admin first asked for
    response = adam.post(change_url(bmi), {**data, "_confirm_examples": confirm}, follow=True)
    assert response.redirect_chain[-1][0] == change_url(bmi)  # "Save and continue editing", as first asked
    assert "1 of 4 fail" in response.content.decode()
    assert state(bmi)[0] == BMI_35


def test_a_confirm_for_another_change_saves_nothing(adam):
    bmi = criterion(*BMI)
    before = state(bmi)
    confirm = confirm_value(adam.post(change_url(bmi), bmi_above(adam, bmi, "35", _save="Save")).content.decode())
    # Edited again after the preview: the confirm was for > 35, not > 40.
    response = adam.post(change_url(bmi), {**bmi_above(adam, bmi, "40"), "_confirm_examples": confirm})
    assert response.status_code == 200 and 'id="example-preview"' in response.content.decode()
    assert state(bmi) == before


def test_a_change_that_breaks_no_example_saves_at_once(adam):
    bmi = criterion(*BMI)
    response = adam.post(change_url(bmi), bmi_above(adam, bmi, "32", _save="Save"))  # 32.9 stays above the limit
    assert response.status_code == 302
    assert state(bmi)[0] == {**BMI_35, "value": 32}


def test_approving_a_draft_that_breaks_an_example_asks_first(adam):
    # Approved, "BMI > 15" would exclude "Retinopathy not yet examined" (BMI 17.8), expected undetermined.
    bmi = criterion(*BMI)
    bmi.rule, bmi.rule_status = {**BMI_35, "value": 15}, "draft"
    bmi.save()
    before = state(bmi)
    data = page_form(adam, bmi)
    html = adam.post(change_url(bmi), {**data, "_approve": "Approve draft"}).content.decode()
    assert "Retinopathy not yet examined" in html[html.index('id="example-preview"') :]
    assert state(bmi) == before
    # Seen, then signed: "Sign and approve anyway" needs the password, and a wrong one approves nothing.
    assert 'name="approve_password"' in html[html.index('id="example-preview"') :]
    confirm = {**data, "_confirm_examples": confirm_value(html)}
    assert "Wrong password" in adam.post(change_url(bmi), {**confirm, "approve_password": "nope"}).content.decode()
    assert state(bmi) == before
    response = adam.post(change_url(bmi), {**confirm, "approve_password": "pw-adam"})
    assert response.status_code == 302
    assert state(bmi)[:2] == ({**BMI_35, "value": 15}, "approved")


def test_the_approval_page_shows_the_examples_approving_would_change_before_signing(adam):
    from django.urls import reverse

    bmi = criterion(*BMI)
    bmi.rule, bmi.rule_status = {**BMI_35, "value": 15}, "draft"
    bmi.save()
    before = state(bmi)
    html = adam.post(
        reverse("admin:trials_criterion_changelist"), {"action": "approve_drafts", "_selected_action": [bmi.pk]}
    ).content.decode()
    assert "Example patients of NCT01219465 whose verdict approval would change" in html
    row = re.search(r'<tr class="row-fail">(.*?)</tr>', html, re.S).group(1)
    assert "Retinopathy not yet examined" in row and "✗ FAIL" in row
    assert state(bmi) == before  # shown, not approved: that takes the signature


# --- The same on the trial page, whose criteria inline changes verdicts too ------------------------------


def inline_index(data, bmi):
    return next(k.split("-")[1] for k, v in data.items() if re.fullmatch(r"criteria-\d+-id", k) and v == [str(bmi.pk)])


def test_deleting_a_criterion_on_the_trial_page_shows_the_examples_first(adam):
    from trials.models import Criterion

    bmi = criterion(*BMI)
    trial = bmi.trial
    data = page_form(adam, trial)
    data.pop("coordinators", None)
    data[f"criteria-{inline_index(data, bmi)}-DELETE"] = ["on"]
    response = adam.post(change_url(trial), {**data, "_save": "Save"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Adult with BMI 32.9" in html[html.index('id="example-preview"') : html.index("Save anyway")]
    assert "Please correct the error" not in html
    assert Criterion.objects.filter(pk=bmi.pk).exists()

    response = adam.post(change_url(trial), {**data, "_confirm_examples": confirm_value(html)})
    assert response.status_code == 302
    assert not Criterion.objects.filter(pk=bmi.pk).exists()


def test_a_trial_page_save_that_changes_no_verdict_saves_at_once(adam):
    bmi = criterion(*BMI)
    data = page_form(adam, bmi.trial)
    data.pop("coordinators", None)
    data[f"criteria-{inline_index(data, bmi)}-text"] = ["Body Mass Index above 30."]
    assert adam.post(change_url(bmi.trial), {**data, "_save": "Save"}).status_code == 302
    bmi.refresh_from_db()
    assert bmi.text == "Body Mass Index above 30."
