"""Every page needs a login; roles exist as groups."""

import pytest
from django.contrib.auth.models import Group
from django.urls import URLPattern, URLResolver, get_resolver

from prescreen.roles import ROLES

PUBLIC = {
    "login",
    "session_status",
    "set_language",
}  # session_status: 0 seconds left when signed out; set_language: the switcher, on the login page too


def all_url_names(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from all_url_names(entry, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield prefix + entry.name, entry


def sample_path(entry, name):
    """A concrete path for a URL pattern, with made-up arguments."""
    from django.urls import reverse

    kwargs = {}
    for key, converter in entry.pattern.converters.items():
        kwargs[key] = {"int": 1, "path": "x", "slug": "x", "uuid": "00000000-0000-0000-0000-000000000000"}.get(
            type(converter).__name__.replace("Converter", "").lower(), "NCT01219465"
        )
    try:
        return reverse(name, kwargs=kwargs)
    except Exception:
        return None


@pytest.mark.django_db
def test_it_requires_login_on_every_url(client):
    checked = 0
    for name, entry in all_url_names():
        if name.split(":")[-1] in PUBLIC or name.startswith("admin:"):
            continue
        path = sample_path(entry, name)
        if path is None:
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            assert response.status_code in (302, 401, 403), (
                f"{method.upper()} {path} ({name}) answered {response.status_code}"
            )
            if response.status_code == 302:
                assert "/login/" in response["Location"], f"{path} redirects to {response['Location']}"
        checked += 1
    assert checked >= 3


@pytest.mark.django_db
def test_the_admin_requires_a_staff_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_the_login_page_is_public_and_demo_style_login_works(client, clinician):
    assert client.get("/login/").status_code == 200
    response = client.post("/login/", {"username": "alice", "password": "pw-alice"})
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    assert b"alice" in home.content


@pytest.mark.django_db
def test_role_groups_exist_with_permissions():
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLES)
    admin_perms = set(Group.objects.get(name="Admin").permissions.values_list("codename", flat=True))
    assert {"change_trial", "change_criterion", "change_question"} <= admin_perms
    clinician_perms = set(Group.objects.get(name="Clinician").permissions.values_list("codename", flat=True))
    assert "change_trial" not in clinician_perms and "view_trial" in clinician_perms


@pytest.mark.django_db
def test_demo_users_are_created_with_their_roles(settings):
    from django.contrib.auth.models import User
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("create_demo_users", stdout=open("/dev/null", "w"))
    assert User.objects.get(username="clinician").groups.filter(name="Clinician").exists()
    assert User.objects.get(username="coordinator").groups.filter(name="Coordinator").exists()
    assert User.objects.get(username="admin").is_staff


@pytest.mark.django_db
def test_demo_users_are_refused_outside_development(settings):
    from django.core.management import CommandError, call_command

    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("create_demo_users")
