"""E-signatures for decisions: moving a referral to consented or enrolled, and approving draft rules (one, from the
criterion's page, or in bulk), need
the user's password again; the history says who signed what and when; a wrong password changes nothing, is logged
on "prescreen.security" and counts towards the django-axes lockout like a failed login."""

import logging
from datetime import timedelta

import pytest
from django.urls import reverse

from curation.admin.criteria import APPROVAL_MEANING
from referrals.models import Referral
from tests.factories import BMI, change_url, criterion, page_form
from trials.models import Criterion

pytestmark = pytest.mark.usefixtures("urls_loaded")
CONSENTED = Referral.SIGNATURE_MEANINGS[Referral.Status.CONSENTED]
ENROLLED = Referral.SIGNATURE_MEANINGS[Referral.Status.ENROLLED]
CHANGELIST = "admin:trials_criterion_changelist"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def move(client, ref, status, **extra):
    ref.refresh_from_db()
    return client.post(
        reverse("candidates:status", args=[ref.pk]),
        {"status": status, "version": ref.version, **extra},
        HTTP_HX_REQUEST="true",
    )


def contacted(client, people, referral):  # noqa: F811
    client.force_login(people["coordinator"])
    for status in ("under_review", "contacted"):
        assert move(client, referral, status).status_code == 200
    referral.refresh_from_db()
    assert referral.status == "contacted"  # these moves need no signature
    return referral


def test_consented_and_enrolled_need_a_signature_and_other_moves_do_not(client, people, referral):  # noqa: F811
    referral = contacted(client, people, referral)
    page = client.get(reverse("candidates:detail", args=[referral.pk])).content.decode()
    assert 'type="password"' in page and CONSENTED in page  # the meaning is shown beside the password
    for status in ("consented", "enrolled"):
        html = move(client, referral, status).content.decode()
        assert "needs your signature" in html
        referral.refresh_from_db()
        assert referral.status != status
        move(client, referral, status, password="pw-carol")
        referral.refresh_from_db()
        assert referral.status == status
        if status == "consented":
            assert ENROLLED in client.get(reverse("candidates:detail", args=[referral.pk])).content.decode()
    page = client.get(reverse("candidates:detail", args=[referral.pk])).content.decode()
    assert 'type="password"' not in page  # from enrolled only withdrawal is left: no signature asked
    # Withdrawing (not a signed decision) needs no password.
    assert move(client, referral, "withdrawn").status_code == 200
    referral.refresh_from_db()
    assert referral.status == "withdrawn"


def test_the_model_refuses_an_unsigned_consent(people, referral):  # noqa: F811
    from django.core.exceptions import ValidationError

    for status in ("under_review", "contacted"):
        referral.move_to(status, by=people["coordinator"], version=referral.version)
    with pytest.raises(ValidationError) as caught:
        referral.move_to("consented", by=people["coordinator"], version=referral.version)
    assert caught.value.code == "needs_signature"


def test_a_signature_is_in_the_history_with_who_when_and_meaning(client, people, referral):  # noqa: F811
    referral = contacted(client, people, referral)
    move(client, referral, "consented", password="pw-carol", note="consent form in the binder")
    signed = referral.history.first()
    assert signed.status == "consented"
    assert signed.history_user == people["coordinator"] and signed.history_date is not None
    assert signed.history_change_reason == f"Signed: {CONSENTED}. Note: consent form in the binder"
    timeline = (
        client.get(reverse("candidates:detail", args=[referral.pk]))
        .content.decode()
        .split('class="list-unstyled small history"')[1]
    )
    assert "carol: Contacted → Consented" in timeline and f"Signed: {CONSENTED}" in timeline


def test_a_wrong_password_changes_nothing_and_is_logged(client, people, referral, caplog):  # noqa: F811
    referral = contacted(client, people, referral)
    rows, version = referral.history.count(), referral.version
    with caplog.at_level(logging.WARNING, logger="prescreen.security"):
        html = move(client, referral, "consented", password="not-my-password").content.decode()
    assert "Wrong password" in html and "status was not changed" in html
    referral.refresh_from_db()
    assert referral.status == "contacted" and referral.version == version and referral.history.count() == rows
    logged = [r for r in caplog.records if r.name == "prescreen.security"]
    assert len(logged) == 1 and logged[0].levelno == logging.WARNING
    assert "carol" in logged[0].getMessage() and CONSENTED in logged[0].getMessage()
    assert "not-my-password" not in logged[0].getMessage()


def test_five_wrong_signatures_lock_out_signing_and_login_like_failed_logins(client, people, referral):  # noqa: F811
    from axes.models import AccessAttempt

    referral = contacted(client, people, referral)
    codes = [move(client, referral, "consented", password="wrong").status_code for _ in range(5)]
    assert codes == [200, 200, 200, 200, 429]  # the fifth failure is the lockout page, as on /login/
    assert AccessAttempt.objects.get(username="carol").failures_since_start == 5
    assert move(client, referral, "consented", password="pw-carol").status_code == 429
    referral.refresh_from_db()
    assert referral.status == "contacted"
    client.logout()
    assert client.post("/login/", {"username": "carol", "password": "pw-carol"}).status_code == 429


# Bulk approval of draft rules in the admin.


def draft(nct_id, text_start, rule):
    c = criterion(nct_id, text_start)
    c.rule, c.rule_status = rule, "draft"
    c.save()
    return c


def approve(adam, pks, **extra):
    return adam.post(reverse(CHANGELIST), {"action": "approve_drafts", "_selected_action": pks, **extra})


