"""The JSON screening API on django-ninja: POST /api/v1/screen and GET /api/v1/openapi.json.

Body: {"fhir": Bundle} and/or {"answers": {code: value}}, optional "as_of" (YYYY-MM-DD, default today) and
"trials" (NCT ids, default every trial open for screening), and "save": true with a pseudonymous "patient_ref"
to store a screening. The answer is `screen --format json`'s JSON (eligibility.report.to_json).

Authenticated by the session (CSRF checked as for any form) or by `Authorization: Bearer <key>` with an
ApiToken (no cookie, so no CSRF); clinicians only. Errors are JSON {"error": "...; ...", "errors": [...]}.

The request schema (ScreenRequest) validates each field's shape, with the messages clients have always had;
what needs the catalogue or the database (each answer, the Bundle, the trials) is the pipeline's to check
(screening.pipeline.screen). The OpenAPI document is ninja's, with `answers` described from the catalogue.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import APIKeyCookie, HttpBearer
from pydantic import ConfigDict, Field, PlainValidator, ValidationInfo, WithJsonSchema
from pydantic_core import PydanticCustomError

from eligibility import report
from eligibility.answers import parse_iso_date, to_json
from eligibility.engine import (
    BOOLEAN,
    CHOICE,
    DATE,
    EXCLUSION,
    INCLUSION,
    MULTI,
    NUMBER,
    Outcome,
    QuestionSpec,
    Verdict,
)
from eligibility.fhir import BUNDLE_TYPES
from eligibility.pipeline import BOTH
from eligibility.vocabulary import NCT_PATTERN
from prescreen.roles import CLINICIAN, has_role
from prescreen.security import api_token_failed, api_token_locked, cool_off_seconds
from trials.models import Trial, catalogue

from .forms import PatientRefField
from .models import ApiToken, Screening
from .pipeline import screen

FIELDS = ("fhir", "answers", "as_of", "trials", "save", "patient_ref")
# YYYY-MM-DD from 1900 on: what eligibility.answers.parse_iso_date reads and the plausibility check keeps.
DATE_PATTERN = r"^(19|[2-9][0-9])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
SPACE = r"[ \t\n\r\f\v]*"
YES_NO_PATTERN = f"^{SPACE}([Yy][Ee][Ss]|[Nn][Oo]|[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]){SPACE}$"
PATIENT_REF_MAX = PatientRefField().max_length


def _ref_example() -> str:
    return gettext("a pseudonymous reference, e.g. 'JD-2014'")


def error(status: int, message: str, problems: list[str] | None = None, **headers) -> JsonResponse:
    body = {"error": message}
    if problems:
        body["errors"] = problems
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


class Refusal(Exception):
    """An answer other than 400 with one message (401, 403, 405, 413, 415, 429)."""

    def __init__(self, status: int, message: str, **headers):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


# --------------------------------------------------------------------------------------------
# Authentication: an API token, else the session (with its CSRF check); optionally a role


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request, reason):
        return reason  # the reason instead of Django's HTML 403 page


def _csrf_problem(request) -> str | None:
    check = _CsrfCheck(lambda request: None)
    check.process_request(request)
    return check.process_view(request, None, (), {})


def _allowed(user, role: str | None):
    if role and not has_role(user, role):
        raise Refusal(403, gettext("the screening API is for clinicians"))
    return user


class BearerToken(HttpBearer):
    """`Authorization: Bearer <key>`. A header that is there but wrong is refused, even beside a session."""

    def __init__(self, role: str | None = None):
        super().__init__()
        self.role = role

    def __call__(self, request):
        header = request.headers.get("Authorization", "")
        if not header:
            return None  # the session may authenticate
        # Guessing keys is throttled per address, like passwords on the login pages; even a right key waits.
        if api_token_locked(request):
            raise Refusal(
                429,
                gettext("too many invalid API tokens from this address: try again later"),
                Retry_After=str(cool_off_seconds()),
            )
        scheme, _, key = header.partition(" ")
        user = ApiToken.objects.user_for(key.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            api_token_failed(request)
            raise Refusal(401, gettext("invalid API token"), WWW_Authenticate='Bearer error="invalid_token"')
        request.user = user
        return _allowed(user, self.role)

    def authenticate(self, request, token):  # pragma: no cover (__call__ does the work)
        return None


class Session(APIKeyCookie):
    """A signed-in session; requests that change something pass Django's CSRF check, as any form does."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self, role: str | None = None, csrf: bool = True):
        super().__init__(csrf=False)
        self.role, self.check_csrf = role, csrf

    def __call__(self, request):
        if request.headers.get("Authorization") or not request.user.is_authenticated:
            return None
        if self.check_csrf and (problem := _csrf_problem(request)):
            raise Refusal(403, gettext("CSRF check failed: %(problem)s") % {"problem": problem})
        return _allowed(request.user, self.role)

    def authenticate(self, request, key):  # pragma: no cover
        return None


