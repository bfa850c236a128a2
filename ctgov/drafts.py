"""Draft rules for protocol criteria, and how well they do on hand-labelled ones. No Django imports.

Drafts favour precision over recall: a wrong draft is worse than none, so a pattern only yields a
draft when the *whole* criterion says nothing but that pattern (see `draft_rule`). Drafters build rule
nodes (eligibility.nodes); `draft_rule` checks them against the catalogue once and gives their JSON.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from eligibility.engine import EXCLUSION, INCLUSION, QuestionSpec
from eligibility.nodes import AllOf, AnyOf, Condition, Not, Rule, freeze, to_json
from eligibility.rules import validate_rule
from eligibility.vocabulary import hba1c_percent

# --- Draft rules ---------------------------------------------------------------------------------
#
# Each drafter reads a normalised criterion as tokens: recognised phrases become "@" tokens (a
# measure, a unit, a comparison, a disease), and every other word must be a harmless filler
# ("patients with", "known", "at screening"). One word the drafter does not know ("unless",
# "partner", "history of" a hepatitis, "weight") and there is no draft: that is how precision is kept.


def draft_rule(
    text: str, kind: str, catalogue: Mapping[str, QuestionSpec], section: str = "", conditions: Iterable[str] = ()
) -> dict | None:
    """A draft rule for one protocol criterion, or None when it needs a person to read it.

    Drafted, when the whole criterion is the pattern and nothing else:
      * age ranges ("Aged 18-65 years", "≥ 18 years of age", "Age < 18"), with a sex if stated
        ("Men aged 40 to 70 years");
      * BMI, HbA1c and fasting glucose thresholds and ranges, converted to the catalogue's unit
        (HbA1c mmol/mol -> %, glucose mmol/L -> mg/dL); "BMI > 35 kg/m2", "HbA1c 7.0%-10.5%";
      * HIV / hepatitis B / hepatitis C exclusions, as any of the yes/no questions;
      * pregnancy and breastfeeding, guarded by sex so a man is never asked;
      * active malignancy (not in cancer trials, where it means "another" malignancy);
      * time since a type 1 diabetes diagnosis.
    Never drafted: "older than 18" / "> 18 years" (some protocols mean 18, some 19), hepatitis
    "history" (a cleared infection is not a current one), criteria about a partner or donor, and
    anything with a qualifier the pattern does not know ("unless", "except", "planning to become").
    A draft the catalogue rejects (a question missing, a value out of range) is dropped.
    """
    if _ABOUT_SOMEONE_ELSE.search(section or ""):
        return None
    clean = _normalise(text)
    if not clean or len(clean) > 250 or re.search(r"[*†‡#]", clean):
        return None  # long enough to say more than one thing, or pointing at a footnote
    for drafter in (_draft_age, _draft_measure, _draft_viral, _draft_pregnancy, _draft_malignancy, _draft_t1d_duration):
        rule = drafter(clean, kind, catalogue, tuple(conditions))
        if rule is not None:
            return None if validate_rule(rule, catalogue) else to_json(rule)
    return None


_ABOUT_SOMEONE_ELSE = re.compile(r"\b(partners?|donors?|spouses?|caregivers?|carers?)\b", re.I)
_ONCOLOGY = re.compile(
    r"cancer|carcinoma|tumou?r|neoplas|malignan|leuka?emia|lymphoma|myeloma|sarcoma|melanoma|nsclc|"
    r"glioma|blastoma|metasta|myelodysplas|oncolog",
    re.I,
)


def _normalise(text: str) -> str:
    """Lower case, markdown and HTML escapes undone, comparison signs and decimals made uniform."""
    t = html.unescape(text or "")
    t = re.sub(r"\\(.)", r"\1", t)  # markdown escapes: "\>" -> ">"
    t = unicodedata.normalize("NFKC", t)  # full-width signs and digits, "m²" -> "m2"
    for old, new in (
        ("≥", " >= "),
        ("⩾", " >= "),
        ("≤", " <= "),
        ("⩽", " <= "),
        ("–", "-"),
        ("—", "-"),
        ("~", "-"),
        ("’", "'"),
        ("\n", " "),
    ):
        t = t.replace(old, new)
    t = t.lower()
    t = re.sub(r">\s*/\s*=|>\s*or\s*=|=\s*>", " >= ", t)
    t = re.sub(r"<\s*/\s*=|=\s*/\s*<|<\s*or\s*=|=\s*<", " <= ", t)
    t = re.sub(r"(\d),(\d)(?!\d)", r"\1.\2", t)  # "18,5" is a decimal
    t = re.sub(r"\s+", " ", t)
    return t.strip(" .;,:")


def _tokens(text: str, subs: list[tuple[str, str]]) -> list[str]:
    for pattern, token in subs:
        text = re.sub(pattern, f" {token} ", text)
    return re.findall(r"@\w+|\d+(?:\.\d+)?|[a-z]+(?:'[a-z]+)?|[<>]=?|[=+%]", text)


def _phrases(*pairs: tuple[str, str]) -> list[tuple[str, str]]:
    # Letters may not touch a phrase ("hiv" is not in "archive"); digits may ("35kg/m2", "12%").
    return [(rf"(?<![a-z@])(?:{pattern})(?![a-z])", token) for pattern, token in pairs]


_COMPARISONS = _phrases(
    (
        r"greater than or equal to|more than or equal to|higher than or equal to|higher or equal (?:to|than)|"
        r"equal to or (?:greater|higher|more|older)(?: than)?|older (?:than )?or equal to|above/equal|at least|"
        r"not less than|no less than|not younger than",
        "@ge",
    ),
    (
        r"less than or equal to|lower than or equal to|lower or equal (?:to|than)|"
        r"equal to or (?:less|lower|younger)(?: than)?|younger (?:than )?or equal to|below/equal|at most|"
        r"not more than|no more than|not greater than|not older than|not exceeding|up to",
        "@le",
    ),
    (r"or (?:older|more|higher|above|greater|over)|and (?:older|above|over|higher|more)", "@orabove"),
    (r"or (?:younger|less|lower|below|under)|and (?:younger|below|under)", "@orbelow"),
    (r"greater than|more than|higher than|older than|above|over|exceeds|exceeding|in excess of", "@gt"),
    (r"less than|lower than|younger than|below|under", "@lt"),
    (r"between|ranging from|range of|from", "@between"),
    (r"and|to|through", "@and"),
) + [
    (r">=", " @ge "),
    (r"<=", " @le "),
    (r">", " @gt "),
    (r"<", " @lt "),
    (r"(?<=\d)\s*\+", " @orabove "),
    (r"(?<=\d)\s*-\s*(?=\d|@lt|@le|<)", " @and "),
]

_SHAPE = {
    "@ge": "G",
    "@gt": "g",
    "@le": "L",
    "@lt": "l",
    "@orabove": "P",
    "@orbelow": "Q",
    "@between": "B",
    "@and": "A",
}
_OPS = {"G": ">=", "g": ">", "L": "<=", "l": "<", "P": ">=", "Q": "<="}

# Filler words an age or threshold criterion may carry without changing what it says.
_AGE_FILLERS = frozenset(
    """
    a an the of is are be been being should must have has who patient patients subject subjects participant
    participants people persons individuals adult adults inclusive included including both critical cut off
    value old range ranging in with
