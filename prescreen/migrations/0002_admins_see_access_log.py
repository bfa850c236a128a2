from django.db import migrations


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    config = apps.get_app_config("audit")
    config.models_module = True
    create_permissions(config, verbosity=0, apps=apps)
    config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    admins, _ = Group.objects.get_or_create(name="Admin")
    # View only: nobody adds, changes or deletes an access-log entry (the admin refuses, and so does PostgreSQL).
    admins.permissions.add(*Permission.objects.filter(content_type__app_label="audit", codename="view_accesslog"))


class Migration(migrations.Migration):
    dependencies = [("prescreen", "0001_protect_history"), ("audit", "0001_initial"), ("trials", "0002_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
