"""One patient screened against a set of trials: the one pipeline every caller uses. No Django imports.

    raw answers and/or a FHIR Bundle → typed answers (answers override the record) → contradictions (reported on
    every question involved, and taken out of what the engine sees) → verdicts (compiled engine, every trial) →
    explanations (interpretive engine, only the trials asked for)

Callers (the questionnaire, the JSON API, `manage.py screen`, curation's example patients) only read their
own input format and render the result; screening.pipeline.screen loads what this module needs from the
database. Problems are data with a stable code and a message, as Django's validators do; they are all
collected, and a result with problems still carries whatever could be read.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from . import contradictions
from .answers import AnswerError, parse_answers
from .compiled import CompiledCatalogue, Compiler
from .engine import QuestionSpec, TrialResult, TrialRules, Verdict
from .fhir import CodeRule, FhirError, FhirResult, answers_from_bundle, overlay

# Where a problem was found: the parts of the input, as the API names its fields.
ANSWERS = "answers"
FHIR = "fhir"
BOTH = "fhir and answers"  # each part was fine alone; together they contradict each other
INPUT = ""  # the input as a whole


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input. `code` is stable (FhirError codes, "answer" for an answer that does not
    parse, "inconsistent" for answers that contradict each other, "no_input"); `message` is for people."""

    source: str  # ANSWERS, FHIR, BOTH or INPUT
    code: str
    message: str
    # The question codes involved: one for an answer that does not read, every one of them for a contradiction.
    questions: tuple[str, ...] = ()

    @property
    def question(self) -> str:
        return self.questions[0] if self.questions else ""

    def __str__(self) -> str:
        return f"{self.source}: {self.message}" if self.source else self.message


class TrialVerdict(NamedTuple):
    # A named tuple rather than a frozen dataclass: one is made per trial on every keystroke, for thousands of
    # trials, and a frozen dataclass costs several times more to make.
    nct_id: str
    title: str
    version: int
    verdict: Verdict


@dataclass(frozen=True)
class Screened:
    """What the pipeline made of one patient's input."""

    as_of: date
    # Typed, the record overlaid by the given answers, without contradicted answers: what the engine screened on.
    answers: Mapping[str, Any]
    record: FhirResult | None  # what the Bundle said, with each answer's source (None without a Bundle)
    problems: tuple[Problem, ...]
    verdicts: tuple[TrialVerdict, ...]  # every trial, in the order given (empty when there are problems)
    explained: Mapping[str, TrialResult]  # nct_id → full result, only for the trials asked to explain
    # nct_id → the questions that could still decide it, for every undetermined trial (only when asked: missing=True)
    missing: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Answers that contradict each other (each is also a problem, code "inconsistent"); left out of `answers`.
    contradictions: tuple[contradictions.Contradiction, ...] = ()

    @property
    def contradicted(self) -> frozenset[str]:
        """Every question a contradiction involves."""
        return contradictions.contradicted(self.contradictions)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def results(self) -> list[TrialResult]:
        """The explained trials' results, in the order the trials were given."""
        return [self.explained[v.nct_id] for v in self.verdicts if v.nct_id in self.explained]

    def verdict_of(self, nct_id: str) -> Verdict | None:
        return next((v.verdict for v in self.verdicts if v.nct_id == nct_id), None)


EVERY = "every"  # explain=EVERY: explain every trial


