"""ImportJob, until now the trials app's (trials/migrations/0006_importjob.py), in its table trials_importjob.

State only: the table is already there and keeps its rows (trials/migrations/0007 removes the model from the
trials app's state). Its content type moves too, so the permissions granted on it (the Admin group's
view_importjob) still hold.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MOVED = ["importjob"]


def move_content_types(from_label, to_label):
    def move(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        for model in MOVED:
            old = ContentType.objects.filter(app_label=from_label, model=model).first()
            if old is None:
                continue  # a database that never had it: post_migrate makes the new one
            # A content type post_migrate made for the new label before this ran holds nothing yet.
            ContentType.objects.filter(app_label=to_label, model=model).delete()
            old.app_label = to_label
            old.save(update_fields=["app_label"])

    return move


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('trials', '0007_move_models_to_ctgov_and_curation'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ImportJob',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('file_name', models.CharField(max_length=255)),
                        ('size', models.PositiveBigIntegerField(default=0, help_text='bytes')),
                        ('started_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('status', models.CharField(choices=[('queued', 'Waiting to start'), ('running', 'Importing'), ('done', 'Imported'), ('failed', 'Nothing imported')], default='queued', max_length=10)),
                        ('summary', models.JSONField(blank=True, default=dict, help_text='ctgov/importer.py: ImportSummary')),
                        ('started_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'trials_importjob',
                        'ordering': ['-started_at', '-pk'],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types("trials", "ctgov"), move_content_types("ctgov", "trials")),
    ]
