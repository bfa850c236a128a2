"""The question catalogue, with which trials' rules use each question."""

from collections import Counter, defaultdict

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin
from simple_history.admin import SimpleHistoryAdmin

from eligibility import engine
from eligibility.vocabulary import format_number
from trials.models import Criterion, Question

from .page import ADMIN_CSS, OnePageMixin, StorableJSONMixin, memo


def question_usage() -> dict[str, dict[tuple[int, str], int]]:
    """Question code → {(trial pk, NCT id): number of criteria whose rule reads it}, in one query."""
    usage: dict[str, Counter] = defaultdict(Counter)
    rows = Criterion.objects.filter(rule__isnull=False).values_list("trial_id", "trial__nct_id", "rule")
    for trial_id, nct_id, rule in rows.iterator(chunk_size=2000):
        for code in engine.referenced_questions(rule):
            usage[code][(trial_id, nct_id)] += 1
    return usage


@admin.register(Question)
class QuestionAdmin(StorableJSONMixin, OnePageMixin, TranslationAdmin, SimpleHistoryAdmin):
    """Each text (label, short label, help text, choices) is edited in English and in Chinese, side by side:
    TranslationAdmin shows one field per language (trials/translation.py). Not its tabbed variant, which loads
    jQuery UI from a CDN (the CSP allows no other origin)."""

    list_display = (
        "code",
        "label",
        "type",
        "unit",
        "plausible_range",
        "choice_labels",
        "freshness",
        "section",
        "used_by",
    )
    list_filter = ("type", "section")
    search_fields = ("code", "label_en_gb", "label_zh_hans")
    readonly_fields = ("used_by_trials",)

    class Media:
        css = ADMIN_CSS

    @admin.display(description=_("range"))
    def plausible_range(self, obj):
        if obj.min_value is None and obj.max_value is None:
            return ""
        low = format_number(obj.min_value)
        high = format_number(obj.max_value)
        return f"{low}–{high} {obj.unit}".strip()

    @admin.display(description=_("freshness limit"))
    def freshness(self, obj):
        """'365 days (children 182)': how old a record value may be to pre-fill the question."""
        if obj.freshness_days is None and obj.child_freshness_days is None:
            return ""
        adult = f"{obj.freshness_days} days" if obj.freshness_days is not None else "none"
        if obj.child_freshness_days is None or obj.child_freshness_days == obj.freshness_days:
            return adult
        return f"{adult} (children {obj.child_freshness_days})"

    @admin.display(description=_("choices"))
    def choice_labels(self, obj):
        return ", ".join(str(label) for _, label in obj.choices or [])

    def _usage(self, obj):
        return sorted(memo("question_usage", question_usage).get(obj.code, {}).items(), key=lambda kv: kv[0][1])

    @admin.display(description=_("used by"))
    def used_by(self, obj):
        usage = self._usage(obj)
        if not usage:
            return "—"
        shown = ", ".join(nct for (_, nct), _n in usage[:3])
        more = f" and {len(usage) - 3} more" if len(usage) > 3 else ""
        return f"{len(usage)} trial{'s' if len(usage) != 1 else ''}: {shown}{more}"

    @admin.display(description=_("used by"))
    def used_by_trials(self, obj):
        usage = self._usage(obj) if obj.pk else []
        if not usage:
            return "No trial's rules use this question."
        return format_html(
            '<ul class="used-by">{}</ul>',
            format_html_join(
                "",
                '<li><a href="{}">{}</a>: {} criteri{}</li>',
                (
                    (reverse("admin:trials_trial_change", args=[pk]), nct, n, "on" if n == 1 else "a")
                    for (pk, nct), n in usage
                ),
            ),
        )