CLINICIANS = [BearerToken(CLINICIAN), Session(CLINICIAN)]
ANYONE_SIGNED_IN = [BearerToken(), Session(csrf=False)]


# --------------------------------------------------------------------------------------------
# The body: JSON only, read with the messages clients know


class BodyProblem(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class JsonBody(Parser):
    def parse_body(self, request):
        content_type = request.content_type or ""
        if content_type != "application/json" and not content_type.endswith("+json"):
            got = content_type or gettext("no Content-Type")
            raise BodyProblem(415, gettext("send the body as application/json (got %(type)s)") % {"type": got})
        try:
            return json.loads(request.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BodyProblem(400, gettext("the body is not valid JSON (%(problem)s)") % {"problem": exc}) from None
        except ValueError:  # an integer longer than Python converts (4,300 digits)
            raise BodyProblem(400, gettext("the body is not valid JSON (it holds a number too long to read)")) from None
        except RecursionError:  # the decoder's own limit: no real body nests hundreds of levels deep
            raise BodyProblem(400, gettext("the body is not valid JSON (nested too deeply)")) from None


def _invalid(message: str):
    return PydanticCustomError("invalid", "{message}", {"message": message})


def _as_of(value: Any) -> date:
    try:
        day = parse_iso_date(value)
    except ValueError:
        day = None
    if day is None or day.year < 1900:
        raise _invalid(gettext("expected a date as YYYY-MM-DD, got %(value)s") % {"value": repr(value)})
    return day


def _trials(value: Any) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(n, str) for n in value):
        raise _invalid(gettext("expected a non-empty list of NCT ids"))
    return value  # ids no trial has are the pipeline's to report, all together


def _not_null(what: str):
    def check(value: Any) -> Any:
        if value is None:
            raise _invalid(what)
        return value

    return check


def _answers(value: Any) -> dict:
    if not isinstance(value, dict):
        raise _invalid(
            gettext("answers must be a JSON object of question code → value")
            + (" " + gettext("(leave the field out rather than send null)") if value is None else "")
        )
    return value


def _patient_ref(value: Any, info: ValidationInfo) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _invalid(
            gettext("required with save: true (%(example)s)") % {"example": _ref_example()}
            if info.data.get("save")
            else gettext("expected %(example)s") % {"example": _ref_example()}
        )
    if len(value) > PATIENT_REF_MAX:
        raise _invalid(gettext("at most %(max)s characters (it has %(n)s)") % {"max": PATIENT_REF_MAX, "n": len(value)})
    try:
        return PatientRefField().clean(value)
    except DjangoValidationError as exc:
        raise _invalid("; ".join(exc.messages)) from None


def _save(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _invalid(gettext("expected true or false"))
    return value


BUNDLE_SCHEMA = {
    "type": "object",
    "description": f"One patient's FHIR R4 Bundle ({', '.join(BUNDLE_TYPES)}) with exactly one Patient.",
    "properties": {
        "resourceType": {"const": "Bundle"},
        "type": {"enum": list(BUNDLE_TYPES)},
        "entry": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["resourceType", "type"],
}
PATIENT_REF_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": PATIENT_REF_MAX,
    # The site's study-code shape; the other refusals (eligibility/identifiers.py) are more than a pattern can say.
    "pattern": settings.PATIENT_REF_PATTERN,
    "not": {"pattern": "[0-9]{6,}"},
    "description": (
        f"A pseudonymous study code: {settings.PATIENT_REF_HINT}; required with save. Never a name, a date of "
        "birth, a record or ID number, an e-mail address or a phone number."
    ),
}

Fhir = Annotated[
    Any, PlainValidator(_not_null("not a FHIR Bundle: expected a JSON object")), WithJsonSchema(BUNDLE_SCHEMA)
]
Answers = Annotated[dict, PlainValidator(_answers), WithJsonSchema({"type": "object"})]  # see answers_schema
AsOf = Annotated[
    date,
    PlainValidator(_as_of),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date",
            "pattern": DATE_PATTERN,
            "description": "The reference date for ages and durations (YYYY-MM-DD, from 1900); default today.",
        }
    ),
]
Trials = Annotated[
    list[str],
    PlainValidator(_trials),
    WithJsonSchema(
        {
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "pattern": NCT_PATTERN},
            "description": "The trials to screen against; default every trial open for screening. Each must exist.",
        }
    ),
]
Save = Annotated[
    bool,
    PlainValidator(_save),
    WithJsonSchema(
        {
            "type": "boolean",
            "default": False,
            "description": "Store the screening and a result snapshot for the caller.",
        }
    ),
]
PatientRef = Annotated[str, PlainValidator(_patient_ref), WithJsonSchema(PATIENT_REF_SCHEMA)]


