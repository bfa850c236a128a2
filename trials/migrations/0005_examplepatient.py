"""Example patients and criteria snapshots (issue 5: curation in the admin).

Admins may keep example patients; each existing trial's current criteria become its first snapshot.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def grant_and_snapshot(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    config = apps.get_app_config("trials")
    config.models_module = True
    create_permissions(config, verbosity=0, apps=apps)
    config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    admins, _ = Group.objects.get_or_create(name="Admin")
    admins.permissions.add(*Permission.objects.filter(content_type__app_label="trials", codename__endswith="_examplepatient"))

    # Earlier versions were never recorded; the current one is known exactly.
    Trial = apps.get_model("trials", "Trial")
    Criterion = apps.get_model("trials", "Criterion")
    CriteriaVersion = apps.get_model("trials", "CriteriaVersion")
    for trial in Trial.objects.all().iterator():
        criteria = Criterion.objects.filter(trial_id=trial.pk).order_by("order", "pk")
        CriteriaVersion.objects.create(trial_id=trial.pk, version=trial.criteria_version, criteria=[
            {"id": c.pk, "kind": c.kind, "order": c.order, "text": c.text, "source": c.source,
             "rule": c.rule, "rule_status": c.rule_status}
            for c in criteria
        ])


class Migration(migrations.Migration):

    dependencies = [
        ('trials', '0004_trial_coordinators'),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
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
                'ordering': ['trial', 'name'],
                'constraints': [models.UniqueConstraint(fields=('trial', 'name'), name='unique_example_name')],
            },
        ),
        migrations.RunPython(grant_and_snapshot, migrations.RunPython.noop),
    ]
