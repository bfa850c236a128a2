"""Verifications get the same optimistic lock as referrals: a version, instead of a pk:verified_at token.

Rows made before start at 1, which the detail page then shows in its forms.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('referrals', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='historicalverification',
            name='version',
            field=models.PositiveIntegerField(default=1, help_text='Optimistic lock: bumped on every change.'),
        ),
        migrations.AddField(
            model_name='verification',
            name='version',
            field=models.PositiveIntegerField(default=1, help_text='Optimistic lock: bumped on every change.'),
        ),
    ]