""".split()
)
# A lab threshold may also name the condition it measures: "Uncontrolled diabetes (HbA1c > 12%)".
_MEASURE_FILLERS = _AGE_FILLERS | frozenset(
    """
    whose within level levels result results currently current diabetic diabetics uncontrolled poorly controlled
    diabetes mellitus dm defined as by measured central laboratory
""".split()
)

# When a value is taken ("at screening", "within 3 months prior to enrollment"): the clinician enters
# the current value, so the timing adds nothing the rule could check.
_TIMING = (
    r"\bwithin (?:the )?(?:last |past )?(?:\d+|one|two|three|four|six|thirty)(?: \[\d+\])? (?:days?|weeks?|months?)"
    r"(?: (?:prior to|before|of) (?:the )?(?:enrol+ment|enrolment|baseline|screening|randomi[sz]ation|"
    r"study (?:entry|treatment|start)|signing (?:the )?informed consent(?: form)?))?"
    r"|\bat (?:the )?(?:screening )?visit \d+"
    r"|\bat (?:the )?(?:time of )?(?:signing (?:the |of )?)?(?:informed consent(?: form)?|consent|enrol+ment|"
    r"study enrol+ment|screening(?: visit)?|(?:study|trial) entry|registration|randomi[sz]ation|baseline)"
)

_AGE_SUBS = (
    _phrases(
        (
            r"(?:both )?(?:males? (?:and|or|/) females?|females? (?:and|or|/) males?|men (?:and|or) women|"
            r"women (?:and|or) men|(?:of )?either (?:sex|gender)|both (?:sexes|genders)|any (?:sex|gender)|"
            r"regardless of (?:sex|gender))",
            "",
        ),
        (r"males?|men|man|boys?", "@male"),
        (r"females?|women|woman|girls?", "@female"),
        (r"years? of age|years? old|years?|yrs?|y/o", "@years"),
        (r"months? of age|months? old|months?", "@months"),
        (r"weeks? of age|weeks? old|weeks?", "@weeks"),
        (r"days? of age|days? old|days?", "@days"),
        (r"between the ages? of|the ages? of|ages? range|ages?|aged", "@age"),
    )
    + _COMPARISONS
)


def _shape(tokens: list[str]) -> tuple[str, list]:
    """One letter per token ("M", "N", "U", comparison letters) and the tokens' values."""
    letters, values = [], []
    for token in tokens:
        if re.fullmatch(r"\d+(?:\.\d+)?", token):
            letters.append("N")
            values.append(float(token))
        elif token in _SHAPE:
            letters.append(_SHAPE[token])
            values.append(token)
        elif token.startswith("@u_") or token in ("@years", "@months", "@weeks", "@days"):
            if letters and letters[-1] == "U" and values[-1] == token:
                continue  # "kilograms per meter squared (kg/m2)"
            letters.append("U")
            values.append(token)
        elif token.startswith("@m_"):
            if letters and letters[-1] == "M":
                continue  # "Body mass index (BMI)": one measure named twice
            if letters == ["B"]:  # "between a BMI of 18.5 and 30": read as "BMI between 18.5 and 30"
                letters.insert(0, "M")
                values.insert(0, token)
                continue
            letters.append("M")
            values.append(token)
        else:
            return "", []  # a word the pattern does not know
    return "".join(letters), values


