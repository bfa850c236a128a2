"""Words for people, made from stable codes and parameters when they are shown. No Django imports.

The engine and the other pure modules say *what* they found as data: a `Message` is a code and its parameters
(numbers, units, dates, question names), never a sentence. This module holds the English message templates and
turns a Message into words in the active language when it is shown, so that a result computed (or saved) in one
language reads in the language of whoever opens it:

    say("above", name="BMI", value=Quantity(32.4, "kg/m²"), limit=30)   →  "BMI 32.4 kg/m² is above 30"
                                                                          →  "BMI 32.4 kg/m² 高于 30"

The templates are marked with the local no-op `gettext_noop`, which Django's makemessages (xgettext) extracts; the
plural unit words are extracted from the `ngettext` calls below. Rendering uses the translator installed once at
startup (prescreen: `wording.install(django.utils.translation.gettext, ngettext)` in an AppConfig.ready); without
one (scripts, pure tests) it is English. Numbers keep "." as decimal separator in both languages; unit words that
are words (years, months, weeks, days) are translated, symbols (kg, cm, %, mmol/mol, kg/m²) are kept.

A Message is JSON-safe through to_json/from_json (saved screenings keep codes and parameters, not sentences). A
saved text (rows written before messages existed) is a plain str, shown as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from . import vocabulary
from .vocabulary import format_number


def gettext_noop(message: str) -> str:
    """Marks a template for extraction (makemessages); translated when rendered."""
    return message


def _identity(message: str) -> str:
    return message


def _english_plural(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


_gettext: Callable[[str], str] = _identity
_ngettext: Callable[[str, str, int], str] = _english_plural


def install(gettext: Callable[[str], str], ngettext: Callable[[str, str, int], str]) -> None:
    """Render with these translator functions from now on (they read the active language when called)."""
    global _gettext, _ngettext
    _gettext, _ngettext = gettext, ngettext
    vocabulary.translate = gettext


def uninstall() -> None:
    """English again (tests)."""
    install(_identity, _english_plural)


def gettext(message: str) -> str:
    return _gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _ngettext(singular, plural, n)


# --------------------------------------------------------------------------------------------
# Messages


class Quantity(tuple):
    """A number with its unit: symbols are kept ("32.4 kg/m²"), words are translated ("9 weeks" → "9 周").
    `age`: a person's age ("45 years" → "45 岁"), not a length of time ("3 years ago" → "3 年前").

    A tuple (amount, unit, age), as Message is: the engine makes thousands per page, and a tuple is several times
    cheaper to make than a frozen dataclass."""

    __slots__ = ()

    def __new__(cls, amount: Any, unit: str = "", age: bool = False) -> Quantity:
        return tuple.__new__(cls, (amount, unit, age))

    @property
    def amount(self) -> Any:
        return self[0]

    @property
    def unit(self) -> str:
        return self[1]

    @property
    def age(self) -> bool:
        return self[2]

    def __repr__(self) -> str:
        return f"Quantity({self[0]!r}, {self[1]!r}{', age=True' if self[2] else ''})"

    def __str__(self) -> str:
        return _quantity(self)


class Message(tuple):
    """A code (a key of TEMPLATES) and its parameters, worded when shown. Parameters are str, numbers, None,
    Quantity, Message, or tuples of these (a list, joined for the language). A tuple (code, params), hashable."""

    __slots__ = ()

    def __new__(cls, code: str, params: tuple[tuple[str, Any], ...] = ()) -> Message:
        return tuple.__new__(cls, (code, params))

    @property
    def code(self) -> str:
        return self[0]

    @property
    def params(self) -> tuple[tuple[str, Any], ...]:
        return self[1]

    def __repr__(self) -> str:
        return f"Message({self[0]!r}, {self[1]!r})"

    def __str__(self) -> str:
        return render(self)

    def param(self, name: str, default: Any = None) -> Any:
        for key, value in self[1]:
            if key == name:
                return value
        return default

    def to_json(self) -> dict[str, Any]:
        return {"m": self[0], "p": {k: _encode(v) for k, v in self[1]}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Message:
        return cls(str(data["m"]), tuple((str(k), _decode(v)) for k, v in (data.get("p") or {}).items()))


Text = str | Message  # a message, or words saved before there were messages (shown as they are)


def say(code: str, /, **params: Any) -> Message:
    """A Message: say("above", name="BMI", value=Quantity(32.4, "kg/m²"), limit=30)."""
    return _new_tuple(Message, (code, tuple(params.items())))  # Message(...) without a Python-level __new__ call


_new_tuple = tuple.__new__


def text_to_json(text: Text) -> Any:
    """A message as JSON (a str stays a str)."""
    return text.to_json() if isinstance(text, Message) else text


def text_from_json(data: Any) -> Text:
    """What text_to_json gave (a saved str is returned as it is)."""
    if isinstance(data, Mapping) and "m" in data:
        try:
            return Message.from_json(data)
        except (KeyError, TypeError, ValueError, AttributeError):
            return str(data)
    return data if isinstance(data, str) else str(data)


def _encode(value: Any) -> Any:
    if isinstance(value, Message):
        return value.to_json()
    if isinstance(value, Quantity):
        out: dict[str, Any] = {"n": value.amount, "u": value.unit}
        if value.age:
            out["age"] = True
        return out
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, Mapping):
        if "m" in value:
            return Message.from_json(value)
        return Quantity(value.get("n"), str(value.get("u", "")), bool(value.get("age", False)))
    if isinstance(value, list):
        return tuple(_decode(v) for v in value)
    return value


def render(text: Text | None) -> str:
    """The words of a message in the active language (a str as it is)."""
    if text is None:
        return ""
    if not isinstance(text, Message):
        return str(text)
    template = TEMPLATES.get(text.code)
    if template is None:  # a code saved by a later version, or a typo: never a crash
        return text.code
    values = {name: _words(value) for name, value in text.params}
    try:
        return _gettext(template) % values
    except (KeyError, ValueError, TypeError):  # a translation that lost a placeholder: the English
        return template % values


def _words(value: Any) -> str:
    if isinstance(value, Message):
        return render(value)
    if isinstance(value, Quantity):
        return _quantity(value)
    if isinstance(value, tuple | list):
        return _listing([_words(v) for v in value])
    if isinstance(value, bool):
        return render(YES if value else NO)
    if isinstance(value, int | float):
        return format_number(value)
    return format_number(value) if value is None else str(value)


def _listing(items: list[str]) -> str:
    """Items of a list one after another: "Female, Male" (in Chinese "女、男")."""
    if not items:
        return ""
    out = items[-1]
    template = _gettext(LIST_TEMPLATE)
    for item in reversed(items[:-1]):
        try:
            out = template % {"item": item, "rest": out}
        except (KeyError, ValueError, TypeError):
            out = LIST_TEMPLATE % {"item": item, "rest": out}
    return out


LIST_TEMPLATE = gettext_noop("%(item)s, %(rest)s")


def _plural_count(amount: Any) -> int:
    """The n for ngettext: the amount when whole, else a number that takes the plural (1.5 years)."""
    if isinstance(amount, bool):
        return 2
    if isinstance(amount, int):
        return amount
    if isinstance(amount, float) and amount.is_integer():
        return int(amount)
    return 2


def _quantity(q: Quantity) -> str:
    shown = format_number(q.amount) if q.amount is None or isinstance(q.amount, int | float) else str(q.amount)
    n = _plural_count(q.amount)
    unit = q.unit
    if unit in ("year", "years"):
        if q.age:
            return ngettext("%(age)s year", "%(age)s years", n) % {"age": shown}
        return ngettext("%(count)s year", "%(count)s years", n) % {"count": shown}
    if unit in ("month", "months"):
        return ngettext("%(count)s month", "%(count)s months", n) % {"count": shown}
    if unit in ("week", "weeks"):
        return ngettext("%(count)s week", "%(count)s weeks", n) % {"count": shown}
    if unit in ("day", "days"):
        return ngettext("%(count)s day", "%(count)s days", n) % {"count": shown}
    return f"{shown} {unit}" if unit else shown


# --------------------------------------------------------------------------------------------
# The templates: code → English. Placeholders are data (see each caller); keep every %(name)s in a translation.

TEMPLATES: dict[str, str] = {
    # Values
    "yes": gettext_noop("yes"),
    "no": gettext_noop("no"),
    "none": gettext_noop("none"),
    "calculated": gettext_noop("%(value)s (calculated)"),
    "age_name": gettext_noop("Age"),
    "join": gettext_noop("%(first)s; %(rest)s"),
    "weeks_and_days": gettext_noop("%(weeks)s %(days)s"),
    # The engine's explanations of one comparison
    "answered": gettext_noop("%(name)s is answered"),
    "not_answered": gettext_noop("%(name)s is not answered"),
    "not_answered_yet": gettext_noop("%(name)s is not answered yet"),
    "not_answered_yet_many": gettext_noop("Not answered yet: %(names)s"),
    "contradicted": gettext_noop("%(name)s is unknown: the answers contradict each other, correct them"),
    "yes_no": gettext_noop("%(name)s: %(value)s"),
    "is": gettext_noop("%(name)s is %(value)s"),
    "is_not_expected": gettext_noop("%(name)s is %(value)s, not %(expected)s"),
    "above": gettext_noop("%(name)s %(value)s is above %(limit)s"),
    "below": gettext_noop("%(name)s %(value)s is below %(limit)s"),
    "exactly": gettext_noop("%(name)s %(value)s is exactly %(limit)s"),
    "between": gettext_noop("%(name)s %(value)s is between %(low)s and %(high)s"),
    "one_of": gettext_noop("%(name)s is %(value)s (one of: %(choices)s)"),
    "not_one_of": gettext_noop("%(name)s is %(value)s (not one of: %(choices)s)"),
    "not_a_date": gettext_noop("%(name)s is not a date"),
    "in_future": gettext_noop("%(name)s %(date)s is after %(as_of)s"),
    "ago_less_than": gettext_noop("%(name)s %(date)s is %(elapsed)s ago, less than %(limit)s"),
    "ago_not_less_than": gettext_noop("%(name)s %(date)s is %(elapsed)s ago, not less than %(limit)s"),
    "ago_at_least": gettext_noop("%(name)s %(date)s is %(elapsed)s ago, at least %(limit)s"),
    # Age limits (age_between)
    "age_limits": gettext_noop("%(low)s to %(high)s"),
    "age_or_older": gettext_noop("%(low)s or older"),
    "age_up_to": gettext_noop("up to %(high)s"),
    "born": gettext_noop("born %(date)s"),
    "age_entered": gettext_noop("age entered"),
    "age_below": gettext_noop("Age %(age)s (%(source)s) is below %(low)s (allowed: %(limits)s)"),
    "age_above": gettext_noop("Age %(age)s (%(source)s) is above %(high)s (allowed: %(limits)s)"),
    "age_imprecise": gettext_noop(
        "Age %(age)s (%(source)s) is not precise enough for %(limits)s: enter the date of birth"
    ),
    "age_within": gettext_noop("Age %(age)s (%(source)s) is within the limit (%(limits)s)"),
    # Groups and whole criteria
    "not_so": gettext_noop("not so: %(inner)s"),
    "no_conditions": gettext_noop("No conditions to check"),
    "no_rule": gettext_noop("Not machine-checkable yet: check this criterion by hand"),
    "invalid_rule": gettext_noop("The rule cannot be evaluated (%(error)s): check this criterion by hand"),
    "verified_met": gettext_noop("Verified met by the coordinator"),
    "verified_not_met": gettext_noop("Verified not met by the coordinator"),
    # A rule in plain words (eligibility.rules.describe, shown to admins)
    "rule_no_rule": gettext_noop("needs review (no rule)"),
    "rule_not": gettext_noop("not (%(rule)s)"),
    "rule_always": gettext_noop("always (no conditions)"),
    "rule_never_any": gettext_noop("never (empty 'any of' group)"),
    "rule_never_at_least": gettext_noop("never (empty 'at least %(n)s of' group)"),
    "rule_all": gettext_noop("all of: %(parts)s"),
    "rule_any": gettext_noop("any of: %(parts)s"),
    "rule_at_least": gettext_noop("at least %(n)s of: %(parts)s"),
    "rule_invalid": gettext_noop("invalid rule"),
    "rule_age_between": gettext_noop("age %(low)s to %(high)s"),
    "rule_age_min": gettext_noop("age %(low)s or older"),
    "rule_age_max": gettext_noop("age up to %(high)s"),
    "rule_no": gettext_noop("no %(name)s"),
    "rule_range": gettext_noop("%(name)s %(low)s–%(high)s"),
    "rule_range_also": gettext_noop("%(low)s–%(high)s"),
    "rule_also": gettext_noop("%(words)s (%(also)s)"),
    "rule_in": gettext_noop("%(name)s is one of %(choices)s"),
    "rule_not_in": gettext_noop("%(name)s is none of %(choices)s"),
    "rule_within": gettext_noop("%(name)s less than %(duration)s ago"),
    "rule_before": gettext_noop("%(name)s at least %(duration)s ago"),
    "rule_is_not": gettext_noop("%(name)s is not %(value)s"),
    "rule_compare": gettext_noop("%(name)s %(op)s %(value)s"),
    # Problems of a rule (eligibility.nodes, eligibility.rules: shown to admins)
    "rule_not_object": gettext_noop("expected an object, got %(got)s"),
    "rule_mixed_node": gettext_noop("a condition cannot also be a group"),
    "rule_unknown_node": gettext_noop('expected exactly one of all / any / at_least / not, or a condition with "q"'),
    "rule_not_a_list": gettext_noop("'%(key)s' must be a list of rules"),
    "rule_bad_count": gettext_noop("'at_least' must be a whole number from 1 to %(count)s, got %(got)s"),
    "rule_empty_any": gettext_noop("this 'any of' group is empty: it would never hold (add a condition or remove it)"),
    "rule_unknown_question": gettext_noop("unknown question %(code)s"),
    "rule_unknown_operator": gettext_noop("unknown operator %(op)s"),
    "rule_age_only": gettext_noop("'age_between' only applies to the age question, not %(code)s"),
    "rule_age_needs": gettext_noop('\'age_between\' needs {"min": "3 years", "max": "35 years"}'),
    "rule_age_bound": gettext_noop("age %(key)s: %(problem)s"),
    "rule_operator_type": gettext_noop(
        "operator %(op)s does not fit %(type)s question %(code)s (use one of: %(allowed)s)"
    ),
    "rule_wrong_unit": gettext_noop("%(code)s is measured in %(unit)s, not %(got)s"),
    "rule_no_unit": gettext_noop("no unit"),
    "rule_yes_no": gettext_noop("%(code)s is yes/no: value must be true or false, got %(got)s"),
    "rule_between_needs": gettext_noop("'between' needs [low, high]"),
    "rule_needs_number": gettext_noop("%(code)s needs a number, got %(got)s"),
    "rule_out_of_range": gettext_noop("%(value)s is outside the plausible range of %(code)s (%(low)s–%(high)s)"),
    "rule_low_above_high": gettext_noop("'between' low %(low)s is above high %(high)s"),
    "rule_needs_choices": gettext_noop("%(op)s needs a non-empty list of choices"),
    "rule_unknown_choice": gettext_noop("%(value)s is not a choice of %(code)s (choices: %(choices)s)"),
    "rule_not_duration": gettext_noop("%(text)s is not a duration like '9 weeks' or '18 years'"),
    "rule_duration_digits": gettext_noop("a duration of %(digits)s digits is too long"),
    "rule_too_long": gettext_noop("%(duration)s is longer than %(limit)s"),
    # `screen`'s text report (eligibility.report.to_text)
    "report_as_of": gettext_noop("Screening as of %(date)s"),
    "report_missing": gettext_noop("Missing answers: %(codes)s"),
    "report_legend": gettext_noop(
        "✓ met  ✗ not met  ? unknown  ! needs review  (for exclusions, met means the exclusion applies)"
    ),
    # The results panel
    "weeks_ago": gettext_noop("%(weeks)s ago"),
    # Answers that do not read (eligibility.answers)
    "answer_error": gettext_noop("%(question)s: %(message)s"),
    "contradiction": gettext_noop("%(questions)s: %(message)s"),
    "answers_not_object": gettext_noop("answers must be a JSON object of question code → value"),
    "unknown_question": gettext_noop("unknown question code"),
    "expected_yes_no": gettext_noop("expected yes/no (true or false), got %(got)s"),
    "expected_number": gettext_noop("expected a number in %(unit)s, got %(got)s"),
    "plain_units": gettext_noop("plain units"),
    "expected_finite": gettext_noop("expected a finite number"),
    "expected_date": gettext_noop("expected a date as YYYY-MM-DD, got %(got)s"),
    "date_in_future": gettext_noop("%(date)s is in the future (reference date %(as_of)s)"),
    "date_too_old": gettext_noop("%(date)s is implausibly long ago"),
    "expected_choice": gettext_noop("expected one of %(choices)s, got %(got)s"),
    "expected_choices": gettext_noop("expected a list of choices from %(choices)s, got %(got)s"),
    "unsupported_type": gettext_noop("question type %(type)s is not supported"),
    "implausible": gettext_noop("%(value)s is not a plausible %(name)s (expected %(low)s–%(high)s)"),
    # Answers that contradict each other (eligibility.contradictions)
    "implausible_bmi": gettext_noop(
        "%(bmi)s %(value)s calculated from %(weight)s %(weight_value)s and %(height)s %(height_value)s is not "
        "plausible (expected %(low)s–%(high)s): check the units"
    ),
    "implausible_bmi_hint": gettext_noop("%(message)s; if they were %(reading)s, the %(bmi)s would be %(value)s"),
    "pounds": gettext_noop("%(pounds)s lb (%(kg)s kg)"),
    "inches": gettext_noop("%(inches)s in (%(cm)s cm)"),
    "and": gettext_noop("%(first)s and %(second)s"),
    "bmi_mismatch": gettext_noop(
        "%(bmi)s %(entered)s does not match %(height)s %(height_value)s and %(weight)s %(weight_value)s, which "
        "give %(bmi)s %(calculated)s: correct one of them, or leave the %(bmi)s empty"
    ),
    "implausible_age": gettext_noop(
        "the date of birth %(dob)s gives an age of %(age)s on %(as_of)s, not a plausible age (expected "
        "%(low)s–%(high)s): check the year"
    ),
    "age_mismatch": gettext_noop(
        "age %(age)s does not match the date of birth %(dob)s (%(years)s on %(as_of)s): correct one of them, or "
        "leave the age empty"
    ),
    "no_with_date": gettext_noop(
        "“%(yes_no)s” is answered no, yet “%(question)s” has the date %(date)s: answer yes, or clear the date"
    ),
    "before_birth": gettext_noop("“%(question)s” %(date)s is before the date of birth %(dob)s"),
    # Pseudonymity (eligibility.identifiers)
    "reference_shape": gettext_noop("A patient reference is a study code: %(what)s."),
    "reference_identifier": gettext_noop(
        "This looks like %(what)s. Use a pseudonymous reference (a study code) instead."
    ),
    "free_text_identifier": gettext_noop(
        "This text holds what looks like %(what)s: remove it (patients are pseudonymous here)."
    ),
    "reference_hint": gettext_noop(
        "letters, digits and hyphens, 3–20 characters, with at least one digit (e.g. “JD-2014”)"
    ),
    "an_email": gettext_noop("an e-mail address"),
    "a_national_id": gettext_noop("a national ID number (Chinese resident ID)"),
    "a_chinese_mobile": gettext_noop("a phone number (Chinese mobile)"),
    "a_date_of_birth": gettext_noop("a date of birth"),
    "a_date": gettext_noop("a date"),
    "a_record_number": gettext_noop("a record number"),
    "a_phone_number": gettext_noop("a phone number"),
    "a_long_number": gettext_noop("a long number (a record or ID number)"),
    "a_name": gettext_noop("a name"),
    "a_chinese_name": gettext_noop("a name (in Chinese characters)"),
    # A FHIR upload that is not one patient's Bundle (eligibility.fhir.FhirError)
    "fhir_not_json": gettext_noop("the file is not valid JSON (%(error)s)"),
    "fhir_number_too_long": gettext_noop("the file holds a number too long to read"),
    "fhir_too_deep": gettext_noop("the file's JSON is nested too deeply to be a FHIR Bundle"),
    "fhir_not_object": gettext_noop("not a FHIR Bundle: expected a JSON object"),
    "fhir_no_patient": gettext_noop("the Bundle has no Patient resource"),
    "fhir_two_patients": gettext_noop(
        "the Bundle has %(count)s Patient resources: upload one patient's record at a time"
    ),
    "fhir_invalid_patient": gettext_noop("the Patient resource is not valid FHIR R4 (%(problem)s)"),
    "fhir_died_on": gettext_noop(
        "the record says the patient died on %(date)s (Patient.deceasedDateTime): not screened"
    ),
    "fhir_died_when": gettext_noop(
        "the record says the patient died (%(when)s) (Patient.deceasedDateTime): not screened"
    ),
    "fhir_died": gettext_noop("the record says the patient has died (Patient.deceasedBoolean): not screened"),
    "fhir_wrong_type": gettext_noop("not a FHIR Bundle (resourceType is %(found)s)"),
    "fhir_no_type": gettext_noop("not a FHIR Bundle (no resourceType)"),
    "fhir_bundle_type": gettext_noop("Bundle type %(type)s is not supported: expected one of %(types)s"),
    "fhir_entry_not_list": gettext_noop("Bundle.entry must be a list"),
    "fhir_entry_not_object": gettext_noop("Bundle entry %(number)s is not an object"),
    "fhir_entry_no_type": gettext_noop("Bundle entry %(number)s has a resource without a resourceType"),
    # Record notes (eligibility.fhir.Note)
    "note_invalid": gettext_noop("%(kind)s %(id)s is not valid FHIR R4 (%(problem)s)"),
    "note_implausible": gettext_noop("%(source)s: %(problem)s"),
    "note_partial_birth_date": gettext_noop("Patient.birthDate %(value)s is not a full date"),
    "note_status": gettext_noop("%(source)s is %(status)s: it does not answer “%(name)s”"),
    "note_status_no_code": gettext_noop(
        "%(source)s has a clinical status without a code: it does not answer “%(name)s”"
    ),
    "note_abated": gettext_noop("%(source)s abated (%(how)s): it does not answer “%(name)s”"),
    "note_no_onset": gettext_noop("%(source)s has no full onset or recorded date"),
    "note_no_date": gettext_noop("%(source)s has no full effective date"),
    "note_comparator": gettext_noop("%(source)s is %(comparator)s %(value)s, not a measured value"),
    "note_no_unit": gettext_noop("%(source)s has no unit"),
    "note_too_large": gettext_noop("%(source)s: the value is too large"),
    "note_unit": gettext_noop("%(source)s: %(unit)s cannot be converted to %(canonical)s"),
    "note_stale": gettext_noop(
        "%(source)s was measured %(age)s ago, more than the %(limit)s a value may be old to answer “%(name)s”"
    ),
}

YES, NO = Message("yes"), Message("no")


def join(parts: list[Text] | tuple[Text, ...]) -> Text:
    """Explanations one after another ("A; B; C"), joined for the language when shown."""
    if not parts:
        return ""
    out = parts[-1]
    for part in reversed(parts[:-1]):
        out = Message("join", (("first", part), ("rest", out)))
    return out


def parts(text: Text) -> Iterator[Text]:
    """The explanations `join` joined, in order."""
    while isinstance(text, Message) and text.code == "join":
        yield text.params[0][1]
        text = text.params[1][1]
    yield text


# Verdicts: vocabulary.VERDICT_WORDS, translated with the translator installed here.
VERDICT_WORDS = vocabulary.VERDICT_WORDS
VERDICT_TEMPLATES = vocabulary.VERDICT_TEMPLATES
