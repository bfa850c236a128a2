"""Bad input never gives a 500: every form and POST endpoint (and every parsed query parameter) fed with
hostile values, checking the answer is never a server error and that refused input changes nothing.

Beside each fuzz test, a focused test for every server error it found. The JSON API has its own random-body
test in tests/test_api.py.
"""

import json
import os
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ctgov.models import ImportJob
from curation import rule_builder as rb
from curation.models import ExamplePatient
from eligibility.answers import parse_answers
from eligibility.rules import validate_rule
from referrals.models import Referral, Verification
from screening.models import Screening, Snapshot
from tests.factories import BASE, BMI, SEED, change_url, cond, criterion, page_form, refer, seed_catalogue
from trials.models import Criterion, Question, Trial, catalogue

CATALOGUE = seed_catalogue()
FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --------------------------------------------------------------------------------------------
# Hostile values

NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "JD\x00-2014",
    "x" * 5000,
    "9" * 5000,
    "NaN",
    "nan",
    "-NaN",
    "inf",
    "-inf",
    "Infinity",
    "1e999",
    "-1e999",
    "1e308",
    "-1e308",
    "1e-320",
    "-1",
    "0",
    "-0",
    "99999999999999999999",
    "-99999999999999999999",
    "2147483648",
    "9223372036854775808",
    "1.5",
    "12,5",
    "0x1F",
    "1_000",
    " 12 ",
    "١٢",
    "²",
    "½",
    "Ⅻ",
    "٣ weeks",
    "9" * 5000 + " weeks",
    "2026-02-30",
    "0000-01-01",
    "0001-01-01",
    "1899-12-31",
    "9999-12-31",
    "10000-01-01",
    "2026-13-45",
    "2099-01-01",
    "yes",
    "no",
    "true",
    "false",
    "null",
    "None",
    "[]",
    "{}",
    "<script>alert(1)</script>",
    "' OR '1'='1",
    "{{ 7|add:7 }}",
    '=HYPERLINK("x")',
    "\u202eevil",
    "💉🧪",
    "ÿ",
    "\r\n",
    "%00",
    "../../etc/passwd",
    "NCT01219465",
    "NCT0121946\x00",
]
nasty = st.sampled_from(NASTY) | st.text(max_size=30) | st.integers().map(str) | st.floats().map(repr)
values = nasty | st.lists(nasty, max_size=3)  # a field posted several times


DEEP = ["[" * 100_000, '{"not": ' * 5_000 + "{}" + "}" * 5_000]


def json_documents():
    """JSON text, mostly well formed, with hostile leaves (NaN, 1e999, NUL, huge numbers), and what Python's
    decoder raises other errors than JSONDecodeError on: nesting beyond its recursion limit and integers of
    more than 4,300 digits."""
    leaves = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats()
        | st.sampled_from(NASTY)
        | st.text(max_size=10)
        | st.just(10**400)
    )
    tree = st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(["q", "op", "value", "unit", "all", "any", "not", "at_least", "of", "min", "max"])
                | st.text(max_size=5),
                inner,
                max_size=4,
            )
        ),
        max_leaves=12,
    )
    as_text = tree.map(lambda doc: json.dumps(doc, ensure_ascii=False))
    hostile = [
        '{"all": [], "note": NaN}',
        '{"all": [], "x": 1e999}',
        '{"all": [], "x": "\\u0000"}',
        '{"all": 5}',
        "[NaN]",
        '{"at_least": 1, "of": 5}',
        '{"q": "sex", "op": "=", "value": ["female"]}',
        '{"bmi": NaN}',
        '{"age": 1e999}',
        '{"q": "bmi", "op": ">", "value": 30, "unit": "kg/m²", "x": NaN}',
        '["\\u0000"]',
        '{"q": "t1d_diagnosis_date", "op": "within", "value": "' + "9" * 5000 + ' weeks"}',
    ]
    return as_text | nasty | st.sampled_from(hostile + DEEP + ["9" * 5000, '{"all": [], "n": ' + "9" * 5000 + "}"])


def stored_json_is_sound(value):
    """Strict JSON (no NaN, no infinity) without NUL characters: what PostgreSQL's jsonb can hold."""
    assert "\\u0000" not in json.dumps(value, allow_nan=False)


def no_server_error(response):
    assert response.status_code < 500, response.content.decode(errors="replace")[-3000:]
    return response


# --------------------------------------------------------------------------------------------
# The clinician's pages

