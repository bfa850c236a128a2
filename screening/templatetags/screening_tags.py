from django import template

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
        return ("!", "outcome-needs_review", "Needs review: check by hand")
    if outcome == Outcome.UNKNOWN:
        return ("?", "outcome-unknown", "Unknown")
    against = is_against(kind, outcome)
    if kind == EXCLUSION:
        return (
            ("✗", "outcome-not_met", "Exclusion applies")
            if against
            else ("✓", "outcome-met", "Exclusion does not apply")
        )
    return ("✗", "outcome-not_met", "Inclusion not met") if against else ("✓", "outcome-met", "Inclusion met")