def _request_schema(schema: dict, cls) -> None:
    for prop in schema["properties"].values():
        if prop.get("default", False) is None:
            del prop["default"]  # absent, never null: null is refused
    schema["anyOf"] = [{"required": ["fhir"]}, {"required": ["answers"]}]
    schema["if"] = {"properties": {"save": {"const": True}}, "required": ["save"]}
    schema["then"] = {"required": ["patient_ref"]}
    schema["description"] = (
        "Give fhir, answers or both (answers override the record; null clears a value). "
        "Answers must also agree with each other and with the record: a BMI with height and weight (within "
        "0.5 kg/m²), an age with the date of birth, no 'no' with a date of that event, no date before the birth "
        "or after as_of, and a BMI or age calculated from them within the question's plausible range."
    )


class ScreenRequest(Schema):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_request_schema)

    fhir: Fhir = None
    answers: Answers = None
    as_of: AsOf = None
    trials: Trials = None
    save: Save = False
    patient_ref: PatientRef = None


# --------------------------------------------------------------------------------------------
# Responses, for the document (the view returns report.to_json as it is)

DateOrNull = Annotated[date | None, WithJsonSchema({"type": ["string", "null"], "format": "date"})]


class CriterionResult(Schema):
    id: str = Field(description="Stable id of the criterion.")
    kind: Literal[INCLUSION, EXCLUSION]
    text: str = Field(description="The protocol's own words.")
    outcome: Literal[tuple(str(o) for o in Outcome)] = Field(
        description=(
            "For an exclusion, met means the exclusion applies. unknown: an answer is missing; needs_review: the "
            "criterion has no machine-checkable rule."
        )
    )
    code: str = Field(description="A stable code for the reason (e.g. above_max).")
    explanation: str = Field(description="In plain words, naming the values compared.")
    missing: list[str]
    met_until: DateOrNull = Field(description="The last day this outcome holds.")


class TrialResult(Schema):
    nct_id: Annotated[str, Field(pattern=NCT_PATTERN)]
    title: str
    verdict: Literal[tuple(str(v) for v in Verdict)] = Field(
        description=(
            "eligible: every inclusion met, no exclusion met, nothing unknown; ineligible: an inclusion not met or an "
            "exclusion met; undetermined: nothing against, something unknown or needing review."
        )
    )
    criteria_version: int = Field(description="The trial's criteria version used.")
    missing: list[str] = Field(description="Question codes that could decide what is still unknown.")
    met_until: DateOrNull = Field(description="The last day the verdict holds, for time-relative criteria.")
    criteria: list[CriterionResult]


class Report(Schema):
    as_of: date
    trials: list[TrialResult]


class Saved(Schema):
    screening: int
    snapshot: int
    url: Annotated[str, WithJsonSchema({"type": "string", "format": "uri"})]


class SavedReport(Report):
    saved: Saved


