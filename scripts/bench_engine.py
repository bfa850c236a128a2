"""Benchmark: screen one patient against 10,000 generated trials x 15 criteria.

Not a test. Compiles the catalogue once (eligibility.compiled), then times the verdict pass for a
few patients and prints p50/p95/max, times the full explanations (engine.evaluate) for the 20
trials a results page shows, and checks once that the verdicts equal the interpretive engine's.

Baselines, measured in the same run: the interpretive engine on every trial (once), and a maintained JsonLogic
library (datalogic-py) evaluating the same rules translated to JsonLogic (scripts/jsonlogic_rules.py), each
trial compiled once, for every patient; its verdicts are checked against the compiled engine's.

    .venv/bin/python scripts/bench_engine.py [--trials 10000] [--runs 200] [--varied]

Target: verdicts for all trials at p50 <= 10 ms on the 2-core development machine.
"""

import argparse
import json
import random
import statistics
import sys
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import jsonlogic_rules  # noqa: E402
from datalogic_py import DataHandle, Engine  # noqa: E402

from eligibility import engine, pipeline  # noqa: E402
from eligibility.answers import to_json  # noqa: E402
from eligibility.compiled import Compiler  # noqa: E402
from eligibility.engine import EXCLUSION, INCLUSION, CriterionSpec, QuestionSpec, TrialRules, Verdict  # noqa: E402

AS_OF = date(2024, 6, 1)
CRITERIA_PER_TRIAL = 15
SHOWN = 20

FLAGS = [
    "diabetic_ketoacidosis",
    "diabetic_retinopathy",
    "hiv",
    "hepatitis_b",
    "hepatitis_c",
    "active_infection",
    "malignancy",
    "severe_psychiatric_disorder",
    "mental_disorder",
    "other_fatal_disease",
    "severe_organ_damage",
    "effective_treatment_available",
    "renal_impairment",
    "autoimmune_hepatitis",
    "recurrent_infections",
]
ORGAN_DAMAGE = [
    "inflammatory_bowel_disease",
    "renal_impairment",
    "recurrent_infections",
    "autoimmune_hepatitis",
    "chronic_iridocyclitis",
    "autoimmune_adrenalitis",
    "hypophysitis",
    "rheumatoid_disease",
    "immune_vasculitis",
    "sle",
]


def load_catalogue() -> dict[str, QuestionSpec]:
    rows = json.loads((ROOT / "trials" / "seed" / "questions.json").read_text())
    return {r["code"]: QuestionSpec.from_row(r) for r in rows}


def eq(q, value=True):
    return {"q": q, "op": "=", "value": value}


class Pick:
    """Random choices for the templates: from short realistic lists, or (varied) from wide ranges,
    which makes almost every threshold distinct and so defeats the sharing of compiled nodes."""

    def __init__(self, rng: random.Random, varied: bool):
        self.rng, self.varied = rng, varied

    def number(self, usual, low, high, step):
        if self.varied:
            return round(low + step * self.rng.randint(0, int((high - low) / step)), 2)
        return self.rng.choice(usual)

    def duration(self, usual):
        if self.varied:
            unit = self.rng.choice(["days", "weeks", "months", "years"])
            return f"{self.rng.randint(1, {'days': 365, 'weeks': 104, 'months': 60, 'years': 20}[unit])} {unit}"
        return self.rng.choice(usual)

    def age(self, usual, low, high):
        if self.varied and self.rng.random() < 0.9:
            return f"{self.rng.randint(low, high)} years"
        return self.rng.choice(usual)


# Criterion templates, each a function of a Pick returning a rule.
def age_range(p):
    low = p.age(
        [None, "1 year", "3 years", "6 years", "12 years", "18 years", "18 years", "21 years", "6 months"], 1, 30
    )
    high = p.age([None, "17 years", "18 years", "35 years", "45 years", "65 years", "70 years", "75 years"], 30, 90)
    bounds = {k: v for k, v in (("min", low), ("max", high)) if v} or {"min": "18 years"}
    return {"q": "age", "op": "age_between", "value": bounds}


