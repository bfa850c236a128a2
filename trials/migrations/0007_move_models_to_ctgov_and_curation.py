"""ImportJob moves to the ctgov app; CriteriaVersion and ExamplePatient to the curation app (issue 9).

Only Django's idea of the models moves: their tables stay as they are (the new apps' models keep db_table
trials_importjob, trials_criteriaversion and trials_examplepatient), so an existing database upgrades in
place, with no data copied. This removes them from the trials app's state; ctgov/0001_initial and
curation/0001_initial add them to their apps' state and move their content types (and so the permissions
granted on them) along.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('trials', '0006_importjob'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='ImportJob'),
                migrations.DeleteModel(name='CriteriaVersion'),
                migrations.DeleteModel(name='ExamplePatient'),
            ],
            database_operations=[],
        ),
    ]
