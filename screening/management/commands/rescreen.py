import sys

from django.core.management.base import BaseCommand, CommandError

from screening import rescreen
from screening.models import RescreenRun
from trials.models import Trial

BAR = 30


class Command(BaseCommand):
    help = (
        "Re-screen stored screenings here and now (the background tasks do the same in chunks): every current "
        "result of the given trials, the results time may have changed (--due), or every result (--all). "
        "Only results that changed are written."
    )

    def add_arguments(self, parser):
        parser.add_argument("--trial", action="append", default=[], help="NCT id (repeatable)")
        parser.add_argument("--all", action="store_true", help="every current result")
        parser.add_argument("--due", action="store_true", help="the results time may have changed (daily task)")

    def handle(self, *args, **options):
        chosen = [bool(options["trial"]), options["all"], options["due"]]
        if sum(chosen) != 1:
            raise CommandError("give --trial NCT… (repeatable), --all or --due")
        trials = {t.nct_id: t for t in Trial.objects.filter(nct_id__in=options["trial"])}
        unknown = [n for n in options["trial"] if n not in trials]
        if unknown:
            raise CommandError(f"unknown trial {', '.join(unknown)}")
        if options["trial"]:
            runs = [
                rescreen.start(RescreenRun.Trigger.COMMAND, trial=trials[n]) for n in dict.fromkeys(options["trial"])
            ]
        else:
            runs = [rescreen.start(RescreenRun.Trigger.COMMAND, due=options["due"])]
        for run in runs:
            self.label = run.trial.nct_id if run.trial_id else run.get_scope_display()
            self.progress(0, run.chunks)
            run = rescreen.run_inline(run, progress=self.progress)
            self.stdout.write(
                f"{self.label}: {run.screenings_checked} results checked, {run.rows_changed} changed ({run.status})"
            )

    def progress(self, done, total):
        # A bar on stderr, redrawn in place on a terminal and one line per step otherwise.
        filled = BAR * done // total if total else BAR
        line = f"{self.label}: [{'#' * filled}{'.' * (BAR - filled)}] {done}/{total} chunks"
        if sys.stderr.isatty():
            self.stderr.write("\r" + line, ending="\n" if done == total else "")
        else:
            self.stderr.write(line)
