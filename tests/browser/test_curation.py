"""A curator edits a criterion's rule with the builder in the admin, with and without JavaScript."""

import pytest

from tests.browser import admin_log_in, screenshot
from tests.factories import BMI, change_url, criterion

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_curator_edits_a_rule_with_the_builder_in_a_browser(live_server, page, curator):
    from playwright.sync_api import expect

    admin_log_in(page, live_server)
    page.goto(live_server.url + change_url(criterion(*BMI)))
    words = page.locator("#rb-sentence")
    expect(words).to_have_text("BMI > 30 kg/m²")

    # Another question: its operators arrive without a page load.
    page.select_option("select[name='rb.0-q']", "sex")
    expect(page.locator("select[name='rb.0-op'] option[value='in']")).to_have_count(1)
    expect(page.locator("select[name='rb.0-op'] option[value='>']")).to_have_count(0)
    page.select_option("select[name='rb.0-q']", "bmi")
    expect(page.locator("select[name='rb.0-op'] option[value='>']")).to_have_count(1)
    page.fill("input[name='rb.0-value']", "300")
    page.press("input[name='rb.0-value']", "Tab")
    expect(page.locator("#rb-problems")).to_contain_text("300 is outside the plausible range of 'bmi'")

    page.fill("input[name='rb.0-value']", "35")
    page.press("input[name='rb.0-value']", "Tab")
    expect(words).to_have_text("BMI > 35 kg/m²")
    expect(page.locator("#id_rule_json")).to_have_value('{"q": "bmi", "op": ">", "value": 35, "unit": "kg/m²"}')
    screenshot(page, "admin-rule-builder")
    page.click("input[name=_continue][value='Save and continue editing']")
    # It would make an example patient fail: shown first, saved once confirmed.
    expect(page.locator("#example-preview")).to_contain_text("Adult with BMI 32.9")
    assert criterion(*BMI).rule["value"] == 30
    page.click("button[name=_confirm_examples]")
    expect(page.locator(".messagelist")).to_contain_text("1 of 4 fail: “Adult with BMI 32.9”")
    assert criterion(*BMI).rule["value"] == 35


def test_a_change_made_just_after_a_redraw_is_not_lost(live_server, page, curator):
    """htmx wires up swapped-in inputs when the swap settles; the builder settles at once, so a second pick
    made in the very next task after a redraw (as a fast user or a slow machine can) still redraws."""
    from playwright.sync_api import expect

    admin_log_in(page, live_server)
    page.goto(live_server.url + change_url(criterion(*BMI)))
    expect(page.locator("#rb-sentence")).to_have_text("BMI > 30 kg/m²")
    page.evaluate("""() => new Promise(resolve => {
        const pick = value => {
            const select = document.querySelector("select[name='rb.0-q']");
            select.value = value;
            select.dispatchEvent(new Event("change", {bubbles: true}));
        };
        document.body.addEventListener("htmx:afterSwap", () => setTimeout(() => { pick("hiv"); resolve(); }, 0),
                                       {once: true});
        pick("sex");
    })""")
    expect(page.locator("#rb-sentence")).to_have_text("HIV infection")
    expect(page.locator("select[name='rb.0-op'] option[value='in']")).to_have_count(0)


def test_the_builder_works_without_javascript(live_server, browser, curator):
    from playwright.sync_api import expect

    context = browser.new_context(java_script_enabled=False, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        admin_log_in(page, live_server)
        page.goto(live_server.url + change_url(criterion(*BMI)))
        page.click("button[value='add_condition:rb']")
        page.select_option("select[name='rb-kind']", "any")
        page.select_option("select[name='rb.1-q']", "hiv")
        page.click("button[value=update]")
        expect(page.locator("#rb-sentence")).to_have_text("any of: BMI > 30 kg/m², HIV infection")
        expect(page.locator(".errornote")).to_have_count(0)
        page.click("input[name=_save]:not(.rb-default-submit)")
        expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
        assert criterion(*BMI).rule == {
            "any": [{"q": "bmi", "op": ">", "value": 30, "unit": "kg/m²"}, {"q": "hiv", "op": "=", "value": True}]
        }
    finally:
        context.close()
