from django.core.management.base import BaseCommand

from trials.seed import load_seed_trials


class Command(BaseCommand):
    help = "Load the question catalogue and the two seed trials (idempotent)."

    def handle(self, *args, **options):
        report = load_seed_trials()
        q = report.pop("questions")
        self.stdout.write(f"Questions: {q['created']} created, {q['updated']} updated, {q['unchanged']} unchanged")
        for nct_id, status in report.items():
            self.stdout.write(f"{nct_id}: {status}")
