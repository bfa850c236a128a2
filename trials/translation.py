"""The question catalogue's texts in every language (django-modeltranslation).

Each field below gets a column per language (label_en_gb, label_zh_hans, …); reading `question.label` gives the
active language's text, or the English one when it is empty. Only what people read is translated: codes, types,
units, ranges and the choice values rules compare stay one. The history table gets the same columns, so the
audit trail keeps every language's text (simple-history copies every field of the question when it saves one).
"""

from modeltranslation.translator import TranslationOptions, register, translator

from .models import Question

TRANSLATED = ("label", "short_label", "help_text", "choices")


@register(Question)
class QuestionTranslationOptions(TranslationOptions):
    fields = TRANSLATED


class HistoricalQuestionTranslationOptions(TranslationOptions):
    fields = TRANSLATED


translator.register(Question.history.model, HistoricalQuestionTranslationOptions)
