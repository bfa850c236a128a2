"""One ClinicalTrials.gov study as a trial: its fields and criteria. No Django imports.

`trial_record(study, catalogue)` reads the registry's age / sex / healthy-volunteer limits (with rules) and the
protocol's bullets (`ctgov.split.split_eligibility`), each with a draft rule when `ctgov.drafts.draft_rule`
recognises a common, unambiguous pattern.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from eligibility.engine import INCLUSION, QuestionSpec
from eligibility.rules import validate_rule
from eligibility.vocabulary import NCT_RE

from .archives import ReadError
from .drafts import _duration, draft_rule
from .split import split_eligibility

REGISTRY = "registry"
PROTOCOL = "protocol"
APPROVED = "approved"
DRAFT = "draft"


class StudyError(ReadError):
    """A study whose content cannot be imported (e.g. no NCT id)."""


@dataclass(frozen=True)
class CriterionRow:
    """One criterion as the importer will store it."""

    kind: str  # inclusion / exclusion
    text: str
    source: str = PROTOCOL  # protocol / registry
    rule: Any = None  # None: needs review
    rule_status: str = APPROVED  # a draft does not count in screening until approved


@dataclass(frozen=True)
class TrialRecord:
    nct_id: str
    fields: dict  # Trial field -> value (not open_for_screening: that is the site's choice)
    criteria: tuple[CriterionRow, ...] = field(default=())


PHASES = {
    "NA": "Not Applicable",
    "EARLY_PHASE1": "Early Phase 1",
    "PHASE1": "Phase 1",
    "PHASE2": "Phase 2",
    "PHASE3": "Phase 3",
    "PHASE4": "Phase 4",
}
SEXES = {"ALL": "All", "FEMALE": "Female", "MALE": "Male"}


def trial_record(study: Mapping, catalogue: Mapping[str, QuestionSpec], index: int = 0) -> TrialRecord:
    """One API v2 study as trial fields and criteria (registry limits first, then protocol order)."""
    protocol = study.get("protocolSection") or {}
    ident = _module(protocol, "identificationModule")
    nct_id = ident.get("nctId")
    where = f"study {index}" if index else "study"
    if not nct_id:
        raise StudyError(f"{where} has no NCT id (protocolSection.identificationModule.nctId)")
    if not isinstance(nct_id, str) or not NCT_RE.match(nct_id.strip()):
        raise StudyError(f"{where}: {nct_id!r} is not an NCT id ('NCT' followed by 8 digits)")
    nct_id = nct_id.strip()
    status = _module(protocol, "statusModule")
    conditions = _module(protocol, "conditionsModule")
    design = _module(protocol, "designModule")
    eligibility = _module(protocol, "eligibilityModule")
    contacts = _module(protocol, "contactsLocationsModule")

    sex = str(eligibility.get("sex") or "ALL").upper()
    if sex not in SEXES:
        raise StudyError(f"{nct_id}: sex {eligibility.get('sex')!r} is not ALL, FEMALE or MALE")
    title = _text(ident.get("briefTitle")) or _text(ident.get("officialTitle")) or nct_id
    fields = {
        "brief_title": title[:500],
        "official_title": _text(ident.get("officialTitle")),
        "phase": "/".join(PHASES.get(p, str(p)) for p in design.get("phases") or [])[:60],
        "overall_status": _text(status.get("overallStatus"))[:40],
        "conditions": _strings(conditions.get("conditions")),
        "keywords": _strings(conditions.get("keywords")),
        "sites": _sites(contacts.get("locations")),
        "minimum_age": _age(eligibility.get("minimumAge"))[:30],
        "maximum_age": _age(eligibility.get("maximumAge"))[:30],
        "sex": sex,
        "healthy_volunteers": eligibility.get("healthyVolunteers") is True,
        "eligibility_text": _text(eligibility.get("eligibilityCriteria")),
    }
    rows = registry_criteria(fields, catalogue)
    for item in split_eligibility(fields["eligibility_text"]):
        rule = draft_rule(item.text, item.kind, catalogue, item.section, fields["conditions"])
        rows.append(CriterionRow(item.kind, item.text, PROTOCOL, rule, DRAFT if rule is not None else APPROVED))
    return TrialRecord(nct_id, fields, tuple(rows))


def _module(section: Mapping, name: str) -> Mapping:
    module = section.get(name)
    return module if isinstance(module, Mapping) else {}


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _strings(values: Any) -> list[str]:
    return [v.strip() for v in values if isinstance(v, str) and v.strip()] if isinstance(values, list) else []


def _sites(locations: Any) -> list[str]:
    """'Facility, City, Country' per location, in registry order, without repeats."""
    sites: dict[str, None] = {}
    for location in locations if isinstance(locations, list) else []:
        if isinstance(location, Mapping):
            parts = [_text(location.get(k)) for k in ("facility", "city", "country")]
            if any(parts):
                sites.setdefault(", ".join(p for p in parts if p))
    return list(sites)


def _age(value: Any) -> str:
    # The legacy registry wrote "N/A" for "no limit"; API v2 leaves the field out. Both mean none.
    text = _text(value)
    return "" if text.upper() in ("N/A", "NA", "NONE") else text


AGE_RE = re.compile(r"^(\d+)\s*(year|month|week|day)s?$", re.I)


def _age_limit(text: str) -> str | None:
    """'18 Years' -> '18 years'; None when the engine cannot compare it (e.g. '12 Hours')."""
    match = AGE_RE.match(text.strip())
    return _duration(int(match.group(1)), match.group(2).lower() + "s") if match else None


def registry_criteria(fields: Mapping, catalogue: Mapping[str, QuestionSpec]) -> list[CriterionRow]:
    """The registry's age, sex and healthy-volunteer limits as criteria, worded as the registry shows them.

    Age and sex become approved rules (they are structured data, not prose). "Accepts healthy
    volunteers: Yes" puts no limit on anyone ({"all": []}). "No" means "has the condition under study",
    which only a trial-specific question can say (the seed trials use their diagnosis question), so it
    is left for review. A registry rule the catalogue cannot check (no 'age' question yet, an age in
    hours) is left for review too rather than stored unchecked.
    """
    rows = []
    low, high = fields["minimum_age"], fields["maximum_age"]
    if low or high:
        words = f"{low} to {high}" if low and high else (f"{low} and older" if low else f"up to {high}")
        value = {}
        if low:
            value["min"] = _age_limit(low)
        if high:
            value["max"] = _age_limit(high)
        rule = None if None in value.values() else {"q": "age", "op": "age_between", "value": value}
        rows.append(CriterionRow(INCLUSION, f"Ages Eligible for Study: {words}", REGISTRY, _valid(rule, catalogue)))
    sex = fields["sex"]
    rule = {"all": []} if sex == "ALL" else {"q": "sex", "op": "=", "value": sex.lower()}
    rows.append(CriterionRow(INCLUSION, f"Sexes Eligible for Study: {SEXES[sex]}", REGISTRY, _valid(rule, catalogue)))
    healthy = fields["healthy_volunteers"]
    rows.append(
        CriterionRow(
            INCLUSION,
            f"Accepts Healthy Volunteers: {'Yes' if healthy else 'No'}",
            REGISTRY,
            {"all": []} if healthy else None,
        )
    )
    return rows


def _valid(rule: Any, catalogue: Mapping[str, QuestionSpec]) -> Any:
    return rule if rule is not None and not validate_rule(rule, catalogue) else None
