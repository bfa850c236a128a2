"""Pseudonymity at every entry: Django validators around eligibility.identifiers, for the patient reference (the
site's study-code pattern, PATIENT_REF_PATTERN) and for free text that goes with a patient (notes, justifications,
reasons). Every problem is reported at once, each with its stable code, in the reader's language."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from eligibility.identifiers import DEFAULT_REFERENCE_HINT, Finding, check_reference, find_identifiers

# What eligibility.identifiers names as found (its `what`, English), in the reader's language. A site's own
# PATIENT_REF_HINT is shown as the site wrote it.
WHAT = {
    "an e-mail address": gettext_lazy("an e-mail address"),
    "a national ID number (Chinese resident ID)": gettext_lazy("a national ID number (Chinese resident ID)"),
    "a phone number (Chinese mobile)": gettext_lazy("a phone number (Chinese mobile)"),
    "a date of birth": gettext_lazy("a date of birth"),
    "a date": gettext_lazy("a date"),
    "a record number": gettext_lazy("a record number"),
    "a phone number": gettext_lazy("a phone number"),
    "a long number (a record or ID number)": gettext_lazy("a long number (a record or ID number)"),
    "a name": gettext_lazy("a name"),
    "a name (in Chinese characters)": gettext_lazy("a name (in Chinese characters)"),
    DEFAULT_REFERENCE_HINT: gettext_lazy(
        "letters, digits and hyphens, 3–20 characters, with at least one digit (e.g. “JD-2014”)"
    ),
}


def _what(finding: Finding) -> str:
    return str(WHAT.get(finding.what, finding.what))


def reference_message(finding: Finding) -> str:
    if finding.code == "shape":
        return _("A patient reference is a study code: %(shape)s.") % {"shape": _what(finding)}
    return _("This looks like %(what)s. Use a pseudonymous reference (a study code) instead.") % {
        "what": _what(finding)
    }


def free_text_message(finding: Finding) -> str:
    return _("This text holds what looks like %(what)s: remove it (patients are pseudonymous here).") % {
        "what": _what(finding)
    }


def validate_patient_ref(value: str) -> None:
    problems = check_reference(value, settings.PATIENT_REF_PATTERN, settings.PATIENT_REF_HINT)
    if problems:
        raise ValidationError([ValidationError(reference_message(p), code=p.code) for p in problems])


def validate_free_text(value: str) -> None:
    problems = find_identifiers(value)
    if problems:
        raise ValidationError([ValidationError(free_text_message(p), code=p.code) for p in problems])