class ProblemItem(Schema):
    source: str = Field(description='Where it was found: "answers", "fhir", "fhir and answers" or "trials".')
    code: str = Field(
        description=(
            'A stable code: "answer" (an answer that does not read), "inconsistent" (answers that contradict each '
            'other or the record), a FHIR problem\'s code, "unknown_trial".'
        )
    )
    questions: list[str] = Field(
        description="The question codes concerned: every question of a contradiction (e.g. bmi, height, weight)."
    )
    message: str


class Error(Schema):
    error: str = Field(description="Every problem in one line.")
    errors: Annotated[
        list[str], WithJsonSchema({"type": "array", "items": {"type": "string"}, "description": "One per problem."})
    ] = None
    problems: list[ProblemItem] = Field(
        None,
        description=(
            "The problems found in the answers, the record and the trials, as data (those of the body's shape are "
            "only in errors). Answers that contradict each other are one problem naming every question involved; "
            "none of them is screened on until corrected."
        ),
    )


RESPONSES = {
    200: Report,
    201: SavedReport,
    400: Error,
    401: Error,
    403: Error,
    405: Error,
    413: Error,
    415: Error,
    429: Error,
}
DESCRIPTIONS = {
    "200": "The verdict per trial, criterion by criterion.",
    "201": 'Saved ("save": true): the report plus where the screening was stored.',
    "400": "The body is not valid: every problem, each naming its field.",
    "401": "No valid credentials (no session, or an unknown API token).",
    "403": "Not a clinician, or a session request that failed the CSRF check.",
    "405": "Only POST is allowed.",
    "413": "The body is larger than the server accepts.",
    "415": "The body is not sent as application/json.",
    "429": "Too many invalid API tokens from this address; wait for Retry-After seconds.",
}


# --------------------------------------------------------------------------------------------
# The API

api = NinjaAPI(
    title="Prescreen screening API",
    version="1",
    description=(
        "Screen one patient against the trials' structured eligibility criteria. The answer is the same JSON "
        "as `manage.py screen --format json`. Clinicians only."
    ),
    urls_namespace="api",
    openapi_url=None,  # served below, behind authentication, with the catalogue's questions
    docs_url=None,
    parser=JsonBody(),
)


@api.post(
    "/screen", auth=CLINICIANS, response=RESPONSES, operation_id="screen", summary="Screen a patient against the trials"
)
def screen_patient(request, body: ScreenRequest):
    return _screen(request, body.model_dump(exclude_unset=True), {})


@api.api_operation(["GET", "PUT", "PATCH", "DELETE"], "/screen", auth=CLINICIANS, include_in_schema=False)
def screen_other_methods(request):
    raise Refusal(405, gettext("use POST with a JSON body"), Allow="POST")


@api.get("/openapi.json", auth=ANYONE_SIGNED_IN, include_in_schema=False)
def schema(request):
    """The API's OpenAPI 3.1 description, for any signed-in user or API token."""
    data = document(catalogue(), server_url=request.build_absolute_uri("/"))
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})


@api.api_operation(["POST", "PUT", "PATCH", "DELETE"], "/openapi.json", auth=ANYONE_SIGNED_IN, include_in_schema=False)
def schema_other_methods(request):
    raise Refusal(405, gettext("use GET"), Allow="GET")


_ORDER = ("unknown field", "as_of", "trials", "save", "patient_ref", "give", "fhir", "answers", BOTH)


def _rank(problem: str) -> int:
    return next((i for i, prefix in enumerate(_ORDER) if problem.startswith(prefix)), len(_ORDER))


