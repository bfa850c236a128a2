"""The rules engine: plain data in, plain results out. No Django imports.

A trial is a list of criteria; each criterion has a rule, a small JSON-like tree:

    {"all": [rule, ...]}          every child holds
    {"any": [rule, ...]}          at least one child holds
    {"at_least": N, "of": [...]}  at least N children hold
    {"not": rule}                 the child does not hold
    {"q": CODE, "op": OP, "value": VALUE, "unit": UNIT}   a comparison on one question

Operators: ``=  !=  <  <=  >  >=  between  in  not_in  answered  not_answered`` and for dates
``within`` (the date is less than a duration before the reference date) and ``before`` (at least a
duration before it), and ``age_between`` on the ``age`` question (``{"min": "3 years", "max": "35 years"}``,
bounds inclusive, compared in completed units of each limit as ClinicalTrials.gov means them).

Logic is three-valued (Kleene): an unanswered question makes a comparison ``unknown``, and unknown
propagates through all/any/not unless the other children already decide the node.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, TypeGuard

from .nodes import AllOf, AnyOf, AtLeast, Condition, Malformed, Node, Not, Rule, as_rule, read_rule, walk
from .vocabulary import (
    EXCLUSION,
    INCLUSION,
    Outcome,
    Verdict,
    calculated_number,
    is_against,
    is_satisfied,
)
from .wording import NO, YES, Message, Quantity, Text, join, parts, render, say

__all__ = ["EXCLUSION", "INCLUSION", "Outcome", "Verdict"]  # also the engine's words, as they always were

# Question types
BOOLEAN = "boolean"
NUMBER = "number"
DATE = "date"
CHOICE = "choice"
MULTI = "multi"
QUESTION_TYPES = (BOOLEAN, NUMBER, DATE, CHOICE, MULTI)


@dataclass(frozen=True)
class QuestionSpec:
    """What the engine needs to know about one catalogue question."""

    code: str
    label: str
    type: str
    unit: str = ""
    min_value: float | None = None
    max_value: float | None = None
    choices: tuple[tuple[str, str], ...] = ()  # (value, label)
    short_label: str = ""
    # How old a value read from a patient record may be to pre-fill this question (None: no limit), and the
    # limit for children (under 18 on the reference date; None: the adult limit). Only eligibility.fhir reads them.
    freshness_days: int | None = None
    child_freshness_days: int | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> QuestionSpec:
        """A question from a row of the catalogue's JSON (trials/seed/questions.json): what the seed loader stores
        and Question.spec() gives back, for scripts and tests that read the file without a database."""
        return cls(
            code=row["code"],
            label=row["label"],
            type=row["type"],
            unit=row["unit"],
            min_value=row["min_value"],
            max_value=row["max_value"],
            choices=tuple((str(k), str(v)) for k, v in row["choices"]),
            short_label=row["short_label"],
            freshness_days=row.get("freshness_days"),
            child_freshness_days=row.get("child_freshness_days"),
        )

    @property
    def name(self) -> str:
        return self.short_label or self.label

    def choice_label(self, value: str) -> str:
        for key, label in self.choices:
            if key == value:
                return label
        return str(value)


@dataclass(frozen=True)
class CriterionSpec:
    key: str  # stable id within the trial (the database pk as text)
    kind: str  # inclusion / exclusion
    text: str
    rule: Rule | None = None  # None: needs review

    def __post_init__(self) -> None:
        # Callers that still hold a rule's JSON (scripts, tests, examples) may pass it: it is read into nodes
        # here, once, so that every consumer walks nodes. Reading never fails (see nodes.read_rule).
        if self.rule is not None and not isinstance(self.rule, Node):
            object.__setattr__(self, "rule", read_rule(self.rule))


@dataclass(frozen=True)
class TrialRules:
    nct_id: str
    title: str
    criteria: tuple[CriterionSpec, ...]
    version: int = 0


@dataclass(frozen=True)
class CriterionResult:
    key: str
    kind: str
    text: str
    outcome: Outcome
    code: str
    # Why, as a message worded when shown (eligibility.wording); a str for results saved before messages existed.
    reason: Text
    missing: tuple[str, ...] = ()
    # Last day this outcome holds when time alone changes it (a window closing, a birthday), whatever the
    # outcome: "met until", or "not met until". None when time does not change it.
    met_until: date | None = None

    @property
    def explanation(self) -> str:
        """The reason in words, in the active language."""
        return render(self.reason)

    @property
    def against(self) -> bool:
        """True when this criterion rules the patient out."""
        return is_against(self.kind, self.outcome)

    @property
    def satisfied(self) -> bool:
        """True when this criterion is settled in the patient's favour."""
        return is_satisfied(self.kind, self.outcome)


