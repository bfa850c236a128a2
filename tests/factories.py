"""Builders and sample data shared by several test modules: the seed catalogue, FHIR resources, patients, studies.

A plain module: test modules import from here (and from conftest), never from one another
(tests/test_test_layout.py checks it). Django is imported inside the functions that need it, so the pure
tests that use the catalogue and the FHIR builders stay free of it.
"""

import io
import itertools
import json
import zipfile
from html.parser import HTMLParser
from pathlib import Path

from eligibility.engine import BOOLEAN, MULTI, QuestionSpec
from eligibility.fhir import LOINC, SNOMED

SEED = Path(__file__).resolve().parent.parent / "trials" / "seed"
QUESTIONS_JSON = SEED / "questions.json"


# --------------------------------------------------------------------------------------------
# The question catalogue and rules (pure)


def seed_catalogue() -> dict[str, QuestionSpec]:
    """The seed question catalogue as engine specs (the same mapping Question.spec() builds)."""
    return {row["code"]: QuestionSpec.from_row(row) for row in json.loads(QUESTIONS_JSON.read_text())}


# The seed catalogue has no multi-choice question; one is added for the in / not_in cases.
CATALOGUE = {
    **seed_catalogue(),
    "prior_treatment": QuestionSpec(
        "prior_treatment",
        "Prior treatments",
        MULTI,
        choices=(("insulin", "Insulin"), ("metformin", "Metformin"), ("teplizumab", "Teplizumab")),
    ),
    # Three plain yes/no questions to drive the logic tables.
    **{code: QuestionSpec(code, code.upper(), BOOLEAN) for code in ("a", "b", "c")},
}


def q(code, op, value=None, **extra):
    rule = {"q": code, "op": op, **extra}
    if value is not None:
        rule["value"] = value
    return rule


# --------------------------------------------------------------------------------------------
# Patients: answers as the questionnaire posts them, and as the engine reads them

BASE = {
    "age_0": "14",
    "age_1": "years",
    "sex": "female",
    "t1d_diagnosis": "yes",
    "t1d_diagnosis_date": "",
    "consent_possible": "yes",
    "height_0": "160",
    "height_1": "cm",
    "weight_0": "52",
    "weight_1": "kg",
}

NO_EXCLUSIONS = {
    "diabetic_ketoacidosis": False,
    "diabetic_retinopathy": False,
    "severe_organ_damage": False,
    "hiv": False,
    "hepatitis_b": False,
    "hepatitis_c": False,
    "active_infection": False,
    "severe_psychiatric_disorder": False,
    "malignancy": False,
    "mental_disorder": False,
    "other_fatal_disease": False,
    "effective_treatment_available": False,
}
ORGANS = [
    "inflammatory_bowel_disease",
    "renal_impairment",
    "recurrent_infections",
    "autoimmune_hepatitis",
    "chronic_iridocyclitis",
    "autoimmune_adrenalitis",
    "hypophysitis",
    "rheumatoid_disease",
    "immune_vasculitis",
    "sle",
    "other_organ_damage",
]
# A 12-year-old with type 1 diabetes diagnosed 4 weeks ago and a monogenic immunodeficiency with
# recurrent inflammatory bowel disease: eligible for both trials.
ELIGIBLE_FOR_BOTH = {
    **NO_EXCLUSIONS,
    "date_of_birth": "2014-05-02",
    "sex": "male",
    "t1d_diagnosis": True,
    "t1d_diagnosis_date": "2026-10-24",
    "height": 150,
    "weight": 40,
    "consent_possible": True,
    "immune_gene_mutation": True,
    "inflammatory_bowel_disease": True,
    "organ_damage_recurred": True,
    **{organ: False for organ in ORGANS[1:]},
}


