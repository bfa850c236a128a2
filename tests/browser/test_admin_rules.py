"""The rule builder's issue-13 fixes in a browser, under the strict CSP: a change that breaks example patients is
shown before it is saved and saved only when confirmed."""

import pytest

from tests.browser import admin_log_in, screenshot
from tests.factories import BMI, change_url, criterion

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_rule_that_breaks_an_example_is_saved_only_after_save_anyway(live_server, watched, curator):  # noqa: F811
    from playwright.sync_api import expect

    page = watched
    page.set_viewport_size({"width": 1280, "height": 900})
    admin_log_in(page, live_server)
    page.goto(live_server.url + change_url(criterion(*BMI)))
    page.fill("input[name='rb.0-value']", "35")
    page.press("input[name='rb.0-value']", "Tab")
    expect(page.locator("#rb-sentence")).to_have_text("BMI > 35 kg/m²")
    page.click("input[name=_save]:not(.rb-default-submit)")

    preview = page.locator("#example-preview")
    expect(preview).to_contain_text("This change would change the verdict of 1 example patient of NCT01219465")
    row = preview.locator("tr", has_text="Adult with BMI 32.9")
    expect(row).to_contain_text("Not eligible ✓ pass")
    expect(row).to_contain_text("Likely eligible ✗ FAIL")
    expect(page.locator("#rb-sentence")).to_have_text("BMI > 35 kg/m²")  # the change is still there to adjust
    screenshot(page, "admin-rule-example-preview")
    assert criterion(*BMI).rule["value"] == 30  # nothing saved yet

    page.click("button[name=_confirm_examples]")
    expect(page.locator(".messagelist")).to_contain_text("1 of 4 fail")
    assert criterion(*BMI).rule["value"] == 35
    page.check_csp("example preview and confirm")


def test_hba1c_is_typed_in_mmol_per_mol_and_worded_in_both_units(live_server, watched, curator):  # noqa: F811
    from playwright.sync_api import expect

    page = watched
    admin_log_in(page, live_server)
    page.goto(live_server.url + change_url(criterion(*BMI)))
    page.select_option("select[name='rb.0-q']", "hba1c")
    expect(page.locator("select[name='rb.0-vunit'] option")).to_have_text(["%", "mmol/mol"])
    page.fill("input[name='rb.0-value']", "53")
    page.select_option("select[name='rb.0-vunit']", "mmol/mol")
    expect(page.locator("#rb-sentence")).to_have_text("HbA1c > 7 % (53 mmol/mol)")
    expect(page.locator("#rb\\.0-converted")).to_have_text("saved as 7 %")
    expect(page.locator("#id_rule_json")).to_have_value('{"q": "hba1c", "op": ">", "value": 7, "unit": "%"}')
    expect(page.locator("select[name='rb.0-vunit']")).to_have_value("mmol/mol")  # kept across the redraw
    screenshot(page, "admin-rule-builder-hba1c-units")
    page.check_csp("rule builder, HbA1c in mmol/mol")
