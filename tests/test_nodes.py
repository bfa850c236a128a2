"""The rule language as frozen nodes: read once, written back, every problem collected. Pure: no database."""

import json

import pytest

from eligibility.engine import CriterionSpec
from eligibility.nodes import AllOf, AnyOf, AtLeast, Condition, Malformed, Not, read_rule, to_json
from eligibility.rules import InvalidRule, parse_rule, validate_rule
from tests.factories import CATALOGUE, QUESTIONS_JSON, q

SEED_DIR = QUESTIONS_JSON.parent


def seed_rules():
    return [
        pytest.param(row["rule"], id=f"{path.stem}:{row['text'][:40]}")
        for path in sorted(SEED_DIR.glob("NCT*.json"))
        for row in json.loads(path.read_text())["criteria"]
        if row["rule"] is not None
    ]


@pytest.mark.parametrize("raw", seed_rules())
def test_it_round_trips_every_seed_rule(raw):
    rule = parse_rule(raw, CATALOGUE)
    assert to_json(rule) == raw
    assert hash(rule) == hash(read_rule(raw)) and rule == read_rule(raw)


READ_CASES = [
    # (JSON, nodes)
    (q("hiv", "=", True), Condition("hiv", "=", True)),
    (q("bmi", ">", 30, unit="kg/m²"), Condition("bmi", ">", 30, "kg/m²")),
    (q("hba1c", "answered"), Condition("hba1c", "answered")),
    (q("bmi", "between", [18.5, 25]), Condition("bmi", "between", (18.5, 25))),
    ({"all": []}, AllOf(())),
    ({"any": [q("hiv", "=", True)]}, AnyOf((Condition("hiv", "=", True),))),
    ({"at_least": 1, "of": [q("hiv", "=", True)]}, AtLeast(1, (Condition("hiv", "=", True),))),
    ({"not": q("hiv", "=", True)}, Not(Condition("hiv", "=", True))),
    # Read as the engine always read them, though validation reports them:
    ({"at_least": "2", "of": []}, AtLeast(2, ())),
    ({"q": "hiv", "op": "=", "value": True, "all": []}, Condition("hiv", "=", True)),
]


@pytest.mark.parametrize("raw, node", READ_CASES)
def test_it_reads_json_into_frozen_nodes(raw, node):
    assert read_rule(raw) == node


def test_it_makes_lists_tuples_so_nodes_hash():
    rule = read_rule({"any": [q("sex", "in", ["female"]), q("age", "age_between", {"min": "3 years"})]})
    assert rule.children[0].value == ("female",)
    assert rule.children[1].value["min"] == "3 years"
    assert len({rule, read_rule(to_json(rule))}) == 1


MALFORMED_CASES = [
    5,
    "bmi > 30",
    [q("hiv", "=", True)],
    {},
    {"all": "hiv"},
    {"at_least": 1},
    {"at_least": "x", "of": []},
    {"q": ["hiv"], "op": "="},
    {"q": "bmi", "value": 30},
]


@pytest.mark.parametrize("raw", MALFORMED_CASES)
def test_it_keeps_what_is_not_a_rule_as_malformed(raw):
    rule = read_rule(raw)
    assert isinstance(rule, Malformed) and rule.reason
    assert to_json(rule) == raw


def test_it_collects_every_problem_not_only_the_first():
    raw = {"all": [q("bmi", ">", 300, unit="kg"), {"any": []}, 7, {"not": q("nope", "=", True)}]}
    with pytest.raises(InvalidRule) as caught:
        parse_rule(raw, CATALOGUE)
    assert [(p.code, p.path) for p in caught.value.problems] == [
        ("wrong_unit", "rule.all[0]"),
        ("out_of_range", "rule.all[0]"),
        ("empty_group", "rule.all[1]"),
        ("not_an_object", "rule.all[2]"),
        ("unknown_question", "rule.all[3].not"),
    ]
    assert caught.value.problems == validate_rule(raw, CATALOGUE)
    assert to_json(caught.value.rule) == raw  # the invalid rule is still there to show


def test_it_compares_a_node_with_its_json():
    assert read_rule({"all": []}) == {"all": []}
    assert read_rule(q("bmi", ">", 35))["value"] == 35


def test_it_reads_a_criterion_rule_given_as_json():
    spec = CriterionSpec("1", "inclusion", "text", q("hiv", "=", True))
    assert spec.rule == Condition("hiv", "=", True)
    assert CriterionSpec("2", "inclusion", "text").rule is None
