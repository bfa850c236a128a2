"""Admin pages beyond add/change/list: the rule builder's live refresh and a trial's criteria at a version.

Both are wired into their ModelAdmin's URLs (curation/admin/trials.py and criteria.py, which import this module,
never the other way round), so the admin's login and staff checks apply; each view checks the model permission
it needs.
"""

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from django.template.response import TemplateResponse
from django.utils.translation import gettext, gettext_noop

from eligibility.rules import describe
from trials.models import Criterion

from .. import rule_builder
from .builder import builder_context
from .page import one_page, page_questions, rendered, rule_state


def rule_builder_view(model_admin, request):
    """The builder re-drawn for the posted form (htmx): operators for the chosen question, plain words, problems.

    Saves nothing: saving is the change form's job, which reads the same fields.
    """
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not (model_admin.has_change_permission(request) or model_admin.has_add_permission(request)):
        raise PermissionDenied
    with one_page():
        state = rule_builder.read(request.POST, page_questions())
        context = builder_context(state)
        return rendered(TemplateResponse(request, "admin/trials/criterion/rule_builder.html#response", context))


def criteria_versions_view(model_admin, request, object_id):
    """The trial's criteria as they were at ?version=N (default: now), with what that version changed."""
    trial = model_admin.get_object(request, unquote(object_id))
    if trial is None:
        raise Http404("No such trial")
    if not model_admin.has_view_or_change_permission(request, trial):
        raise PermissionDenied
    versions = list(trial.criteria_versions.values("version", "recorded_at", "changed_by__username"))
    try:
        wanted = int(request.GET.get("version", trial.criteria_version))
    except ValueError:
        wanted = trial.criteria_version
    snapshot = trial.criteria_versions.filter(version=wanted).first()
    previous = trial.criteria_versions.filter(version__lt=wanted).order_by("-version").first()

    with one_page():
        questions = page_questions()
        rows = _rows(snapshot, previous, questions) if snapshot else []
        numbers = [v["version"] for v in versions]
        context = {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.model._meta,
            "original": trial,
            "title": gettext("Criteria of %(nct)s at version %(version)s") % {"nct": trial.nct_id, "version": wanted},
            "trial": trial,
            "versions": versions,
            "wanted": wanted,
            "snapshot": snapshot,
            "previous": previous,
            "rows": rows,
            "older": max((n for n in numbers if n < wanted), default=None),
            "newer": min((n for n in numbers if n > wanted), default=None),
        }
        return rendered(TemplateResponse(request, "admin/trials/trial/criteria_versions.html", context))


class _Snap:
    """A criterion as stored in a snapshot, with what rule_state() reads."""

    def __init__(self, row: dict):
        self.__dict__.update(row)


def _rows(snapshot, previous, questions) -> list[dict]:
    before = {row["id"]: row for row in (previous.criteria if previous else [])}
    rows = []
    for row in snapshot.criteria:
        old = before.pop(row["id"], None)
        if previous is None:
            change = ""
        elif old is None:
            change = gettext_noop("added")
        elif any(old.get(k) != row.get(k) for k in ("kind", "text", "rule", "rule_status")):
            change = gettext_noop("changed")
        else:
            change = ""
        rows.append(_row(row, change, old, questions))
    rows += [_row(row, gettext_noop("removed"), None, questions) for row in before.values()]
    return rows


def _row(row: dict, change: str, old: dict | None, questions) -> dict:
    words = describe(row.get("rule"), questions) if row.get("rule") is not None else "—"
    was = None
    if old is not None and change == "changed" and old.get("rule") != row.get("rule"):
        was = describe(old.get("rule"), questions) if old.get("rule") is not None else "—"
    return {
        "order": row.get("order"),
        "kind": dict(Criterion.Kind.choices).get(row.get("kind"), row.get("kind")),
        "text": row.get("text"),
        "text_was": old.get("text") if old is not None and old.get("text") != row.get("text") else None,
        "words": words,
        "words_was": was,
        "state": rule_state(_Snap(row)),
        "change": change,
    }