def test_bulk_approval_asks_for_the_password_on_a_page_listing_the_drafts(adam):
    good = draft(*BMI, {"q": "bmi", "op": ">", "value": 30, "unit": "kg/m²"})
    response = approve(adam, [good.pk])
    html = response.content.decode()
    assert response.status_code == 200
    assert "Body Mass Index" in html and 'name="password"' in html and APPROVAL_MEANING in html
    assert Criterion.objects.get(pk=good.pk).rule_status == "draft"


def test_bulk_approval_with_the_password_approves_and_records_the_signature(adam, admin_user):
    good = draft(*BMI, {"q": "bmi", "op": ">", "value": 30, "unit": "kg/m²"})
    response = approve(adam, [good.pk], post="yes", password="pw-adam")
    assert response.status_code == 302
    good.refresh_from_db()
    assert good.rule_status == "approved"
    signed = good.history.first()
    assert signed.rule_status == "approved" and signed.history_user == admin_user
    assert signed.history_change_reason == f"Signed: {APPROVAL_MEANING}"
    history_page = adam.get(reverse("admin:trials_criterion_history", args=[good.pk])).content.decode()
    assert f"Signed: {APPROVAL_MEANING}" in history_page


def test_bulk_approval_with_a_wrong_password_approves_nothing_and_is_logged(adam, caplog):
    good = draft(*BMI, {"q": "bmi", "op": ">", "value": 30, "unit": "kg/m²"})
    rows = good.history.count()
    with caplog.at_level(logging.WARNING, logger="prescreen.security"):
        html = approve(adam, [good.pk], post="yes", password="wrong").content.decode()
    assert "Wrong password" in html and 'name="password"' in html
    good.refresh_from_db()
    assert good.rule_status == "draft" and good.history.count() == rows
    assert any(r.name == "prescreen.security" and "adam" in r.getMessage() for r in caplog.records)


# The single "Approve draft" button on a criterion's page.

RULE = {"q": "bmi", "op": ">", "value": 30, "unit": "kg/m²"}


def approve_one(adam, c, **extra):
    data = {**page_form(adam, c), "text": "Body Mass Index above 30 (edited).", **extra}
    return adam.post(change_url(c), data)


def test_the_approve_button_shows_the_meaning_beside_a_password_field(adam):
    html = adam.get(change_url(draft(*BMI, RULE))).content.decode()
    approve_row = html.split("rb-approve-row")[1].split("</div>")[0]
    assert 'name="approve_password"' in approve_row and APPROVAL_MEANING in approve_row
    assert 'name="_approve"' in approve_row


def test_the_approve_button_without_a_password_saves_and_approves_nothing(adam):
    c = draft(*BMI, RULE)
    rows = c.history.count()
    html = approve_one(adam, c, _approve="Sign and approve draft").content.decode()
    assert "needs your signature" in html
    c.refresh_from_db()
    assert c.rule_status == "draft" and c.text.startswith("Body Mass Index >30") and c.history.count() == rows


def test_the_approve_button_with_a_wrong_password_changes_nothing_and_is_logged(adam, caplog):
    c = draft(*BMI, RULE)
    rows = c.history.count()
    with caplog.at_level(logging.WARNING, logger="prescreen.security"):
        html = approve_one(adam, c, _approve="Sign and approve draft", approve_password="wrong").content.decode()
    assert "Wrong password: nothing was signed, saved or approved." in html
    c.refresh_from_db()
    assert c.rule_status == "draft" and "edited" not in c.text and c.history.count() == rows
    logged = [r.getMessage() for r in caplog.records if r.name == "prescreen.security"]
    assert len(logged) == 1 and "adam" in logged[0] and APPROVAL_MEANING in logged[0] and "wrong" not in logged[0]


def test_the_approve_button_with_the_password_approves_and_records_the_signature(adam, admin_user):
    c = draft(*BMI, RULE)
    response = approve_one(adam, c, _approve="Sign and approve draft", approve_password="pw-adam")
    assert response.status_code == 302
    c.refresh_from_db()
    assert c.rule_status == "approved" and "edited" in c.text
    signed = c.history.first()
    assert (signed.history_user, signed.history_change_reason) == (admin_user, f"Signed: {APPROVAL_MEANING}")


def test_a_signature_typed_and_enter_pressed_approves_too(adam):
    # Enter submits the form's first button (Save), not "Approve": the typed signature says what was meant.
    c = draft(*BMI, RULE)
    assert approve_one(adam, c, _continue="Save", approve_password="pw-adam").status_code == 302
    c.refresh_from_db()
    assert c.rule_status == "approved"


def test_saving_a_draft_without_approving_needs_no_password(adam):
    c = draft(*BMI, RULE)
    assert approve_one(adam, c, _continue="Save").status_code == 302
    c.refresh_from_db()
    assert c.rule_status == "draft" and "edited" in c.text


def test_approving_with_the_status_select_needs_the_signature_too(adam, admin_user):
    c = draft(*BMI, RULE)
    html = approve_one(adam, c, _continue="Save", rule_status="approved").content.decode()
    assert "needs your signature" in html
    c.refresh_from_db()
    assert c.rule_status == "draft" and "edited" not in c.text
    assert approve_one(adam, c, _continue="Save", rule_status="approved", approve_password="pw-adam").status_code == 302
    c.refresh_from_db()
    assert c.rule_status == "approved" and c.history.first().history_change_reason == f"Signed: {APPROVAL_MEANING}"