def _screen(request, fields: dict, problems: dict[str, list[str]]):
    """Screen with the valid `fields`, or answer 400 with every problem (`problems`: field → messages)."""
    found = [message for messages in problems.values() for message in messages]
    if "fhir" not in fields and "answers" not in fields and not {"fhir", "answers"} & set(problems):
        found.append(
            gettext("give 'fhir' (one patient's FHIR R4 Bundle) or 'answers' (question code → value), or both")
        )
    if fields.get("save") and "patient_ref" not in fields and "patient_ref" not in problems:
        found.append("patient_ref: " + gettext("required with save: true (%(example)s)") % {"example": _ref_example()})
    if fields.get("save") and fields.get("trials"):
        # A saved screening (and its referrals) is for trials this site screens for; screening alone may try any.
        closed = Trial.objects.filter(nct_id__in=fields["trials"], open_for_screening=False)
        if nct_ids := sorted(closed.values_list("nct_id", flat=True)):
            found.append(
                "trials: "
                + gettext("not open for screening, so not saved: %(trials)s") % {"trials": ", ".join(nct_ids)}
            )
    as_of = fields.get("as_of") or timezone.localdate()
    result = screen(as_of=as_of, answers=fields.get("answers"), bundle=fields.get("fhir"), trials=fields.get("trials"))
    pipeline_problems = [p for p in result.problems if not (found and p.code == "inconsistent")]
    found += [str(p) for p in pipeline_problems]
    if found:
        found.sort(key=_rank)
        response = error(400, "; ".join(found), found)
        if pipeline_problems:
            # The same problems as data: a contradiction names every question involved (both sides of it).
            body = json.loads(response.content)
            body["problems"] = [
                {"source": p.source, "code": p.code, "questions": list(p.questions), "message": p.message}
                for p in sorted(pipeline_problems, key=lambda p: _rank(str(p)))
            ]
            response = JsonResponse(body, status=400, json_dumps_params={"ensure_ascii": False})
        return response

    data = report.to_json(result.results, as_of)
    if not fields.get("save"):
        return JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    with transaction.atomic():
        screening = Screening.objects.create(patient_ref=fields["patient_ref"], clinician=request.user)
        screening.trials.set(Trial.objects.filter(nct_id__in=[v.nct_id for v in result.verdicts]))
        # Answers the record gave (and the given answers did not replace) are saved with their record source.
        given = fields.get("answers") if isinstance(fields.get("answers"), dict) else {}
        sources = {
            code: source.saved_json()
            for code, source in (result.record.provenance.items() if result.record else ())
            if code not in given
        }
        snapshot = screening.save_snapshot(
            to_json(result.answers), result.results, request.user, as_of, sources=sources
        )
    data["saved"] = {
        "screening": screening.pk,
        "snapshot": snapshot.pk,
        "url": request.build_absolute_uri(reverse("screening:detail", args=[screening.pk])),
    }
    return JsonResponse(data, status=201, json_dumps_params={"ensure_ascii": False})


# --------------------------------------------------------------------------------------------
# Errors in the API's one shape


@api.exception_handler(Refusal)
def _refusal(request, exc: Refusal):
    return error(exc.status, exc.message, **exc.headers)


@api.exception_handler(AuthenticationError)
def _anonymous(request, exc):
    return error(
        401,
        gettext("authentication required: log in, or send Authorization: Bearer <API token>"),
        WWW_Authenticate="Bearer",
    )


