"""CriteriaVersion and ExamplePatient, until now the trials app's (trials/migrations/0005_examplepatient.py), in
their tables trials_criteriaversion and trials_examplepatient.

State only: the tables are already there and keep their rows (trials/migrations/0007 removes the models from
the trials app's state). Their content types move too, so the permissions granted on them (the Admin group's
example patient permissions) still hold.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MOVED = ["criteriaversion", "examplepatient"]


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
                    name='CriteriaVersion',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('version', models.PositiveIntegerField()),
                        ('recorded_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('criteria', models.JSONField(default=list, help_text='[{id, kind, order, text, source, rule, rule_status}, ...]')),
                        ('changed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('trial', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='criteria_versions', to='trials.trial')),
                    ],
                    options={
                        'db_table': 'trials_criteriaversion',
                        'ordering': ['trial', '-version'],
                        'constraints': [models.UniqueConstraint(fields=('trial', 'version'), name='unique_criteria_version')],
                    },
                ),
                migrations.CreateModel(
                    name='ExamplePatient',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=120)),
                        ('answers', models.JSONField(blank=True, default=dict, help_text='Question code → value in the canonical unit, e.g. {"bmi": 31.5, "t1d_diagnosis": true}.')),
                        ('expected_verdict', models.CharField(choices=[('eligible', 'Likely eligible'), ('ineligible', 'Not eligible'), ('undetermined', 'Needs more information')], max_length=12)),
                        ('as_of', models.DateField(default=django.utils.timezone.localdate, help_text='The day the patient is screened on (ages and time since diagnosis count to this day).', verbose_name='reference date')),
                        ('note', models.TextField(blank=True, help_text='Why this verdict is expected.')),
                        ('trial', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='examples', to='trials.trial')),
                    ],
                    options={
                        'db_table': 'trials_examplepatient',
                        'ordering': ['trial', 'name'],
                        'constraints': [models.UniqueConstraint(fields=('trial', 'name'), name='unique_example_name')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types("trials", "curation"), move_content_types("curation", "trials")),
    ]
