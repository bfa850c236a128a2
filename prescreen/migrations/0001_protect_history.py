"""On PostgreSQL, history rows (django-simple-history's `Historical*` tables) are append-only: a trigger refuses
UPDATE and DELETE. One exception: deleting a user sets `history_user` to NULL on its rows (Django's SET_NULL),
and only that change is let through, so that an account can still be removed.

Tables are listed from the models at this point of the migrations; a history table added later needs a
migration of its own (tests/test_audit.py checks that every one has the trigger)."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION prescreen_history_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND to_jsonb(NEW) ->> 'history_user_id' IS NULL
       AND (to_jsonb(NEW) - 'history_user_id') = (to_jsonb(OLD) - 'history_user_id') THEN
        RETURN NEW;  -- a deleted user's rows lose the link to it, nothing else
    END IF;
    RAISE EXCEPTION 'history is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
"""
TRIGGER = "history_append_only"


def history_tables(apps):
    return sorted({m._meta.db_table for m in apps.get_models() if m.__name__.startswith("Historical")})


def protect(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)  # its % are PL/pgSQL placeholders, not parameters
    for table in history_tables(apps):
        name = schema_editor.quote_name(table)
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {name}")
        schema_editor.execute(
            f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE OR DELETE ON {name} "
            "FOR EACH ROW EXECUTE FUNCTION prescreen_history_append_only()"
        )


def unprotect(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in history_tables(apps):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {schema_editor.quote_name(table)}")
    schema_editor.execute("DROP FUNCTION IF EXISTS prescreen_history_append_only()")


class Migration(migrations.Migration):
    dependencies = [
        ("trials", "0009_nct_ascii_digits"),
        ("screening", "0010_merge_saved_criteria_current_results"),
        ("referrals", "0003_verdict_at_referral"),
    ]

    operations = [migrations.RunPython(protect, unprotect, elidable=False)]