INCLUSIONS = [
    lambda p: p.rng.choice([{"all": []}, {"q": "sex", "op": "in", "value": [p.rng.choice(["female", "male"])]}]),
    lambda p: eq("t1d_diagnosis"),
    lambda p: {
        "all": [
            eq("t1d_diagnosis"),
            {
                "q": "t1d_diagnosis_date",
                "op": "within",
                "value": p.duration(
                    ["9 weeks", "12 weeks", "100 days", "3 months", "6 months", "1 year", "2 years", "5 years"]
                ),
            },
        ]
    },
    lambda p: {
        "q": "hba1c",
        "op": "between",
        "value": [p.number([6.5, 7, 7.5, 8], 5, 8, 0.1), p.number([9, 10, 10.5, 11, 12], 8.5, 14, 0.1)],
    },
    lambda p: {
        "q": "bmi",
        "op": "between",
        "value": [p.number([16, 18, 18.5], 14, 20, 0.1), p.number([27, 30, 32, 35, 40], 25, 45, 0.1)],
    },
    lambda p: {"q": "c_peptide", "op": ">=", "value": p.number([0.1, 0.2, 0.3, 0.5], 0.05, 1, 0.01)},
    lambda p: {"q": "fasting_glucose", "op": "<", "value": p.number([180, 200, 250, 270], 126, 360, 1)},
    lambda p: eq("consent_possible"),
    lambda p: {"at_least": 1, "of": [eq(q) for q in p.rng.sample(ORGAN_DAMAGE, p.rng.randint(2, 6))]},
    lambda p: eq("immune_gene_mutation"),
]
EXCLUSIONS = [
    lambda p: eq(p.rng.choice(FLAGS)),
    lambda p: eq(p.rng.choice(FLAGS)),
    lambda p: {"any": [eq(q) for q in p.rng.sample(FLAGS, p.rng.randint(2, 4))]},
    lambda p: {"q": "bmi", "op": ">", "value": p.number([25, 27.5, 30, 32, 35, 40], 25, 45, 0.1)},
    lambda p: {"q": "hba1c", "op": ">", "value": p.number([10, 11, 12, 13], 8, 15, 0.1)},
    lambda p: {"q": "t1d_diagnosis_date", "op": "before", "value": p.duration(["1 year", "2 years", "10 years"])},
    lambda p: {"all": [eq("hiv"), {"not": eq("active_infection", False)}]},
]


def generate_trials(n: int, varied: bool = False, seed: int = 20240601) -> list[TrialRules]:
    """A deterministic catalogue of n trials x 15 criteria; about 1 criterion in 10 needs review."""
    rng = random.Random(seed)
    pick = Pick(rng, varied)
    trials = []
    for t in range(n):
        n_inclusions = rng.randint(5, 8)
        kinds = [INCLUSION] * n_inclusions + [EXCLUSION] * (CRITERIA_PER_TRIAL - n_inclusions)
        rules = [age_range(pick)]
        rules += [rng.choice(INCLUSIONS)(pick) for _ in range(n_inclusions - 1)]
        rules += [rng.choice(EXCLUSIONS)(pick) for _ in range(CRITERIA_PER_TRIAL - n_inclusions)]
        criteria = tuple(
            CriterionSpec(str(i), kind, f"criterion {i}", None if rng.random() < 0.1 else rule)
            for i, (kind, rule) in enumerate(zip(kinds, rules))
        )
        trials.append(TrialRules(f"NCT{t:08d}", f"Generated trial {t}", criteria, version=1))
    return trials


NO_FLAGS = {q: False for q in FLAGS + ORGAN_DAMAGE}
PATIENTS = {
    "new adult, all answered": {
        "date_of_birth": date(1998, 2, 14),
        "sex": "female",
        "t1d_diagnosis": True,
        "t1d_diagnosis_date": AS_OF - timedelta(weeks=5),
        "height": 168,
        "weight": 61,
        "hba1c": 8.1,
        "c_peptide": 0.4,
        "fasting_glucose": 166,  # mg/dL, the catalogue's unit (9.2 mmol/L)
        "consent_possible": True,
        "immune_gene_mutation": False,
        **NO_FLAGS,
        "sle": True,
    },
    "child, age entered, half answered": {
        "age": 10,
        "sex": "male",
        "t1d_diagnosis": True,
        "t1d_diagnosis_date": date(2023, 11, 3),
        "hiv": False,
        "hepatitis_b": False,
        "bmi": 17.2,
    },
    "nothing answered": {},
}


def ms(ns: float) -> float:
    return ns / 1e6


def percentiles(samples_ns: list[int]) -> str:
    ordered = sorted(samples_ns)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {ms(p50):7.2f} ms   p95 {ms(p95):7.2f} ms   max {ms(ordered[-1]):7.2f} ms"


