"""The rule builder takes a number in any unit its question accepts (issue 13: HbA1c in % or mmol/mol), stores it
in the question's canonical unit by the IFCC/NGSP master equation, and words the rule in both units."""

import re

import pytest
from django.urls import reverse

from curation import rule_builder as rb
from eligibility.units import also_in, from_canonical, to_canonical
from eligibility.vocabulary import hba1c_percent
from tests.factories import BMI, CATALOGUE, change_url, cond, criterion, page_form

HBA1C = [
    # (fields of the condition, the rule's value in %, its words)
    ({"op": ">", "value": "53", "vunit": "mmol/mol"}, 7, "HbA1c > 7 % (53 mmol/mol)"),
    ({"op": ">=", "value": "48", "vunit": "mmol/mol"}, 6.54, "HbA1c ≥ 6.54 % (48 mmol/mol)"),
    ({"op": "<", "value": "75", "vunit": "mmol/mol"}, 9.01, "HbA1c < 9.01 % (75 mmol/mol)"),
    (
        {"op": "between", "low": "48", "high": "86", "vunit": "mmol/mol"},
        [6.54, 10.02],
        "HbA1c 6.54–10.02 % (48–86 mmol/mol)",
    ),
    ({"op": ">", "value": "7", "vunit": "%"}, 7, "HbA1c > 7 % (53 mmol/mol)"),
    ({"op": ">", "value": "7"}, 7, "HbA1c > 7 % (53 mmol/mol)"),  # no unit posted: the question's own
    ({"op": "between", "low": "6.5", "high": "10", "vunit": "%"}, [6.5, 10], "HbA1c 6.5–10 % (48–86 mmol/mol)"),
]


@pytest.mark.parametrize("fields, value, words", HBA1C)
def test_it_stores_hba1c_typed_in_mmol_per_mol_in_percent_and_words_both(fields, value, words):
    op = fields.pop("op")
    state = rb.read({"rb-kind": "all", **cond("rb.0", "hba1c", op, **fields)}, CATALOGUE)
    assert state.problems == []
    assert state.rule == {"q": "hba1c", "op": op, "value": value, "unit": "%"}
    assert state.words == words


def test_the_conversion_is_the_master_equation_rounded_as_typed_answers_are():
    # % = 0.09148 × mmol/mol + 2.152; a patient's 53 mmol/mol (units.to_canonical, as the questionnaire converts
    # it) then equals a limit of 53 mmol/mol exactly.
    assert hba1c_percent(53) == pytest.approx(7.00044)
    state = rb.read({"rb-kind": "all", **cond("rb.0", "hba1c", ">=", value="53", vunit="mmol/mol")}, CATALOGUE)
    assert state.rule["value"] == to_canonical(53, "mmol/mol", "%") == 7
    assert from_canonical(7, "mmol/mol", "%") == pytest.approx(52.9952, abs=1e-4)
    assert also_in(7, "%") == "53 mmol/mol" and also_in(30, "kg/m²") == ""


def test_it_offers_the_units_a_question_takes_and_says_what_is_stored():
    state = rb.read({"rb-kind": "all", **cond("rb.0", "hba1c", ">", value="53", vunit="mmol/mol")}, CATALOGUE)
    node = state.root.children[0] if state.root.children else state.root
    assert node.unit_choices == ("%", "mmol/mol")
    assert node.converted == "7 %"
    bmi = rb.read({"rb-kind": "all", **cond("rb.0", "bmi", ">", value="30", vunit="mmol/mol")}, CATALOGUE)
    assert bmi.rule["value"] == 30 and bmi.problems == []  # one unit only: what is posted cannot change it


def test_a_unit_the_question_does_not_take_is_a_problem_not_a_silent_guess():
    state = rb.read({"rb-kind": "all", **cond("rb.0", "hba1c", ">", value="53", vunit="furlongs")}, CATALOGUE)
    assert [p.code for p in state.problems] == ["bad_value"]


def test_a_value_implausible_once_converted_is_reported():
    state = rb.read({"rb-kind": "all", **cond("rb.0", "hba1c", ">", value="900", vunit="mmol/mol")}, CATALOGUE)
    assert [p.code for p in state.problems] == ["out_of_range"]
    assert "(900 mmol/mol)" in state.words


# --- In the admin, as adam ----------------------------------------------------------------------------


def test_the_builder_offers_mmol_per_mol_for_hba1c_and_shows_both(adam):
    fields = {"rb-kind": "all", **cond("rb.0", "hba1c", ">", value="53", vunit="mmol/mol"), "_rule_change": "1"}
    html = adam.post(reverse("admin:trials_criterion_rule_builder"), fields).content.decode()
    assert re.search(
        r'<select name="rb.0-vunit"[^>]*>\s*<option value="%">%</option><option value="mmol/mol" selected>', html
    )
    assert "saved as 7 %" in html
    assert "HbA1c &gt; 7 % (53 mmol/mol)" in html


def test_a_rule_typed_in_mmol_per_mol_is_saved_in_percent(adam):
    bmi = criterion(*BMI)
    data = {k: v for k, v in page_form(adam, bmi).items() if not k.startswith("rb")}
    data.update({"rb-kind": "all", **cond("rb.0", "hba1c", ">", value="53", vunit="mmol/mol"), "_save": "Save"})
    response = adam.post(change_url(bmi), data)  # drops the BMI limit: an example patient would change
    confirm = re.search(r'name="_confirm_examples" value="([^"]+)"', response.content.decode()).group(1)
    assert adam.post(change_url(bmi), {**data, "_confirm_examples": confirm}).status_code == 302
    bmi.refresh_from_db()
    assert bmi.rule == {"q": "hba1c", "op": ">", "value": 7, "unit": "%"}
    html = adam.get(change_url(bmi)).content.decode()
    assert "HbA1c &gt; 7 % (53 mmol/mol)" in html