def refer(client, clinician, nct_id, ref="JD-2014", **answers):
    """A referral to `nct_id` made by `clinician` through the pages (BASE answers, overridden by `answers`)."""
    from django.urls import reverse

    from referrals.models import Referral
    from screening.models import Screening
    from trials.models import Trial

    client.force_login(clinician)
    screening = Screening.objects.create(patient_ref=ref, clinician=clinician)
    screening.trials.set(Trial.objects.all())
    client.post(reverse("screening:detail", args=[screening.pk]), {**BASE, **answers, "save": "1"})
    client.post(
        reverse("screening:refer", args=[screening.pk, nct_id]), {"note": "please review", "justification": "x"}
    )
    client.logout()
    return Referral.objects.get(screening=screening, trial__nct_id=nct_id)


# --------------------------------------------------------------------------------------------
# FHIR R4 resources, small and hand-written


def patient(birth="2012-03-04", gender="female", pid="p1"):
    resource = {"resourceType": "Patient", "id": pid, "gender": gender}
    if birth:
        resource["birthDate"] = birth
    return resource


def condition(code, system=SNOMED, clinical="active", verification="confirmed", onset="2026-10-24", **extra):
    resource = {
        "resourceType": "Condition",
        "id": f"c-{code}",
        "code": {"coding": [{"system": system, "code": code, "display": f"display {code}"}]},
        "subject": {"reference": "Patient/p1"},
        **extra,
    }
    if clinical:
        resource["clinicalStatus"] = {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": clinical}]
        }
    if verification:
        resource["verificationStatus"] = {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": verification}]
        }
    if onset:
        resource["onsetDateTime"] = onset
    return resource


_ids = itertools.count(1)


def observation(code, value, unit, when="2026-11-01T09:00:00+00:00", status="final", oid=None, ucum=True):
    quantity = {"value": value}
    if unit:
        quantity.update({"unit": unit, "system": "http://unitsofmeasure.org", "code": unit} if ucum else {"unit": unit})
    resource = {
        "resourceType": "Observation",
        "id": oid or f"o-{code}-{next(_ids)}",
        "status": status,
        "code": {"coding": [{"system": LOINC, "code": code, "display": f"LOINC {code}"}]},
        "subject": {"reference": "Patient/p1"},
        "valueQuantity": quantity,
    }
    if when:
        resource["effectiveDateTime"] = when
    return resource


def bundle(*resources, kind="collection", with_patient=True):
    entries = ([patient()] if with_patient else []) + list(resources)
    return {"resourceType": "Bundle", "type": kind, "entry": [{"resource": r} for r in entries]}


# A 12-year-old girl with type 1 diabetes diagnosed four weeks ago, BMI 19.4 derived from weight and height.
NEW_ONSET = bundle(
    condition("E10.9", system="http://hl7.org/fhir/sid/icd-10-cm", onset="2026-10-24"),
    observation("29463-7", 45, "kg", when="2026-11-01"),
    observation("8302-2", 152.3, "cm", when="2026-11-01"),
    observation("4548-4", 64, "mmol/mol", when="2026-11-01"),
    condition("363346000", clinical="resolved", onset="2020-01-01"),
)
SAME_AS_ANSWERS = {
    "date_of_birth": "2012-03-04",
    "sex": "female",
    "t1d_diagnosis": True,
    "t1d_diagnosis_date": "2026-10-24",
    "weight": 45,
    "height": 152.3,
    "hba1c": 8.01,
}

# The bundle a clinician uploads to pre-fill a questionnaire: birth date and sex, a type 1 diabetes
# diagnosis, a weight in pounds.
PREFILL_BUNDLE = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        {"resource": {"resourceType": "Patient", "id": "p1", "birthDate": "2012-03-04", "gender": "female"}},
        {
            "resource": {
                "resourceType": "Condition",
                "id": "c1",
                "clinicalStatus": {
                    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
                },
                "code": {
                    "coding": [{"system": "http://snomed.info/sct", "code": "46635009", "display": "Type 1 diabetes"}]
                },
                "subject": {"reference": "Patient/p1"},
                "onsetDateTime": "2026-10-20",
            }
        },
        {
            "resource": {
                "resourceType": "Observation",
                "id": "o1",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
                "subject": {"reference": "Patient/p1"},
                "effectiveDateTime": "2026-10-21",
                "valueQuantity": {"value": 110, "unit": "lb", "system": "http://unitsofmeasure.org", "code": "[lb_av]"},
            }
        },
    ],
}