@dataclass(frozen=True)
class TrialResult:
    nct_id: str
    title: str
    verdict: Verdict
    criteria: tuple[CriterionResult, ...]
    version: int = 0

    @property
    def missing(self) -> tuple[str, ...]:
        """Question codes that could still change this verdict, in criterion order."""
        if self.verdict != Verdict.UNDETERMINED:
            return ()
        seen: dict[str, None] = {}
        for c in self.criteria:
            for code in c.missing:
                seen.setdefault(code)
        return tuple(seen)

    @property
    def deciding(self) -> tuple[CriterionResult, ...]:
        """The criteria that rule the patient out (empty unless ineligible)."""
        return tuple(c for c in self.criteria if c.against)

    @property
    def counts(self) -> dict[str, int]:
        satisfied = sum(1 for c in self.criteria if c.satisfied)
        against = sum(1 for c in self.criteria if c.against)
        return {"satisfied": satisfied, "against": against, "open": len(self.criteria) - satisfied - against}

    @property
    def dates_that_matter(self) -> frozenset[str]:
        """Keys of the criteria whose date (met_until) could change this verdict, the only dates worth showing: one
        in the patient's favour while nothing rules them out (its lapsing would), or the one criterion that rules them
        out (its ending would). A date on a trial that another criterion already rules out changes nothing."""
        against = [c for c in self.criteria if c.against]
        return frozenset(
            c.key
            for c in self.criteria
            if c.met_until and ((c.satisfied and not against) or (c.against and len(against) == 1))
        )

    @property
    def met_until(self) -> date | None:
        """Last day before a time-relative criterion in the patient's favour lapses (an inclusion met, an
        exclusion not met): the verdict holds at least until then."""
        dates = [c.met_until for c in self.criteria if c.met_until and c.satisfied]
        return min(dates) if dates else None


# --------------------------------------------------------------------------------------------
# Durations and dates

DURATION_UNITS = {
    "year": "years",
    "years": "years",
    "month": "months",
    "months": "months",
    "week": "weeks",
    "weeks": "weeks",
    "day": "days",
    "days": "days",
}
_DURATION_RE = re.compile(r"^\s*(\d+)\s*([a-zA-Z]+)\s*$")


