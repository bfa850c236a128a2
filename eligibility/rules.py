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
        problems.append(Problem("unknown_question", f"unknown question {code!r}", path))
    if op not in OPERATORS:
        problems.append(Problem("unknown_operator", f"unknown operator {op!r}", path))
        return
    if spec is None:
        return
    value = node.get("value")
    if op == "age_between":
        if spec.code != "age":
            problems.append(
                Problem("operator_type", f"'age_between' only applies to the age question, not {code!r}", path)
            )
        if not isinstance(value, Mapping) or not (value.get("min") or value.get("max")):
            problems.append(Problem("bad_value", '\'age_between\' needs {"min": "3 years", "max": "35 years"}', path))
            return
        for key in ("min", "max"):
            if value.get(key):
                problem = _duration_problem(value[key])
                if problem:
                    problems.append(Problem("bad_duration", f"age {key}: {problem}", path))
        return
    if op not in OPERATORS_BY_TYPE[spec.type]:
        allowed = ", ".join(OPERATORS_BY_TYPE[spec.type])
        problems.append(
            Problem(
                "operator_type",
                f"operator {op!r} does not fit {spec.type} question {code!r} (use one of: {allowed})",
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
                f"{code!r} is measured in {spec.unit or 'no unit'}, not {unit!r}",
                path,
            )
        )
    if spec.type == BOOLEAN:
        if not isinstance(value, bool):
            problems.append(
                Problem("bad_value", f"{code!r} is yes/no: value must be true or false, got {value!r}", path)
            )
    elif spec.type == NUMBER:
        numbers: Any = value if op == "between" else [value]  # JSON: checked one by one below
        if op == "between" and (not isinstance(value, list) or len(value) != 2):
            problems.append(Problem("bad_value", "'between' needs [low, high]", path))
            return
        for n in numbers:
            if not _is_number(n):
                problems.append(Problem("bad_value", f"{code!r} needs a number, got {n!r}", path))
            elif spec.min_value is not None and n < spec.min_value or spec.max_value is not None and n > spec.max_value:
                problems.append(
                    Problem(
                        "out_of_range",
                        f"{n} is outside the plausible range of {code!r} ({format_number(spec.min_value)}–{format_number(spec.max_value)} {spec.unit})".rstrip(),
                        path,
                    )
                )
        if op == "between" and all(_is_number(n) for n in numbers) and numbers[0] > numbers[1]:
            problems.append(Problem("bad_value", f"'between' low {numbers[0]} is above high {numbers[1]}", path))
    elif spec.type == DATE:
        problem = _duration_problem(value)
        if problem:
            problems.append(Problem("bad_duration", problem, path))
    elif spec.type in (CHOICE, MULTI):
        choices = {k for k, _ in spec.choices}
        values: Any = value if op in ("in", "not_in") else [value]
        if op in ("in", "not_in") and (not isinstance(value, list) or not value):
            problems.append(Problem("bad_value", f"{op!r} needs a non-empty list of choices", path))
            return
        for v in values:
            if not isinstance(v, str) or v not in choices:  # a list or object here is not a choice either
                problems.append(
                    Problem(
                        "unknown_choice",
                        f"{v!r} is not a choice of {code!r} (choices: {', '.join(sorted(choices))})",
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


def _duration_problem(value: Any) -> str | None:
    try:
        duration = parse_duration(value)
    except RuleError as exc:
        return str(exc)
    if duration.amount * _DAYS_PER_UNIT[duration.unit] > MAX_DURATION_YEARS * 366:
        return f"{duration} is longer than {MAX_DURATION_YEARS} years"
    return None


def describe(rule: Any, catalogue: Mapping[str, QuestionSpec]) -> str:
    """The rule (nodes, or JSON) in plain words: 'BMI > 30 kg/m²', 'any of: HIV infection, hepatitis B'."""
    return _describe(as_rule(rule), catalogue)


def _describe(rule: Rule | None, catalogue: Mapping[str, QuestionSpec]) -> str:
    if rule is None:
        return "needs review (no rule)"
    if isinstance(rule, Condition):
        return _describe_leaf(rule.q, rule.op, thaw(rule.value), catalogue)
    if isinstance(rule, Not):
        return f"not ({_describe(rule.child, catalogue)})"
    if isinstance(rule, (AllOf, AnyOf)):
        parts = [_describe(child, catalogue) for child in rule.children]
        if not parts:
            # As the engine evaluates them: "all of" nothing holds, "any of" nothing never does (validation
            # refuses an empty "any of", but the words must not promise what screening will not do).
            return "always (no conditions)" if isinstance(rule, AllOf) else "never (empty 'any of' group)"
        if len(parts) == 1:
            return parts[0]
        return ("all of: " if isinstance(rule, AllOf) else "any of: ") + ", ".join(parts)
    if isinstance(rule, AtLeast):
        if not rule.children:
            return f"never (empty 'at least {rule.n} of' group)"
        return f"at least {rule.n} of: " + ", ".join(_describe(child, catalogue) for child in rule.children)
    # Described while invalid (its problems are listed beside it): a condition still reads as one.
    raw = thaw(rule.raw)
    if isinstance(raw, Mapping) and "q" in raw:
        return _describe_leaf(raw.get("q"), raw.get("op"), raw.get("value"), catalogue)
    return "invalid rule"


def _describe_leaf(code: Any, op: Any, value: Any, catalogue: Mapping[str, QuestionSpec]) -> str:
    spec = catalogue.get(code) if isinstance(code, str) else None  # a list here would not hash
    name = spec.name if spec else str(code)
    op = op if isinstance(op, str) else str(op)
    unit = f" {spec.unit}" if spec and spec.unit else ""
    if op == "age_between" and isinstance(value, Mapping):
        low, high = value.get("min"), value.get("max")
        if low and high:
            return f"age {low} to {high}"
        return f"age {low} or older" if low else f"age up to {high}"
    if op in ("answered", "not_answered"):
        return f"{name} {OPERATOR_WORDS[op]}"
    if spec and spec.type == BOOLEAN and op in ("=", "!="):
        positive = (value is True) == (op == "=")
        return name if positive else f"no {name}"
    if op == "between" and isinstance(value, list) and len(value) == 2:
        words = f"{name} {format_number(value[0])}–{format_number(value[1])}{unit}"
        low, high = (units.also_in(v, spec.unit) if spec else "" for v in value)
        if low and high:  # "HbA1c 7–10 % (53–86 mmol/mol)"
            words += f" ({low.split(' ', 1)[0]}–{high})"
        return words
    if op in ("in", "not_in") and isinstance(value, list):
        labels = [spec.choice_label(v) if spec else str(v) for v in value]
        return f"{name} {OPERATOR_WORDS[op]} {', '.join(labels)}"
    if op in ("within", "before"):
        return f"{name} {OPERATOR_WORDS[op]} {value} ago"
    if spec and spec.type in (CHOICE,) and op in ("=", "!="):
        return f"{name} {OPERATOR_WORDS[op]} {spec.choice_label(value)}"
    shown = format_number(value) if _is_number(value) else str(value)
    also = units.also_in(value, spec.unit) if spec and op in COMPARISONS else ""
    return f"{name} {OPERATOR_WORDS.get(op, op)} {shown}{unit}" + (f" ({also})" if also else "")