# Bounds as (op letter, number index) pairs, for the shapes a threshold or range takes.
_BOUND_SHAPES = [
    (re.compile(r"^M([GgLl])NU?$"), lambda m: [(m.group(1), 2)]),
    (re.compile(r"^MNU?([PQ])$"), lambda m: [(m.group(1), 1)]),
    (re.compile(r"^MNP?U([PQ])$"), lambda m: [(m.group(1), 1)]),
    (re.compile(r"^MB?NU?ANU?$"), lambda m: [("G", m.group(0).index("N")), ("L", m.group(0).rindex("N"))]),
    (re.compile(r"^MB?NU?A([Ll])NU?$"), lambda m: [("G", m.group(0).index("N")), (m.group(1), m.group(0).rindex("N"))]),
    (
        re.compile(r"^MB?([Gg])NU?A?([Ll])NU?$"),
        lambda m: [(m.group(1), m.group(0).index("N")), (m.group(2), m.group(0).rindex("N"))],
    ),
    (
        re.compile(r"^NU?([Ll])M([Ll])NU?$"),
        lambda m: [({"l": "g", "L": "G"}[m.group(1)], 0), (m.group(2), m.group(0).rindex("N"))],
    ),
]


def _bounds(shape: str) -> list[tuple[str, int]] | None:
    for pattern, bounds in _BOUND_SHAPES:
        match = pattern.match(shape)
        if match:
            return bounds(match)
    return None


def _limits(shape: str, values: list, mixed_units: bool = False) -> list[tuple[str, float, str | None]] | None:
    """(op letter, number, unit token) for each bound of a threshold or range, or None.

    A number without a unit takes the criterion's one unit ("7.0-10.0%"). Two different units are
    not one threshold ("7% (53 mmol/mol)" once the equivalent is dropped), except for ages when
    every number has its own ("6 months to 16 years").
    """
    bounds = _bounds(shape) if shape else None
    if not bounds:
        return None
    units = {i: values[i + 1] if i + 1 < len(shape) and shape[i + 1] == "U" else None for _, i in bounds}
    given = {u for u in units.values() if u}
    if len(given) > 1 and not (mixed_units and all(units.values())):
        return None
    default = next(iter(given)) if given else None
    return [(op, values[i], units[i] or default) for op, i in bounds]


