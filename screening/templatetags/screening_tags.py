from datetime import date

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from eligibility.engine import Outcome, Verdict
from eligibility.vocabulary import EXCLUSION, VERDICT_WORDS, is_against

register = template.Library()

VERDICT_CSS = {
    Verdict.ELIGIBLE: "text-bg-success",
    Verdict.INELIGIBLE: "text-bg-danger",
    Verdict.UNDETERMINED: "text-bg-warning",
}


@register.filter
def get(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.inclusion_tag("screening/verdict_badge.html")
def verdict_badge(verdict):
    verdict = Verdict(verdict)
    return {"css": VERDICT_CSS[verdict], "words": VERDICT_WORDS[verdict]}


@register.simple_tag
def criterion_status(kind, outcome):
    """(icon, css class, words) from the patient's point of view: ✓ in favour, ✗ rules out, ? open."""
    outcome = Outcome(outcome)
    if outcome == Outcome.NEEDS_REVIEW:
        return ("!", "outcome-needs_review", _("Needs review: check by hand"))
    if outcome == Outcome.UNKNOWN:
        return ("?", "outcome-unknown", pgettext("criterion outcome", "Unknown"))
    against = is_against(kind, outcome)
    if kind == EXCLUSION:
        return (
            ("✗", "outcome-not_met", _("Exclusion applies"))
            if against
            else ("✓", "outcome-met", _("Exclusion does not apply"))
        )
    return ("✗", "outcome-not_met", _("Inclusion not met")) if against else ("✓", "outcome-met", _("Inclusion met"))


@register.simple_tag
def criterion_kind(kind):
    """A criterion's kind as a word: Inclusion or Exclusion (the badge and the print summary)."""
    return _("Exclusion") if kind == EXCLUSION else _("Inclusion")


@register.filter
def as_date(value):
    """A saved ISO date ("2026-03-04", as results keep them in JSON) as a date, so `|date` shows it per language;
    anything else as it is."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value
