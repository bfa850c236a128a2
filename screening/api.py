"""The JSON screening API: POST /api/v1/screen.

Body: {"fhir": Bundle} and/or {"answers": {code: value}}, optional "as_of" (YYYY-MM-DD, default
today) and "trials" (NCT ids, default all), and "save": true with a pseudonymous "patient_ref" to
store a screening. The answer is `screen --format json`'s JSON (eligibility.report.to_json).

Authenticated by the session (CSRF checked as for any form) or by `Authorization: Bearer <key>`
with an ApiToken (no cookie, so no CSRF); clinicians only. Errors are JSON {"error": ...}.
"""

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from prescreen.roles import CLINICIAN, has_role
from trials.models import CodeMapping, Trial, catalogue

from eligibility import report
from . import openapi
from eligibility.answers import consistency_errors, parse_answers, to_json
from eligibility.engine import evaluate
from eligibility.fhir import FhirError, answers_from_bundle, overlay
from .forms import NewScreeningForm
from .models import ApiToken, Screening

FIELDS = ("fhir", "answers", "as_of", "trials", "save", "patient_ref")


def error(status: int, message: str, problems: list[str] | None = None, **headers) -> JsonResponse:
    body = {"error": message}
    if problems:
        body["errors"] = problems
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request, reason):
        return reason  # the reason instead of Django's HTML 403 page


def _csrf_problem(request) -> str | None:
    check = _CsrfCheck(lambda request: None)
    check.process_request(request)
    return check.process_view(request, None, (), {})


