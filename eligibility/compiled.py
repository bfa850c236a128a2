"""Verdicts for a whole catalogue of trials at once, for one patient. No Django imports.

`engine.evaluate` explains one trial. Screening one patient against 10,000 trials that way walks
150,000 rule trees in Python, which is too slow for a page. Here every rule is compiled once into
flat numpy arrays, and each patient then costs one vectorised pass:

1. The distinct comparisons ("leaves") are grouped by question and operator. A patient has one
   answer per question, so each group is decided in one numpy step (`value > thresholds`).
2. Logic nodes are shared: a rule that 3,000 trials use is stored, and evaluated, once. They are
   evaluated level by level with `minimum.reduceat` / `maximum.reduceat` over child indices.
3. A trial's verdict is the minimum of its criteria seen from the patient's side (an exclusion
   is compiled as "not" its rule; a criterion without a rule is "unknown").

Outcomes are int8 codes ordered so that Kleene logic is arithmetic: 0 = not met, 1 = unknown,
2 = met; all = min, any = max, not = 2 - x, at_least by counting. Verdicts use the same order:
0 = ineligible, 1 = undetermined, 2 = eligible.

Only verdicts come out, by design: the outcome of each criterion, the missing questions and met_until
need the interpretive walk, which is cheap for the few trials a page shows. `CompiledCatalogue.explain`
hands those trials to `engine.evaluate`, so everything the panel reads agrees with the engine by
construction, and its verdicts with `verdicts` (tests/test_compiled.py, tests/test_engine_properties.py). Verdicts always equal `engine.evaluate(...).verdict`: whatever the
fast path cannot decide exactly (a rule the engine would reject, an answer of an unexpected type)
is handed to the engine itself, which then also raises the engine's errors.

Compile once per set of criteria versions and cache the result: compiling 150,000 criteria takes
under a second, a verdict pass about a millisecond (scripts/bench_engine.py). A `Compiler` kept
between compilations recompiles only the trials that changed: tens of milliseconds for one edit. A compiled catalogue
is read-only, so threads can share it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeGuard

import numpy as np

from . import engine
from .engine import (
    EXCLUSION,
    MULTI,
    Context,
    Duration,
    Outcome,
    QuestionSpec,
    RuleError,
    TrialResult,
    TrialRules,
    Verdict,
    completed,
    derive,
    parse_duration,
    shift,
)
from .nodes import AllOf, AnyOf, AtLeast, Condition, Not, Rule

NOT_MET, UNKNOWN, MET = 0, 1, 2
CODES = {Outcome.NOT_MET: NOT_MET, Outcome.UNKNOWN: UNKNOWN, Outcome.MET: MET, Outcome.NEEDS_REVIEW: UNKNOWN}
VERDICTS = (Verdict.INELIGIBLE, Verdict.UNDETERMINED, Verdict.ELIGIBLE)  # indexed by verdict code
_VERDICT_ARRAY = np.array(VERDICTS, dtype=object)
CODES_BY_VERDICT = {verdict: code for code, verdict in enumerate(VERDICTS)}

_ORDER_OPS = ("<", "<=", ">", ">=")
_AGE_UNITS = ("years", "months", "weeks", "days")
_EXACT_INT = 2**53  # larger ints do not survive the trip through float64


class _Unsure(Exception):
    """The fast path cannot decide this exactly; the engine will."""


# --------------------------------------------------------------------------------------------
# The compiled catalogue


@dataclass(frozen=True, eq=False)
class CompiledCatalogue:
    """Every criterion of `trials`, compiled for verdict-only screening. Build with compile_catalogue."""

    trials: tuple[TrialRules, ...]
    catalogue: Mapping[str, QuestionSpec]
    _size: int  # nodes: 3 constants, then leaves, then logic nodes level by level
    _groups: tuple[_Leaves, ...]
    _opaque: tuple[tuple[int, Rule], ...]  # (node, rule) left to the engine on every call
    _levels: tuple[_Level, ...]
    _criteria: np.ndarray  # node per criterion, trial after trial, in the patient's favour
    _starts: np.ndarray  # first criterion of each trial
    _ruled: np.ndarray  # per criterion: has a rule (one without is "needs review", missing nothing)

    def __len__(self) -> int:
        return len(self.trials)

    def verdict_codes(self, answers: Mapping[str, Any], as_of: date) -> np.ndarray:
        """One int8 per trial, in order: 0 ineligible, 1 undetermined, 2 eligible."""
        if not self.trials:
            return np.empty(0, dtype=np.int8)
        values = self._values(answers, as_of)
        if values is None:
            # A rule the engine cannot evaluate makes its whole criterion "needs review" there; rather
            # than track which criteria share the broken node, let the engine decide every trial.
            # Validation keeps such rules out of the database, so this path is for safety, not speed.
            return np.array(
                [CODES_BY_VERDICT[engine.evaluate(t, answers, as_of, self.catalogue).verdict] for t in self.trials],
                dtype=np.int8,
            )
        return np.minimum.reduceat(values[self._criteria], self._starts)

    def _values(self, answers: Mapping[str, Any], as_of: date) -> np.ndarray | None:
        """The outcome code of every node for this patient, or None when only the engine can tell."""
        full, derived = derive(answers, as_of)
        ctx = Context(full, as_of, self.catalogue, derived)
        values = np.empty(self._size, dtype=np.int8)
        values[:3] = (NOT_MET, UNKNOWN, MET)
        try:
            for group in self._groups:
                decided: Any
                try:
                    decided = group.decide(full, as_of)
                except Exception:
                    # An answer of a type the arrays do not model: the engine decides.
                    decided = [_engine_code(rule, ctx) for rule in group.rules]
                values[group.start : group.stop] = decided
            for node, rule in self._opaque:
                values[node] = _engine_code(rule, ctx)
        except Exception:
            return None
        for level in self._levels:
            level.evaluate(values)
        return values

    def missing(self, indices: Sequence[int], answers: Mapping[str, Any], as_of: date) -> list[tuple[str, ...]]:
        """engine.evaluate(...).missing for the trials at `indices`: the questions that could still change an
        undetermined verdict, in criterion order (empty for a settled one).

        The arrays say which criteria are open; only those are walked by the engine (a page of 1,000 trials
        has a few open criteria each, of fifteen), on one derivation of the answers for all trials.
        """
        values = self._values(answers, as_of) if self.trials else None
        if values is None:
            return [engine.evaluate(self.trials[i], answers, as_of, self.catalogue).missing for i in indices]
        full, derived = derive(answers, as_of)
        ctx = Context(full, as_of, self.catalogue, derived)
        verdicts = np.minimum.reduceat(values[self._criteria], self._starts)
        # Criteria with a rule whose outcome is open; those without a rule are open too but miss no answer.
        walk = np.flatnonzero((values[self._criteria] == UNKNOWN) & self._ruled)
        first = np.searchsorted(walk, self._starts)
        last = np.searchsorted(walk, np.append(self._starts[1:], len(self._criteria)))
        out: list[tuple[str, ...]] = []
        for i in indices:
            if verdicts[i] != UNKNOWN:
                out.append(())  # settled: ineligible or eligible
                continue
            trial, start = self.trials[i], int(self._starts[i])
            seen: dict[str, None] = {}
            for at in walk[first[i] : last[i]].tolist():
                for question in engine.evaluate_criterion(trial.criteria[at - start], ctx).missing:
                    seen.setdefault(question)
            out.append(tuple(seen))
        return out

    def verdicts(self, answers: Mapping[str, Any], as_of: date) -> list[Verdict]:
        """The verdict for every trial, in order; equal to engine.evaluate(trial, ...).verdict."""
        return _VERDICT_ARRAY[self.verdict_codes(answers, as_of)].tolist()

    def explain(
        self,
        indices: Sequence[int],
        answers: Mapping[str, Any],
        as_of: date,
        contradicted: frozenset[str] = frozenset(),
        catalogue: Mapping[str, QuestionSpec] | None = None,
    ) -> list[TrialResult]:
        """engine.evaluate's results (criteria, reasons, missing questions, met_until) for the trials shown, worded
        with `catalogue` (the same questions with their texts in another language; default: the compiled one's)."""
        questions = self.catalogue if catalogue is None else catalogue
        return [engine.evaluate(self.trials[i], answers, as_of, questions, contradicted) for i in indices]


def compile_catalogue(
    trials: Sequence[TrialRules], catalogue: Mapping[str, QuestionSpec] | None = None
) -> CompiledCatalogue:
    """Compile every criterion of `trials` once, against the question catalogue they are screened with.

    The rules are read now: compile again when any criteria version changes (a `Compiler` kept between
    compilations then recompiles only the trials that changed).
    """
    return Compiler(catalogue).compile(trials)


class Compiler:
    """Compiles sets of trials against one question catalogue, remembering each trial's compiled criteria.

    Every criterion becomes a node of one shared graph. Compiling a set that differs from an earlier one by
    a few edited, added or removed trials walks only those trials' rules, then lays the live part of the
    graph out as arrays again; that layout is cheap, the graph holding thousands of distinct nodes where
    the trials hold 150,000 criteria. The result is the same as a fresh compile_catalogue.

    Not thread-safe: callers that share one compile under a lock. Compiled catalogues it returned stay
    valid and shareable, as they copy what they need.
    """

    def __init__(self, catalogue: Mapping[str, QuestionSpec] | None = None):
        self.catalogue = catalogue or {}
        self._reset()

    def _reset(self) -> None:
        self._builder = _Builder(self.catalogue)
        self._known: dict[str, tuple[TrialRules, list[int]]] = {}  # nct_id -> (trial, node per criterion)
        self._known_criteria = 0
        self._replaced = 0  # criteria compiled again since the reset: their old nodes may be garbage

    def compile(self, trials: Sequence[TrialRules]) -> CompiledCatalogue:
        trials = tuple(trials)
        if self._replaced > max(self._known_criteria, 10_000):
            # Edited rules leave unreachable nodes behind (skipped by the layout, but kept in memory):
            # after about a catalogue's worth of edits, start over with one full compile.
            self._reset()
        per_trial = []
        for trial in trials:
            known = self._known.get(trial.nct_id)
            # Version first, as it is cheap; rules built by hand may all say version 0, so the rules are
            # compared too (free for the database's loaders, which hand out the same objects each time).
            if known is not None and known[0].version == trial.version and (known[0] is trial or known[0] == trial):
                per_trial.append(known[1])
                continue
            nodes = self._trial(trial)
            if known is not None:
                self._replaced += len(known[1])
                self._known_criteria -= len(known[1])
            self._known[trial.nct_id] = (trial, nodes)
            self._known_criteria += len(nodes)
            per_trial.append(nodes)
        return self._builder.finish(trials, self.catalogue, per_trial)

    def _trial(self, trial: TrialRules) -> list[int]:
        """The node of each criterion of one trial, seen from the patient's side."""
        builder = self._builder
        nodes = []
        for criterion in trial.criteria:
            if criterion.rule is None:
                nodes.append(UNKNOWN)  # needs review: never settled by the machine
                continue
            node = builder.rule(criterion.rule)
            # Any kind other than exclusion counts as inclusion, as in CriterionResult.against.
            nodes.append(builder.negate(node) if criterion.kind == EXCLUSION else node)
        # No criteria at all is eligible (verdict_of: all() of nothing); a constant keeps reduceat simple.
        return nodes or [MET]


def _engine_code(rule: Rule, ctx: Context) -> int:
    # The engine's own evaluator for one rule (engine.py could expose it as a public evaluate_rule).
    return CODES[engine._node(rule, ctx).outcome]


def _exact_float(x: Any) -> float | None:
    """x as a float64 that compares exactly like x does in Python, or None."""
    if isinstance(x, float):
        return x
    if isinstance(x, int) and abs(x) <= _EXACT_INT:  # bool included: True > 0.5 in Python too
        return float(x)
    return None


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# --------------------------------------------------------------------------------------------
# Leaves: the comparisons on one question with one operator, decided in one step


@dataclass(eq=False)
class _Leaves:
    op: str
    q: str | None  # None for age_between, which reads date_of_birth or age whatever its "q"
    start: int
    stop: int
    rules: list[Rule]  # one rule per leaf, for the engine when an answer is unusual
    # Which of these are set depends on `op` (a tagged union in all but name), hence Any: each operator's
    # branch of decide() reads only its own.
    thresholds: Any = None  # <, <=, >, >=: shape (n,); between: (n, 2)
    index: Any = None  # =, !=, in, not_in: dict of value (or choice) -> leaf offsets
    multi: bool = False  # in/not_in on a multiple-choice question: any chosen value counts
    in_months: Any = None  # within/before: per leaf, a duration in months (else days)
    amounts: Any = None  # within/before: the duration in months or in days
    ages: Any = None  # age_between: low unit, low amount, high unit, high amount (arrays)

    def decide(self, full: Mapping[str, Any], as_of: date) -> int | np.ndarray:
        """The outcome of every leaf (one code for all, or an int8 array). Raises _Unsure to defer."""
        op, n = self.op, self.stop - self.start
        if op == "age_between":
            return self._age(full, as_of)
        value = full.get(self.q) if self.q is not None else None
        if op == "answered":
            return MET if value is not None else NOT_MET
        if op == "not_answered":
            return MET if value is None else NOT_MET
        if value is None:
            return UNKNOWN
        if op in _ORDER_OPS or op == "between":
            x = _exact_float(value)
            if x is None:
                raise _Unsure
            t = self.thresholds
            if op == "<":
                met = x < t
            elif op == "<=":
                met = x <= t
            elif op == ">":
                met = x > t
            elif op == ">=":
                met = x >= t
            else:
                # Written as the engine tests it, so NaN behaves the same.
                met = ~((x < t[:, 0]) | (x > t[:, 1]))
            return met.view(np.int8) * np.int8(2)
        if op in ("=", "!=", "in", "not_in"):
            if self.multi and op in ("in", "not_in"):
                found = [self.index.get(choice) for choice in value]  # a set intersection, like the engine
                hits = [h for h in found if h is not None]
                hit = np.concatenate(hits) if hits else None
            else:
                hit = self.index.get(value)  # hashing like set membership; unhashable raises and defers
            positive = op in ("=", "in")
            out = np.full(n, NOT_MET if positive else MET, dtype=np.int8)
            if hit is not None:
                out[hit] = MET if positive else NOT_MET
            return out
        if op in ("within", "before"):
            if type(value) is not date:
                if isinstance(value, date):
                    raise _Unsure  # a datetime: the engine cannot compare it with as_of either
                return UNKNOWN
            if value > as_of:
                return NOT_MET  # "in_future"
            inside = self._inside(value, as_of)
            return (inside if op == "within" else ~inside).view(np.int8) * np.int8(2)
        raise _Unsure

    def _inside(self, value: date, as_of: date) -> np.ndarray:
        """For each duration, whether as_of is before shift(value, duration), as the engine tests it."""
        # The engine raises when a shift leaves the calendar; shifts grow with the duration, so
        # trying the longest of each kind raises exactly when the engine would.
        months, days = self.amounts[self.in_months], self.amounts[~self.in_months]
        if len(months):
            shift(value, Duration(int(months.max()), "months"))
        if len(days):
            value + timedelta(days=int(days.max()))
        # Days and weeks: value + n days is after as_of exactly when fewer than n days have passed.
        elapsed_days = (as_of - value).days
        # Months and years: shift(value, m months) lands in a later month for each larger m, so it
        # is after as_of from some m on: the calendar months between the dates, or one more.
        between = (as_of.year - value.year) * 12 + as_of.month - value.month
        first = between if shift(value, Duration(between, "months")) > as_of else between + 1
        return np.where(self.in_months, self.amounts >= first, self.amounts > elapsed_days)

    def _age(self, full: Mapping[str, Any], as_of: date) -> int | np.ndarray:
        # Mirrors engine._age_between: a date of birth gives one exact age in each unit; an age
        # entered in years gives a range (youngest, oldest), and a limit inside it stays unknown.
        dob = full.get("date_of_birth")
        if isinstance(dob, date):
            young = old = [completed(dob, as_of, unit) for unit in _AGE_UNITS]
        else:
            age = full.get("age")
            if not _is_number(age):
                return UNKNOWN
            earliest, latest = engine._birth_dates(float(age), as_of)
            young = [completed(latest, as_of, unit) for unit in _AGE_UNITS]
            old = [completed(earliest, as_of, unit) for unit in _AGE_UNITS]
        youngest, oldest = np.array(young, dtype=np.float64), np.array(old, dtype=np.float64)
        low_unit, low, high_unit, high = self.ages  # a missing limit is -inf / +inf
        out = np.full(self.stop - self.start, MET, dtype=np.int8)
        out[(youngest[low_unit] < low) | (oldest[high_unit] > high)] = UNKNOWN
        out[(oldest[low_unit] < low) | (youngest[high_unit] > high)] = NOT_MET
        return out


def _leaf_group(rule: Condition, catalogue: Mapping[str, QuestionSpec]) -> tuple[tuple, Any]:
    """(group key, payload) of a comparison; raises _Unsure when only the engine can decide it."""
    q, op = rule.q, rule.op
    if op in ("answered", "not_answered"):
        return (op, q), None  # the value is ignored: all such leaves on q are the same leaf
    if op == "age_between":
        bounds = rule.value or {}
        low = parse_duration(bounds["min"]) if bounds.get("min") else None
        high = parse_duration(bounds["max"]) if bounds.get("max") else None
        if any(d and d.amount > _EXACT_INT for d in (low, high)):
            raise _Unsure
        return (op, None), (low, high)
    target = rule.value
    if op in ("=", "!="):
        hash(target)
        if not target == target:
            raise _Unsure  # NaN: a dict would match it by identity, == never does
        return (op, q), (type(target), target)
    if op in _ORDER_OPS:
        limit = _exact_float(target)
        if limit is None:
            raise _Unsure
        return (op, q), limit
    if op == "between":
        first, last = target
        low_limit, high_limit = _exact_float(first), _exact_float(last)
        if low_limit is None or high_limit is None:
            raise _Unsure
        return (op, q), (low_limit, high_limit)
    if op in ("in", "not_in"):
        spec = catalogue.get(q)
        return (op, q, spec is not None and spec.type == MULTI), frozenset(target)
    if op in ("within", "before"):
        duration = parse_duration(target)
        if duration.amount * 12 > _EXACT_INT:
            raise _Unsure
        return (op, q), duration
    raise _Unsure  # an unknown operator: unknown when unanswered, an error otherwise


def _build_leaves(key: tuple, start: int, payloads: list, rules: list) -> _Leaves:
    op, q = key[0], key[1]
    group = _Leaves(op=op, q=q, start=start, stop=start + len(payloads), rules=rules)
    if op in _ORDER_OPS or op == "between":
        group.thresholds = np.array(payloads, dtype=np.float64)
    elif op in ("=", "!=", "in", "not_in"):
        index: dict[Any, list[int]] = {}
        for offset, payload in enumerate(payloads):
            # Equal values of different types (1, 1.0, True) share a slot, as they do in a set.
            for value in (payload[1],) if op in ("=", "!=") else payload:
                index.setdefault(value, []).append(offset)
        group.index = {value: np.array(offsets, dtype=np.intp) for value, offsets in index.items()}
        group.multi = op in ("in", "not_in") and key[2]
    elif op in ("within", "before"):
        group.in_months = np.array([d.unit in ("months", "years") for d in payloads], dtype=bool)
        factor = {"days": 1, "weeks": 7, "months": 1, "years": 12}
        group.amounts = np.array([d.amount * factor[d.unit] for d in payloads], dtype=np.float64)
    elif op == "age_between":
        units = {unit: i for i, unit in enumerate(_AGE_UNITS)}
        group.ages = (
            np.array([units[low.unit] if low else 0 for low, _ in payloads], dtype=np.intp),
            np.array([low.amount if low else -np.inf for low, _ in payloads], dtype=np.float64),
            np.array([units[high.unit] if high else 0 for _, high in payloads], dtype=np.intp),
            np.array([high.amount if high else np.inf for _, high in payloads], dtype=np.float64),
        )
    return group


# --------------------------------------------------------------------------------------------
# Logic nodes, evaluated one level at a time


@dataclass(eq=False)
class _Level:
    start: int
    all_children: np.ndarray  # need every child: min
    all_offsets: np.ndarray
    any_children: np.ndarray  # need one child: max
    any_offsets: np.ndarray
    count_children: np.ndarray  # need some other number: count met and unknown children
    count_offsets: np.ndarray
    count_need: np.ndarray
    not_children: np.ndarray  # 2 - x

    def evaluate(self, values: np.ndarray) -> None:
        at = self.start
        if len(self.all_offsets):
            out = np.minimum.reduceat(values[self.all_children], self.all_offsets)
            values[at : at + len(out)] = out
            at += len(out)
        if len(self.any_offsets):
            out = np.maximum.reduceat(values[self.any_children], self.any_offsets)
            values[at : at + len(out)] = out
            at += len(out)
        if len(self.count_offsets):
            children = values[self.count_children]
            met = np.add.reduceat(children == MET, self.count_offsets)
            possible = np.add.reduceat(children != NOT_MET, self.count_offsets)
            need = self.count_need
            out = np.where(met >= need, MET, np.where(possible < need, NOT_MET, UNKNOWN))
            values[at : at + len(out)] = out
            at += len(out)
        if len(self.not_children):
            values[at : at + len(self.not_children)] = 2 - values[self.not_children]


_KIND_ORDER = {"all": 0, "any": 1, "count": 2, "not": 3}


class _Builder:
    """Hash-conses rules into a graph of distinct nodes, then lays it out as arrays."""

    def __init__(self, catalogue: Mapping[str, QuestionSpec]):
        self.catalogue = catalogue
        # Nodes 0, 1, 2 are the constants NOT_MET, UNKNOWN, MET (so a constant's id is its code).
        self.nodes: list[tuple] = [("const", NOT_MET), ("const", UNKNOWN), ("const", MET)]
        self.ids: dict[Any, int] = {}

    def add(self, key: Any, node: tuple) -> int:
        if key is not None and key in self.ids:
            return self.ids[key]
        self.nodes.append(node)
        if key is not None:
            self.ids[key] = len(self.nodes) - 1
        return len(self.nodes) - 1

    def rule(self, rule: Rule) -> int:
        try:
            return self._rule(rule)
        except Exception:
            # A node the arrays cannot hold: the engine evaluates it on each call and raises what it raises.
            return self.add(None, ("opaque", rule))

    def _rule(self, rule: Rule) -> int:
        if isinstance(rule, Condition):
            try:
                key, payload = _leaf_group(rule, self.catalogue)
            except Exception:
                return self.add(None, ("opaque", rule))
            return self.add(("leaf", key, payload), ("leaf", key, payload, rule))
        if isinstance(rule, Not):
            return self.negate(self.rule(rule.child))
        if isinstance(rule, AllOf):
            return self.group(len(rule.children), [self.rule(child) for child in rule.children])
        if isinstance(rule, AnyOf):
            return self.group(1, [self.rule(child) for child in rule.children])
        if isinstance(rule, AtLeast):
            return self.group(rule.n, [self.rule(child) for child in rule.children])
        # Malformed: the engine raises RuleError for it.
        raise RuleError("not a rule")

    def group(self, need: int, children: list[int]) -> int:
        n = len(children)
        if n == 0:
            return MET if need <= 0 else NOT_MET  # only "all" of nothing holds (or "at_least 0")
        if need == n:
            kind, children = "all", sorted(set(children))
        elif need == 1:
            kind, children = "any", sorted(set(children))
        else:
            kind, children = "count", sorted(children)  # duplicates count twice, as in the engine
        if kind != "count" and len(children) == 1:
            return children[0]
        key = (kind, need if kind == "count" else 0, tuple(children))
        return self.add(key, key)

    def negate(self, node: int) -> int:
        kind = self.nodes[node][0]
        if kind == "const":
            return 2 - node
        if kind == "not":
            return self.nodes[node][1]
        key = ("not", node)
        return self.add(key, key)

    def finish(self, trials: tuple, catalogue: Mapping, per_trial: list[list[int]]) -> CompiledCatalogue:
        nodes = self.nodes
        criteria = np.fromiter(itertools.chain.from_iterable(per_trial), dtype=np.intp)
        # Only the nodes these trials reach are laid out: a Compiler's graph also holds the nodes of
        # trials since edited or left out of this set.
        live = np.zeros(len(nodes), dtype=bool)
        live[:3] = True
        live[criteria] = True
        for i in range(len(nodes) - 1, 2, -1):  # parents always come after their children
            if live[i]:
                node = nodes[i]
                if node[0] in ("all", "any", "count"):
                    live[list(node[2])] = True
                elif node[0] == "not":
                    live[node[1]] = True

        level = [0] * len(nodes)
        for i, node in enumerate(nodes):
            if node[0] in ("all", "any", "count"):
                level[i] = 1 + max(level[c] for c in node[2])
            elif node[0] == "not":
                level[i] = 1 + level[node[1]]

        leaf_ids: dict[tuple, list[int]] = {}
        opaque = []
        inner = []
        for i in np.flatnonzero(live).tolist():
            node = nodes[i]
            if node[0] == "leaf":
                leaf_ids.setdefault(node[1], []).append(i)
            elif node[0] == "opaque":
                opaque.append(i)
            elif node[0] != "const":
                inner.append(i)
        inner.sort(key=lambda i: (level[i], _KIND_ORDER[nodes[i][0]]))
        order = [0, 1, 2] + [i for ids in leaf_ids.values() for i in ids] + opaque + inner
        new = np.empty(len(nodes), dtype=np.intp)
        new[order] = np.arange(len(order))

        groups = []
        at = 3
        for key, ids in leaf_ids.items():
            groups.append(_build_leaves(key, at, [nodes[i][2] for i in ids], [nodes[i][3] for i in ids]))
            at += len(ids)
        opaque_rules = tuple((int(new[i]), nodes[i][1]) for i in opaque)

        levels = []
        at += len(opaque)
        for lvl in sorted({level[i] for i in inner}):
            members = [i for i in inner if level[i] == lvl]
            parts = {kind: [nodes[i] for i in members if nodes[i][0] == kind] for kind in _KIND_ORDER}
            levels.append(
                _Level(
                    at,
                    *_children(parts["all"], new),
                    *_children(parts["any"], new),
                    *_children(parts["count"], new),
                    np.array([node[1] for node in parts["count"]], dtype=np.int64),
                    new[np.array([node[1] for node in parts["not"]], dtype=np.intp)],
                )
            )
            at += len(members)

        starts = np.cumsum([0] + [len(nodes_) for nodes_ in per_trial[:-1]], dtype=np.intp)
        return CompiledCatalogue(
            trials=trials,
            catalogue=catalogue,
            _size=len(order),
            _groups=tuple(groups),
            _opaque=opaque_rules,
            _levels=tuple(levels),
            _criteria=new[criteria],
            _starts=starts,
            _ruled=np.array(
                [c is not None and c.rule is not None for t in trials for c in t.criteria or [None]], dtype=bool
            ),
        )


def _children(group_nodes: list[tuple], new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated (renumbered) children of `group_nodes` and where each node's children start."""
    flat = [c for node in group_nodes for c in node[2]]
    offsets = np.cumsum([0] + [len(node[2]) for node in group_nodes[:-1]], dtype=np.intp)
    return new[np.array(flat, dtype=np.intp)], offsets if group_nodes else np.array([], dtype=np.intp)