class RuleError(ValueError):
    """A rule the engine cannot read (validation should have caught it). Its argument may be a message
    (eligibility.wording): str() words it in the active language."""

    def __str__(self) -> str:
        return render(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: str  # years / months / weeks / days

    def __str__(self) -> str:
        unit = self.unit if self.amount != 1 else self.unit[:-1]
        return f"{self.amount} {unit}"


def parse_duration(text: Any) -> Duration:
    """'9 weeks' -> Duration(9, 'weeks'). Raises RuleError on anything else."""
    if isinstance(text, Duration):
        return text
    match = _DURATION_RE.match(str(text)) if isinstance(text, str) else None
    if not match or match.group(2).lower() not in DURATION_UNITS:
        raise RuleError(say("rule_not_duration", text=repr(text)))
    try:
        amount = int(match.group(1))
    except ValueError:  # more digits than Python converts to an int (4,300)
        raise RuleError(say("rule_duration_digits", digits=len(match.group(1)))) from None
    return Duration(amount, DURATION_UNITS[match.group(2).lower()])


def shift_back(day: date, duration: Duration) -> date:
    """The date `duration` before `day` (calendar arithmetic, clamped to month ends)."""
    return shift(day, duration, -1)


def shift(day: date, duration: Duration, sign: int = 1) -> date:
    n = duration.amount * sign
    if duration.unit == "days":
        return day + timedelta(days=n)
    if duration.unit == "weeks":
        return day + timedelta(weeks=n)
    months = n * 12 if duration.unit == "years" else n
    month_index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(month_index, 12)
    month += 1
    last = _days_in_month(year, month)
    return date(year, month, min(day.day, last))


def _days_in_month(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (date(year, month + 1, 1) - date(year, month, 1)).days


def completed(start: date, end: date, unit: str) -> int:
    """Completed whole `unit`s from start to end (negative if end is before start)."""
    if unit == "days":
        return (end - start).days
    if unit == "weeks":
        return (end - start).days // 7
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if end.day < start.day and not (end.day == _days_in_month(end.year, end.month) and start.day > end.day):
        months -= 1
    if unit == "months":
        return months
    return months // 12  # floor, also for negatives


def completed_years(birth: date, on: date) -> int:
    return completed(birth, on, "years")


# --------------------------------------------------------------------------------------------
# Derived answers


# Calculated answer -> the answers it is calculated from.
DERIVED_FROM = {"age": ("date_of_birth",), "bmi": ("height", "weight")}


def derive(answers: Mapping[str, Any], as_of: date) -> tuple[dict[str, Any], frozenset[str]]:
    """Fill in computed answers: age from date of birth, BMI from height and weight.

    Returns the full answers and the codes that were derived. A value the clinician entered
    directly is never overwritten. A calculated value is not rounded: a BMI of 30.03 is above 30 (only
    explanations and the panel round it, see vocabulary.format_calculated).
    """
    full = dict(answers)
    derived = set()
    dob = full.get("date_of_birth")
    if isinstance(dob, date) and full.get("age") is None:
        full["age"] = completed_years(dob, as_of)
        derived.add("age")
    height, weight = full.get("height"), full.get("weight")
    if full.get("bmi") is None and _is_number(height) and _is_number(weight) and height > 0:
        full["bmi"] = bmi_of(height, weight)
        derived.add("bmi")
    return full, frozenset(derived)


def bmi_of(height_cm: float, weight_kg: float) -> float:
    """Body mass index in kg/m², unrounded but for binary floating-point noise.

    weight × 10,000 / height², rounded to 9 decimals: 76.8 kg at 160 cm is exactly 30 (not 29.999999999999996,
    as weight / 1.6² gives), while 30.03 stays 30.03. Nine decimals are far below anything a rule compares.
    """
    return round(weight_kg * 10_000 / (height_cm * height_cm), 9)


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# --------------------------------------------------------------------------------------------
# Evaluation


@dataclass(frozen=True)
class _Eval:
    outcome: Outcome
    code: str
    explanation: Text
    missing: tuple[str, ...] = ()
    met_until: date | None = None


@dataclass
class Context:
    answers: Mapping[str, Any]
    as_of: date
    catalogue: Mapping[str, QuestionSpec]
    derived: frozenset[str] = field(default_factory=frozenset)
    # Answers left out because they contradict others (eligibility.contradictions): only the words change.
    contradicted: frozenset[str] = field(default_factory=frozenset)

    def open_words(self, code: str, name: Text) -> Message:
        """Why an answer the rule needs is not there: not answered yet, or answered in contradiction."""
        if code in self.contradicted or any(s in self.contradicted for s in DERIVED_FROM.get(code, ())):
            return say("contradicted", name=name)
        return say("not_answered_yet", name=name)


def _with_unit(value: Any, unit: str, code: str = "") -> Any:
    """A value and its unit as a message parameter (an age in years says 岁 in Chinese, a duration 年)."""
    if not unit:
        return value if _is_number(value) else str(value)
    return Quantity(value if _is_number(value) else str(value), unit, code == "age")


def _question(ctx: Context, code: str) -> QuestionSpec:
    spec = ctx.catalogue.get(code)
    if spec is None:
        # Unknown questions are rejected when rules are saved; an engine caller that skips
        # validation still gets a readable label rather than a crash.
        return QuestionSpec(code=code, label=code.replace("_", " "), type=NUMBER)
    return spec


def _describe_value(spec: QuestionSpec, value: Any) -> Any:
    """An answer as a message parameter."""
    if spec.type == BOOLEAN:
        return YES if value else NO
    if spec.type == CHOICE:
        return spec.choice_label(value)
    if spec.type == MULTI:
        return tuple(spec.choice_label(v) for v in value) or Message("none")
    if spec.type == DATE:
        return value.isoformat() if isinstance(value, date) else str(value)
    return _with_unit(value, spec.unit, spec.code)


_AGE_COMPARISONS = frozenset(("=", "!=", "<", "<=", ">", ">=", "between"))


def _leaf(rule: Condition, ctx: Context) -> _Eval:
    result = _leaf_today(rule, ctx)
    if rule.q == "age" and rule.op in _AGE_COMPARISONS and result.outcome in (Outcome.MET, Outcome.NOT_MET):
        until = _age_holds_until(rule, ctx, result.outcome)
        if until is not None:
            result = replace(result, met_until=until)
    return result


def _age_holds_until(rule: Condition, ctx: Context, outcome: Outcome) -> date | None:
    """For a comparison on the age a date of birth gives: the day before the birthday that changes the outcome
    (None when no birthday does, or the age does not come from a date of birth)."""
    dob, age = ctx.answers.get("date_of_birth"), ctx.answers.get("age")
    if not isinstance(dob, date) or not _is_number(age) or age != completed_years(dob, ctx.as_of):
        return None
    for years in range(int(age) + 1, 131):
        older = Context({**ctx.answers, "age": years}, ctx.as_of, ctx.catalogue, ctx.derived)
        if _leaf_today(rule, older).outcome != outcome:
            return shift(dob, Duration(years, "years")) - timedelta(days=1)
    return None


def _leaf_today(rule: Condition, ctx: Context) -> _Eval:
    code = rule.q
    op = rule.op
    spec = _question(ctx, code)
    value = ctx.answers.get(code)
    name = spec.name

    if op == "answered":
        if value is None:
            return _Eval(Outcome.NOT_MET, "not_answered", say("not_answered", name=name))
        return _Eval(Outcome.MET, "answered", say("answered", name=name))
    if op == "not_answered":
        if value is None:
            return _Eval(Outcome.MET, "not_answered", say("not_answered", name=name))
        return _Eval(Outcome.NOT_MET, "answered", say("answered", name=name))

    if op == "age_between":
        return _age_between(rule, ctx, spec)

    if value is None:
        return _Eval(Outcome.UNKNOWN, "missing", ctx.open_words(code, name), (code,))

    target = rule.value
    shown = _describe_value(spec, value)
    if code in ctx.derived:
        calculated: Any = value  # (a name of its own: narrowing `value` would narrow it below too)
        if spec.type == NUMBER and isinstance(calculated, float):
            # Rounded for people only, with as many decimals as it takes to stay on the side of the limit it is.
            limits = target if op == "between" and isinstance(target, (list, tuple)) else (target,)
            shown = _with_unit(calculated_number(calculated, *limits), spec.unit, code)
        shown = say("calculated", value=shown)

    if op in ("=", "!="):
        equal = value == target
        if spec.type == BOOLEAN:
            text = say("yes_no", name=name, value=shown)
        elif equal:
            text = say("is", name=name, value=shown)
        else:
            text = say("is_not_expected", name=name, value=shown, expected=_describe_value(spec, target))
        met = equal if op == "=" else not equal
        return _Eval(Outcome.MET if met else Outcome.NOT_MET, "equal" if equal else "not_equal", text)

    if op in ("<", "<=", ">", ">="):
        limit = _number_param(target)
        if value > target:
            position, words = ("above_max" if op[0] == ">" else "above_min"), "above"
        elif value < target:
            position, words = ("below_max" if op[0] == ">" else "below_min"), "below"
        else:
            position, words = ("at_max" if op[0] == ">" else "at_min"), "exactly"
        met = {"<": value < target, "<=": value <= target, ">": value > target, ">=": value >= target}[op]
        return _Eval(Outcome.MET if met else Outcome.NOT_MET, position, say(words, name=name, value=shown, limit=limit))

    if op == "between":
        low, high = target
        if value < low:
            return _Eval(Outcome.NOT_MET, "below_range", say("below", name=name, value=shown, limit=_number_param(low)))
        if value > high:
            return _Eval(
                Outcome.NOT_MET, "above_range", say("above", name=name, value=shown, limit=_number_param(high))
            )
        return _Eval(
            Outcome.MET,
            "in_range",
            say("between", name=name, value=shown, low=_number_param(low), high=_number_param(high)),
        )

    if op in ("in", "not_in"):
        options = set(target)
        if spec.type == MULTI:
            hit = bool(options.intersection(value))
        else:
            hit = value in options
        met = hit if op == "in" else not hit
        listed = tuple(spec.choice_label(v) for v in target)
        text = say("one_of" if hit else "not_one_of", name=name, value=shown, choices=listed)
        return _Eval(Outcome.MET if met else Outcome.NOT_MET, "in_set" if hit else "not_in_set", text)

    if op in ("within", "before"):
        duration = parse_duration(target)
        if not isinstance(value, date):
            return _Eval(Outcome.UNKNOWN, "missing", say("not_a_date", name=name), (code,))
        if value > ctx.as_of:
            return _Eval(
                Outcome.NOT_MET,
                "in_future",
                say("in_future", name=name, date=value.isoformat(), as_of=ctx.as_of.isoformat()),
            )
        elapsed = _elapsed_words(value, ctx.as_of, duration.unit)
        boundary = shift(value, duration)  # first day on which `duration` has fully elapsed
        inside = ctx.as_of < boundary
        limit = Quantity(duration.amount, duration.unit)
        day = value.isoformat()
        if op == "within":
            if inside:
                last = boundary - timedelta(days=1)
                return _Eval(
                    Outcome.MET,
                    "within_window",
                    say("ago_less_than", name=name, date=day, elapsed=elapsed, limit=limit),
                    met_until=last,
                )
            return _Eval(
                Outcome.NOT_MET,
                "outside_window",
                say("ago_not_less_than", name=name, date=day, elapsed=elapsed, limit=limit),
            )
        if inside:
            return _Eval(
                Outcome.NOT_MET,
                "within_window",
                say("ago_less_than", name=name, date=day, elapsed=elapsed, limit=limit),
                met_until=boundary - timedelta(days=1),
            )
        return _Eval(
            Outcome.MET,
            "outside_window",
            say("ago_at_least", name=name, date=day, elapsed=elapsed, limit=limit),
        )

    raise RuleError(f"unknown operator {op!r}")


def _number_param(value: Any) -> Any:
    """A rule's limit as a message parameter: a number as it is (30.0 is shown 30), anything else as text
    (invalid rules are worded too)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return str(value)


def _elapsed_words(start: date, end: date, unit: str) -> Any:
    """How long ago, in the rule's unit (weeks with the days left over), as a message parameter."""
    amount = completed(start, end, unit)
    if unit in ("weeks", "days"):
        days = (end - start).days
        weeks, rest = divmod(days, 7)
        if unit == "days" or weeks == 0:
            return Quantity(days, "days")
        if rest:
            return say("weeks_and_days", weeks=Quantity(weeks, "weeks"), days=Quantity(rest, "days"))
        return Quantity(weeks, "weeks")
    return Quantity(amount, unit)


def _age_between(rule: Condition, ctx: Context, spec: QuestionSpec) -> _Eval:
    bounds = rule.value or {}
    low = parse_duration(bounds["min"]) if bounds.get("min") else None
    high = parse_duration(bounds["max"]) if bounds.get("max") else None
    low_q = Quantity(low.amount, low.unit, True) if low else None
    high_q = Quantity(high.amount, high.unit, True) if high else None
    if low_q and high_q:
        limits = say("age_limits", low=low_q, high=high_q)
    elif low_q:
        limits = say("age_or_older", low=low_q)
    else:
        limits = say("age_up_to", high=high_q)

    dob = ctx.answers.get("date_of_birth")
    source: Message
    if isinstance(dob, date):

        def age_range(unit: str) -> tuple[int, int]:
            age = completed(dob, ctx.as_of, unit)
            return age, age

        source = say("born", date=dob.isoformat())
    else:
        age = ctx.answers.get("age")
        if not _is_number(age):
            words = ctx.open_words(
                "date_of_birth" if "date_of_birth" in ctx.contradicted else "age", Message("age_name")
            )
            return _Eval(Outcome.UNKNOWN, "missing", words, ("age",))
        # An age entered directly counts completed years (a fraction: at least that many months),
        # so the patient may be anything up to a day short of the next birthday. A limit in
        # months, weeks or days that falls inside that spread stays unknown: guessing could rule
        # out a patient who qualifies.
        earliest, latest = _birth_dates(float(age), ctx.as_of)

        def age_range(unit: str) -> tuple[int, int]:
            return completed(latest, ctx.as_of, unit), completed(earliest, ctx.as_of, unit)

        source = Message("age_entered")

    if low and age_range(low.unit)[1] < low.amount:
        until = None
        if isinstance(dob, date):
            # Old enough on the day the patient completes `low`, unless that is already past `high`.
            old_enough = shift(dob, low)
            if high is None or old_enough < shift(dob, Duration(high.amount + 1, high.unit)):
                until = old_enough - timedelta(days=1)
        return _Eval(
            Outcome.NOT_MET,
            "age_below_min",
            say(
                "age_below",
                age=Quantity(age_range(low.unit)[1], low.unit, True),
                source=source,
                low=low_q,
                limits=limits,
            ),
            met_until=until,
        )
    if high and age_range(high.unit)[0] > high.amount:
        return _Eval(
            Outcome.NOT_MET,
            "age_above_max",
            say(
                "age_above",
                age=Quantity(age_range(high.unit)[0], high.unit, True),
                source=source,
                high=high_q,
                limits=limits,
            ),
        )
    if (low and age_range(low.unit)[0] < low.amount) or (high and age_range(high.unit)[1] > high.amount):
        # Only an entered age gets here (a date of birth gives one exact age).
        return _Eval(
            Outcome.UNKNOWN,
            "missing",
            say("age_imprecise", age=Quantity(age, "years", True), source=source, limits=limits),
            ("date_of_birth",),
        )
    limit = high or low
    unit = limit.unit if limit else "years"
    met_until = None
    if high and isinstance(dob, date):
        # Eligible until the day before the patient completes max + 1 units.
        met_until = shift(dob, Duration(high.amount + 1, high.unit)) - timedelta(days=1)
    return _Eval(
        Outcome.MET,
        "age_in_range",
        say("age_within", age=Quantity(age_range(unit)[0], unit, True), source=source, limits=limits),
        met_until=met_until,
    )


def _birth_dates(age: float, as_of: date) -> tuple[date, date]:
    """Earliest and latest date of birth of someone whose entered age on `as_of` is `age` years."""
    years = math.floor(age)
    months = max(years * 12, math.floor(age * 12 + 1e-9))
    latest = shift_back(as_of, Duration(months, "months"))
    # Month-end clamping (31st, 29 February) can leave a later birth date with the same age.
    while completed(latest + timedelta(days=1), as_of, "months") >= months:
        latest += timedelta(days=1)
    earliest = shift_back(as_of, Duration(years + 1, "years")) + timedelta(days=1)
    while completed(earliest - timedelta(days=1), as_of, "years") <= years:
        earliest -= timedelta(days=1)
    while completed(earliest, as_of, "years") > years:
        earliest += timedelta(days=1)
    return earliest, latest


_NEGATE = {Outcome.MET: Outcome.NOT_MET, Outcome.NOT_MET: Outcome.MET, Outcome.UNKNOWN: Outcome.UNKNOWN}


def _node(rule: Rule, ctx: Context) -> _Eval:
    if isinstance(rule, Condition):
        return _leaf(rule, ctx)
    if isinstance(rule, Not):
        inner = _node(rule.child, ctx)
        # The negation changes on the day its inner rule changes.
        return _Eval(_NEGATE[inner.outcome], inner.code, _negate_words(inner), inner.missing, inner.met_until)
    if isinstance(rule, AllOf):
        return _combine(rule.children, len(rule.children), ctx, "all")
    if isinstance(rule, AnyOf):
        return _combine(rule.children, 1, ctx, "any")
    if isinstance(rule, AtLeast):
        return _combine(rule.children, rule.n, ctx, "at_least")
    if isinstance(rule, Malformed):
        raise RuleError(rule.reason)
    raise RuleError(f"not a rule: {rule!r}")


def _negate_words(inner: _Eval) -> Text:
    return inner.explanation if inner.outcome == Outcome.UNKNOWN else say("not_so", inner=inner.explanation)


def _combine(children: Iterable[Rule], need: int, ctx: Context, kind: str) -> _Eval:
    results = [_node(child, ctx) for child in children]
    met = [r for r in results if r.outcome == Outcome.MET]
    unknown = [r for r in results if r.outcome == Outcome.UNKNOWN]
    not_met = [r for r in results if r.outcome == Outcome.NOT_MET]
    if not results and kind == "all":
        # Only "all of nothing" holds; "any of nothing" does not (validation rejects both empty
        # any and at_least, but the engine must not call them met).
        return _Eval(Outcome.MET, "no_conditions", _NO_CONDITIONS)
    if kind == "all":
        need = len(results)

    if len(met) >= need:
        # The group holds until fewer than `need` children do: the need-th latest end date
        # (a child that never lapses counts as latest). For "all" this is the earliest one.
        ends = sorted((r.met_until or date.max for r in met), reverse=True)
        until = ends[need - 1] if need > 0 else date.max
        return _Eval(
            Outcome.MET,
            _code(met, f"{kind}_met"),
            join([r.explanation for r in met]),
            met_until=None if until == date.max else until,
        )
    if len(met) + len(unknown) < need:
        # Not met until enough failing children turn: the k-th earliest of their end dates. Met children
        # that lapse meanwhile could only keep it failing longer, so this date is never too late.
        short = need - len(met) - len(unknown)
        ends = sorted(r.met_until or date.max for r in not_met)
        until = ends[short - 1] if 0 < short <= len(ends) else date.max
        return _Eval(
            Outcome.NOT_MET,
            _code(not_met, f"{kind}_not_met"),
            join([r.explanation for r in not_met]),
            met_until=None if until == date.max else until,
        )
    missing: dict[str, None] = {}
    for r in unknown:
        for code in r.missing:
            missing.setdefault(code)
    shown = met + unknown if kind != "all" else unknown
    return _Eval(Outcome.UNKNOWN, "missing", _join_unknown(shown), tuple(missing))


_NO_CONDITIONS = Message("no_conditions")
NO_RULE_REASON = Message("no_rule")


def _join_unknown(results: list[_Eval]) -> Text:
    """Explanations of an open group; plain missing answers are listed once: 'Not answered yet: A, B'."""
    names = []
    others: list[Text] = []
    for r in results:
        for part in parts(r.explanation):
            if isinstance(part, Message) and part.code == "not_answered_yet":
                names.append(part)
            else:
                others.append(part)
    if len(names) > 1:
        others.append(say("not_answered_yet_many", names=tuple(n.param("name") for n in names)))
    else:
        others.extend(names)
    return join(others)


def _code(deciding: list[_Eval], fallback: str) -> str:
    return deciding[0].code if len(deciding) == 1 else fallback


def evaluate_criterion(criterion: CriterionSpec, ctx: Context) -> CriterionResult:
    if criterion.rule is None:
        return CriterionResult(
            criterion.key,
            criterion.kind,
            criterion.text,
            Outcome.NEEDS_REVIEW,
            "no_rule",
            NO_RULE_REASON,
        )
    try:
        r = _node(criterion.rule, ctx)
    except (RuleError, KeyError, TypeError, ValueError, AttributeError, ArithmeticError) as exc:
        # Saved rules are validated, so this is a rule that bypassed validation (a raw database
        # edit, an old row). One broken criterion must not take the whole screening down: it
        # screens as "needs review", never as met or failed.
        return CriterionResult(
            criterion.key,
            criterion.kind,
            criterion.text,
            Outcome.NEEDS_REVIEW,
            "invalid_rule",
            say("invalid_rule", error=str(exc)),
        )
    return CriterionResult(
        criterion.key,
        criterion.kind,
        criterion.text,
        r.outcome,
        r.code,
        r.explanation,
        r.missing,
        r.met_until,
    )


def verdict_of(results: Iterable[CriterionResult]) -> Verdict:
    """Ineligible if anything rules the patient out; eligible only if everything is settled in their favour."""
    results = list(results)
    if any(r.against for r in results):
        return Verdict.INELIGIBLE
    if all(r.satisfied for r in results):
        return Verdict.ELIGIBLE
    return Verdict.UNDETERMINED


def evaluate(
    trial: TrialRules,
    answers: Mapping[str, Any],
    as_of: date,
    catalogue: Mapping[str, QuestionSpec] | None = None,
    contradicted: frozenset[str] = frozenset(),
) -> TrialResult:
    """Screen one patient's answers against one trial on the reference date `as_of`. `contradicted` names answers
    left out because they contradict others: criteria that need them say so rather than "not answered"."""
    full, derived = derive(answers, as_of)
    ctx = Context(full, as_of, catalogue or {}, derived, contradicted)
    results = tuple(evaluate_criterion(c, ctx) for c in trial.criteria)
    return TrialResult(trial.nct_id, trial.title, verdict_of(results), results, trial.version)


def evaluate_many(
    trials: Iterable[TrialRules],
    answers: Mapping[str, Any],
    as_of: date,
    catalogue: Mapping[str, QuestionSpec] | None = None,
) -> list[TrialResult]:
    return [evaluate(t, answers, as_of, catalogue) for t in trials]


def referenced_questions(rule: Any) -> set[str]:
    """Question codes a rule (nodes, or JSON) reads, including the answers that age and BMI are calculated from."""
    found: set[str] = set()
    for node in walk(as_rule(rule)):
        if isinstance(node, Condition):
            found.add(node.q)
            if node.op == "age_between":
                found.add("date_of_birth")
            # Age and BMI are calculated from other answers when not entered directly (see derive).
            found.update(DERIVED_FROM.get(node.q, ()))
    return found