def authenticate(request):
    """(user, None) for a clinician, else (None, a 401 or 403 JSON response)."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, key = header.partition(" ")
        user = ApiToken.objects.user_for(key.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            return None, error(401, "invalid API token", WWW_Authenticate='Bearer error="invalid_token"')
    elif request.user.is_authenticated:
        user = request.user
        # The view is csrf_exempt for token requests; a request riding on the session cookie is not.
        problem = _csrf_problem(request)
        if problem:
            return None, error(403, f"CSRF check failed: {problem}")
    else:
        return None, error(
            401, "authentication required: log in, or send Authorization: Bearer <API token>",
            WWW_Authenticate="Bearer",
        )
    if not has_role(user, CLINICIAN):
        return None, error(403, "the screening API is for clinicians")
    request.user = user
    return user, None


@dataclass
class ScreenRequest:
    answers: dict
    as_of: date
    trials: Any  # a Trial queryset
    save: bool
    patient_ref: str


def read_request(body: Any, questions) -> tuple[ScreenRequest | None, list[str]]:
    """The request, or None and every problem with the body (each naming its field)."""
    if not isinstance(body, dict):
        return None, ["the body must be a JSON object"]
    problems = [f"unknown field {name!r} (expected {', '.join(FIELDS)})" for name in body if name not in FIELDS]

    as_of = timezone.localdate()
    if body.get("as_of") is not None:
        try:
            as_of = date.fromisoformat(body["as_of"])
        except (TypeError, ValueError):
            problems.append(f"as_of: expected a date as YYYY-MM-DD, got {body['as_of']!r}")

    trials = Trial.objects.all()
    if body.get("trials") is not None:
        nct_ids = body["trials"]
        if not isinstance(nct_ids, list) or not nct_ids or not all(isinstance(n, str) for n in nct_ids):
            problems.append("trials: expected a non-empty list of NCT ids")
        else:
            trials = trials.filter(nct_id__in=nct_ids)
            unknown = sorted(set(nct_ids) - set(trials.values_list("nct_id", flat=True)))
            if unknown:
                problems.append(f"trials: unknown trial {', '.join(unknown)}")

    save = body.get("save", False)
    if not isinstance(save, bool):
        problems.append("save: expected true or false")
        save = False
    patient_ref = body.get("patient_ref")
    if save:
        if not isinstance(patient_ref, str) or not patient_ref.strip():
            problems.append("patient_ref: required with save: true (a pseudonymous reference, e.g. 'JD-2014')")
        else:
            form = NewScreeningForm({"patient_ref": patient_ref})
            form.is_valid()
            problems += [f"patient_ref: {message}" for message in form.errors.get("patient_ref", [])]
            patient_ref = form.cleaned_data.get("patient_ref", patient_ref)

    answers = {}
    if body.get("fhir") is None and body.get("answers") is None:
        problems.append("give 'fhir' (one patient's FHIR R4 Bundle) or 'answers' (question code → value), or both")
    if body.get("fhir") is not None:
        try:
            answers = answers_from_bundle(body["fhir"], CodeMapping.objects.table(), as_of, questions).answers
        except FhirError as exc:
            problems.append(f"fhir: {exc}")
    if body.get("answers") is not None:
        typed, errors = parse_answers(body["answers"], questions, as_of)
        problems += [f"answers: {e}" for e in errors]
        answers = overlay(answers, body["answers"], typed)
    if not problems and body.get("fhir") is not None:
        # Each part was consistent alone; what the record says and what the body says must agree too.
        source = "fhir and answers" if body.get("answers") is not None else "fhir"
        problems += [f"{source}: {e}" for e in consistency_errors(answers, questions, as_of)]

    if problems:
        return None, problems
    return ScreenRequest(answers, as_of, trials, save, patient_ref), []


@csrf_exempt  # only token requests: authenticate() checks CSRF on session requests
@login_not_required  # authenticate() answers 401 in JSON instead of redirecting to the login page
def screen(request):
    user, refusal = authenticate(request)
    if refusal:
        return refusal
    if request.method != "POST":
        return error(405, "use POST with a JSON body", Allow="POST")
    try:
        body = json.loads(request.body)
    except RequestDataTooBig:
        return error(413, f"the body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return error(400, f"the body is not valid JSON ({exc})")
    except ValueError:  # an integer longer than Python converts (4,300 digits)
        return error(400, "the body is not valid JSON (it holds a number too long to read)")
    except RecursionError:  # the decoder's own limit: no real body nests hundreds of levels deep
        return error(400, "the body is not valid JSON (nested too deeply)")

    questions = catalogue()
    screen_request, problems = read_request(body, questions)
    if problems:
        return error(400, "; ".join(problems), problems)

    results = [evaluate(rules, screen_request.answers, screen_request.as_of, questions)
               for rules in screen_request.trials.rules()]
    data = report.to_json(results, screen_request.as_of)
    if not screen_request.save:
        return JsonResponse(data, json_dumps_params={"ensure_ascii": False})

    with transaction.atomic():
        screening = Screening.objects.create(patient_ref=screen_request.patient_ref, clinician=user)
        screening.trials.set(screen_request.trials)
        snapshot = screening.save_snapshot(to_json(screen_request.answers), results, user, screen_request.as_of)
    data["saved"] = {
        "screening": screening.pk,
        "snapshot": snapshot.pk,
        "url": request.build_absolute_uri(reverse("screening:detail", args=[screening.pk])),
    }
    return JsonResponse(data, status=201, json_dumps_params={"ensure_ascii": False})


@login_not_required  # answers 401 in JSON, as the API does, instead of redirecting to the login page
def schema(request):
    """GET /api/v1/openapi.json: the API's OpenAPI 3.1 description, for any signed-in user or API token."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or ApiToken.objects.user_for(key.strip()) is None:
            return error(401, "invalid API token", WWW_Authenticate='Bearer error="invalid_token"')
    elif not request.user.is_authenticated:
        return error(401, "authentication required: log in, or send Authorization: Bearer <API token>",
                     WWW_Authenticate="Bearer")
    if request.method != "GET":
        return error(405, "use GET", Allow="GET")
    document = openapi.document(catalogue(), server_url=request.build_absolute_uri("/"))
    return JsonResponse(document, json_dumps_params={"ensure_ascii": False, "indent": 2})
