"""The site's own date formats per language (settings.FORMAT_MODULE_PATH), over Django's for that language.

Templates show dates with `|date:"SHORT_DATE_FORMAT"` (a day) and `|date:"SHORT_DATETIME_FORMAT"` (a moment):
each language's convention, here or in Django's locale formats. Values and machine-read dates stay ISO whatever the
language (`<time datetime=…>`, form inputs, the API, JSON).
"""