# --------------------------------------------------------------------------------------------
# The screening API

SCREEN_URL = "/api/v1/screen"


def post(client, body, **headers):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(SCREEN_URL, data, content_type="application/json", headers=headers)


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


# --------------------------------------------------------------------------------------------
# Admin pages: rule-builder fields, and forms read back as a browser would submit them

# The BMI exclusion of the first seed trial: (nct_id, start of its text), for criterion().
BMI = ("NCT01219465", "Body Mass Index")


def cond(path, q, op, **fields):
    data = {f"{path}-kind": "cond", f"{path}-q": q, f"{path}-prev_q": q, f"{path}-op": op}
    data.update({f"{path}-{k}": v for k, v in fields.items()})
    return data


def criterion(nct_id, text_start):
    from trials.models import Criterion

    return Criterion.objects.get(trial__nct_id=nct_id, text__startswith=text_start)


def change_url(obj):
    from django.urls import reverse

    return reverse(f"admin:trials_{obj._meta.model_name}_change", args=[obj.pk])


def page_form(client, obj):
    response = client.get(change_url(obj))
    assert response.status_code == 200
    return form_data(response.content.decode(), f"{obj._meta.model_name}_form")


class FormFields(HTMLParser):
    """The fields a browser would submit from one form of a page (no submit buttons)."""

    def __init__(self, form_id):
        super().__init__()
        self.form_id, self.inside, self.fields = form_id, False, []
        self._select = self._textarea = None
        self._options = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value", "on" if a.get("type") == "checkbox" else "")))
        elif tag == "select" and a.get("name"):
            self._select, self._options = a["name"], []
        elif tag == "option" and self._select:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and a.get("name"):
            self._textarea = [a["name"], ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select:
            chosen = [v for v, selected in self._options if selected] or [v for v, _ in self._options[:1]]
            self.fields += [(self._select, v) for v in chosen[:1]]
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea[0], self._textarea[1].removeprefix("\n")))
            self._textarea = None


def form_data(html: str, form_id: str) -> dict[str, list[str]]:
    parser = FormFields(form_id)
    parser.feed(html)
    data: dict[str, list[str]] = {}
    for name, value in parser.fields:
        data.setdefault(name, []).append(value)
    return data


# --------------------------------------------------------------------------------------------
# ClinicalTrials.gov records: API v2 studies and legacy XML

# tests/data/ctgov_two_studies.json holds two real API v2 records (NCT02587988, NCT02560883).
TWO_STUDIES = Path(__file__).parent / "data" / "ctgov_two_studies.json"

ELIGIBILITY = """Inclusion Criteria:

* Adults with asthma
* BMI \\> 30 kg/m2

Exclusion Criteria:

* Pregnancy
* Current smokers"""


def study(nct_id="NCT09000001", criteria=ELIGIBILITY, title="Asthma study", **eligibility):
    """A small API v2 study object."""
    return {
        "protocolSection": {
            "identificationModule": {"nctId": nct_id, "briefTitle": title, "officialTitle": f"The {title}"},
            "statusModule": {"overallStatus": "RECRUITING"},
            "conditionsModule": {"conditions": ["Asthma"], "keywords": ["inhaler"]},
            "designModule": {"phases": ["PHASE2", "PHASE3"]},
            "eligibilityModule": {
                "eligibilityCriteria": criteria,
                "healthyVolunteers": False,
                "sex": "ALL",
                "minimumAge": "18 Years",
                "maximumAge": "65 Years",
                **eligibility,
            },
            "contactsLocationsModule": {
                "locations": [
                    {"facility": "Hôpital A", "city": "Lyon", "country": "France"},
                    {"facility": "Hôpital A", "city": "Lyon", "country": "France"},
                    {"city": "Paris", "country": "France"},
                ]
            },
        }
    }


