from django.core.management.base import BaseCommand

from curation.seed import load_seed


class Command(BaseCommand):
    help = "Load the question catalogue, the two seed trials and their example patients (idempotent)."

    def handle(self, *args, **options):
        report = load_seed()
        q = report.pop("questions")
        self.stdout.write(f"Questions: {q['created']} created, {q['updated']} updated, {q['unchanged']} unchanged")
        for nct_id, status in report.items():
            self.stdout.write(f"{nct_id}: {status}")