QUESTIONS = json.loads((SEED / "questions.json").read_text())
FIELDS = [
    name
    for q in QUESTIONS
    for name in ((f"{q['code']}_0", f"{q['code']}_1") if q["type"] == "number" else (q["code"],))
]
UNITS = [
    "kg",
    "lb",
    "g",
    "cm",
    "in",
    "m",
    "%",
    "mmol/mol",
    "mg/dL",
    "mmol/L",
    "years",
    "months",
    "nmol/L",
    "ng/mL",
    "pmol/L",
]
plausible = st.sampled_from(["yes", "no", "female", "male", "14", "52", "160", "2012-03-01", "2026-01-01"] + UNITS)
answers_posted = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), values | plausible, max_size=12)


@pytest.fixture
def screening(seeded, clinician):
    s = Screening.objects.create(patient_ref="JD-2014", clinician=clinician)
    s.trials.set(Trial.objects.all())
    return s


@FUZZ
@given(ref=values, trials=st.lists(nasty | st.sampled_from(["1", "2"]), max_size=3))
@example(ref="JD\x00-2014", trials=[])
@example(ref="x" * 5000, trials=["99999999999999999999"])
def test_it_never_fails_on_a_bad_new_screening(alice, seeded, ref, trials):
    before = Screening.objects.count()
    response = no_server_error(alice.post(reverse("screening:new"), {"patient_ref": ref, "trials": trials}))
    if response.status_code == 302:
        made = Screening.objects.order_by("-pk").first()
        assert "\x00" not in made.patient_ref and 0 < len(made.patient_ref) <= 40
        assert Screening.objects.count() == before + 1
    else:
        assert response.status_code == 200
        assert Screening.objects.count() == before


def test_it_refuses_a_trial_id_too_large_for_the_database(alice, seeded):
    # Trials were once chosen by primary key, and Django's `pk__in` query overflowed on this one (OverflowError on
    # SQLite, DataError on PostgreSQL); they are chosen by NCT id now, and this is none.
    response = alice.post(reverse("screening:new"), {"patient_ref": "AB-2010", "trials": ["99999999999999999999"]})
    assert response.status_code == 200
    assert "“99999999999999999999” is not an NCT id." in response.content.decode()
    assert not Screening.objects.exists()


@FUZZ
@given(data=answers_posted, base=st.booleans(), htmx=st.booleans())
@example(
    data={"age_0": "1e999", "weight_0": "NaN", "weight_1": "lb", "t1d_diagnosis_date": "2026-02-30"},
    base=True,
    htmx=True,
)
@example(
    data={"height_0": "1e308", "height_1": "in", "date_of_birth": "0000-01-01", "sex": "\x00"}, base=True, htmx=False
)
def test_it_never_fails_on_bad_answers_and_live_evaluation_saves_nothing(alice, screening, data, base, htmx):
    post = {**BASE, **data} if base else data
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = no_server_error(alice.post(reverse("screening:detail", args=[screening.pk]), post, **headers))
    assert response.status_code == 200
    assert not Snapshot.objects.exists()
    screening.refresh_from_db()
    assert screening.answers == {}


@FUZZ
@given(data=answers_posted, base=st.booleans())
@example(data={"age_0": "-1", "bmi_0": "inf", "hba1c_1": "\x00"}, base=True)
@example(data={"age_0": "1e-320", "age_1": "months", "date_of_birth": "2026-02-30"}, base=True)
def test_it_never_fails_on_saving_bad_answers_and_saves_only_valid_ones(alice, screening, data, base):
    snapshots = Snapshot.objects.count()
    post = {**BASE, **data, "save": "1"} if base else {**data, "save": "1"}
    response = no_server_error(alice.post(reverse("screening:detail", args=[screening.pk]), post))
    screening.refresh_from_db()
    if response.status_code == 302:
        assert Snapshot.objects.count() == snapshots + 1
        _answers, errors = parse_answers(screening.answers, catalogue(), timezone.localdate())
        assert errors == []
    else:
        assert response.status_code == 200 and "Nothing was saved" in response.content.decode()
        assert Snapshot.objects.count() == snapshots


# Names an upload can have (SimpleUploadedFile itself refuses "", "." and a name ending in "/").
file_names = (
    st.sampled_from(["patient.json", "x", "a\x00b.json", "💉.json", "x" * 300, "../../x.json"])
    | st.text(min_size=1, max_size=20)
).filter(lambda name: os.path.basename(name) not in ("", ".", ".."))
bundles = (
    st.binary(max_size=400)
    | json_documents().map(str.encode)
    | st.sampled_from(
        [
            b"",
            b"\x00" * 50,
            b"\xff\xfe{",
            b'{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": '
            b'{"resourceType": "Patient", "birthDate": "2026-02-30", "gender": "\\u0000"}}]}',
            b'{"resourceType": "Bundle", "type": "collection", "entry": "x"}',
            b'{"resourceType": "Bundle", "entry": [1e999]}',
            b"null",  # once read as "no Bundle given": a 500 on the pre-fill page
        ]
    )
)


