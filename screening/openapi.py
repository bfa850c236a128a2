"""The OpenAPI 3.1 description of the screening API (POST /api/v1/screen). No Django imports.

Written here rather than generated: the API is one plain view. What varies is built from data: each question of
the catalogue is a property of `answers` with its type, unit, plausible range and choices, so the published
schema always matches what the server accepts; verdicts and outcomes come from the engine's enums.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from eligibility.engine import BOOLEAN, CHOICE, DATE, EXCLUSION, INCLUSION, MULTI, NUMBER, Outcome, QuestionSpec, Verdict
from eligibility.vocabulary import NCT_PATTERN


def answer_schema(spec: QuestionSpec) -> dict[str, Any]:
    """The JSON Schema of one answer (null always means "not answered")."""
    title = spec.label
    if spec.type == BOOLEAN:
        return {"title": title, "description": 'Yes or no: true/false, or the strings "yes"/"no"/"true"/"false".',
                "type": ["boolean", "string", "null"]}
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
        return {"title": title, "type": ["string", "null"], "format": "date",
                "description": "YYYY-MM-DD, not after as_of."}
    if spec.type == CHOICE:
        return {"title": title, "enum": [value for value, _ in spec.choices] + [None],
                "description": "; ".join(f"{value}: {label}" for value, label in spec.choices)}
    if spec.type == MULTI:
        return {"title": title, "type": ["array", "null"], "uniqueItems": False,
                "items": {"enum": [value for value, _ in spec.choices]},
                "description": "Every choice that applies; [] means none of them."}
    return {"title": title}


def document(questions: Mapping[str, QuestionSpec], server_url: str = "/", version: str = "1") -> dict[str, Any]:
    """The whole OpenAPI document, with the catalogue's questions as the properties of `answers`."""
    answers = {
        "type": "object",
        "description": "Question code → value, in the question's canonical unit. A code not listed here is refused.",
        "properties": {code: answer_schema(spec) for code, spec in sorted(questions.items())},
        "additionalProperties": False,
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Prescreen screening API",
            "version": version,
            "description": (
                "Screen one patient against the trials' structured eligibility criteria. The answer is the same "
                "JSON as `manage.py screen --format json`. Clinicians only."),
        },
        "servers": [{"url": server_url}],
        "security": [{"bearerToken": []}, {"session": []}],
        "paths": {
            "/api/v1/screen": {
                "post": {
                    "operationId": "screen",
                    "summary": "Screen a patient against the trials",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/ScreenRequest"},
                            "examples": EXAMPLES,
                        }},
                    },
                    "responses": {
                        "200": _json("The verdict per trial, criterion by criterion.", "Report"),
                        "201": _json('Saved ("save": true): the report plus where the screening was stored.', "SavedReport"),
                        "400": _json("The body is not valid: every problem, each naming its field.", "Error"),
                        "401": _json("No valid credentials (no session, or an unknown API token).", "Error"),
                        "403": _json("Not a clinician, or a session request that failed the CSRF check.", "Error"),
                        "405": _json("Only POST is allowed.", "Error"),
                        "413": _json("The body is larger than the server accepts.", "Error"),
                    },
                },
            },
        },
        "components": {
            "securitySchemes": {
                "bearerToken": {"type": "http", "scheme": "bearer",
                                "description": "An API token an admin created for the user (Admin → API tokens)."},
                "session": {"type": "apiKey", "in": "cookie", "name": "sessionid",
                            "description": "A signed-in session; also send the X-CSRFToken header."},
            },
            "schemas": {
                "ScreenRequest": {
                    "type": "object",
                    "description": "Give fhir, answers or both (answers override the record; null clears a value).",
                    "properties": {
                        "fhir": {"type": "object", "description": "One patient's FHIR R4 Bundle (collection, "
                                 "searchset, document or transaction).",
                                 "properties": {"resourceType": {"const": "Bundle"}}, "required": ["resourceType"]},
                        "answers": answers,
                        "as_of": {"type": "string", "format": "date",
                                  "description": "The reference date for ages and durations; default today."},
                        "trials": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": NCT_PATTERN},
                                   "description": "The trials to screen against; default all."},
                        "save": {"type": "boolean", "default": False,
                                 "description": "Store the screening and a result snapshot for the caller."},
                        "patient_ref": {"type": "string", "minLength": 1, "description": (
                            "A pseudonymous reference (a study code, initials + year); required with save. "
                            "Never a name or a record number.")},
                    },
                    "anyOf": [{"required": ["fhir"]}, {"required": ["answers"]}],
                    "additionalProperties": False,
                },
                "Report": {
                    "type": "object",
                    "required": ["as_of", "trials"],
                    "properties": {
                        "as_of": {"type": "string", "format": "date"},
                        "trials": {"type": "array", "items": {"$ref": "#/components/schemas/TrialResult"}},
                    },
                },
                "SavedReport": {
                    "allOf": [{"$ref": "#/components/schemas/Report"}],
                    "type": "object",
                    "required": ["saved"],
                    "properties": {"saved": {
                        "type": "object", "required": ["screening", "snapshot", "url"],
                        "properties": {"screening": {"type": "integer"}, "snapshot": {"type": "integer"},
                                       "url": {"type": "string", "format": "uri"}},
                    }},
                },
                "TrialResult": {
                    "type": "object",
                    "required": ["nct_id", "title", "verdict", "criteria_version", "missing", "met_until", "criteria"],
                    "properties": {
                        "nct_id": {"type": "string", "pattern": NCT_PATTERN},
                        "title": {"type": "string"},
                        "verdict": {"enum": _values(Verdict), "description": (
                            "eligible: every inclusion met, no exclusion met, nothing unknown; ineligible: an "
                            "inclusion not met or an exclusion met; undetermined: nothing against, something unknown "
                            "or needing review.")},
                        "criteria_version": {"type": "integer", "description": "The trial's criteria version used."},
                        "missing": {"type": "array", "items": {"type": "string"},
                                    "description": "Question codes that could decide what is still unknown."},
                        "met_until": _date_or_null("The last day the verdict holds, for time-relative criteria."),
                        "criteria": {"type": "array", "items": {"$ref": "#/components/schemas/CriterionResult"}},
                    },
                },
                "CriterionResult": {
                    "type": "object",
                    "required": ["id", "kind", "text", "outcome", "code", "explanation", "missing", "met_until"],
                    "properties": {
                        "id": {"type": "string", "description": "Stable id of the criterion."},
                        "kind": {"enum": [INCLUSION, EXCLUSION]},
                        "text": {"type": "string", "description": "The protocol's own words."},
                        "outcome": {"enum": _values(Outcome), "description": (
                            "For an exclusion, met means the exclusion applies. unknown: an answer is missing; "
                            "needs_review: the criterion has no machine-checkable rule.")},
                        "code": {"type": "string", "description": "A stable code for the reason (e.g. above_max)."},
                        "explanation": {"type": "string", "description": "In plain words, naming the values compared."},
                        "missing": {"type": "array", "items": {"type": "string"}},
                        "met_until": _date_or_null("The last day this outcome holds."),
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {"type": "string", "description": "Every problem in one line."},
                        "errors": {"type": "array", "items": {"type": "string"}, "description": "One per problem."},
                    },
                },
            },
        },
    }


EXAMPLES = {
    "answers": {
        "summary": "Answers typed in",
        "value": {"answers": {"age": 10, "t1d_diagnosis": True}, "as_of": "2026-11-21", "trials": ["NCT03835312"]},
    },
    "fhir": {
        "summary": "A FHIR Bundle, one answer corrected",
        "value": {
            "fhir": {"resourceType": "Bundle", "type": "collection", "entry": [
                {"resource": {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "2012-03-04"}},
            ]},
            "answers": {"hiv": False},
            "as_of": "2026-11-21",
        },
    },
    "save": {
        "summary": "Screen and save under a pseudonymous reference",
        "value": {"answers": {"age": 10}, "save": True, "patient_ref": "JD-2014"},
    },
}


def _json(description: str, schema: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def _date_or_null(description: str) -> dict[str, Any]:
    return {"type": ["string", "null"], "format": "date", "description": description}


def _values(enum: Iterable) -> list[str]:
    return [str(member) for member in enum]
