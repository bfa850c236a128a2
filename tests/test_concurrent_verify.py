"""Two (here eight) coordinators verifying the same criterion at the same moment, each in its own thread and
database connection: one verification wins, every other request gets the "changed by X at T" conflict, none a 500.
Real row locks need PostgreSQL (SQLite serialises whole-database writes and has no SELECT ... FOR UPDATE)."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from referrals.models import Verification
from tests.conftest import make_user
from tests.factories import refer

pytestmark = pytest.mark.django_db(transaction=True)
ATTEMPTS = 8


def test_concurrent_first_verifications_give_conflicts_never_a_server_error(client, seeded, clinician):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...): SQLite has no row locks")
    referral = refer(client, clinician, "NCT01219465")
    coordinators = [make_user(f"coord{i}", "Coordinator") for i in range(ATTEMPTS)]
    referral.trial.coordinators.add(*coordinators)
    criterion = referral.trial.criteria.first()
    url = reverse("candidates:verify", args=[referral.pk, criterion.pk])
    start = threading.Barrier(ATTEMPTS)
    answers = [None] * ATTEMPTS

    def verify(i):
        browser = Client(raise_request_exception=False)
        browser.force_login(coordinators[i])
        start.wait()
        try:
            answers[i] = browser.post(url, {"status": "verified_met", "note": f"by {i}"}, HTTP_HX_REQUEST="true")
        finally:
            connection.close()

    threads = [threading.Thread(target=verify, args=(i,)) for i in range(ATTEMPTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [200] * ATTEMPTS
    conflicts = [a for a in answers if "Changed by coord" in a.content.decode()]
    assert Verification.objects.count() == 1
    assert len(conflicts) >= 1 and len(conflicts) <= ATTEMPTS - 1