@FUZZ
@given(content=bundles, name=file_names)
def test_it_never_fails_on_a_random_file_as_fhir_bundle_and_saves_nothing(alice, screening, content, name):
    response = no_server_error(
        alice.post(
            reverse("screening:prefill", args=[screening.pk]),
            {"bundle": SimpleUploadedFile(name, content)},
        )
    )
    assert response.status_code in (200, 302)
    assert not Snapshot.objects.exists()
    screening.refresh_from_db()
    assert screening.answers == {}


@pytest.mark.parametrize(
    "content, message",
    [
        (b"[" * 100_000, "nested too deeply to be a FHIR Bundle"),  # was a RecursionError
        (
            b'{"resourceType": "Bundle", "total": ' + b"9" * 5000 + b"}",
            "holds a number too long to read",
        ),  # a ValueError
    ],
)
def test_it_refuses_json_the_decoder_cannot_read_with_a_message(alice, screening, content, message):
    response = alice.post(
        reverse("screening:prefill", args=[screening.pk]),
        {"bundle": SimpleUploadedFile("patient.json", content)},
        follow=True,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html and "Nothing was changed." in html
    assert not Snapshot.objects.exists()


@pytest.fixture
def saved(alice, screening):
    alice.post(reverse("screening:detail", args=[screening.pk]), {**BASE, "save": "1"})
    assert Snapshot.objects.count() == 1
    return screening


@FUZZ
@given(nct_id=nasty | st.just("NCT01219465"), note=values, justification=values)
@example(nct_id="NCT0121946\x00", note="", justification="")
@example(nct_id="NCT01219465", note="a\x00b", justification="x" * 5000)
def test_it_never_fails_on_a_bad_referral_and_saves_nothing(alice, saved, nct_id, note, justification):
    url = f"/screenings/{saved.pk}/refer/{quote(nct_id, safe='')}/"
    response = no_server_error(alice.post(url, {"note": note, "justification": justification}))
    referral = Referral.objects.filter(screening=saved).first()
    if response.status_code == 302:
        assert "\x00" not in referral.note + referral.justification
        referral.delete()  # so that the next example may refer again
    else:
        assert response.status_code in (200, 404)
        assert referral is None


def test_it_answers_404_to_a_referral_for_an_nct_id_that_is_not_one(alice, saved):
    # A NUL byte in the path reached the query: DataError on PostgreSQL.
    response = alice.post(f"/screenings/{saved.pk}/refer/NCT0121946%00/", {"note": "x"})
    assert response.status_code == 404
    assert not Referral.objects.exists()


@FUZZ
@given(page=nasty)
def test_it_never_fails_on_a_bad_page_of_my_screenings(alice, screening, page):
    assert no_server_error(alice.get(reverse("screening:list"), {"page": page})).status_code == 200


# --------------------------------------------------------------------------------------------
# The coordinator's pages

STATUSES = [s.value for s in Referral.Status]


@pytest.fixture
def candidate(client, seeded, clinician, coordinator):
    for trial in Trial.objects.all():
        trial.coordinators.add(coordinator)
    referral = refer(client, clinician, "NCT01219465")
    client.force_login(coordinator)
    return referral


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(["trial", "status", "since", "until", "sort", "page"]) | st.text(max_size=5),
        values | st.sampled_from(STATUSES + ["newest", "patient", "NCT01219465", "2026-01-01"]),
        max_size=6,
    ),
    htmx=st.booleans(),
)
@example(
    params={"trial": "NCT0121946\x00", "status": "\x00", "since": "0001-01-01", "until": "9999-12-31", "page": "1e999"},
    htmx=False,
)
def test_it_never_fails_on_bad_queue_filters_or_export(client, candidate, params, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    assert no_server_error(client.get(reverse("candidates:queue"), params, **headers)).status_code == 200
    assert no_server_error(client.get(reverse("candidates:csv"), params)).status_code == 200


@FUZZ
@given(
    status=values | st.sampled_from(STATUSES),
    note=values,
    reason_text=values,
    reason_criterion=values | st.sampled_from(["own", "other"]),
    version=values | st.just("1"),
    htmx=st.booleans(),
)
@example(status="screen_failed", note="", reason_text="a\x00b", reason_criterion="", version="1", htmx=False)
@example(status="screen_failed", note="\x00", reason_text="", reason_criterion="other", version="1", htmx=True)
@example(status="under_review", note="", reason_text="", reason_criterion="", version="99999999999999999999", htmx=True)
def test_it_never_fails_on_a_bad_status_change_and_makes_only_allowed_moves(
    client, candidate, status, note, reason_text, reason_criterion, version, htmx
):
    Referral.objects.filter(pk=candidate.pk).update(status="referred", version=1, status_reason="")
    own = candidate.trial.criteria.first().pk
    other = Criterion.objects.exclude(trial=candidate.trial).first().pk
    if reason_criterion in ("own", "other"):
        reason_criterion = str(own if reason_criterion == "own" else other)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    data = {
        "status": status,
        "note": note,
        "reason_text": reason_text,
        "reason_criterion": reason_criterion,
        "version": version,
    }
    response = no_server_error(client.post(reverse("candidates:status", args=[candidate.pk]), data, **headers))
    assert response.status_code in (200, 302)
    after = Referral.objects.get(pk=candidate.pk)
    if after.version == 1:
        assert after.status == "referred"
    else:
        assert after.version == 2 and after.status in Referral.TRANSITIONS[Referral.Status.REFERRED]
        assert "\x00" not in after.status_reason
        if after.status == Referral.Status.SCREEN_FAILED:
            assert after.status_reason.strip()
            assert after.screen_fail_criterion is None or after.screen_fail_criterion.trial_id == candidate.trial_id


@FUZZ
@given(
    criterion_id=st.sampled_from(["own", "other", "0", "99999999", "99999999999999999999", "-1", "abc", "%00"]),
    status=values | st.sampled_from(["verified_met", "verified_not_met", "clear"]),
    note=values,
    seen=values,
    htmx=st.booleans(),
)
@example(criterion_id="own", status="verified_met", note="a\x00b", seen="", htmx=True)
@example(criterion_id="own", status="verified_met", note="x" * 301, seen="", htmx=False)
def test_it_never_fails_on_a_bad_verification_and_saves_only_a_valid_one(
    client, candidate, criterion_id, status, note, seen, htmx
):
    Verification.objects.all().delete()
    own = candidate.trial.criteria.first().pk
    other = Criterion.objects.exclude(trial=candidate.trial).first().pk
    criterion_id = {"own": own, "other": other}.get(criterion_id, criterion_id)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    url = f"/candidates/{candidate.pk}/verify/{criterion_id}/"
    response = no_server_error(client.post(url, {"status": status, "note": note, "seen": seen}, **headers))
    assert response.status_code in (200, 302, 404)
    for v in Verification.objects.all():
        assert (v.criterion_id, v.referral_id) == (own, candidate.pk)
        assert v.status in ("verified_met", "verified_not_met") and v.status == status
        assert "\x00" not in v.note and len(v.note) <= 300


@FUZZ
@given(
    nct_id=nasty | st.sampled_from(["NCT01219465", "NCT03835312"]), params=st.dictionaries(nasty, values, max_size=3)
)
@example(nct_id="NCT0121946\x00", params={})
@example(nct_id="\x00", params={"trial": "\x00"})
def test_it_never_fails_on_analytics_of_a_bad_trial(client, candidate, nct_id, params):
    response = no_server_error(client.get(f"/candidates/analytics/{quote(nct_id, safe='')}/", params))
    assert response.status_code in (200, 404)


def test_it_answers_404_to_analytics_of_an_nct_id_with_a_nul_byte(client, candidate):
    assert client.get("/candidates/analytics/NCT0121946%00/").status_code == 404
    assert client.get(reverse("candidates:analytics", args=["NCT01219465"])).status_code == 200


# --------------------------------------------------------------------------------------------
# The admin's curation pages


NODE_FIELDS = [
    "kind",
    "count",
    "q",
    "prev_q",
    "op",
    "value",
    "values",
    "low",
    "high",
    "amount",
    "unit",
    "min_amount",
    "min_unit",
    "max_amount",
    "max_unit",
]
node_paths = st.sampled_from(
    [
        "rb",
        "rb.0",
        "rb.1",
        "rb.0.0",
        "rb.0.1",
        "rb.²",
        "rb.١",
        "rb.99999",
        "rb.0.0.0.0.0",
        "rb." + ".".join(["0"] * 25),
        "rb.-1",
        "rb.a",
        "rb..0",
        ".rb",
    ]
)
builder_keys = st.builds(
    lambda path, name: f"{path}-{name}", node_paths, st.sampled_from(NODE_FIELDS) | st.text(max_size=4)
)
builder_values = values | st.sampled_from(
    list(rb.GROUP_KINDS)
    + [rb.COND, rb.NONE]
    + list(CATALOGUE)
    + [
        "=",
        "!=",
        "<",
        ">",
        "between",
        "in",
        "not_in",
        "within",
        "before",
        "age_between",
        "answered",
        "days",
        "weeks",
        "years",
    ]
)
actions = (
    st.sampled_from(
        [
            "",
            "update",
            "json",
            "refresh",
            "add_condition:rb",
            "add_group:rb.0",
            "remove:rb.0",
            "remove:rb",
            "add_condition:rb.²",
            "remove:\x00",
        ]
    )
    | nasty
)
builder_posts = st.fixed_dictionaries(
    {},
    optional={
        rb.ACTION: actions,
        rb.CHANGE: nasty,
        rb.ORIGIN: st.sampled_from([rb.BUILDER, rb.JSON]) | nasty,
        rb.JSON_FIELD: json_documents(),
    },
).flatmap(lambda fixed: st.dictionaries(builder_keys, builder_values, max_size=12).map(lambda tree: {**tree, **fixed}))


def rules_now():
    return list(Criterion.objects.order_by("pk").values_list("rule", "rule_status"))


@FUZZ
@given(data=builder_posts, htmx=st.booleans())
@example(data={"rb-kind": "at_least", "rb-count": "²"}, htmx=True)
@example(data={"rb-kind": "all", "rb.²-kind": "cond"}, htmx=True)
@example(data={rb.ACTION: "json", rb.JSON_FIELD: "[" * 100_000}, htmx=True)
@example(data={rb.ACTION: "json", rb.JSON_FIELD: '{"all": 5}'}, htmx=False)
@example(
    data={"rb-kind": "all", **cond("rb.0", "t1d_diagnosis_date", "within", amount="9" * 5000, unit="weeks")}, htmx=True
)
def test_it_never_fails_on_a_bad_rule_builder_post_and_saves_nothing(adam, data, htmx):
    before = rules_now()
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = no_server_error(adam.post(reverse("admin:trials_criterion_rule_builder"), data, **headers))
    assert response.status_code == 200
    assert rules_now() == before


# Each of these was a server error in the builder (live refresh and change form alike).
BUILDER_POSTS = [
    # (posted fields, problem codes): int() refuses "²" although str.isdigit() accepts it.
    ({"rb-kind": "at_least", "rb-count": "²", **cond("rb.0", "hiv", "=", value="true")}, ["bad_count"]),
    ({"rb-kind": "all", **cond("rb.²", "hiv", "=", value="true")}, []),  # not a path: ignored
    # int() refuses more than 4,300 digits.
    (
        {"rb-kind": "all", **cond("rb.0", "t1d_diagnosis_date", "within", amount="9" * 5000, unit="weeks")},
        ["bad_duration"],
    ),
    ({"rb-kind": "at_least", "rb-count": "9" * 5000, **cond("rb.0", "hiv", "=", value="true")}, ["bad_count"]),
    # describe() iterated a group that is not a list.
    ({rb.ACTION: "json", rb.JSON_FIELD: '{"all": 5}'}, ["not_a_list"]),
    ({rb.ACTION: "json", rb.JSON_FIELD: '{"at_least": 1, "of": 5}'}, ["not_a_list"]),
]


@pytest.mark.parametrize("data, codes", BUILDER_POSTS)
def test_it_reports_builder_fields_it_cannot_read_as_problems(data, codes):
    state = rb.read(data, CATALOGUE)
    assert [p.code for p in state.problems] == codes


JSON_TEXTS = [
    # (rule as JSON text, message): each would have been a server error, when read or when stored.
    ("[" * 100_000, "nested more than 32 levels deep"),  # RecursionError in the decoder
    ('{"not": ' * 60 + "{}" + "}" * 60, "nested more than 32 levels deep"),  # or later, in the builder's templates
    ('{"all": [], "note": NaN}', "NaN is not a number JSON can store"),  # jsonb and json_valid refuse NaN
    ('{"all": [], "n": -Infinity}', "-Infinity is not a number JSON can store"),
    ('{"all": [], "n": 1e999}', "1e999 is too large a number"),
    ('{"all": [], "note": "\\u0000"}', "text may not contain the NUL character"),  # jsonb cannot hold it
    ('{"all": [], "n": ' + "9" * 5000 + "}", "a number of 5000 digits is too long"),  # a ValueError
]


@pytest.mark.parametrize("text, message", JSON_TEXTS)
def test_it_calls_json_a_database_cannot_store_not_valid(text, message):
    rule, problems = rb.parse_json(text, CATALOGUE)
    assert rule is None
    assert [p.code for p in problems] == ["bad_json"]
    assert message in problems[0].message


def test_it_still_reads_a_rule_nested_15_groups_deep(adam):
    rule = {"q": "hiv", "op": "=", "value": True}
    for _ in range(15):
        rule = {"any": [rule]}
    assert rb.parse_json(json.dumps(rule), CATALOGUE) == (rule, [])
    response = adam.post(
        reverse("admin:trials_criterion_rule_builder"), {rb.ACTION: "json", rb.JSON_FIELD: json.dumps(rule)}
    )
    assert response.status_code == 200 and "A valid rule" in response.content.decode()


def stored_rule_is_sound(rule):
    if rule is not None:
        assert validate_rule(rule, catalogue()) == []
    stored_json_is_sound(rule)


@pytest.fixture
def bmi_form(adam):
    """The BMI criterion and its admin form without the builder's fields, read once per test."""
    bmi = criterion(*BMI)
    return bmi, {k: v for k, v in page_form(adam, bmi).items() if not k.startswith("rb")}


@FUZZ
@given(
    text=json_documents(),
    builder=st.dictionaries(builder_keys, builder_values, max_size=8),
    origin=st.sampled_from([rb.JSON, rb.BUILDER]),
)
@example(text='{"all": [], "note": NaN}', builder={}, origin=rb.JSON)
@example(text='{"all": [], "x": "\\u0000"}', builder={}, origin=rb.JSON)
@example(text='{"not": ' * 5_000 + "{}" + "}" * 5_000, builder={}, origin=rb.JSON)
def test_it_never_fails_on_a_bad_rule_on_the_criterion_page_and_saves_only_sound_ones(
    adam, bmi_form, text, builder, origin
):
    bmi, form = bmi_form
    bmi.refresh_from_db()  # the last example may have saved a rule
    before = (bmi.rule, Trial.objects.get(pk=bmi.trial_id).criteria_version)
    data = {**form, **builder, rb.JSON_FIELD: text, rb.ORIGIN: origin, "_save": "Save"}
    response = no_server_error(adam.post(change_url(bmi), data))
    bmi.refresh_from_db()
    if response.status_code == 302:
        stored_rule_is_sound(bmi.rule)
        Criterion.objects.filter(pk=bmi.pk).update(rule=before[0])
    else:
        assert response.status_code == 200
        assert (bmi.rule, Trial.objects.get(pk=bmi.trial_id).criteria_version) == before


@pytest.mark.parametrize("text", [JSON_TEXTS[0][0], '{"all": [], "note": NaN}', '{"all": [], "note": "\\u0000"}'])
def test_it_refuses_json_a_database_cannot_store_on_the_criterion_page(adam, text):
    # A NaN saved as a rule broke SQLite's JSON check and PostgreSQL's jsonb: an IntegrityError or DataError.
    bmi = criterion(*BMI)
    before = bmi.rule
    data = {**page_form(adam, bmi), rb.JSON_FIELD: text, rb.ORIGIN: rb.JSON, "_save": "Save"}
    response = adam.post(change_url(bmi), data)
    assert response.status_code == 200
    assert "not valid JSON" in response.content.decode()
    bmi.refresh_from_db()
    assert bmi.rule == before


@FUZZ
@given(version=values, object_id=st.sampled_from(["own", "0", "99999999999999999999", "abc", "\x00", "-1"]))
@example(version="99999999999999999999", object_id="own")
@example(version="-99999999999999999999", object_id="own")
def test_it_never_fails_on_a_bad_criteria_version(adam, version, object_id):
    trial = Trial.objects.get(nct_id="NCT01219465")
    object_id = str(trial.pk) if object_id == "own" else object_id
    url = f"/admin/trials/trial/{quote(object_id, safe='')}/criteria/"
    response = no_server_error(adam.get(url, {"version": version}))
    assert response.status_code in (200, 302, 404)


@pytest.fixture
def trial_form(adam):
    """A trial and its admin form as a browser posts it, read once per test (not per example)."""
    trial = Trial.objects.get(nct_id="NCT01219465")
    return trial, page_form(adam, trial)


@FUZZ
@given(
    answers=json_documents(),
    name=nasty,
    as_of=nasty | st.just("2026-11-21"),
    verdict=nasty | st.sampled_from(["eligible", "ineligible", "undetermined"]),
)
@example(answers='{"bmi": NaN}', name="Bad", as_of="2026-11-21", verdict="eligible")
@example(answers='{"t1d_diagnosis_date": "2026-02-30"}', name="Feb", as_of="0000-01-01", verdict="eligible")
def test_it_never_fails_on_bad_example_patients_and_saves_none(adam, trial_form, answers, name, as_of, verdict):
    trial, data = trial_form
    data = dict(data)
    before = set(ExamplePatient.objects.values_list("pk", flat=True))
    i = int(data["examples-TOTAL_FORMS"][0])
    data.update(
        {
            "examples-TOTAL_FORMS": [str(i + 1)],
            f"examples-{i}-trial": [str(trial.pk)],
            f"examples-{i}-name": [name],
            f"examples-{i}-as_of": [as_of],
            f"examples-{i}-expected_verdict": [verdict],
            f"examples-{i}-note": [""],
            f"examples-{i}-answers": [answers],
        }
    )
    response = no_server_error(adam.post(change_url(trial), data))
    added = ExamplePatient.objects.exclude(pk__in=before)
    if response.status_code == 302:
        for example_patient in added:
            assert parse_answers(example_patient.answers, catalogue(), example_patient.as_of)[1] == []
            assert "\x00" not in example_patient.name
        added.delete()
    else:
        assert response.status_code == 200
        assert not added.exists()


@FUZZ
@given(content=bundles, name=st.sampled_from(["studies.json", "studies.json.gz", "x.txt"]) | file_names)
def test_it_never_fails_on_a_random_file_to_import_and_imports_nothing(adam, content, name):
    trials = list(Trial.objects.order_by("pk").values_list("pk", "nct_id", "criteria_version"))
    response = no_server_error(
        adam.post(reverse("admin:trials_trial_import"), {"file": SimpleUploadedFile(name, content)})
    )
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        no_server_error(adam.get(response["Location"]))
        assert ImportJob.objects.order_by("-pk").first().status != "running"
    assert list(Trial.objects.order_by("pk").values_list("pk", "nct_id", "criteria_version")) == trials


CHANGELISTS = [
    "trials_trial",
    "trials_criterion",
    "trials_question",
    "trials_codemapping",
    "referrals_referral",
    "referrals_verification",
    "referrals_referralview",
    "screening_screening",
    "screening_apitoken",
]


@FUZZ
@given(
    model=st.sampled_from(CHANGELISTS),
    params=st.dictionaries(
        st.sampled_from(
            [
                "q",
                "o",
                "p",
                "condition",
                "needs_review",
                "state",
                "kind",
                "source",
                "status",
                "open_for_screening__exact",
                "phase",
                "overall_status",
                "trial__id__exact",
                "question__id__exact",
                "user__id__exact",
                "_to_field",
            ]
        )
        | nasty,
        values,
        max_size=4,
    ),
)
@example(model="trials_trial", params={"q": "NCT0121946\x00"})
@example(model="trials_criterion", params={"q": "\x00", "state": "\x00"})
def test_it_never_fails_on_bad_admin_searches_and_filters(adam, model, params):
    assert no_server_error(adam.get(reverse(f"admin:{model}_changelist"), params)).status_code in (200, 302, 400)


@FUZZ
@given(nct_id=nasty)
def test_it_never_fails_on_the_trial_page_of_a_bad_nct_id(alice, seeded, nct_id):
    assert no_server_error(alice.get(f"/trials/{quote(nct_id, safe='')}/")).status_code in (200, 404)


@pytest.fixture
def fast_hashing(settings):
    # Every login attempt hashes a password, even for an unknown user: the default hasher is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@FUZZ
@given(username=values, password=values)
@example(username="alice\x00", password="pw-alice")
def test_it_never_fails_on_a_bad_login(fast_hashing, client, clinician, username, password):
    # The examples share a database: a username drawn five times is locked out (429), as it should be.
    response = no_server_error(client.post(reverse("login"), {"username": username, "password": password}))
    assert response.status_code in (200, 429)


CHANGE_FORMS = [  # (model, how to find the object, fields posted with hostile values)
    (
        "trial",
        {"nct_id": "NCT01219465"},
        [
            "brief_title",
            "official_title",
            "phase",
            "overall_status",
            "minimum_age",
            "maximum_age",
            "sex",
            "open_for_screening",
            "criteria_version",
        ],
    ),
    ("trial", {"nct_id": "NCT01219465"}, ["conditions", "keywords", "sites"]),
    ("question", {"code": "sex"}, ["label", "short_label", "unit", "type", "section", "help_text", "order"]),
    ("question", {"code": "sex"}, ["choices", "type"]),
    ("question", {"code": "bmi"}, ["min_value", "max_value", "unit", "derived_from"]),
]


@FUZZ
@given(form=st.sampled_from(CHANGE_FORMS), data=st.data())
def test_it_never_fails_on_bad_admin_change_forms_and_stores_only_sound_values(adam, form, data):
    model_name, lookup, fields = form
    model = {"trial": Trial, "question": Question}[model_name]
    obj = model.objects.get(**lookup)
    posted = page_form(adam, obj)
    changes = data.draw(st.dictionaries(st.sampled_from(fields), values, min_size=1, max_size=3))
    before = model.objects.filter(pk=obj.pk).values().get()
    response = no_server_error(adam.post(change_url(obj), {**posted, **changes, "_save": "Save"}))
    after = model.objects.filter(pk=obj.pk).values().get()
    if response.status_code == 302:
        for value in after.values():
            if isinstance(value, (list, dict)):
                stored_json_is_sound(value)
            assert "\x00" not in str(value)
        model.objects.filter(pk=obj.pk).update(**{k: v for k, v in before.items() if k != "id"})
    else:
        assert response.status_code == 200
        assert after == before


# --------------------------------------------------------------------------------------------
# The admin's JSON fields (curation/admin/page.py: StorableJSONField) and the trial page's NCT id


@pytest.mark.parametrize(
    "answers, message",
    [
        ("[" * 100_000, "Not valid JSON: nested more than 32 levels deep."),
        ("9" * 5000, "Not valid JSON: a number of 5000 digits is too long."),
        ("[1]", "Enter a JSON object, e.g. {&quot;bmi&quot;: 31.5}."),
    ],
)
def test_it_refuses_example_answers_the_database_cannot_store(adam, answers, message):
    trial = Trial.objects.get(nct_id="NCT01219465")
    data = page_form(adam, trial)
    i = int(data["examples-TOTAL_FORMS"][0])
    data.update(
        {
            "examples-TOTAL_FORMS": [str(i + 1)],
            f"examples-{i}-trial": [str(trial.pk)],
            f"examples-{i}-name": ["Deep"],
            f"examples-{i}-as_of": ["2026-11-21"],
            f"examples-{i}-expected_verdict": ["eligible"],
            f"examples-{i}-note": [""],
            f"examples-{i}-answers": [answers],
        }
    )
    response = adam.post(change_url(trial), data)
    assert response.status_code == 200 and message in response.content.decode()
    assert not ExamplePatient.objects.filter(name="Deep").exists()


@pytest.mark.parametrize(
    "field, text, message",
    [
        # Edited one per line (issue 13), not as JSON.
        ("conditions", "[NaN]", "Line 1 looks like a JSON list: write one condition per line"),
        ("keywords", '["Type 1 diabetes"]', "Line 1 looks like a JSON list: write one keyword per line"),
        ("sites", "x" * 501, "Line 1 is longer than 500 characters"),
        ("conditions", "Obesity\nType 1\x00 diabetes", "Line 2 has a control character (such as a tab or NUL)"),
        ("conditions", "Obesity\nobesity", "Line 2 repeats line 1"),
    ],
)
def test_it_refuses_trial_lists_the_database_cannot_store(adam, field, text, message):
    trial = Trial.objects.get(nct_id="NCT01219465")
    before = Trial.objects.filter(pk=trial.pk).values(field).get()
    response = adam.post(change_url(trial), {**page_form(adam, trial), field: text, "_save": "Save"})
    assert response.status_code == 200 and message in response.content.decode()
    assert Trial.objects.filter(pk=trial.pk).values(field).get() == before


def test_an_empty_trial_list_is_an_empty_list(adam):
    trial = Trial.objects.get(nct_id="NCT01219465")
    response = adam.post(change_url(trial), {**page_form(adam, trial), "keywords": "", "_save": "Save"})
    assert response.status_code == 302
    assert Trial.objects.get(pk=trial.pk).keywords == []


@pytest.mark.parametrize(
    "text, message",
    [
        ("5", "Enter a JSON list"),
        ('[["female", NaN], ["male", "Male"]]', "Not valid JSON: NaN is not a number JSON can store."),
        ('[["female"]]', "Choice questions need choices as [[value, label], ...]."),
    ],
)
def test_it_refuses_question_choices_that_are_not_a_list_of_pairs(adam, text, message):
    sex = Question.objects.get(code="sex")
    # The admin edits each language's choices (django-modeltranslation): the English ones are `choices_en_gb`.
    response = adam.post(change_url(sex), {**page_form(adam, sex), "choices_en_gb": text, "_save": "Save"})
    assert response.status_code == 200 and message in response.content.decode()
    assert Question.objects.get(code="sex").choices == [["female", "Female"], ["male", "Male"]]


def test_it_answers_404_to_a_trial_page_with_a_nul_byte_in_its_nct_id(alice, seeded):
    assert alice.get("/trials/NCT0121946%00/").status_code == 404
    assert alice.get("/trials/NCT01219465/").status_code == 200
