"""Referral, Verification and ReferralView (and their history) now belong to the referrals app.

Only Django's picture of the models changes here: the tables stay, under their names, and
referrals/migrations/0001_initial.py takes them over. Nothing is copied, nothing is lost.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("screening", "0005_admin_audit_permissions")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                # Models that point at Referral go first.
                migrations.DeleteModel(name="Verification"),
                migrations.DeleteModel(name="HistoricalVerification"),
                migrations.DeleteModel(name="ReferralView"),
                migrations.DeleteModel(name="HistoricalReferral"),
                migrations.DeleteModel(name="Referral"),
            ],
            database_operations=[],
        ),
    ]
