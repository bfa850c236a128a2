"""The referrals app takes over the tables that screening created (see screening 0006): state only.

The models keep their tables (db_table, and table_name for the history), so an existing database
upgrades in place. Their content types move too, which keeps the permissions the role groups hold
and the admin's log pointing at them.
"""

import django.db.models.deletion
import django.utils.timezone
import simple_history.models
from django.conf import settings
from django.db import migrations, models


MOVED = ["referral", "historicalreferral", "verification", "historicalverification", "referralview"]


def move_content_types(apps, schema_editor, source="screening", target="referrals"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    types = ContentType.objects.using(schema_editor.connection.alias)
    # A content type already made for the target (none, unless post_migrate ran in between) wins.
    present = types.filter(app_label=target, model__in=MOVED).values_list("model", flat=True)
    types.filter(app_label=source, model__in=MOVED).exclude(model__in=list(present)).update(app_label=target)


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, source="referrals", target="screening")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('screening', '0006_move_referrals_out'),
        ('trials', '0006_importjob'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='HistoricalReferral',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('note', models.TextField(blank=True)),
                        ('justification', models.TextField(blank=True, help_text="Why refer although the verdict was 'not eligible'.")),
                        ('status', models.CharField(choices=[('referred', 'Referred'), ('under_review', 'Under review'), ('contacted', 'Contacted'), ('consented', 'Consented'), ('enrolled', 'Enrolled'), ('screen_failed', 'Screen failed'), ('declined', 'Declined'), ('withdrawn', 'Withdrawn')], default='referred', max_length=20)),
                        ('status_reason', models.TextField(blank=True)),
                        ('version', models.PositiveIntegerField(default=1, help_text='Optimistic lock: bumped on every change.')),
                        ('created_at', models.DateTimeField(blank=True, editable=False)),
                        ('updated_at', models.DateTimeField(blank=True, editable=False)),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('referred_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('screen_fail_criterion', models.ForeignKey(blank=True, db_constraint=False, help_text='The criterion the patient failed at screening, when that is the reason.', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='trials.criterion')),
                        ('screening', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='screening.screening')),
                        ('snapshot_result', models.ForeignKey(blank=True, db_constraint=False, help_text='The saved result the referral was made on.', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='screening.snapshotresult')),
                        ('trial', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='trials.trial')),
                    ],
                    options={
                        'verbose_name': 'historical referral',
                        'verbose_name_plural': 'historical referrals',
                        'db_table': 'screening_historicalreferral',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='Referral',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('note', models.TextField(blank=True)),
                        ('justification', models.TextField(blank=True, help_text="Why refer although the verdict was 'not eligible'.")),
                        ('status', models.CharField(choices=[('referred', 'Referred'), ('under_review', 'Under review'), ('contacted', 'Contacted'), ('consented', 'Consented'), ('enrolled', 'Enrolled'), ('screen_failed', 'Screen failed'), ('declined', 'Declined'), ('withdrawn', 'Withdrawn')], default='referred', max_length=20)),
                        ('status_reason', models.TextField(blank=True)),
                        ('version', models.PositiveIntegerField(default=1, help_text='Optimistic lock: bumped on every change.')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('referred_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='referrals_made', to=settings.AUTH_USER_MODEL)),
                        ('screen_fail_criterion', models.ForeignKey(blank=True, help_text='The criterion the patient failed at screening, when that is the reason.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='trials.criterion')),
                        ('screening', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='referrals', to='screening.screening')),
                        ('snapshot_result', models.ForeignKey(help_text='The saved result the referral was made on.', on_delete=django.db.models.deletion.PROTECT, related_name='referrals', to='screening.snapshotresult')),
                        ('trial', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='referrals', to='trials.trial')),
                    ],
                    options={
                        'db_table': 'screening_referral',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='HistoricalVerification',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('status', models.CharField(choices=[('verified_met', 'Verified met'), ('verified_not_met', 'Verified not met')], max_length=20)),
                        ('note', models.CharField(blank=True, max_length=300)),
                        ('verified_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('criterion', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='trials.criterion')),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('verified_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('referral', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='referrals.referral')),
                    ],
                    options={
                        'verbose_name': 'historical verification',
                        'verbose_name_plural': 'historical verifications',
                        'db_table': 'screening_historicalverification',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='ReferralView',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('viewed_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('referral', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='views', to='referrals.referral')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'screening_referralview',
                        'ordering': ['-viewed_at'],
                    },
                ),
                migrations.CreateModel(
                    name='Verification',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('status', models.CharField(choices=[('verified_met', 'Verified met'), ('verified_not_met', 'Verified not met')], max_length=20)),
                        ('note', models.CharField(blank=True, max_length=300)),
                        ('verified_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('criterion', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='verifications', to='trials.criterion')),
                        ('referral', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='verifications', to='referrals.referral')),
                        ('verified_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'screening_verification',
                    },
                ),
                migrations.AddConstraint(
                    model_name='referral',
                    constraint=models.UniqueConstraint(fields=('screening', 'trial'), name='one_referral_per_trial'),
                ),
                migrations.AddConstraint(
                    model_name='verification',
                    constraint=models.UniqueConstraint(fields=('referral', 'criterion'), name='one_verification_per_criterion'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
