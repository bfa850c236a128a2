"""Pages that show a screening or trials make as many queries for 500 trials as for 2: each page is requested
with the two seed trials, then again after 498 more are opened (a new screening against all of them, saved and
referred), and the counts must be the same. Each is counted warm, on a second request, as a server serves it
(the first fills the per-process caches of the catalogue and the rules)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from screening.models import Screening
from tests.conftest import make_user
from tests.factories import BASE, open_many_trials
from trials.models import Trial

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def queries(client, method, url, data=None, headers=None):
    getattr(client, method)(url, data or {}, headers=headers or {})  # warm
    with CaptureQueriesContext(connection) as ctx:
        response = getattr(client, method)(url, data or {}, headers=headers or {})
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx)


def pages(s, referral_pk):
    detail = reverse("screening:detail", args=[s.pk])
    return {
        "questionnaire (saved screening)": ("clinician", "get", detail, None, None),
        "htmx evaluate": ("clinician", "post", detail, {**BASE, "weight_0": "90"}, HTMX),
        "show more": (
            "clinician",
            "post",
            reverse("screening:more", args=[s.pk, "undetermined"]) + "?start=0",
            BASE,
            HTMX,
        ),
        "criteria (htmx)": (
            "clinician",
            "post",
            reverse("screening:criteria", args=[s.pk, "NCT01219465"]),
            BASE,
            HTMX,
        ),
        "criteria (page)": ("clinician", "get", reverse("screening:criteria", args=[s.pk, "NCT01219465"]), None, None),
        "print summary": ("clinician", "get", reverse("screening:print", args=[s.pk]), None, None),
        "refer page": ("clinician", "get", reverse("screening:refer", args=[s.pk, "NCT03835312"]), None, None),
        "new screening": ("clinician", "get", reverse("screening:new"), None, None),
        "candidate detail": ("coordinator", "get", reverse("candidates:detail", args=[referral_pk]), None, None),
        "admin trial list": ("admin", "get", reverse("admin:trials_trial_changelist"), None, None),
    }


def screening_saved_and_referred(clients, clinician, ref):
    s = Screening.objects.create(patient_ref=ref, clinician=clinician)
    s.trials.set(Trial.objects.all())
    c = clients["clinician"]
    assert c.post(reverse("screening:detail", args=[s.pk]), {**BASE, "save": "1"}).status_code == 302
    refer = reverse("screening:refer", args=[s.pk, "NCT01219465"])
    assert c.post(refer, {"note": "please review", "justification": "x"}).status_code == 302
    return s, s.referrals.get().pk


def test_pages_make_as_many_queries_for_500_trials_as_for_2(seeded, clinician, admin_user):
    from django.test import Client

    coordinator, admin = make_user("carol", "Coordinator"), admin_user
    Trial.objects.get(nct_id="NCT01219465").coordinators.add(coordinator)
    clients = {}
    for role, user in {"clinician": clinician, "coordinator": coordinator, "admin": admin}.items():
        clients[role] = Client()
        clients[role].force_login(user)

    def count(s, referral_pk):
        return {
            name: queries(clients[who], method, url, data, headers)
            for name, (who, method, url, data, headers) in pages(s, referral_pk).items()
        }

    two = count(*screening_saved_and_referred(clients, clinician, "TWO-1"))
    open_many_trials(498)
    many = count(*screening_saved_and_referred(clients, clinician, "MANY-1"))
    assert Trial.objects.count() == 500
    assert many == two, (two, many)