def _draft_age(text: str, kind: str, catalogue, conditions) -> Rule | None:
    tokens = _tokens(re.sub(_TIMING, " ", text), _AGE_SUBS)
    sexes = {t for t in tokens if t in ("@male", "@female")}
    # "Age 18-65", "18 years old": plainly an age. A bare "18-55 years" is one too, but a bare
    # "≥ 12 months" may be how long something lasted.
    named = "@age" in tokens or re.search(r"\b(?:old|of age)\b", text) is not None
    tokens = [t for t in tokens if t not in ("@male", "@female", "@age") and t not in _AGE_FILLERS]
    if len(sexes) > 1 or not (named or any(t in _AGE_UNITS for t in tokens)):
        return None
    shape, values = _shape(["@m_age"] + tokens)  # "18 years or older": the unit implies the measure
    limits = _limits(shape, values, mixed_units=True)
    if not limits or not named and not all(unit == "@years" for _, _, unit in limits):
        return None
    value: dict[str, str] = {}
    for op, amount, unit in limits:
        if op == "g" or not amount.is_integer():
            return None  # "> 18 years" means 18 to some protocols and 19 to others: not unambiguous
        amount = int(amount) - (1 if op == "l" else 0)  # "< 18 years": at most 17 completed years
        key = "min" if op in "GP" else "max"
        if amount < 0 or key in value:
            return None
        value[key] = _duration(amount, _AGE_UNITS[unit or "@years"])
    if "min" in value and "max" in value and _years(value["min"]) > _years(value["max"]):
        return None
    rule = Condition("age", "age_between", freeze({k: value[k] for k in ("min", "max") if k in value}))
    if sexes:
        return AllOf((Condition("sex", "=", sexes.pop().lstrip("@")), rule))
    return rule


_AGE_UNITS = {"@years": "years", "@months": "months", "@weeks": "weeks", "@days": "days"}


def _duration(amount: int, unit: str) -> str:
    return f"{amount} {unit[:-1] if amount == 1 else unit}"


def _years(duration: str) -> float:
    amount, unit = duration.split()
    return (
        int(amount)
        / {
            "year": 1,
            "years": 1,
            "month": 12,
            "months": 12,
            "week": 52.18,
            "weeks": 52.18,
            "day": 365.25,
            "days": 365.25,
        }[unit]
    )


@dataclass(frozen=True)
class _Measure:
    code: str
    units: Mapping[str, Any]  # unit token -> function converting to the catalogue's unit
    bare: tuple[float, float] | None = None  # values that need no unit (BMI always; HbA1c when plainly %)


_MEASURES = {
    "@m_bmi": _Measure("bmi", {"@u_kgm2": lambda v: v}, bare=(8, 90)),
    "@m_hba1c": _Measure(
        "hba1c", {"@u_pct": lambda v: v, "@u_mmolmol": lambda v: round(hba1c_percent(v), 1)}, bare=(3, 20)
    ),
    "@m_fpg": _Measure("fasting_glucose", {"@u_mgdl": lambda v: v, "@u_mmoll": lambda v: round(v * 18.016)}),
}
_MEASURE_SUBS = (
    _phrases(
        (r"body[- ]mass[- ]index\d?|bmi", "@m_bmi"),
        (
            r"(?:glycated|glycosylated) ha?emoglobin(?: a1c)?|ha?emoglobin a1c|hg?ba1c|hgb a1c|hb a1c|a1c|"
            r"hba1c(?:\(ngsp\)|-value)?",
            "@m_hba1c",
        ),
        (r"fasting (?:plasma |blood |serum )?glucose|fasted (?:plasma )?glucose|fpg", "@m_fpg"),
        (
            r"kg\s*/\s*m\s*\^?\s*2|kilograms? per (?:square )?met(?:er|re)s?(?: squared)?|kilogram/met(?:er|re) squared",
            "@u_kgm2",
        ),
        (r"%|percent|per cent", "@u_pct"),
        (r"mmol/mol|millimoles per mole", "@u_mmolmol"),
        (r"mg\s*/\s*dl", "@u_mgdl"),
        (r"mmol\s*/\s*l", "@u_mmoll"),
    )
    + _COMPARISONS
    + _phrases((r"or", "@or"))
)