@api.exception_handler(RequestDataTooBig)
def _too_big(request, exc):
    return error(
        413, gettext("the body is larger than %(limit)s bytes") % {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
    )


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    cause = exc.__cause__
    if isinstance(cause, BodyProblem):  # ninja wraps what the parser raises
        return error(cause.status, cause.message)
    if isinstance(cause, RequestDataTooBig):
        return _too_big(request, cause)
    return error(exc.status_code, str(exc.message))


@api.exception_handler(ValidationError)
def _invalid_body(request, exc: ValidationError):
    """Every field's problem, then the pipeline's problems with what was valid: all at once, as ever."""
    problems: dict[str, list[str]] = {}
    for item in exc.errors:
        where = [str(part) for part in item["loc"][2:]]  # ("body", "body", field, ...)
        if not where:  # the body itself
            if item["type"] == "missing":
                message = gettext("the body is not valid JSON (%(problem)s)") % {
                    "problem": "Expecting value: line 1 column 1 (char 0)"
                }
            else:
                message = gettext("the body must be a JSON object")
            return error(400, message, [message])
        name = where[0]
        if item["type"] == "extra_forbidden":
            problems.setdefault(f"unknown field {name}", []).append(
                gettext("unknown field %(name)s (expected %(fields)s)")
                % {"name": repr(name), "fields": ", ".join(FIELDS)}
            )
        else:
            problems.setdefault(name, []).append(f"{name}: {item['msg']}")
    raw = json.loads(request.body)
    fields = {}
    for name in FIELDS:
        if name in raw and name not in problems:
            fields[name] = ScreenRequest.model_validate(
                {
                    **(
                        {"save": raw["save"]}
                        if name == "patient_ref" and "save" not in problems and "save" in raw
                        else {}
                    ),
                    name: raw[name],
                }
            ).model_dump()[name]
    return _screen(request, fields, problems)


# --------------------------------------------------------------------------------------------
# The document: ninja's, with each question of the catalogue a property of `answers`


def answer_schema(spec: QuestionSpec) -> dict[str, Any]:
    """The JSON Schema of one answer (null always means "not answered")."""
    title = spec.label
    if spec.type == BOOLEAN:
        return {
            "title": title,
            "description": 'Yes or no: true/false, or the words "yes"/"no"/"true"/"false".',
            "anyOf": [{"type": "boolean"}, {"type": "string", "pattern": YES_NO_PATTERN}, {"type": "null"}],
        }
    if spec.type == NUMBER:
        schema: dict[str, Any] = {"title": title, "type": ["number", "null"]}
        if spec.min_value is not None:
            schema["minimum"] = spec.min_value
        if spec.max_value is not None:
            schema["maximum"] = spec.max_value
        if spec.unit:
            schema["description"] = f"In {spec.unit} (no other unit is converted here)."
        return schema
    if spec.type == DATE:
        return {
            "title": title,
            "type": ["string", "null"],
            "format": "date",
            "pattern": DATE_PATTERN,
            "description": "YYYY-MM-DD, from 1900, not after as_of.",
        }
    if spec.type == CHOICE:
        return {
            "title": title,
            "enum": [value for value, _ in spec.choices] + [None],
            "description": "; ".join(f"{value}: {label}" for value, label in spec.choices),
        }
    if spec.type == MULTI:
        return {
            "title": title,
            "type": ["array", "null"],
            "uniqueItems": False,
            "items": {"enum": [value for value, _ in spec.choices]},
            "description": "Every choice that applies; [] means none of them.",
        }
    return {"title": title}


def answers_schema(questions) -> dict[str, Any]:
    return {
        "type": "object",
        "description": "Question code → value, in the question's canonical unit. A code not listed here is refused.",
        "properties": {code: answer_schema(spec) for code, spec in sorted(questions.items())},
        "additionalProperties": False,
    }


EXAMPLES = {
    "answers": {
        "summary": "Answers typed in",
        "value": {"answers": {"age": 10, "t1d_diagnosis": True}, "as_of": "2026-11-21", "trials": ["NCT03835312"]},
    },
    "fhir": {
        "summary": "A FHIR Bundle, one answer corrected",
        "value": {
            "fhir": {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [
                    {
                        "resource": {
                            "resourceType": "Patient",
                            "id": "p1",
                            "gender": "female",
                            "birthDate": "2012-03-04",
                        }
                    },
                ],
            },
            "answers": {"hiv": False},
            "as_of": "2026-11-21",
        },
    },
    "save": {
        "summary": "Screen and save under a pseudonymous reference",
        "value": {"answers": {"age": 10}, "save": True, "patient_ref": "JD-2014"},
    },
}


def document(questions, server_url: str = "/") -> dict[str, Any]:
    """The whole OpenAPI document, with the catalogue's questions as the properties of `answers`."""
    data = json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/v1/"), default=str))
    data["servers"] = [{"url": server_url}]
    data["security"] = [{"bearerToken": []}, {"session": []}]
    data["components"]["securitySchemes"] = {
        "bearerToken": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token an admin created for the user (Admin → API tokens).",
        },
        "session": {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "A signed-in session; also send the X-CSRFToken header.",
        },
    }
    schemas = data["components"]["schemas"]
    schemas["ScreenRequest"]["properties"]["answers"] = answers_schema(questions)
    schemas["ScreenRequest"].pop("title", None)
    operation = data["paths"]["/api/v1/screen"]["post"]
    operation["security"] = data["security"]
    operation["requestBody"]["content"]["application/json"]["examples"] = EXAMPLES
    for status, response in operation["responses"].items():
        response["description"] = DESCRIPTIONS[status]
    return data
