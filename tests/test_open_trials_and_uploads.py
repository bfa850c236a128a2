"""Only trials open for screening take saved screenings (new screening, the API with save) and referrals; every
upload has a size limit with a clear message (FHIR pre-fill: FHIR_UPLOAD_MAX_MB)."""

import json
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from referrals.models import Referral
from screening.models import Screening
from tests.factories import BASE, PREFILL_BUNDLE, bearer, post
from trials.models import Trial

pytestmark = pytest.mark.django_db
NCT = "NCT01219465"


def close(nct_id):
    Trial.objects.filter(nct_id=nct_id).update(open_for_screening=False)
    return Trial.objects.get(nct_id=nct_id)


def test_a_new_screening_refuses_a_trial_not_open_for_screening(alice, seeded):
    trial = close(NCT)
    response = alice.post(reverse("screening:new"), {"patient_ref": "JD-2014", "scope": "listed", "trials": NCT})
    assert response.status_code == 200
    assert f"{trial.nct_id} is not a trial open for screening." in response.content.decode()
    assert not Screening.objects.exists()


def test_the_api_saves_only_against_trials_open_for_screening(client, seeded, alice_key):
    close(NCT)
    body = {"answers": {"age": 10}, "trials": [NCT], "save": True, "patient_ref": "JD-2014"}
    response = post(client, body, **bearer(alice_key))
    assert response.status_code == 400
    assert f"trials: not open for screening, so not saved: {NCT}" in response.json()["error"]
    assert not Screening.objects.exists()
    # Screening without saving may still look at it.
    assert post(client, {"answers": {"age": 10}, "trials": [NCT]}, **bearer(alice_key)).status_code == 200


def test_a_trial_closed_after_the_screening_takes_no_referral(client, seeded, clinician):
    screening = Screening.objects.create(patient_ref="JD-2014", clinician=clinician)
    screening.trials.set(Trial.objects.all())
    client.force_login(clinician)
    client.post(reverse("screening:detail", args=[screening.pk]), {**BASE, "save": "1"})
    close(NCT)
    response = client.post(reverse("screening:refer", args=[screening.pk, NCT]), {"note": "please review"})
    assert response.status_code == 200
    assert f"{NCT} is not open for screening at this site" in response.content.decode()
    assert not Referral.objects.exists()


def test_a_fhir_upload_over_the_limit_is_refused_before_it_is_read(client, seeded, clinician, settings):
    settings.FHIR_UPLOAD_MAX_MB = 1
    screening = Screening.objects.create(patient_ref="JD-2014", clinician=clinician)
    screening.trials.set(Trial.objects.all())
    client.force_login(clinician)
    big = json.dumps({**PREFILL_BUNDLE, "padding": "x" * (3 * 2**19)}).encode()  # 1.5 MB
    with mock.patch("eligibility.fhir.load_bundle") as parse:
        response = client.post(
            reverse("screening:prefill", args=[screening.pk]),
            {"bundle": SimpleUploadedFile("huge.json", big, content_type="application/json")},
        )
    assert response.status_code == 302
    parse.assert_not_called()
    page = client.get(reverse("screening:detail", args=[screening.pk])).content.decode()
    assert "huge.json is 1.5 MB; a FHIR Bundle upload is limited to 1 MB" in page and "Nothing was changed" in page


def test_a_fhir_upload_under_the_limit_is_read(client, seeded, clinician):
    screening = Screening.objects.create(patient_ref="JD-2014", clinician=clinician)
    screening.trials.set(Trial.objects.all())
    client.force_login(clinician)
    response = client.post(
        reverse("screening:prefill", args=[screening.pk]),
        {"bundle": SimpleUploadedFile("b.json", json.dumps(PREFILL_BUNDLE).encode(), content_type="application/json")},
    )
    assert response.status_code == 200 and "Pre-filled" in response.content.decode()
