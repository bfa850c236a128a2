"""The question catalogue's texts per language (0012): existing questions keep their English texts as the English
column, and the seed questions get their Chinese texts from trials/seed/questions.json where they have none.

A question's English text is copied from the column it was kept in until now (label, short_label, help_text,
choices); a Chinese text already written (by an admin) is never overwritten.
"""

import json
from pathlib import Path

from django.db import migrations

FIELDS = ("label", "short_label", "help_text", "choices")
SEED = Path(__file__).resolve().parent.parent / "seed" / "questions.json"


def fill(apps, schema_editor):
    Question = apps.get_model("trials", "Question")
    seed = {row["code"]: row for row in json.loads(SEED.read_text())}
    for question in Question.objects.all():
        changed = []
        for field in FIELDS:
            english = f"{field}_en_gb"
            if getattr(question, english) in (None, "", []):
                setattr(question, english, getattr(question, field))
                changed.append(english)
        row = seed.get(question.code)
        if row is not None:
            seed_values = [c[0] for c in row["choices"]]
            for field in FIELDS:
                chinese = f"{field}_zh_hans"
                value = row.get(chinese)
                if not value or getattr(question, chinese) not in (None, "", []):
                    continue
                if field == "choices" and [c[0] for c in question.choices_en_gb or []] != seed_values:
                    continue  # the choices were edited here: their Chinese labels must be written here too
                setattr(question, chinese, value)
                changed.append(chinese)
        if changed:
            question.save(update_fields=changed)


class Migration(migrations.Migration):
    dependencies = [("trials", "0012_question_texts_per_language")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