def timed(fn, runs: int) -> tuple[list[int], object]:
    result = None
    for _ in range(min(5, runs)):  # warm-up
        result = fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        result = fn()
        samples.append(time.perf_counter_ns() - start)
    return samples, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--varied", action="store_true", help="wide-ranging thresholds: little sharing of rules")
    args = parser.parse_args()

    catalogue = load_catalogue()
    start = time.perf_counter()
    trials = generate_trials(args.trials, args.varied)
    kind = ", varied thresholds" if args.varied else ""
    print(
        f"generated {len(trials):,} trials x {CRITERIA_PER_TRIAL} criteria "
        f"({len(trials) * CRITERIA_PER_TRIAL:,} criteria{kind}) in {time.perf_counter() - start:.2f} s"
    )

    start = time.perf_counter()
    compiler = Compiler(catalogue)
    compiled = compiler.compile(trials)
    leaves = sum(g.stop - g.start for g in compiled._groups)
    print(
        f"compiled once in {time.perf_counter() - start:.2f} s: {compiled._size:,} distinct nodes "
        f"({leaves} comparisons in {len(compiled._groups)} question/operator groups, "
        f"{len(compiled._levels)} logic levels)"
    )
    # One trial edited (its criteria reordered, its version bumped): the compiler recompiles that trial only.
    edited = list(trials)
    one = edited[len(edited) // 2]
    edited[len(edited) // 2] = replace(one, criteria=one.criteria[::-1], version=one.version + 1)
    start = time.perf_counter()
    compiler.compile(edited)
    print(f"recompiled after one trial's edit in {(time.perf_counter() - start) * 1000:.1f} ms")

    # The JsonLogic baseline: every trial as one expression, compiled once by the library.
    start = time.perf_counter()
    jl_engine = Engine()
    jl_rules = [jl_engine.compile(jsonlogic_rules.trial(t, catalogue)) for t in trials]
    print(
        f"JsonLogic (datalogic-py): translated and compiled {len(jl_rules):,} trials in {time.perf_counter() - start:.2f} s"
    )
    jl_runs = max(3, args.runs // 50)
    verdict_of = jsonlogic_rules.VERDICTS

    def jsonlogic_verdicts(answers):
        # The variables (dates as numbers, age ranges) are computed per patient: part of the timed path.
        data = DataHandle(jsonlogic_rules.data(answers, AS_OF))
        with jl_engine.session() as session:
            return [verdict_of[session.evaluate_float(rule, data)] for rule in jl_rules]

    print()

    ratios = []
    for name, answers in PATIENTS.items():
        samples, verdicts = timed(lambda answers=answers: compiled.verdicts(answers, AS_OF), args.runs)
        counts = {v.value: verdicts.count(v) for v in Verdict}
        print(f"patient: {name}")
        print(f"  verdicts, all {len(trials):,} trials ({args.runs} runs):  {percentiles(samples)}")
        print(f"  -> {counts}")

        jl_samples, jl_verdicts = timed(lambda answers=answers: jsonlogic_verdicts(answers), jl_runs)
        agree = sum(a == b for a, b in zip(jl_verdicts, verdicts))
        ratio = statistics.median(jl_samples) / statistics.median(samples)
        ratios.append(ratio)
        print(
            f"  JsonLogic verdicts, all trials ({jl_runs} runs):   {percentiles(jl_samples)}   ({ratio:,.0f}x slower)"
        )
        print(f"  -> verdicts agree on {agree:,} of {len(trials):,} trials")

        # The page shows eligible trials first, then undetermined ones; only those are explained.
        order = sorted(
            range(len(trials)), key=lambda i: (verdicts[i] != Verdict.ELIGIBLE, verdicts[i] != Verdict.UNDETERMINED)
        )
        shown = order[:SHOWN]
        samples, results = timed(
            lambda shown=shown, answers=answers: compiled.explain(shown, answers, AS_OF), max(20, args.runs // 4)
        )
        assert [r.verdict for r in results] == [verdicts[i] for i in shown]
        print(f"  explanations, {len(shown)} trials shown:       {percentiles(samples)}")
        print()

    name, answers = next(iter(PATIENTS.items()))
    start = time.perf_counter()
    expected = [engine.evaluate(t, answers, AS_OF, catalogue).verdict for t in trials]
    elapsed = time.perf_counter() - start
    same = expected == compiled.verdicts(answers, AS_OF)
    print(
        f"check: interpretive engine on all {len(trials):,} trials took {elapsed * 1000:.0f} ms once "
        f"for '{name}'; verdicts {'identical' if same else 'DIFFERENT'}"
    )
    if not same:
        sys.exit(1)

    # The one pipeline every caller uses: raw JSON answers in, every verdict (compiled, cached per set of trial
    # versions) and the explanations of the trials a page shows. The baseline is the path the questionnaire took
    # before the pipeline: the interpretive engine on every trial, timed just above in this same run.
    raw = to_json(answers)
    shown_ids = [t.nct_id for t in trials[:SHOWN]]

    def screen_once():
        return pipeline.screen(catalogue=catalogue, trials=trials, as_of=AS_OF, answers=raw, explain=shown_ids)

    screened = screen_once()  # compiles once; later calls hit the cache
    assert [v.verdict for v in screened.verdicts] == expected
    samples, _ = timed(screen_once, max(10, args.runs // 10))
    p50 = statistics.median(samples) / 1e6
    print(
        f"pipeline: parse + all {len(trials):,} verdicts + {SHOWN} explanations: {percentiles(samples)}; "
        f"{elapsed * 1000 / p50:,.0f}x faster than the interpretive engine on every trial"
    )

    compiled_p50, _ = timed(lambda: compiled.verdicts(answers, AS_OF), args.runs)
    compiled_ms = statistics.median(compiled_p50) / 1e6
    print()
    print("ratios (p50):")
    print(
        f"  compiled verdicts vs JsonLogic (datalogic-py): {min(ratios):,.0f}x to {max(ratios):,.0f}x faster "
        f"over the {len(ratios)} patients"
    )
    print(f"  compiled verdicts vs interpretive engine:      {elapsed * 1000 / compiled_ms:,.0f}x faster ('{name}')")
    print(f"  pipeline vs interpretive engine:               {elapsed * 1000 / p50:,.0f}x faster ('{name}')")


if __name__ == "__main__":
    main()
