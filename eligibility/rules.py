"""Checking rules against the question catalogue, and saying them in plain words. No Django imports.

`parse_rule` reads a JSON rule into nodes (eligibility.nodes) and collects every problem in it instead of
stopping at the first, each with a stable code and a message, the way Django's system checks do.
`validate_rule` gives the problems only; `describe` words a rule, valid or not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from . import units
from .engine import (
    BOOLEAN,
    CHOICE,
    DATE,
    MULTI,
    NUMBER,
    QuestionSpec,
    RuleError,
    parse_duration,
)
from .nodes import (
    AllOf,
    AnyOf,
    AtLeast,
    Condition,
    ConditionCheck,
    Node,
    Not,
    Problem,
    Rule,
    as_rule,
    read_rule,
    thaw,
    to_json,
)
from .vocabulary import OPERATOR_WORDS, format_number
from .wording import Message, Quantity, Text, render, say

__all__ = [
    "COMPARISONS",
    "OPERATORS",
    "OPERATORS_BY_TYPE",
    "OPERATOR_WORDS",
    "InvalidRule",
    "Problem",
    "describe",
    "parse_rule",
    "validate_rule",
]

COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
OPERATORS = COMPARISONS + ("between", "in", "not_in", "answered", "not_answered", "within", "before", "age_between")

# Which operators make sense for which question type.
OPERATORS_BY_TYPE = {
    BOOLEAN: ("=", "!=", "answered", "not_answered"),
    NUMBER: COMPARISONS + ("between", "answered", "not_answered"),
    DATE: ("within", "before", "answered", "not_answered"),
    CHOICE: ("=", "!=", "in", "not_in", "answered", "not_answered"),
    MULTI: ("in", "not_in", "answered", "not_answered"),
}


class InvalidRule(ValueError):
    """A rule with problems: every one of them, and the rule as read (still representable, still worded)."""

    def __init__(self, problems: list[Problem], rule: Rule):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems
        self.rule = rule


def parse_rule(raw: Any, catalogue: Mapping[str, QuestionSpec]) -> Rule:
    """The nodes of a JSON rule the engine can evaluate for `catalogue`.

    Raises InvalidRule with every problem (not only the first), each with a code, a message and a path.
    """
    problems: list[Problem] = []
    rule = read_rule(raw, problems, _checker(catalogue))
    if problems:
        raise InvalidRule(problems, rule)
    return rule


def validate_rule(rule: Any, catalogue: Mapping[str, QuestionSpec]) -> list[Problem]:
    """Every problem in `rule` (JSON, or nodes), or an empty list if the engine can evaluate it."""
    problems: list[Problem] = []
    raw = to_json(rule) if isinstance(rule, Node) else rule  # type: ignore[arg-type]  # every Node is a Rule
    read_rule(raw, problems, _checker(catalogue))
    return problems


def _checker(catalogue: Mapping[str, QuestionSpec]) -> ConditionCheck:
    def check(node: Mapping[str, Any], path: str, problems: list[Problem]) -> None:
        _check_leaf(node, catalogue, path, problems)

    return check


def _check_leaf(
    node: Mapping[str, Any], catalogue: Mapping[str, QuestionSpec], path: str, problems: list[Problem]
) -> None:
    code, op = node.get("q"), node.get("op")
    spec = catalogue.get(code) if isinstance(code, str) else None
    if spec is None:
        problems.append(Problem("unknown_question", say("rule_unknown_question", code=repr(code)), path))
    if op not in OPERATORS:
        problems.append(Problem("unknown_operator", say("rule_unknown_operator", op=repr(op)), path))
        return
    if spec is None:
        return
    value = node.get("value")
    if op == "age_between":
        if spec.code != "age":
            problems.append(Problem("operator_type", say("rule_age_only", code=repr(code)), path))
        if not isinstance(value, Mapping) or not (value.get("min") or value.get("max")):
            problems.append(Problem("bad_value", Message("rule_age_needs"), path))
            return
        for key in ("min", "max"):
            if value.get(key):
                problem = _duration_problem(value[key])
                if problem:
                    problems.append(Problem("bad_duration", say("rule_age_bound", key=key, problem=problem), path))
        return
    if op not in OPERATORS_BY_TYPE[spec.type]:
        allowed = ", ".join(OPERATORS_BY_TYPE[spec.type])
        problems.append(
            Problem(
                "operator_type",
                say("rule_operator_type", op=repr(op), type=spec.type, code=repr(code), allowed=allowed),
                path,
            )
        )
        return
    if op in ("answered", "not_answered"):
        return
    unit = node.get("unit")
    if unit not in (None, "") and unit != spec.unit:
        problems.append(
            Problem(
                "wrong_unit",
                say("rule_wrong_unit", code=repr(code), unit=spec.unit or Message("rule_no_unit"), got=repr(unit)),
                path,
            )
        )
    if spec.type == BOOLEAN:
        if not isinstance(value, bool):
            problems.append(Problem("bad_value", say("rule_yes_no", code=repr(code), got=repr(value)), path))
    elif spec.type == NUMBER:
        numbers: Any = value if op == "between" else [value]  # JSON: checked one by one below
        if op == "between" and (not isinstance(value, list) or len(value) != 2):
            problems.append(Problem("bad_value", Message("rule_between_needs"), path))
            return
        for n in numbers:
            if not _is_number(n):
                problems.append(Problem("bad_value", say("rule_needs_number", code=repr(code), got=repr(n)), path))
            elif spec.min_value is not None and n < spec.min_value or spec.max_value is not None and n > spec.max_value:
                problems.append(
                    Problem(
                        "out_of_range",
                        say(
                            "rule_out_of_range",
                            value=str(n),
                            code=repr(code),
                            low=spec.min_value,
                            high=Quantity(spec.max_value, spec.unit, spec.code == "age")
                            if spec.unit
                            else spec.max_value,
                        ),
                        path,
                    )
                )
        if op == "between" and all(_is_number(n) for n in numbers) and numbers[0] > numbers[1]:
            problems.append(
                Problem("bad_value", say("rule_low_above_high", low=str(numbers[0]), high=str(numbers[1])), path)
            )
    elif spec.type == DATE:
        problem = _duration_problem(value)
        if problem:
            problems.append(Problem("bad_duration", problem, path))
    elif spec.type in (CHOICE, MULTI):
        choices = {k for k, _ in spec.choices}
        values: Any = value if op in ("in", "not_in") else [value]
        if op in ("in", "not_in") and (not isinstance(value, list) or not value):
            problems.append(Problem("bad_value", say("rule_needs_choices", op=repr(op)), path))
            return
        for v in values:
            if not isinstance(v, str) or v not in choices:  # a list or object here is not a choice either
                problems.append(
                    Problem(
                        "unknown_choice",
                        say("rule_unknown_choice", value=repr(v), code=repr(code), choices=tuple(sorted(choices))),
                        path,
                    )
                )


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


# Longer than any lifetime; also keeps the engine's date arithmetic inside the calendar.
MAX_DURATION_YEARS = 150
_DAYS_PER_UNIT = {"years": 366, "months": 31, "weeks": 7, "days": 1}


def _duration_problem(value: Any) -> Text | None:
    try:
        duration = parse_duration(value)
    except RuleError as exc:
        return exc.args[0] if exc.args and isinstance(exc.args[0], Message) else str(exc)
    if duration.amount * _DAYS_PER_UNIT[duration.unit] > MAX_DURATION_YEARS * 366:
        return say(
            "rule_too_long",
            duration=Quantity(duration.amount, duration.unit),
            limit=Quantity(MAX_DURATION_YEARS, "years"),
        )
    return None


def describe(rule: Any, catalogue: Mapping[str, QuestionSpec]) -> str:
    """The rule (nodes, or JSON) in plain words, in the active language: 'BMI > 30 kg/m²', 'any of: HIV infection,
    hepatitis B'."""
    return render(_describe(as_rule(rule), catalogue))