def _draft_measure(text: str, kind: str, catalogue, conditions) -> Rule | None:
    """BMI, HbA1c or fasting glucose against one threshold or a range: "BMI > 35 kg/m2"."""
    if "%" in text or "percent" in text:  # "HbA1c 7.0-10.0% (53-86 mmol/mol)": the equivalent says it twice
        text = re.sub(
            r"\(?\s*\d+(?:\.\d+)?(?:\s*-\s*\d+(?:\.\d+)?)?\s*(?:mmol/mol|millimoles per mole)"
            r"(?:\s*\[mmol/mol\])?\s*\)?",
            " ",
            text,
        )
    tokens = _tokens(re.sub(_TIMING, " ", text), _MEASURE_SUBS)
    tokens = [t for t in tokens if t not in _MEASURE_FILLERS]
    measures = {t for t in tokens if t.startswith("@m_")}
    if len(measures) != 1:
        return None
    measure = _MEASURES[measures.pop()]
    spec = catalogue.get(measure.code)
    if spec is None:
        return None
    if "@or" in tokens:  # "BMI > 40 or BMI < 18.5": either bound, as its own threshold
        i = tokens.index("@or")
        parts = [tokens[:i], tokens[i + 1 :]]
        if not parts[1] or not parts[1][0].startswith("@m_"):
            parts[1] = [tokens[0]] + parts[1]
        leaves = [_measure_leaves(part, measure, spec) for part in parts]
        if any(leaf is None or len(leaf) != 1 for leaf in leaves):
            return None
        return AnyOf(tuple(leaf[0] for leaf in leaves))
    leaves = _measure_leaves(tokens, measure, spec)
    if not leaves:
        return None
    return leaves[0] if len(leaves) == 1 else AllOf(tuple(leaves))


def _measure_leaves(tokens: list[str], measure: _Measure, spec: QuestionSpec) -> list[Rule] | None:
    shape, values = _shape(tokens)
    limits = _limits(shape, values)
    if not limits:
        return None
    converted = []
    for op, number, unit in limits:
        if unit is None:
            if not measure.bare or not measure.bare[0] <= number <= measure.bare[1]:
                return None
            unit = next(iter(measure.units))
        if unit not in measure.units:
            return None
        value = measure.units[unit](number)
        converted.append((_OPS[op], int(value) if float(value).is_integer() else value))
    unit = spec.unit or None  # none for a unitless measure: no "unit" key
    if len(converted) == 2 and converted[0][0] == ">=" and converted[1][0] == "<=":
        low, high = converted[0][1], converted[1][1]
        return [Condition(spec.code, "between", (low, high), unit)] if low <= high else None
    if len(converted) == 2 and converted[0][1] >= converted[1][1]:
        return None
    return [Condition(spec.code, op, value, unit) for op, value in converted]


# Words that may surround a disease or condition without changing it ("Known active hepatitis B infection").
_CONDITION_FILLERS = frozenset(
    """
    a an the of is are was were be been has have had who with patient patients subject subjects participant
    participants people persons individuals known active current currently chronic infection infections infected
    positive positivity seropositive seropositivity serology serologic test testing tested for or and confirmed
    documented diagnosed diagnosis evidence virus viral at time screening result results surface antigen presence type
""".split()
)

