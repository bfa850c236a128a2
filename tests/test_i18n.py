"""English and Simplified Chinese: the catalogue is complete, the switcher remembers the choice, the browser's
language is honoured."""

from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

PO = Path(settings.BASE_DIR, "locale", "zh_Hans", "LC_MESSAGES", "django.po")


def test_every_message_is_translated_and_none_is_fuzzy():
    catalogue = polib.pofile(str(PO))
    untranslated = [e.msgid for e in catalogue.untranslated_entries()]
    fuzzy = [e.msgid for e in catalogue.fuzzy_entries()]
    assert not untranslated, f"untranslated in {PO.name}: {untranslated[:20]}"
    assert not fuzzy, f"fuzzy in {PO.name}: {fuzzy[:20]}"
    assert not catalogue.metadata_is_fuzzy


def test_placeholders_survive_translation():
    """A translation that drops or renames %(name)s would raise, or lose the number, at run time."""
    import re

    names = re.compile(r"%\((\w+)\)[sd]")
    catalogue = polib.pofile(str(PO))
    for entry in catalogue.translated_entries():
        wanted = set(names.findall(entry.msgid))
        given = [entry.msgstr] if not entry.msgid_plural else list(entry.msgstr_plural.values())
        for text in given:
            assert set(names.findall(text)) <= wanted | set(names.findall(entry.msgid_plural or "")), entry.msgid


def test_compiled_catalogue_is_used():
    with translation.override("zh-hans"):
        assert translation.gettext("Start screening") == "开始筛查"
    with translation.override("en-gb"):
        assert translation.gettext("Start screening") == "Start screening"


@pytest.mark.django_db
def test_login_page_follows_the_browsers_language(client):
    page = client.get("/login/", headers={"accept-language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert page.status_code == 200
    assert '<html lang="zh-hans">' in page.content.decode()


@pytest.mark.django_db
def test_switcher_remembers_the_choice_before_and_after_signing_in(client, people):
    answer = client.post("/language/", {"language": "zh-hans", "next": "/login/"})
    assert answer.status_code == 302 and answer["Location"] == "/login/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert '<html lang="zh-hans">' in client.get("/login/").content.decode()
    client.force_login(people["clinician"])
    home = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in home
    assert 'value="zh-hans" lang="zh-hans" selected' in home


@pytest.mark.django_db
def test_switcher_refuses_an_unknown_language_and_an_outside_next(client):
    answer = client.post("/language/", {"language": "xx", "next": "https://elsewhere.example/"})
    assert answer.status_code == 302 and answer["Location"] == "/"
    assert settings.LANGUAGE_COOKIE_NAME not in client.cookies