def screen(
    *,
    catalogue: Mapping[str, QuestionSpec],
    trials: Sequence[TrialRules],
    as_of: date,
    answers: Any = None,
    bundle: Any = None,
    mappings: Iterable[CodeRule | Mapping[str, Any]] = (),
    explain: Iterable[str] | str = EVERY,
    screen_with_problems: bool = False,
    missing: bool = False,
) -> Screened:
    """Screen one patient: `answers` (question code → raw JSON value; null clears what the record says) and/or a
    FHIR `bundle` (already decoded JSON) read with the `mappings` table, against `trials` on `as_of`.

    `explain` names the trials (NCT ids) to explain criterion by criterion, or EVERY. With problems nothing is
    screened, unless `screen_with_problems` (the questionnaire's live panel screens what is valid so far). Answers
    that contradict each other (eligibility.contradictions) are problems, and are never screened on: criteria that
    read them are unknown.
    """
    problems: list[Problem] = []
    record = None
    typed: dict[str, Any] = {}
    if bundle is not None:
        try:
            record = answers_from_bundle(bundle, mappings, as_of, catalogue)
            typed = dict(record.answers)
        except FhirError as exc:
            problems.append(Problem(FHIR, exc.code, str(exc)))
    given: dict[str, Any] = {}
    if answers is not None:
        given, errors = parse_answers(answers, catalogue, as_of, consistency=False)
        problems += [_answer_problem(ANSWERS, e) for e in errors]
        typed = overlay(typed, answers, given)
    # Checked on what was read (an answer that does not read is a problem of its own, and not screened either).
    conflicts = tuple(contradictions.find(typed, catalogue, as_of))
    for c in conflicts:
        # Where the contradicting values came from: the answers, the record, or one from each.
        sources = {ANSWERS if code in given else FHIR for code in c.questions if code in typed}
        source = BOTH if len(sources) > 1 else sources.pop() if sources else ANSWERS
        problems.append(Problem(source, "inconsistent", str(c), c.questions))
    typed = contradictions.resolve(typed, conflicts)

    verdicts: tuple[TrialVerdict, ...] = ()
    explained: dict[str, TrialResult] = {}
    open_questions: dict[str, tuple[str, ...]] = {}
    if not problems or screen_with_problems:
        trials = tuple(trials)
        if trials:
            # Verdicts for every trial from the arrays; the trials shown are explained by the interpretive engine
            # (the compiled catalogue's explain), whose verdicts are the same (tests/test_engine_properties.py).
            ordered = compiled(trials, catalogue)
            found = ordered.verdicts(typed, as_of)
            verdicts = tuple(TrialVerdict(t.nct_id, t.title, t.version, v) for t, v in zip(trials, found))
            wanted = None if explain == EVERY else set(explain)
            shown = [i for i, t in enumerate(trials) if wanted is None or t.nct_id in wanted]
            words = contradictions.contradicted(conflicts)
            # Explained with the catalogue given (its labels in the reader's language); verdicts use none of them.
            explained = {
                trials[i].nct_id: r for i, r in zip(shown, ordered.explain(shown, typed, as_of, words, catalogue))
            }
            if missing:
                undetermined = [i for i, v in enumerate(found) if v == Verdict.UNDETERMINED]
                open_questions = {
                    trials[i].nct_id: m for i, m in zip(undetermined, ordered.missing(undetermined, typed, as_of))
                }
    return Screened(as_of, typed, record, tuple(problems), verdicts, explained, open_questions, conflicts)


def _answer_problem(source: str, error: AnswerError, code: str = "answer") -> Problem:
    return Problem(source, code, str(error), (error.code,) if error.code else ())


# --------------------------------------------------------------------------------------------
# Compiled catalogues, cached per set of trial versions

_CACHE_SIZE = 16  # distinct trial sets (a screening's trials, all open trials, ...) kept compiled
_compiled: OrderedDict[tuple, tuple[CompiledCatalogue, dict[str, int]]] = OrderedDict()
_compiled_lock = threading.Lock()
# One incremental compiler per question catalogue: a trial set that differs from an earlier one by an edited,
# added or removed trial recompiles only that trial's rules. Compiles take turns, as a compiler is not thread-safe.
_COMPILERS = 4
_compilers: OrderedDict[int, Compiler] = OrderedDict()
_compile_lock = threading.Lock()


# The fast path: the same trial objects, in the same order, as a recent call. The database's loaders hand out the
# same objects until something changes, so a keystroke costs one tuple of ids instead of a key of every (nct_id,
# version) and a comparison of every trial. Each entry keeps its trials alive, so their ids cannot be reused by other
# objects while it is cached.
_by_identity: OrderedDict[tuple, tuple[tuple[TrialRules, ...], _Ordered]] = OrderedDict()


def compiled(trials: Sequence[TrialRules], catalogue: Mapping[str, QuestionSpec]) -> _Ordered:
    """The compiled catalogue for these trials, in their order (see _compiled_by_versions)."""
    fingerprint = _fingerprint(catalogue)
    identity = (fingerprint, *map(id, trials))
    with _compiled_lock:
        entry = _by_identity.get(identity)
        if entry is not None:
            _by_identity.move_to_end(identity)
            return entry[1]
    ordered = _compiled_by_versions(trials, catalogue, fingerprint)
    with _compiled_lock:
        _by_identity[identity] = (tuple(trials), ordered)
        while len(_by_identity) > _CACHE_SIZE:
            _by_identity.popitem(last=False)
    return ordered


