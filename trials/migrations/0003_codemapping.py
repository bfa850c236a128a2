# The FHIR mapping table (issue 6). Seed rows are loaded by `load_seed_trials`, not here.

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models

SYSTEM_HELP = (
    "Code system URI, e.g. http://snomed.info/sct (SNOMED CT), http://hl7.org/fhir/sid/icd-10-cm (ICD-10-CM), "
    "http://loinc.org (LOINC)."
)
CODE_HELP = "The code, or its first characters when 'is prefix' is ticked."
PREFIX_HELP = "Match every code that starts with this one (ICD-10-CM 'E10' matches E10.10; dots are ignored)."
KINDS = [
    ("presence", "Present (answers yes)"),
    ("onset_date", "Diagnosis date (onset)"),
    ("value", "Measured value (converted to the question's unit)"),
]
UNIT_HELP = "UCUM unit assumed when an Observation's value has none, e.g. 'kg/m2'."
RESOURCE_TYPES = [("Condition", "Condition"), ("Observation", "Observation")]


def grant_admins(apps, schema_editor):
    """Admins edit the mapping table in the admin, like the rest of the catalogue."""
    from django.contrib.auth.management import create_permissions

    config = apps.get_app_config("trials")
    config.models_module = True
    create_permissions(config, verbosity=0, apps=apps)
    config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    admins, _ = Group.objects.get_or_create(name="Admin")
    admins.permissions.add(*Permission.objects.filter(content_type__app_label="trials", codename__endswith="_codemapping"))


class Migration(migrations.Migration):

    dependencies = [
        ("trials", "0002_roles"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CodeMapping",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("resource_type", models.CharField(choices=RESOURCE_TYPES, max_length=20)),
                ("system", models.CharField(help_text=SYSTEM_HELP, max_length=200)),
                ("code", models.CharField(help_text=CODE_HELP, max_length=64)),
                ("is_prefix", models.BooleanField(default=False, help_text=PREFIX_HELP, verbose_name="is prefix")),
                ("kind", models.CharField(choices=KINDS, max_length=12)),
                ("default_unit", models.CharField(blank=True, help_text=UNIT_HELP, max_length=20)),
                ("display", models.CharField(blank=True, help_text="What the code means, for people.", max_length=200)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "question",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="code_mappings", to="trials.question",
                    ),
                ),
            ],
            options={
                "ordering": ["question__code", "resource_type", "system", "code"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("resource_type", "system", "code", "is_prefix", "question", "kind"),
                        name="unique_code_mapping",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="HistoricalCodeMapping",
            fields=[
                ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                ("resource_type", models.CharField(choices=RESOURCE_TYPES, max_length=20)),
                ("system", models.CharField(help_text=SYSTEM_HELP, max_length=200)),
                ("code", models.CharField(help_text=CODE_HELP, max_length=64)),
                ("is_prefix", models.BooleanField(default=False, help_text=PREFIX_HELP, verbose_name="is prefix")),
                ("kind", models.CharField(choices=KINDS, max_length=12)),
                ("default_unit", models.CharField(blank=True, help_text=UNIT_HELP, max_length=20)),
                ("display", models.CharField(blank=True, help_text="What the code means, for people.", max_length=200)),
                ("updated_at", models.DateTimeField(blank=True, editable=False)),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "question",
                    models.ForeignKey(
                        blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+", to="trials.question",
                    ),
                ),
            ],
            options={
                "verbose_name": "historical code mapping",
                "verbose_name_plural": "historical code mappings",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.RunPython(grant_admins, migrations.RunPython.noop),
    ]
