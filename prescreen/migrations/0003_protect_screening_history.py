"""The screenings' history table (added in screening 0011) gets the append-only trigger of 0001_protect_history:
on PostgreSQL, UPDATE and DELETE on it are refused (a deleted user's rows may only lose the link to it)."""

from importlib import import_module

from django.db import migrations

protect_history = import_module("prescreen.migrations.0001_protect_history")
TABLE = "screening_historicalscreening"


def protect(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(protect_history.FUNCTION, params=None)  # CREATE OR REPLACE: the same function as 0001's
    name = schema_editor.quote_name(TABLE)
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {protect_history.TRIGGER} ON {name}")
    schema_editor.execute(
        f"CREATE TRIGGER {protect_history.TRIGGER} BEFORE UPDATE OR DELETE ON {name} "
        "FOR EACH ROW EXECUTE FUNCTION prescreen_history_append_only()"
    )


def unprotect(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {protect_history.TRIGGER} ON {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [
        ("prescreen", "0002_admins_see_access_log"),
        ("screening", "0011_screening_history_and_retirement"),
    ]

    operations = [migrations.RunPython(protect, unprotect, elidable=False)]