_VIRAL_SUBS = _phrases(
    (
        r"hepatitis (?:type )?b (?:and/or|or|and|/) (?:hepatitis )?c|hepatitis b/c|hbv/hcv|hcv/hbv|hcv (?:or|and) hbv|"
        r"hbv (?:or|and) hcv",
        "@hbv @hcv",
    ),
    (
        r"human immunodeficiency virus(?: type 1| \(hiv\)| \(hiv-?1\))?|hiv[- ]?1(?:/2| and 2)?|hiv|"
        r"acquired immune? ?deficiency syndrome(?: \(aids\))?|aids",
        "@hiv",
    ),
    (r"hepatitis b(?: virus)?(?: \(hbv\))?(?: surface antigen)?(?: \(hbsag\))?|hbv|hbsag", "@hbv"),
    (r"hepatitis c(?: virus)?(?: \(hcv\))?|hcv", "@hcv"),
)
_VIRAL_CODES = {"@hiv": "hiv", "@hbv": "hepatitis_b", "@hcv": "hepatitis_c"}


def _draft_viral(text: str, kind: str, catalogue, conditions) -> Rule | None:
    """'HIV, hepatitis B or hepatitis C infection' as an exclusion: any of the three yes/no questions."""
    if kind != EXCLUSION:
        return None
    tokens = _tokens(re.sub(r"\(\s*(?:hiv|hbv|hcv|hbsag|aids)\s*\)", " ", text), _VIRAL_SUBS)
    found = [t for t in tokens if t in _VIRAL_CODES]
    words = [t for t in tokens if t not in _VIRAL_CODES]
    hepatitis = {"@hbv", "@hcv"} & set(found)
    # A history of HIV is HIV; a history of hepatitis B or C may be a cleared infection.
    allowed = _CONDITION_FILLERS | ({"history"} if not hepatitis else set())
    if not found or any(w not in allowed for w in words):
        return None
    leaves = tuple(Condition(_VIRAL_CODES[t], "=", True) for t in dict.fromkeys(found))
    return leaves[0] if len(leaves) == 1 else AnyOf(leaves)


_PREGNANCY_SUBS = _phrases(
    (r"pregnan(?:t|cy)|positive (?:urine |serum )?pregnancy test", "@pregnant"),
    (
        r"breast[- ]?feeding|breasting[- ]feeding|breast[- ]?feed|lactating|lactation|lacting|nursing(?: mothers?)?|"
        r"(?:in )?the period of (?:lactation|breast[- ]?feeding)",
        "@breastfeeding",
    ),
    (r"non[- ]?", "@not "),
)
_PREGNANCY_FILLERS = frozenset(
    """
    a an the of is are be being who patient patients subject subjects participant participants people persons
    women woman female females mother mothers currently current known to or and at time enrollment enrolment
    screening nor
""".split()
)


def _draft_pregnancy(text: str, kind: str, catalogue, conditions) -> Rule | None:
    """Pregnancy or breastfeeding, as an exclusion ("Pregnant or lactating women") or an inclusion
    that denies it ("Non-pregnant, non-lactating"). Both are asked of women only."""
    tokens = _tokens(text, _PREGNANCY_SUBS)
    found = [t for t in tokens if t in ("@pregnant", "@breastfeeding")]
    words = [t for t in tokens if t not in ("@pregnant", "@breastfeeding")]
    if not found:
        return None
    negated = "@not" in words or "not" in words or "no" in words
    if kind == EXCLUSION:
        if negated or any(w not in _PREGNANCY_FILLERS for w in words):
            return None
    else:
        # Only a plain denial: "Not pregnant or breastfeeding", "Non-pregnant and non-nursing", "No pregnancy".
        # "Women who are not breastfeeding" says who the trial is for as well: left for review.
        denial = ("@not", "not", "no", "or", "and", "nor")
        if tokens[0] not in ("@not", "not", "no") or any(w not in denial for w in words):
            return None
    codes = list(dict.fromkeys(t.lstrip("@") for t in found))
    leaves = tuple(Condition(code, "=", True) for code in codes)
    either = leaves[0] if len(leaves) == 1 else AnyOf(leaves)
    condition = AllOf((Condition("sex", "=", "female"), either))
    return condition if kind == EXCLUSION else Not(condition)


_MALIGNANCY_SUBS = _phrases(
    (r"malignan(?:cy|cies|t disease|t diseases|t tumou?rs?)|cancers?", "@malignancy"),
    (r"currently active|active|current|ongoing", "@active"),
)


