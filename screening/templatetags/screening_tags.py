from django import template

from eligibility.engine import Outcome, Verdict

register = template.Library()

VERDICT_STYLE = {
    Verdict.ELIGIBLE: ("text-bg-success", "Likely eligible"),
    Verdict.INELIGIBLE: ("text-bg-danger", "Not eligible"),
    Verdict.UNDETERMINED: ("text-bg-warning", "Needs more information"),
}


@register.filter
def get(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.inclusion_tag("screening/verdict_badge.html")
def verdict_badge(verdict):
    css, words = VERDICT_STYLE.get(Verdict(verdict), ("text-bg-secondary", str(verdict)))
    return {"css": css, "words": words}


@register.simple_tag
def criterion_status(kind, outcome):
    """(icon, css class, words) from the patient's point of view: ✓ in favour, ✗ rules out, ? open."""
    outcome = Outcome(outcome)
    if outcome == Outcome.NEEDS_REVIEW:
        return ("!", "outcome-needs_review", "Needs review: check by hand")
    if outcome == Outcome.UNKNOWN:
        return ("?", "outcome-unknown", "Unknown")
    if kind == "exclusion":
        if outcome == Outcome.MET:
            return ("✗", "outcome-not_met", "Exclusion applies")
        return ("✓", "outcome-met", "Exclusion does not apply")
    if outcome == Outcome.MET:
        return ("✓", "outcome-met", "Inclusion met")
    return ("✗", "outcome-not_met", "Inclusion not met")
