"""Compile every locale/<lang>/LC_MESSAGES/*.po into the .mo file Django reads, with polib.

Django's own `compilemessages` needs GNU gettext's msgfmt on the machine; `make install` runs this instead, so a
fresh machine needs nothing but the lock file. Makers of translations still use `makemessages` (it needs xgettext).
"""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Compile the project's translations (locale/*/LC_MESSAGES/*.po) into .mo files."

    def handle(self, *args, **options):
        compiled = 0
        for folder in settings.LOCALE_PATHS:
            for po_path in sorted(Path(folder).glob("*/LC_MESSAGES/*.po")):
                try:
                    catalogue = polib.pofile(str(po_path))
                except (OSError, ValueError) as exc:
                    raise CommandError(f"{po_path}: {exc}") from exc
                catalogue.save_as_mofile(str(po_path.with_suffix(".mo")))
                compiled += 1
                if options["verbosity"] > 1:
                    self.stdout.write(f"{po_path}: {catalogue.percent_translated()}% translated")
        if options["verbosity"]:
            self.stdout.write(f"Compiled {compiled} translation file(s).")