def _compiled_by_versions(
    trials: Sequence[TrialRules], catalogue: Mapping[str, QuestionSpec], fingerprint: int
) -> _Ordered:
    """The compiled catalogue for these trials, compiled once per set of (nct_id, criteria_version).

    The question catalogue is part of the key too: a question's type or range changes how a rule compiles.
    Rules built by hand (tests, scripts) may all say version 0, so a hit is also checked to hold the same rules:
    the database's loaders hand out the same objects each time, which compare by identity, at no cost.
    A miss recompiles only the trials the catalogue's compiler has not seen in this version (see Compiler).
    """
    key = (frozenset((t.nct_id, t.version) for t in trials), fingerprint)
    with _compiled_lock:
        hit = _compiled.get(key)
        if hit is not None:
            _compiled.move_to_end(key)
    if hit is not None and any((c := hit[0].trials[hit[1][t.nct_id]]) is not t and c != t for t in trials):
        hit = None
    if hit is None:
        ordered = sorted(trials, key=lambda t: t.nct_id)
        with _compile_lock:
            compiler = _compilers.get(fingerprint)
            if compiler is None:
                compiler = _compilers[fingerprint] = Compiler(catalogue)
                while len(_compilers) > _COMPILERS:
                    _compilers.popitem(last=False)
            _compilers.move_to_end(fingerprint)
            hit = (compiler.compile(ordered), {t.nct_id: i for i, t in enumerate(ordered)})
        with _compiled_lock:
            _compiled[key] = hit
            while len(_compiled) > _CACHE_SIZE:
                _compiled.popitem(last=False)
    return _Ordered(hit[0], [hit[1][t.nct_id] for t in trials])


@dataclass(frozen=True)
class _Ordered:
    """A cached compiled catalogue read in the caller's order of trials."""

    catalogue: CompiledCatalogue
    order: list[int]

    def verdicts(self, answers: Mapping[str, Any], as_of: date) -> list[Verdict]:
        every = self.catalogue.verdicts(answers, as_of)
        return [every[i] for i in self.order]

    def explain(
        self,
        positions: Sequence[int],
        answers: Mapping[str, Any],
        as_of: date,
        contradicted: frozenset[str] = frozenset(),
        catalogue: Mapping[str, QuestionSpec] | None = None,
    ) -> list[TrialResult]:
        """engine.evaluate's full results for the trials at these positions of the caller's order, worded with
        `catalogue` (the question catalogue in the reader's language; default: the one compiled with)."""
        return self.catalogue.explain([self.order[i] for i in positions], answers, as_of, contradicted, catalogue)

    def missing(self, positions: Sequence[int], answers: Mapping[str, Any], as_of: date) -> list[tuple[str, ...]]:
        return self.catalogue.missing([self.order[i] for i in positions], answers, as_of)


# The last catalogues fingerprinted, by identity (each entry keeps its catalogue alive, so the id is not reused):
# the database's loaders hand out the same catalogue object until something changes.
_fingerprints: OrderedDict[int, tuple[Mapping[str, QuestionSpec], int]] = OrderedDict()


def _fingerprint(catalogue: Mapping[str, QuestionSpec]) -> int:
    """A hash of what in the catalogue changes how rules compile or decide: codes, types, units, ranges and choice
    values. Not the texts people read (labels, names, choice labels, in one language or another): the same
    catalogue in English and in Chinese shares one compiled catalogue, and explanations are worded with the
    catalogue the caller passes (see screen)."""
    with _compiled_lock:
        hit = _fingerprints.get(id(catalogue))
        if hit is not None and hit[0] is catalogue:
            return hit[1]
    fingerprint = hash(
        frozenset(
            (code, q.type, q.unit, q.min_value, q.max_value, tuple(value for value, _ in q.choices))
            + (q.freshness_days, q.child_freshness_days)
            for code, q in catalogue.items()
        )
    )
    with _compiled_lock:
        _fingerprints[id(catalogue)] = (catalogue, fingerprint)
        while len(_fingerprints) > _CACHE_SIZE:
            _fingerprints.popitem(last=False)
    return fingerprint


def clear_cache() -> None:
    with _compiled_lock:
        _compiled.clear()
        _by_identity.clear()
        _fingerprints.clear()
    with _compile_lock:
        _compilers.clear()
