"""Unit conversion for numeric answers. No Django imports.

Each canonical unit lists the alternatives a clinician may type, as a linear map
canonical = value * factor + offset.
"""

from __future__ import annotations

from dataclasses import dataclass

from .vocabulary import HBA1C_PERCENT_AT_ZERO, HBA1C_PERCENT_PER_MMOL_MOL


@dataclass(frozen=True)
class Conversion:
    unit: str
    factor: float
    offset: float = 0.0

    def to_canonical(self, value: float) -> float:
        return value * self.factor + self.offset


ALTERNATIVES: dict[str, tuple[Conversion, ...]] = {
    "kg": (Conversion("kg", 1), Conversion("lb", 0.45359237), Conversion("g", 0.001)),
    "cm": (Conversion("cm", 1), Conversion("in", 2.54), Conversion("m", 100)),
    # HbA1c: IFCC mmol/mol → NGSP % (vocabulary.hba1c_percent, the one formula).
    "%": (Conversion("%", 1), Conversion("mmol/mol", HBA1C_PERCENT_PER_MMOL_MOL, HBA1C_PERCENT_AT_ZERO)),
    # Glucose: 1 mmol/L = 18.016 mg/dL.
    "mg/dL": (Conversion("mg/dL", 1), Conversion("mmol/L", 18.016)),
    "years": (Conversion("years", 1), Conversion("months", 1 / 12)),
    # C-peptide: 1 ng/mL = 0.331 nmol/L; 1 pmol/L = 0.001 nmol/L.
    "nmol/L": (Conversion("nmol/L", 1), Conversion("ng/mL", 0.331), Conversion("pmol/L", 0.001)),
}


def units_for(canonical: str) -> tuple[str, ...]:
    """Units accepted for a question measured in `canonical` (the canonical unit first)."""
    return tuple(c.unit for c in ALTERNATIVES.get(canonical, (Conversion(canonical, 1),)))


def to_canonical(value: float, unit: str, canonical: str) -> float:
    """`value` in `unit` converted to `canonical`; ValueError for a unit that does not fit."""
    if not unit or unit == canonical:
        return value
    for conversion in ALTERNATIVES.get(canonical, ()):
        if conversion.unit == unit:
            return round(conversion.to_canonical(value), 2)
    raise ValueError(f"{unit!r} cannot be converted to {canonical}")


# Units a rule's description also shows its limits in: HbA1c is reported in % (NGSP) by some laboratories and in
# mmol/mol (IFCC) by others, so a limit reads in both. mmol/mol are whole numbers, as laboratories report them.
SHOWN_ALSO: dict[str, tuple[str, int]] = {"%": ("mmol/mol", 0)}


def from_canonical(value: float, unit: str, canonical: str) -> float:
    """`value` in `canonical` converted to `unit` (the inverse of to_canonical, unrounded); ValueError if it does
    not fit."""
    if not unit or unit == canonical:
        return value
    for conversion in ALTERNATIVES.get(canonical, ()):
        if conversion.unit == unit:
            return (value - conversion.offset) / conversion.factor
    raise ValueError(f"{unit!r} cannot be converted from {canonical}")


def also_in(value: float, canonical: str) -> str:
    """'53 mmol/mol' for 7 (%): the value in the unit SHOWN_ALSO lists for `canonical`, or "" if none."""
    if canonical not in SHOWN_ALSO or isinstance(value, bool) or not isinstance(value, (int, float)):
        return ""
    unit, digits = SHOWN_ALSO[canonical]
    try:
        converted = round(from_canonical(float(value), unit, canonical), digits)
    except (ValueError, OverflowError):
        return ""
    if converted != converted or converted in (float("inf"), float("-inf")):
        return ""
    shown = int(converted) if digits == 0 else converted
    return f"{shown} {unit}"