def _describe(rule: Rule | None, catalogue: Mapping[str, QuestionSpec]) -> Text:
    if rule is None:
        return Message("rule_no_rule")
    if isinstance(rule, Condition):
        return _describe_leaf(rule.q, rule.op, thaw(rule.value), catalogue)
    if isinstance(rule, Not):
        return say("rule_not", rule=_describe(rule.child, catalogue))
    if isinstance(rule, (AllOf, AnyOf)):
        parts = tuple(_describe(child, catalogue) for child in rule.children)
        if not parts:
            # As the engine evaluates them: "all of" nothing holds, "any of" nothing never does (validation
            # refuses an empty "any of", but the words must not promise what screening will not do).
            return Message("rule_always" if isinstance(rule, AllOf) else "rule_never_any")
        if len(parts) == 1:
            return parts[0]
        return say("rule_all" if isinstance(rule, AllOf) else "rule_any", parts=parts)
    if isinstance(rule, AtLeast):
        if not rule.children:
            return say("rule_never_at_least", n=rule.n)
        return say("rule_at_least", n=rule.n, parts=tuple(_describe(child, catalogue) for child in rule.children))
    # Described while invalid (its problems are listed beside it): a condition still reads as one.
    raw = thaw(rule.raw)
    if isinstance(raw, Mapping) and "q" in raw:
        return _describe_leaf(raw.get("q"), raw.get("op"), raw.get("value"), catalogue)
    return Message("rule_invalid")


