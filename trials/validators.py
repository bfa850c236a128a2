"""Pseudonymity at every entry: Django validators around eligibility.identifiers, for the patient reference (the
site's study-code pattern, PATIENT_REF_PATTERN) and for free text that goes with a patient (notes, justifications,
reasons). Every problem is reported at once, each with its stable code."""

from django.conf import settings
from django.core.exceptions import ValidationError

from eligibility.identifiers import check_reference, find_identifiers


def validate_patient_ref(value: str) -> None:
    problems = check_reference(value, settings.PATIENT_REF_PATTERN, settings.PATIENT_REF_HINT)
    if problems:
        raise ValidationError([ValidationError(p.reference_message(), code=p.code) for p in problems])


def validate_free_text(value: str) -> None:
    problems = find_identifiers(value)
    if problems:
        raise ValidationError([ValidationError(p.free_text_message(), code=p.code) for p in problems])
