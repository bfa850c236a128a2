"""Checking rules against the question catalogue, and saying them in plain words. No Django imports.

`validate_rule` collects every problem in a rule instead of stopping at the first, each with a
stable code and a message, the way Django's system checks do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

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

OPERATOR_WORDS = {
    "=": "is", "!=": "is not", "<": "<", "<=": "≤", ">": ">", ">=": "≥", "between": "between",
    "in": "is one of", "not_in": "is none of", "answered": "is answered", "not_answered": "is not answered",
    "within": "less than", "before": "at least", "age_between": "age",
}


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    path: str = ""  # where in the rule, e.g. "any[2]"

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def validate_rule(rule: Any, catalogue: Mapping[str, QuestionSpec]) -> list[Problem]:
    """Every problem in `rule`, or an empty list if the engine can evaluate it."""
    problems: list[Problem] = []
    _check(rule, catalogue, "rule", problems)
    return problems


def _check(node: Any, catalogue: Mapping[str, QuestionSpec], path: str, problems: list[Problem]) -> None:
    if not isinstance(node, Mapping):
        problems.append(Problem("not_an_object", f"expected an object, got {_typename(node)}", path))
        return
    logic = [k for k in ("all", "any", "not", "at_least") if k in node]
    if "q" in node:
        if logic:
            problems.append(Problem("mixed_node", "a condition cannot also be a group", path))
        _check_leaf(node, catalogue, path, problems)
        return
    if len(logic) != 1:
        problems.append(Problem(
            "unknown_node",
            "expected exactly one of all / any / at_least / not, or a condition with \"q\"",
            path,
        ))
        return
    kind = logic[0]
    if kind == "not":
        _check(node["not"], catalogue, f"{path}.not", problems)
        return
    children_key = "of" if kind == "at_least" else kind
    children = node.get(children_key)
    if not isinstance(children, list):
        problems.append(Problem("not_a_list", f"'{children_key}' must be a list of rules", path))
        return
    if kind == "at_least":
        n = node.get("at_least")
        if not isinstance(n, int) or isinstance(n, bool) or n < 1 or n > len(children):
            problems.append(Problem(
                "bad_count", f"'at_least' must be a whole number from 1 to {len(children)}, got {n!r}", path,
            ))
    elif kind == "any" and not children:
        problems.append(Problem("empty_group", "'any' needs at least one rule", path))
    for i, child in enumerate(children):
        _check(child, catalogue, f"{path}.{children_key}[{i}]", problems)


def _check_leaf(node: Mapping[str, Any], catalogue: Mapping[str, QuestionSpec], path: str, problems: list) -> None:
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
            problems.append(Problem("operator_type", f"'age_between' only applies to the age question, not {code!r}", path))
        if not isinstance(value, Mapping) or not (value.get("min") or value.get("max")):
            problems.append(Problem("bad_value", "'age_between' needs {\"min\": \"3 years\", \"max\": \"35 years\"}", path))
            return
        for key in ("min", "max"):
            if value.get(key):
                problem = _duration_problem(value[key])
                if problem:
                    problems.append(Problem("bad_duration", f"age {key}: {problem}", path))
        return
    if op not in OPERATORS_BY_TYPE[spec.type]:
        allowed = ", ".join(OPERATORS_BY_TYPE[spec.type])
        problems.append(Problem(
            "operator_type", f"operator {op!r} does not fit {spec.type} question {code!r} (use one of: {allowed})", path,
        ))
        return
    if op in ("answered", "not_answered"):
        return
    unit = node.get("unit")
    if unit not in (None, "") and unit != spec.unit:
        problems.append(Problem(
            "wrong_unit", f"{code!r} is measured in {spec.unit or 'no unit'}, not {unit!r}", path,
        ))
    if spec.type == BOOLEAN:
        if not isinstance(value, bool):
            problems.append(Problem("bad_value", f"{code!r} is yes/no: value must be true or false, got {value!r}", path))
    elif spec.type == NUMBER:
        numbers = value if op == "between" else [value]
        if op == "between" and (not isinstance(value, list) or len(value) != 2):
            problems.append(Problem("bad_value", "'between' needs [low, high]", path))
            return
        for n in numbers:
            if not _is_number(n):
                problems.append(Problem("bad_value", f"{code!r} needs a number, got {n!r}", path))
            elif spec.min_value is not None and n < spec.min_value or spec.max_value is not None and n > spec.max_value:
                problems.append(Problem(
                    "out_of_range",
                    f"{n} is outside the plausible range of {code!r} ({_fmt(spec.min_value)}–{_fmt(spec.max_value)} {spec.unit})".rstrip(),
                    path,
                ))
        if op == "between" and all(_is_number(n) for n in numbers) and numbers[0] > numbers[1]:
            problems.append(Problem("bad_value", f"'between' low {numbers[0]} is above high {numbers[1]}", path))
    elif spec.type == DATE:
        problem = _duration_problem(value)
        if problem:
            problems.append(Problem("bad_duration", problem, path))
    elif spec.type in (CHOICE, MULTI):
        allowed = {k for k, _ in spec.choices}
        values = value if op in ("in", "not_in") else [value]
        if op in ("in", "not_in") and (not isinstance(value, list) or not value):
            problems.append(Problem("bad_value", f"{op!r} needs a non-empty list of choices", path))
            return
        for v in values:
            if not isinstance(v, str) or v not in allowed:  # a list or object here is not a choice either
                problems.append(Problem(
                    "unknown_choice", f"{v!r} is not a choice of {code!r} (choices: {', '.join(sorted(allowed))})", path,
                ))


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


def _typename(value: Any) -> str:
    return {dict: "object", list: "list", str: "text", bool: "true/false", int: "number", float: "number"}.get(
        type(value), type(value).__name__ if value is not None else "nothing"
    )


def _fmt(n: Any) -> str:
    """A bound in plain words; describe() also words invalid rules, so anything may come here."""
    if n is None:
        return "…"
    if isinstance(n, float) and math.isfinite(n) and n.is_integer():
        return str(int(n))
    return str(n)


def describe(rule: Any, catalogue: Mapping[str, QuestionSpec]) -> str:
    """The rule in plain words: 'BMI > 30 kg/m²', 'any of: HIV infection, hepatitis B, hepatitis C'."""
    if rule is None:
        return "needs review (no rule)"
    if not isinstance(rule, Mapping):
        return "invalid rule"
    if "q" in rule:
        return _describe_leaf(rule, catalogue)
    if "not" in rule:
        return f"not ({describe(rule['not'], catalogue)})"
    for key, words in (("all", "all of"), ("any", "any of")):
        if key in rule:
            if not isinstance(rule[key], list):  # described while invalid: its problems are listed beside it
                return "invalid rule"
            parts = [describe(child, catalogue) for child in rule[key]]
            if not parts:
                return "always (no conditions)"
            if len(parts) == 1:
                return parts[0]
            return f"{words}: " + ", ".join(parts)
    if "at_least" in rule:
        if not isinstance(rule.get("of"), list):
            return "invalid rule"
        parts = [describe(child, catalogue) for child in rule["of"]]
        return f"at least {rule['at_least']} of: " + ", ".join(parts)
    return "invalid rule"


def _describe_leaf(rule: Mapping[str, Any], catalogue: Mapping[str, QuestionSpec]) -> str:
    code = rule.get("q")
    spec = catalogue.get(code) if isinstance(code, str) else None  # a list here would not hash
    name = spec.name if spec else str(code)
    op, value = rule.get("op"), rule.get("value")
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
        return f"{name} {_fmt(value[0])}–{_fmt(value[1])}{unit}"
    if op in ("in", "not_in") and isinstance(value, list):
        labels = [spec.choice_label(v) if spec else str(v) for v in value]
        return f"{name} {OPERATOR_WORDS[op]} {', '.join(labels)}"
    if op in ("within", "before"):
        return f"{name} {OPERATOR_WORDS[op]} {value} ago"
    if spec and spec.type in (CHOICE,) and op in ("=", "!="):
        return f"{name} {OPERATOR_WORDS[op]} {spec.choice_label(value)}"
    shown = _fmt(value) if _is_number(value) else str(value)
    return f"{name} {OPERATOR_WORDS.get(op, op)} {shown}{unit}"
