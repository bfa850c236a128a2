"""A trial's admin page (issue 13): its lists edited one per line and a Coordinators picker that offers coordinators
only. As adam, the Admin-group persona."""

import re

import pytest

from curation.admin.page import LinesField
from tests.conftest import make_user
from tests.factories import change_url, page_form


@pytest.fixture
def trial(seeded):
    from trials.models import Trial

    return Trial.objects.get(nct_id="NCT01219465")


def post(adam, trial, **fields):
    data = page_form(adam, trial)
    data.pop("coordinators", None)  # the parser picks a multi-select's first option when none is chosen
    data.update(fields)
    return adam.post(change_url(trial), data)


# --- One item per line -----------------------------------------------------------------------

LINES = [
    # (text typed, list saved)
    ("", []),
    ("Type 1 diabetes", ["Type 1 diabetes"]),
    ("  Type 1 diabetes  \n\n\n Obesity\r\n   \n", ["Type 1 diabetes", "Obesity"]),
    ("Diabetes Mellitus, Type 1\nStem cells", ["Diabetes Mellitus, Type 1", "Stem cells"]),  # commas stay inside
]


@pytest.mark.parametrize("text, items", LINES)
def test_it_reads_one_item_per_line_and_drops_blank_lines(text, items):
    assert LinesField(item_name="condition").clean(text) == items


BAD_LINES = [
    # (text typed, the problems' codes)
    ('["Type 1 diabetes", "Obesity"]', ["json_list"]),
    ("Obesity\nType 1\x00 diabetes", ["control_character"]),
    ("x" * 501, ["too_long"]),
    ("Obesity\nType 1 diabetes\nobesity ", ["duplicate"]),
    ('["a"]\nb\x07\nb\x07\n' + "y" * 600, ["json_list", "control_character", "control_character", "too_long"]),
]


@pytest.mark.parametrize("text, codes", BAD_LINES)
def test_it_reports_every_bad_line(text, codes):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        LinesField(item_name="condition").clean(text)
    assert [e.code for e in caught.value.error_list] == codes


def test_the_trial_page_shows_conditions_keywords_and_sites_one_per_line(adam, trial):
    html = adam.get(change_url(trial)).content.decode()
    assert re.search(
        r'<textarea name="conditions"[^>]*>\nDiabetes Mellitus\nDiabetes Mellitus, Type 1</textarea>', html
    )
    assert re.search(r'<textarea name="keywords"[^>]*>\nMesenchymal Stem Cells\nUmbilical Cord</textarea>', html)
    assert "[&quot;" not in html[html.index('name="conditions"') : html.index('name="sites"') + 400]


def test_it_saves_lists_typed_one_per_line(adam, trial):
    response = post(
        adam,
        trial,
        conditions=" Type 1 Diabetes \n\nObesity\n",
        keywords="",
        sites="Qingdao University Hospital, Qingdao, China\nPeking Union Medical College Hospital, Beijing, China",
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    trial.refresh_from_db()
    assert trial.conditions == ["Type 1 Diabetes", "Obesity"]
    assert trial.keywords == []
    assert trial.sites == [
        "Qingdao University Hospital, Qingdao, China",
        "Peking Union Medical College Hospital, Beijing, China",
    ]


def test_bad_lines_get_a_clear_message_and_nothing_is_saved(adam, trial):
    before = (trial.brief_title, trial.conditions, trial.keywords)
    response = post(
        adam,
        trial,
        brief_title="A new title",
        conditions='["Type 1 diabetes", "Obesity"]',
        keywords="Stem cells\nstem cells",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Line 1 looks like a JSON list: write one condition per line, without brackets or quotes." in html
    assert "Line 2 repeats line 1 (“stem cells”): list each keyword once." in html
    trial.refresh_from_db()
    assert (trial.brief_title, trial.conditions, trial.keywords) == before


# --- The Coordinators picker -------------------------------------------------------------------


def coordinator_options(html):
    select = html[html.index('name="coordinators"') :]
    select = select[: select.index("</select>")]
    return re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', select)


def test_the_coordinators_picker_lists_active_coordinators_only(adam, trial, coordinator, clinician):
    from django.contrib.auth.models import User

    make_user("oscar", "Coordinator", "Clinician")  # in both groups: a coordinator all the same
    gone = make_user("gina", "Coordinator")
    gone.is_active = False
    gone.save()
    assert User.objects.count() == 5  # adam (admin), alice (clinician), carol, oscar and gina
    assert coordinator_options(adam.get(change_url(trial)).content.decode()) == ["carol", "oscar"]


def test_a_clinician_cannot_be_made_a_coordinator_of_a_trial(adam, trial, coordinator, clinician):
    response = post(adam, trial, coordinators=[str(clinician.pk)])
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert list(trial.coordinators.all()) == []

    response = post(adam, trial, coordinators=[str(coordinator.pk)])
    assert response.status_code == 302
    assert list(trial.coordinators.all()) == [coordinator]
