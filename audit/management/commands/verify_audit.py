from django.core.management.base import BaseCommand, CommandError

from audit.log import verify


class Command(BaseCommand):
    help = "Recompute the access log's hash chain and report the first broken link."

    def handle(self, *args, **options):
        count, broken, problem = verify()
        if broken is not None:
            raise CommandError(
                f"Chain broken at entry {broken.pk} ({broken}): {problem}. {count} entries before it are intact."
            )
        self.stdout.write(f"{count} entries, chain intact")
