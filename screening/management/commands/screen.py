import json
import sys
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import translation

from eligibility import report
from eligibility.answers import parse_iso_date
from eligibility.fhir import FhirError, load_bundle
from eligibility.pipeline import FHIR
from screening.pipeline import screen
from trials.models import catalogue


class UsageError(Exception):
    pass


class Command(BaseCommand):
    help = (
        "Screen one patient against the trials: answers (JSON: question code → value) and/or a FHIR R4 Bundle. "
        "With both, the answers file overrides what the Bundle says (null clears a pre-filled answer)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--answers", help="JSON file of question code → value")
        parser.add_argument("--fhir", help="JSON file with one patient's FHIR R4 Bundle")
        parser.add_argument(
            "--trial", action="append", default=[], help="NCT id (repeatable; default every trial open for screening)"
        )
        parser.add_argument("--as-of", help="reference date YYYY-MM-DD (default today)")
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            default="en-gb",
            help="language of the explanations and messages (default English)",
        )

    def handle(self, *args, **options):
        # Explanations are worded when shown (eligibility.wording): in English unless asked for another language.
        with translation.override(options["language"]):
            self.screen(options)

    def screen(self, options):
        try:
            if not options["answers"] and not options["fhir"]:
                raise UsageError("give --answers FILE, --fhir FILE or both")
            as_of = self.parse_date(options["as_of"])
            bundle = load_bundle(self.read_text(options["fhir"], "FHIR file")) if options["fhir"] else None
            raw = self.read_json(options["answers"]) if options["answers"] else None
            result = screen(as_of=as_of, answers=raw, bundle=bundle, trials=options["trial"] or None)
            fhir_problem = next((p for p in result.problems if p.source == FHIR and p.code != "inconsistent"), None)
            if fhir_problem:
                raise FhirError(fhir_problem.message, fhir_problem.code)
            if result.problems:
                # The answers' own problems first; only when there are none, the record's disagreements with them.
                own = [p for p in result.problems if p.code != "inconsistent"] or result.problems
                raise UsageError("; ".join(p.message for p in own))
        except FhirError as exc:
            message = " ".join(str(exc).split())  # one line, whatever the validator said
            self.stderr.write(f"screen: error: FHIR file {options['fhir']}: {message}")
            sys.exit(2)
        except UsageError as exc:
            self.stderr.write(f"screen: error: {exc}")
            sys.exit(2)

        if options["format"] == "json":
            self.stdout.write(json.dumps(report.to_json(result.results, as_of), indent=2, ensure_ascii=False))
            return
        if result.record is not None:
            self.stdout.write(self.prefilled_text(result.record, result.answers, catalogue()))
        self.stdout.write(report.to_text(result.results, as_of))

    def prefilled_text(self, prefilled, answers, questions):
        lines = [f"From the FHIR Bundle ({prefilled.summary()}):"]
        for code, source in prefilled.provenance.items():
            overridden = "  (overridden by the answers file)" if answers.get(code) != prefilled.answers[code] else ""
            value = prefilled.answers[code]
            shown = value.isoformat() if isinstance(value, date) else f"{value} {questions[code].unit}".strip()
            lines.append(f"  {code} = {shown}  ← {source.describe()}{overridden}")
        lines += [f"  note: {note.message}" for note in prefilled.notes]
        return "\n".join(lines) + "\n"

    def parse_date(self, text):
        if not text:
            return date.today()
        try:
            return parse_iso_date(text)
        except ValueError:
            raise UsageError(f"--as-of {text!r} is not a date as YYYY-MM-DD") from None

    def read_text(self, path, what):
        try:
            return Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UsageError(f"{what} {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {what} {path}: {exc}") from None

    def read_json(self, path):
        text = self.read_text(path, "answers file")
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"answers file {path} is not valid JSON: {exc}") from None
        except ValueError:  # an integer longer than Python converts (4,300 digits)
            raise UsageError(f"answers file {path} is not valid JSON: it holds a number too long to read") from None
        except RecursionError:
            raise UsageError(f"answers file {path} is not valid JSON: nested too deeply") from None
