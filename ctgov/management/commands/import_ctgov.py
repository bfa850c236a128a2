import sys

from django.core.management.base import BaseCommand

from ctgov.importer import PROGRESS_EVERY, import_paths


class Command(BaseCommand):
    help = (
        'Import ClinicalTrials.gov records: API v2 study JSON (a study, a list, or {"studies": [...]}; .json or '
        ".json.gz) or legacy clinical_study XML (.xml, or archives of them: .zip, .tar.xz, .tar.gz, .tgz); files or "
        "folders. Creates or updates trials by NCT id; each file imports completely or not at all."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="study files (JSON, XML or archives), or folders of them")

    def handle(self, *args, **options):
        summary = import_paths(options["paths"], progress=self.progress)
        for line in summary.lines():
            self.stdout.write(line)
        if summary.errors:
            # Every problem was reported above, one line per file; no traceback.
            sys.exit(1)

    def progress(self, path, done, total):
        # One line every PROGRESS_EVERY studies (and at the end) of a large file; small files stay quiet.
        if total >= PROGRESS_EVERY and done and (done % PROGRESS_EVERY == 0 or done == total):
            self.stderr.write(f"{path.name}: {done}/{total} studies")
