from django.db import migrations


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    config = apps.get_app_config("screening")
    config.models_module = True
    create_permissions(config, verbosity=0, apps=apps)
    config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    admins, _ = Group.objects.get_or_create(name="Admin")
    # Admins retire screenings (hidden, kept) and read their history; deleting stays with superusers.
    admins.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="screening", codename__in=["retire_screening", "view_historicalscreening"]
        )
    )


class Migration(migrations.Migration):
    dependencies = [("screening", "0011_screening_history_and_retirement"), ("trials", "0002_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