def _duration(text: Any, age: bool = False) -> Any:
    """A duration written in a rule ("9 weeks") as a message parameter; as written when it is not one."""
    try:
        duration = parse_duration(text)
    except RuleError:
        return str(text)
    return Quantity(duration.amount, duration.unit, age)


def _describe_leaf(code: Any, op: Any, value: Any, catalogue: Mapping[str, QuestionSpec]) -> Text:
    spec = catalogue.get(code) if isinstance(code, str) else None  # a list here would not hash
    name = spec.name if spec else str(code)
    op = op if isinstance(op, str) else str(op)
    unit = spec.unit if spec else ""
    age = spec is not None and spec.code == "age"
    words: Text
    if op == "age_between" and isinstance(value, Mapping):
        low, high = value.get("min"), value.get("max")
        if low and high:
            return say("rule_age_between", low=_duration(low, True), high=_duration(high, True))
        if low:
            return say("rule_age_min", low=_duration(low, True))
        return say("rule_age_max", high=_duration(high, True))
    if op in ("answered", "not_answered"):
        return say(op, name=name)
    if spec and spec.type == BOOLEAN and op in ("=", "!="):
        positive = (value is True) == (op == "=")
        return name if positive else say("rule_no", name=name)
    if op == "between" and isinstance(value, list) and len(value) == 2:
        words = say("rule_range", name=name, low=_shown(value[0]), high=_quantity(value[1], unit, age))
        low, high = (units.also_in(v, spec.unit) if spec else "" for v in value)
        if low and high:  # "HbA1c 7–10 % (53–86 mmol/mol)"
            both = say("rule_range_also", low=low.split(" ", 1)[0], high=high)
            words = say("rule_also", words=words, also=both)
        return words
    if op in ("in", "not_in") and isinstance(value, list):
        labels = tuple(spec.choice_label(v) if spec else str(v) for v in value)
        return say("rule_in" if op == "in" else "rule_not_in", name=name, choices=labels)
    if op in ("within", "before"):
        return say("rule_within" if op == "within" else "rule_before", name=name, duration=_duration(value))
    if spec and spec.type in (CHOICE,) and op in ("=", "!="):
        return say("is" if op == "=" else "rule_is_not", name=name, value=spec.choice_label(value))
    also = units.also_in(value, spec.unit) if spec and op in COMPARISONS else ""
    shown = _quantity(value, unit, age)
    if op in ("=", "!="):
        words = say("is" if op == "=" else "rule_is_not", name=name, value=shown)
    else:
        words = say("rule_compare", name=name, op=OPERATOR_WORDS.get(op, op), value=shown)
    return say("rule_also", words=words, also=also) if also else words


def _shown(value: Any) -> Any:
    """A number as a message parameter (formatted when shown), anything else as str() shows it."""
    return value if _is_number(value) or value is None else format_number(value)


def _quantity(value: Any, unit: str, age: bool) -> Any:
    return Quantity(_shown(value), unit, age) if unit else _shown(value)
