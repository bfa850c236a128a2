"""New screening in a real browser, with the two seed trials and with 500: the default (all open trials), Enter
starts it, the htmx search and ticking, a condition and phase, the count; screenshots at desktop and phone width,
in English and with a Simplified Chinese browser."""

import pytest
from playwright.sync_api import expect

from screening.models import Screening
from tests.browser import log_in, screenshot
from tests.factories import open_many_trials

pytestmark = pytest.mark.django_db(transaction=True)

VIEWPORTS = {"desktop": {"width": 1400, "height": 1000}, "phone": {"width": 390, "height": 844}}
# The page follows the browser's language (Accept-Language): a Simplified Chinese browser reads it in Chinese.
SELECTED = {"en-GB": "Selected: {n} trial{s}", "zh-Hans": "已选：{n} 项试验"}


def selected(locale, n):
    return SELECTED[locale].format(n=n, s="" if n == 1 else "s")


@pytest.mark.parametrize("locale", ["en-GB", "zh-Hans"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_two_trials_read_as_before_and_enter_starts_with_both(live_server, browser, demo, size, locale):
    context = browser.new_context(viewport=VIEWPORTS[size], locale=locale)
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, live_server, "clinician", "clinician-demo")
    page.goto(f"{live_server.url}/screenings/new/")
    expect(page.locator("input[name=scope]")).to_have_count(0)
    expect(page.locator("#selected-count")).to_contain_text(selected(locale, 2))
    expect(page.locator("#found input[name=trials]")).to_have_count(2)
    expect(page.locator("#id_find, #id_condition")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[size]["width"]
    screenshot(page, f"new-screening-2-trials-{size}-{locale}")
    page.fill("#id_patient_ref", f"ENT-{size[0]}{locale[-2:]}-1")
    page.press("#id_patient_ref", "Enter")
    expect(page.locator("h1")).to_contain_text(f"ENT-{size[0]}{locale[-2:]}-1")
    assert Screening.objects.get().trials.count() == 2

    # Ticking one trial screens only that one, and the count follows.
    page.goto(f"{live_server.url}/screenings/new/")
    page.check("#add-NCT03835312")
    expect(page.locator("#selected-count")).to_contain_text(selected(locale, 1))
    screenshot(page, f"new-screening-2-trials-ticked-{size}-{locale}")
    page.fill("#id_patient_ref", f"ONE-{size[0]}{locale[-2:]}-1")
    page.click("main button[name=start]")
    expect(page.locator("h1")).to_contain_text(f"ONE-{size[0]}{locale[-2:]}-1")
    assert list(
        Screening.objects.get(patient_ref=f"ONE-{size[0]}{locale[-2:]}-1").trials.values_list("nct_id", flat=True)
    ) == ["NCT03835312"]
    context.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_choosing_among_500_trials(live_server, browser, demo, size):
    open_many_trials(498)
    context = browser.new_context(viewport=VIEWPORTS[size])
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, live_server, "clinician", "clinician-demo")
    page.goto(f"{live_server.url}/screenings/new/")
    expect(page.locator("#selected-count")).to_contain_text("Selected: 500 trials")
    expect(page.locator("#found input[name=add]")).to_have_count(0)

    # Typing a search chooses "only the trials I choose" and lists the first matches.
    page.fill("#id_find", "copy 1")
    expect(page.locator("#scope-listed")).to_be_checked()
    expect(page.locator("#found input[name=add]")).to_have_count(20)
    expect(page.locator("#found")).to_contain_text("trials match")
    page.press("#id_find", "Enter")  # searches, does not start
    expect(page.locator("#found input[name=add]")).to_have_count(20)
    assert not Screening.objects.exists()
    page.check("#add-NCT90000001")
    expect(page.locator("#id_trials")).to_have_value("NCT90000001")
    expect(page.locator("#selected-count")).to_contain_text("Selected: 1 trial")
    page.fill("#id_find", "NCT90000042")
    expect(page.locator("#found input[name=add]")).to_have_count(1)
    page.check("#add-NCT90000042")
    expect(page.locator("#id_trials")).to_have_value("NCT90000001\nNCT90000042")
    expect(page.locator("#selected-count")).to_contain_text("Selected: 2 trials")
    screenshot(page, f"new-screening-500-trials-search-{size}")

    # A condition and a phase choose "open trials of a condition or phase", counted as they are typed.
    page.fill("#id_condition", "type 1")
    expect(page.locator("#scope-matching")).to_be_checked()
    expect(page.locator("#selected-count")).to_contain_text("Selected: 500 trials")
    page.check("input[name=phase][value='Not Applicable']")
    expect(page.locator("#selected-count")).to_contain_text("Selected: 250 trials")
    screenshot(page, f"new-screening-500-trials-condition-{size}")

    page.check("#scope-listed")
    expect(page.locator("#selected-count")).to_contain_text("Selected: 2 trials")
    page.fill("#id_patient_ref", f"MANY-{size[0]}-1")
    page.click("main button[name=start]")
    expect(page.locator("h1")).to_contain_text(f"MANY-{size[0]}-1")
    assert set(Screening.objects.get().trials.values_list("nct_id", flat=True)) == {"NCT90000001", "NCT90000042"}
    context.close()