def database_state():
    """Everything an import may write, to compare before and after."""
    from trials.models import Criterion, Trial

    return (
        sorted(Trial.objects.values_list("nct_id", "brief_title", "criteria_version")),
        sorted(Criterion.objects.values_list("trial__nct_id", "order", "text", "rule_status")),
        Trial.history.count(),
        Criterion.history.count(),
    )


# The criteria as the legacy renderer laid them out: hard-wrapped at 99 columns, hanging indents, blank
# lines between items, "\r\n" line endings in the 2023 snapshot.
LEGACY_CRITERIA = """
        Inclusion Criteria:

          -  Adults with type 1 diabetes diagnosed at least 12 months before screening, treated with
             insulin

          -  BMI &lt; 30 kg/m2

        Exclusion Criteria:

          -  Pregnancy
"""


def legacy_record(
    nct_id="NCT09000001",
    *,
    status="Recruiting",
    phase="Phase 1/Phase 2",
    gender="All",
    minimum_age="18 Years",
    maximum_age="N/A",
    healthy="No",
    criteria=LEGACY_CRITERIA,
    locations=None,
) -> bytes:
    """A small legacy record; an argument given as None leaves its element out."""

    def element(tag, value):
        return f"<{tag}>{value}</{tag}>" if value is not None else ""

    if locations is None:
        locations = [("Hôpital A", "Lyon", "France"), ("Hôpital A", "Lyon", "France"), (None, "Paris", "France")]
    sites = "".join(
        f"<location><facility>{element('name', name)}<address>{element('city', city)}{element('country', country)}"
        "</address></facility><status>Recruiting</status></location>"
        for name, city, country in locations
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<clinical_study>
  <id_info>{element("nct_id", nct_id)}</id_info>
  <brief_title>Insulin study</brief_title>
  <official_title>The insulin study</official_title>
  {element("overall_status", status)}
  {element("phase", phase)}
  <condition>Type 1 Diabetes</condition>
  <condition>Insulin Resistance</condition>
  <eligibility>
    <criteria><textblock>{criteria}</textblock></criteria>
    {element("gender", gender)}
    {element("minimum_age", minimum_age)}
    {element("maximum_age", maximum_age)}
    {element("healthy_volunteers", healthy)}
  </eligibility>
  {sites}
  <keyword>insulin</keyword>
</clinical_study>
""".encode()


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            if name.endswith("/"):
                archive.mkdir(name.rstrip("/"))
            else:
                archive.writestr(name, data)
    return buffer.getvalue()


TWO_LEGACY_RECORDS = {
    "NCT0900xxxx/": b"",
    "NCT0900xxxx/NCT09000001.xml": legacy_record("NCT09000001"),
    "NCT0900xxxx/NCT09000002.xml": legacy_record("NCT09000002"),
}


def open_many_trials(n: int) -> list[str]:
    """`n` more trials open for screening, each a copy of a seed trial's criteria (load the seed first). Made
    with bulk_create, cheaply: the panel's tests and browser tests screen against hundreds of trials."""
    from trials.models import CatalogueVersion, Criterion, Trial

    seeds = list(Trial.objects.prefetch_related("criteria").order_by("nct_id"))
    trials = Trial.objects.bulk_create(
        Trial(
            nct_id=f"NCT9{i:07d}",
            brief_title=f"{seeds[i % len(seeds)].brief_title} (copy {i})",
            phase=seeds[i % len(seeds)].phase or "PHASE2",
            conditions=seeds[i % len(seeds)].conditions,
            open_for_screening=True,
        )
        for i in range(n)
    )
    Criterion.objects.bulk_create(
        Criterion(trial=trial, kind=c.kind, order=c.order, text=c.text, rule=c.rule, rule_status=c.rule_status)
        for i, trial in enumerate(trials)
        for c in seeds[i % len(seeds)].criteria.all()
    )
    CatalogueVersion.bump()  # bulk_create sends no signals
    return [t.nct_id for t in trials]


# Task backends a test can pick with the `settings` fixture (settings.TASKS = IMMEDIATE): tasks run at once
# when enqueued (inside django_capture_on_commit_callbacks(execute=True) for those enqueued on commit).
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}}
DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": ["default"]}}
