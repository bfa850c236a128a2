"""Pseudonymity on the pages: the patient reference and every free text that goes with a patient (referral note,
justification, status note, screen-fail reason, verification note) refuse identifiers, say what was found, and
save nothing; the privacy note and the date-of-birth question say the same thing."""

import pytest
from django.urls import reverse

from referrals.models import Referral, Verification
from screening.models import Screening
from tests.conftest import make_user
from tests.factories import BASE, refer
from trials.models import Question, Trial

pytestmark = pytest.mark.django_db
NCT = "NCT01219465"


@pytest.mark.parametrize(
    ("ref", "found"),
    [
        ("John Smith", "a name"),
        ("王小明", "a name"),
        ("Smith, J. DOB 01/02/70", "a date of birth"),
        ("13812345678", "a phone number"),
        ("11010519491231002X", "a national ID number"),
        ("MRN12345678", "a record number"),
    ],
)
def test_a_new_screening_refuses_an_identifying_reference(alice, seeded, ref, found):
    response = alice.post(reverse("screening:new"), {"patient_ref": ref})
    assert response.status_code == 200
    assert f"This looks like {found}" in response.content.decode()
    assert not Screening.objects.exists()


def test_a_new_screening_accepts_a_study_code(alice, seeded):
    assert alice.post(reverse("screening:new"), {"patient_ref": "T1D-NEW-01"}).status_code == 302


def test_the_api_refuses_an_identifying_reference(client, seeded, alice_key):
    from tests.factories import bearer, post

    response = post(client, {"answers": {"age": 10}, "save": True, "patient_ref": "王小明"}, **bearer(alice_key))
    assert response.status_code == 400
    assert "patient_ref: This looks like a name" in response.json()["error"]
    assert not Screening.objects.exists()


@pytest.fixture
def saved_screening(client, seeded, clinician):
    screening = Screening.objects.create(patient_ref="JD-2014", clinician=clinician)
    screening.trials.set(Trial.objects.all())
    client.force_login(clinician)
    client.post(reverse("screening:detail", args=[screening.pk]), {**BASE, "save": "1"})
    return screening


@pytest.mark.parametrize(
    ("field", "text", "found"),
    [
        ("note", "MRN 12345678, please call", "a record number"),
        ("note", "mother's mobile 138 1234 5678", "a phone number (Chinese mobile)"),
        ("justification", "Mr Smith is keen", "a name"),
    ],
)
def test_a_referral_refuses_identifiers_in_its_note_and_justification(client, saved_screening, field, text, found):
    response = client.post(reverse("screening:refer", args=[saved_screening.pk, NCT]), {field: text})
    assert response.status_code == 200
    assert f"This text holds what looks like {found}" in response.content.decode()
    assert not Referral.objects.exists()


@pytest.fixture
def coordinator_on_referral(client, seeded, clinician):
    referral = refer(client, clinician, NCT)
    carol = make_user("carol", "Coordinator")
    referral.trial.coordinators.add(carol)
    client.force_login(carol)
    return referral


def test_a_verification_note_refuses_a_phone_number(client, coordinator_on_referral):
    referral = coordinator_on_referral
    criterion = referral.trial.criteria.first()
    response = client.post(
        reverse("candidates:verify", args=[referral.pk, criterion.pk]),
        {"status": "verified_met", "note": "confirmed, call 07700 900123"},
        HTTP_HX_REQUEST="true",
    )
    assert "looks like a phone number" in response.content.decode()
    assert not Verification.objects.exists()


@pytest.mark.parametrize(
    ("data", "found"),
    [
        ({"status": "under_review", "note": "jane@example.org"}, "an e-mail address"),
        ({"status": "screen_failed", "reason_text": "DOB 3 March 1970, too old"}, "a date of birth"),
    ],
)
def test_a_status_change_refuses_identifiers_in_its_note_and_reason(client, coordinator_on_referral, data, found):
    referral = coordinator_on_referral
    response = client.post(
        reverse("candidates:status", args=[referral.pk]), {**data, "version": 1}, HTTP_HX_REQUEST="true"
    )
    assert f"looks like {found}" in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == Referral.Status.REFERRED and referral.version == 1


def test_the_privacy_note_and_the_date_of_birth_question_agree(alice, seeded):
    note = alice.get(reverse("screening:new")).content.decode()
    assert "age alone is enough" in note and "a date of birth is optional" in note
    assert "Do not enter names, dates of birth" not in note  # the old note forbade what the questionnaire asks
    assert Question.objects.get(code="date_of_birth").help_text.startswith("Optional: age alone is enough.")
