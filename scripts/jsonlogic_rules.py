"""Bench-only: a trial's rules as one JsonLogic expression, the baseline scripts/bench_engine.py times.

Not product code. The translation keeps the engine's three-valued (Kleene) logic as numbers, which JsonLogic
has operators for: met = 1, unknown = 0.5, not met = 0. Then "all" is `min`, "any" is `max`, and "not" is
pushed down to the conditions (De Morgan; at least N of K negated is at least K-N+1 of the negations), so
every child is evaluated once. An unanswered question is a missing variable, and a condition on it gives
0.5. A trial is the `min` of its inclusions, its negated exclusions and 0.5 for each criterion without a
rule: 0 ineligible, 0.5 undetermined, 1 eligible.

JsonLogic has no calendar arithmetic, so `data()` pre-computes what the date operators need, as the bench's
callers would: completed days / weeks / months / years since each date, whether the date is in the future,
and the age range in each unit (exact from a date of birth; the spread an entered age allows otherwise).
`within`, `before` and `age_between` then become numeric comparisons.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from itertools import combinations
from typing import Any

from eligibility.engine import (
    EXCLUSION,
    MULTI,
    QuestionSpec,
    RuleError,
    TrialRules,
    Verdict,
    _birth_dates,
    completed,
    derive,
    parse_duration,
)
from eligibility.nodes import AllOf, AnyOf, AtLeast, Condition, Not, Rule, thaw

MET, UNKNOWN, NOT_MET = 1, 0.5, 0
VERDICTS = {0: Verdict.INELIGIBLE, 0.5: Verdict.UNDETERMINED, 1: Verdict.ELIGIBLE}
UNITS = ("days", "weeks", "months", "years")
_NEGATED = {"=": "!=", "!=": "=", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}


def var(name: str) -> dict:
    return {"var": name}


def is_null(name: str) -> dict:
    return {"===": [var(name), None]}


def condition(rule: Condition, negate: bool, catalogue: Mapping[str, QuestionSpec]) -> Any:
    q, op, value = rule.q, rule.op, thaw(rule.value)
    yes, no = (NOT_MET, MET) if negate else (MET, NOT_MET)
    if op in ("answered", "not_answered"):
        answered = {"!==": [var(q), None]}
        return {"if": [answered, yes if op == "answered" else no, no if op == "answered" else yes]}
    if op == "age_between":
        return _age_between(value or {}, yes, no)
    if op in ("within", "before"):
        duration = parse_duration(value)
        elapsed = f"{q}__{duration.unit}"
        inside = {"<": [var(elapsed), duration.amount]}
        met, not_met = (yes, no) if op == "within" else (no, yes)
        # A date in the future meets neither (the engine's "in_future": not met, negated: met).
        return {"if": [is_null(elapsed), UNKNOWN, var(f"{q}__future"), no, inside, met, not_met]}
    if op in ("=", "!=", "<", "<=", ">", ">="):
        test = {"==" if op == "=" else op: [var(q), value]}
    elif op == "between":
        test = {"<=": [value[0], var(q), value[1]]}
    elif op in ("in", "not_in"):
        spec = catalogue.get(q)
        if spec is not None and spec.type == MULTI:
            test = {"some": [var(q), {"in": [var(""), value]}]}
        else:
            test = {"in": [var(q), value]}
        if op == "not_in":
            yes, no = no, yes
    else:
        raise RuleError(f"no JsonLogic for operator {op!r}")
    return {"if": [is_null(q), UNKNOWN, test, yes, no]}


def _age_between(bounds: Mapping[str, Any], yes: Any, no: Any) -> Any:
    low = parse_duration(bounds["min"]) if bounds.get("min") else None
    high = parse_duration(bounds["max"]) if bounds.get("max") else None
    branches: list[Any] = []
    imprecise: list[Any] = []
    if low:
        branches += [{"<": [var(f"age__{low.unit}_max"), low.amount]}, no]
        imprecise.append({"<": [var(f"age__{low.unit}_min"), low.amount]})
    if high:
        branches += [{">": [var(f"age__{high.unit}_min"), high.amount]}, no]
        imprecise.append({">": [var(f"age__{high.unit}_max"), high.amount]})
    if imprecise:
        branches += [{"or": imprecise}, UNKNOWN]
    return {"if": [is_null("age__years_min"), UNKNOWN, *branches, yes]}


def translate(rule: Rule, catalogue: Mapping[str, QuestionSpec], negate: bool = False) -> Any:
    """A rule as a JsonLogic expression giving 1 / 0.5 / 0 (for the rule's negation with `negate`)."""
    if isinstance(rule, Condition):
        return condition(rule, negate, catalogue)
    if isinstance(rule, Not):
        return translate(rule.child, catalogue, not negate)
    if isinstance(rule, (AllOf, AnyOf, AtLeast)):
        k = len(rule.children)
        need = k if isinstance(rule, AllOf) else 1 if isinstance(rule, AnyOf) else rule.n
        if negate:
            need = k - need + 1
        children = [translate(c, catalogue, negate) for c in rule.children]
        if need <= 0:
            return MET
        if need > k:
            return NOT_MET
        if need == 1:
            return {"max": children}
        if need == k:
            return {"min": children}
        # At least N of K is the N-th largest value: the best over every N children of their worst.
        return {"max": [{"min": list(group)} for group in combinations(children, need)]}
    raise RuleError(f"no JsonLogic for {rule!r}")


def trial(rules: TrialRules, catalogue: Mapping[str, QuestionSpec]) -> Any:
    """One expression for the whole trial: 0 ineligible, 0.5 undetermined, 1 eligible."""
    parts: list[Any] = []
    for c in rules.criteria:
        try:
            parts.append(UNKNOWN if c.rule is None else translate(c.rule, catalogue, c.kind == EXCLUSION))
        except (RuleError, KeyError, TypeError, ValueError):
            parts.append(UNKNOWN)  # the engine screens a rule it cannot evaluate as "needs review"
    return {"min": parts} if parts else MET


def data(answers: Mapping[str, Any], as_of: date) -> dict[str, Any]:
    """The variables the translated rules read: the answers with age and BMI derived, and numbers for dates."""
    full, _ = derive(answers, as_of)
    out: dict[str, Any] = {}
    for q, value in full.items():
        if value is None:
            continue
        if isinstance(value, date):
            out[f"{q}__future"] = value > as_of
            for unit in UNITS:
                out[f"{q}__{unit}"] = completed(value, as_of, unit)
        elif isinstance(value, (set, frozenset, tuple)):
            out[q] = list(value)
        else:
            out[q] = value
    dob, age = full.get("date_of_birth"), full.get("age")
    if isinstance(dob, date):
        earliest = latest = dob
    elif isinstance(age, (int, float)) and not isinstance(age, bool):
        earliest, latest = _birth_dates(float(age), as_of)
    else:
        return out
    for unit in UNITS:
        out[f"age__{unit}_min"] = completed(latest, as_of, unit)
        out[f"age__{unit}_max"] = completed(earliest, as_of, unit)
    return out
