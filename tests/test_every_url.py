"""Every URL of the project (urlpatterns, walked), as each role: a strict Content-Security-Policy on every answer,
`Cache-Control: no-store` on every answer to a signed-in user, and a login redirect for anonymous visitors."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.conftest import make_user
from tests.factories import refer

NCT = "NCT01219465"
# Answer anonymous visitors themselves: the login pages, the API (401 in JSON), logging out (POST only), and
# "how long is my session?" (0 when signed out).
PUBLIC = {
    "login/",
    "admin/login/",
    "api/v1/screen",
    "api/v1/openapi.json",
    "logout/",
    "admin/logout/",
    "account/session/",
    "language/",  # the language switcher (a POST that sets a cookie); a GET only redirects back, as Django's does
}
# Need a Redis server to answer (the RQ dashboard): walked as anonymous only.
NEEDS_REDIS = "admin/django_rq/dashboard/"
# Django's own regular-expression patterns, with a sample path each (None: not a page of its own).
REGEX_SAMPLES = {
    r"^([^/]+)/history/([^/]+)/$": "{pk}/history/1/",
    r"(?P<url>.*)$": "nowhere/",
    r"^stats.json/?$": "stats.json",
    r"^stats.json/(?P<token>[\w]+)?/?$": None,
}


def patterns(resolvers=None, prefix=""):
    for entry in resolvers if resolvers is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            yield from patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix, str(entry.pattern)


def concrete(prefix: str, pattern: str, world: dict) -> str | None:
    """A path for the pattern, its arguments taken from `world` (a real screening, referral, trial...)."""
    for regex, sample in REGEX_SAMPLES.items():
        if pattern.endswith(regex):
            if sample is None:
                return None
            pattern = pattern[: -len(regex)] + sample
    if "(?P<app_label>" in pattern:
        pattern = "trials/"
    pk = world["referral"] if prefix.startswith("candidates/") else world["screening"]
    values = {
        "pk": pk,
        "nct_id": NCT,
        "verdict": "unknown",
        "criterion_id": world["criterion"],
        "job_id": 1,
        "object_id": 1,
        "id": world["user"],
    }

    def value(match):
        name = match.group(1).split(":")[-1]
        return str(values.get(name, 0 if "index" in name else "x"))

    return "/" + prefix + re.sub(r"<([^>]+)>", value, pattern).replace("{pk}", "1")


@pytest.fixture
def world(client, seeded, clinician, coordinator):
    referral = refer(client, clinician, NCT)
    criterion = referral.trial.criteria.first()
    return {"referral": referral.pk, "screening": referral.screening_id, "criterion": criterion.pk, "user": 1}


def walk(world, signed_in: bool):
    for prefix, pattern in patterns():
        path = concrete(prefix, pattern, world)
        if path is None or (signed_in and path.startswith("/" + NEEDS_REDIS)):
            continue
        yield path


def assert_strict_csp(response, path):
    policy = response.get("Content-Security-Policy", "")
    assert "default-src 'self'" in policy, f"{path}: no CSP ({response.status_code})"
    assert "frame-ancestors 'none'" in policy and "form-action 'self'" in policy, path
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, path


@pytest.mark.django_db
def test_it_sends_a_strict_csp_and_a_login_redirect_to_anonymous_visitors_everywhere(client, world):
    checked = 0
    for path in walk(world, signed_in=False):
        response = client.get(path)
        assert_strict_csp(response, path)
        if path.lstrip("/") not in PUBLIC:
            assert response.status_code == 302, f"{path} answered {response.status_code}"
            assert re.search(r"/(admin/)?login/\?next=", response["Location"]), (path, response["Location"])
        checked += 1
    assert checked > 100


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["Clinician", "Coordinator", "Admin"])
def test_it_sends_a_strict_csp_and_no_store_to_every_role_everywhere(client, world, role):
    user = make_user(f"walker-{role.lower()}", role)
    if role == "Admin":
        user.is_staff = user.is_superuser = True
        user.save()
    client.force_login(user)
    statuses = set()
    for path in walk(world, signed_in=True):
        response = client.get(path)
        statuses.add(response.status_code)
        assert_strict_csp(response, path)
        cache_control = response.get("Cache-Control", "")
        assert "no-store" in cache_control, f"{path} ({response.status_code}) Cache-Control: {cache_control!r}"
        assert response.status_code < 500, path
    assert 200 in statuses
