# Per-user API tokens for the JSON API (issue 6): only a SHA-256 hash of each key is stored.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def grant_admins(apps, schema_editor):
    """Admins create and revoke tokens in the admin; nobody edits one (a token is replaced, not changed)."""
    from django.contrib.auth.management import create_permissions

    config = apps.get_app_config("screening")
    config.models_module = True
    create_permissions(config, verbosity=0, apps=apps)
    config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    admins, _ = Group.objects.get_or_create(name="Admin")
    admins.permissions.add(*Permission.objects.filter(
        content_type__app_label="screening", codename__in=["add_apitoken", "view_apitoken", "delete_apitoken"],
    ))


class Migration(migrations.Migration):

    dependencies = [
        ("screening", "0002_role_permissions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ApiToken",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(help_text="What the token is for, e.g. 'ward EHR integration'.", max_length=100)),
                ("key_hash", models.CharField(editable=False, max_length=64, unique=True)),
                (
                    "hint",
                    models.CharField(editable=False, help_text="The key's first characters, to recognise it.", max_length=12),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("last_used_at", models.DateTimeField(blank=True, editable=False, null=True)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="api_tokens",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "API token",
                "ordering": ["user__username", "name"],
            },
        ),
        migrations.RunPython(grant_admins, migrations.RunPython.noop),
    ]