def _draft_malignancy(text: str, kind: str, catalogue, conditions) -> Rule | None:
    """'Active malignancy' / 'Current cancer' (exclusion) or 'No active malignancy' (inclusion)."""
    if any(_ONCOLOGY.search(c) for c in conditions):
        return None  # in a cancer trial "active malignancy" means another one than the trial's
    tokens = _tokens(text, _MALIGNANCY_SUBS)
    if "@malignancy" not in tokens or "@active" not in tokens:
        return None
    if tokens.index("@active") > tokens.index("@malignancy"):
        return None
    words = [t for t in tokens if t not in ("@malignancy", "@active")]
    fillers = {
        "a",
        "an",
        "the",
        "of",
        "any",
        "kind",
        "type",
        "with",
        "has",
        "have",
        "known",
        "presence",
        "evidence",
        "clinical",
        "patient",
        "patients",
        "subject",
        "subjects",
        "participant",
        "participants",
    }
    if kind == INCLUSION:
        if not words or words[0] not in ("no", "without"):
            return None
        words = words[1:]
    if any(w not in fillers for w in words):
        return None
    return Condition("malignancy", "=", kind == EXCLUSION)


_T1D_SUBS = _phrases(
    (r"type (?:1|i|one) diabetes(?: mellitus)?|t1dm?", "@t1d"),
    (r"years?", "@years"),
    (r"months?", "@months"),
    (r"weeks?", "@weeks"),
    (r"days?", "@days"),
    (r"at least|for at least|>=|or more|or longer", "@ge"),
    (r"less than|within|under|<", "@lt"),
)


def _draft_t1d_duration(text: str, kind: str, catalogue, conditions) -> Rule | None:
    """'Diagnosed with type 1 diabetes less than 9 weeks ago' / 'for at least 1 year'."""
    tokens = _tokens(text.replace(">=", " >= ").replace("<", " < "), _T1D_SUBS)
    if tokens.count("@t1d") != 1:
        return None
    fillers = {
        "diagnosed",
        "diagnosis",
        "of",
        "with",
        "for",
        "a",
        "an",
        "the",
        "clinical",
        "clinically",
        "confirmed",
        "duration",
        "since",
        "ago",
        "by",
        "ada",
        "criteria",
        "standard",
        "patients",
        "patient",
        "subjects",
        "participants",
        "has",
        "have",
        "been",
        "who",
        "is",
        "are",
        "@t1d",
    }
    rest = [t for t in tokens if t not in fillers]
    if len(rest) != 3 or rest[0] not in ("@ge", "@lt") or not rest[1].isdigit() or rest[2] not in _AGE_UNITS:
        return None
    if rest[0] == "@ge" and "ago" in tokens:
        return None
    return AllOf(
        (
            Condition("t1d_diagnosis", "=", True),
            Condition(
                "t1d_diagnosis_date",
                "within" if rest[0] == "@lt" else "before",
                _duration(int(rest[1]), _AGE_UNITS[rest[2]]),
            ),
        )
    )


# --- Measuring the drafts ------------------------------------------------------------------------


@dataclass(frozen=True)
class DraftScore:
    """How `draft_rule` does on hand-labelled criteria (tests/data/ctgov_labels.json)."""

    labelled: int  # criteria in the sample
    drafted: int  # criteria that got a draft
    correct: int  # drafts equal to the label
    expected: int  # criteria labelled with a rule (the rest should get none)
    wrong: tuple[tuple[str, Any, Any], ...] = ()  # (text, draft, label) for every wrong draft

    @property
    def precision(self) -> float:
        return self.correct / self.drafted if self.drafted else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.expected if self.expected else 1.0


def score_drafts(rows: Iterable[Mapping], catalogue: Mapping[str, QuestionSpec]) -> DraftScore:
    """Compare `draft_rule` with each row's "expected" rule (None: no draft should be made)."""
    labelled = drafted = correct = expected = 0
    wrong = []
    for row in rows:
        labelled += 1
        expected += row["expected"] is not None
        draft = draft_rule(row["text"], row["kind"], catalogue, row.get("section", ""), row.get("conditions", ()))
        if draft is None:
            continue
        drafted += 1
        if draft == row["expected"]:
            correct += 1
        else:
            wrong.append((row["text"], draft, row["expected"]))
    return DraftScore(labelled, drafted, correct, expected, tuple(wrong))
