from django.db import migrations

ROLE_PERMISSIONS = {
    "Clinician": ["add_screening", "change_screening", "view_screening", "add_referral", "view_referral"],
    "Coordinator": ["view_screening", "view_referral", "change_referral"],
    "Admin": ["view_screening", "view_referral", "change_referral"],
}


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    config = apps.get_app_config("screening")
    config.models_module = True
    create_permissions(config, verbosity=0, apps=apps)
    config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="screening", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [("screening", "0001_initial"), ("trials", "0002_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
