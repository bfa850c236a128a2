"""Legacy ClinicalTrials.gov <clinical_study> XML: converting a record, reading files and archives, importing.

Real records come from ../shared/data/ctgov (see its README, section 1): legacy_xml_samples/ (15 records,
2019 snapshot), legacy_xml_diabetes.zip (42) and legacy_xml_broad.tar.xz (6,633; both 2023 snapshots),
seed/NCT03835312.xml. Tests that need them skip when ../shared is absent (and fail in CI); the others use
small documents written here in the legacy layout. The expected splits were written by reading the XML.
"""

import functools
import gzip
import io
import json
import lzma
import re
import tarfile
import time
from pathlib import Path

import pytest

from ctgov import archives
from ctgov.archives import ReadError, parse_studies, read_studies, study_files
from ctgov.importer import import_paths
from ctgov.legacy import STATUSES, eligibility_text
from ctgov.studies import StudyError, TrialRecord, trial_record
from tests.conftest import shared_data
from tests.factories import LEGACY_CRITERIA, TWO_LEGACY_RECORDS, legacy_record, seed_catalogue, zip_of
from trials.models import Criterion, Trial

CATALOGUE = seed_catalogue()
INC, EXC = "inclusion", "exclusion"


def study(**kwargs) -> dict:
    return parse_studies(legacy_record(**kwargs))[0]


def fields(**kwargs) -> dict:
    return trial_record(study(**kwargs), CATALOGUE).fields


# --- Unwrapping the eligibility text (pure) ---


@pytest.mark.parametrize(
    "legacy, expected",
    [
        pytest.param(
            LEGACY_CRITERIA,
            (
                "Inclusion Criteria:\n\n"
                "* Adults with type 1 diabetes diagnosed at least 12 months before screening, treated with insulin\n"
                "* BMI &lt; 30 kg/m2\n\n"  # (the XML entity is decoded by the parser, not here)
                "Exclusion Criteria:\n\n"
                "* Pregnancy"
            ),
            id="bullets",
        ),
        pytest.param(
            """
        Inclusion Criteria:\r
\r
          9. Aged 18 or over\r
\r
         10. Able to swallow tablets and willing to attend every visit over the 12 months of the\r
             study\r
""",
            "Inclusion Criteria:\n\n9. Aged 18 or over\n10. Able to swallow tablets and willing to attend every visit "
            "over the 12 months of the study",
            id="numbers, with 10. a column to the left and CRLF line ends",
        ),
        pytest.param(
            """
          1. Inadequate liver function indicated by all of the following:

               -  Total bilirubin ≥ 1.5 x upper limit of normal (ULN) in patients without Gilbert's
                  syndrome

               -  AST ≥ 3 x ULN

          2. Inability to swallow pills
""",
            "1. Inadequate liver function indicated by all of the following:\n\n"
            "   * Total bilirubin ≥ 1.5 x upper limit of normal (ULN) in patients without Gilbert's syndrome\n"
            "   * AST ≥ 3 x ULN\n"
            "2. Inability to swallow pills",
            id="nested bullets go under the parent's text, as in API v2",
        ),
        pytest.param(
            """
          -  Adequate organ function:

             a. Creatinine no greater than 1.5 times the upper limit of normal for the patient's age
             and sex

          -  No prior chemotherapy
""",
            "* Adequate organ function:\n\n  a. Creatinine no greater than 1.5 times the upper limit of normal for "
            "the patient's age and sex\n\n* No prior chemotherapy",
            id="a paragraph at an item's text column stays in it",
        ),
        pytest.param(
            """
        Patients must have had a fasting glucose of at least 126 mg/dL on two occasions, or
        2. a glucose tolerance test showing diabetes.

        No prior insulin.
""",
            "Patients must have had a fasting glucose of at least 126 mg/dL on two occasions, or 2. a glucose tolerance "
            "test showing diabetes.\n\nNo prior insulin.",
            id="a wrapped line starting with a number is not an item",
        ),
        pytest.param(
            "        -  INCLUSION CRITERIA:\n\n        Age 18 or over\n",
            "* INCLUSION CRITERIA:\n\nAge 18 or over",
            id="a bullet at the paragraph column",
        ),
        pytest.param("\n      ", "", id="empty"),
    ],
)
def test_it_unwraps_the_legacy_layout_into_the_api_v2_layout(legacy, expected):
    assert eligibility_text(legacy) == expected


def test_it_changes_nothing_but_whitespace_in_the_text():
    text = eligibility_text(LEGACY_CRITERIA)
    assert text.split() == ["*" if word == "-" else word for word in LEGACY_CRITERIA.split()]


# --- Mapping the fields (pure) ---


def test_it_maps_a_record_to_api_v2_fields():
    assert fields() == {
        "brief_title": "Insulin study",
        "official_title": "The insulin study",
        "phase": "Phase 1/Phase 2",
        "overall_status": "RECRUITING",
        "conditions": ["Type 1 Diabetes", "Insulin Resistance"],
        "keywords": ["insulin"],
        "sites": ["Hôpital A, Lyon, France", "Paris, France"],
        "minimum_age": "18 Years",
        "maximum_age": "",
        "sex": "ALL",
        "healthy_volunteers": False,
        "eligibility_text": eligibility_text(LEGACY_CRITERIA.replace("&lt;", "<")),
    }


@pytest.mark.parametrize(
    "legacy, v2",
    [
        ("Recruiting", "RECRUITING"),
        ("Not yet recruiting", "NOT_YET_RECRUITING"),
        ("Active, not recruiting", "ACTIVE_NOT_RECRUITING"),
        ("Enrolling by invitation", "ENROLLING_BY_INVITATION"),
        ("Completed", "COMPLETED"),
        ("Unknown status", "UNKNOWN"),
        ("Terminated", "TERMINATED"),
        ("Withdrawn", "WITHDRAWN"),
        ("Suspended", "SUSPENDED"),
        ("Available", "AVAILABLE"),
        ("No longer available", "NO_LONGER_AVAILABLE"),
        ("Temporarily not available", "TEMPORARILY_NOT_AVAILABLE"),
        ("Approved for marketing", "APPROVED_FOR_MARKETING"),
        ("Withheld", "WITHHELD"),
        ("Paused for review", "PAUSED_FOR_REVIEW"),  # a word the table does not know: API v2's spelling of it
        (None, ""),
    ],
)
def test_it_maps_the_overall_status_to_the_api_v2_enum(legacy, v2):
    assert fields(status=legacy)["overall_status"] == v2


@pytest.mark.parametrize(
    "legacy, phases, shown",
    [
        ("Phase 1/Phase 2", ["PHASE1", "PHASE2"], "Phase 1/Phase 2"),
        ("Phase 2/Phase 3", ["PHASE2", "PHASE3"], "Phase 2/Phase 3"),
        ("Phase 3", ["PHASE3"], "Phase 3"),
        ("N/A", ["NA"], "Not Applicable"),
        ("Early Phase 1", ["EARLY_PHASE1"], "Early Phase 1"),
        (None, None, ""),  # observational studies have no phase
    ],
)
def test_it_maps_phases(legacy, phases, shown):
    assert study(phase=legacy)["protocolSection"].get("designModule", {}).get("phases") == phases
    assert fields(phase=legacy)["phase"] == shown


@pytest.mark.parametrize(
    "minimum, maximum, shown, rule",
    [
        ("18 Years", "N/A", "18 Years and older", {"min": "18 years"}),
        ("N/A", "18 Years", "up to 18 Years", {"max": "18 years"}),
        ("6 Months", "17 Years", "6 Months to 17 Years", {"min": "6 months", "max": "17 years"}),
        ("1 Year", "N/A", "1 Year and older", {"min": "1 year"}),
    ],
)
def test_it_maps_ages_with_n_a_as_no_limit(minimum, maximum, shown, rule):
    rows = trial_record(study(minimum_age=minimum, maximum_age=maximum), CATALOGUE).criteria
    assert (rows[0].text, rows[0].rule) == (
        f"Ages Eligible for Study: {shown}",
        {"q": "age", "op": "age_between", "value": rule},
    )


def test_it_makes_no_age_criterion_when_both_ages_are_n_a():
    record = trial_record(study(minimum_age="N/A", maximum_age="N/A"), CATALOGUE)
    assert (record.fields["minimum_age"], record.fields["maximum_age"]) == ("", "")
    assert not record.criteria[0].text.startswith("Ages")


@pytest.mark.parametrize(
    "gender, sex", [("All", "ALL"), ("Both", "ALL"), ("Male", "MALE"), ("Female", "FEMALE"), (None, "ALL")]
)
def test_it_maps_gender_to_sex(gender, sex):
    assert fields(gender=gender)["sex"] == sex


def test_it_rejects_a_gender_it_does_not_know():
    with pytest.raises(StudyError, match="NCT09000001: sex 'UNKNOWN' is not ALL, FEMALE or MALE"):
        fields(gender="Unknown")


@pytest.mark.parametrize("healthy, accepts", [("Accepts Healthy Volunteers", True), ("No", False), (None, False)])
def test_it_maps_healthy_volunteers(healthy, accepts):
    assert fields(healthy=healthy)["healthy_volunteers"] is accepts


def test_it_leaves_out_what_the_record_leaves_out():
    protocol = study(
        status=None,
        phase=None,
        gender=None,
        minimum_age=None,
        maximum_age=None,
        healthy=None,
        criteria="",
        locations=[],
    )["protocolSection"]
    assert protocol.keys() == {"identificationModule", "conditionsModule"}


# --- Reading files and archives (pure) ---


def tar_of(files: dict[str, bytes], compression: str = "xz") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=f"w:{compression}") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            if name.endswith("/"):
                info.type = tarfile.DIRTYPE
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


ONE, TWO = ["NCT09000001"], ["NCT09000001", "NCT09000002"]


@pytest.mark.parametrize(
    "raw, ids",
    [
        pytest.param(legacy_record("NCT09000001"), ONE, id="xml"),
        pytest.param(b"\xef\xbb\xbf" + legacy_record("NCT09000001"), ONE, id="xml after a byte order mark"),
        pytest.param(b"\n  " + legacy_record("NCT09000001").split(b"?>", 1)[1], ONE, id="xml without a declaration"),
        pytest.param(gzip.compress(legacy_record("NCT09000001")), ONE, id="xml.gz"),
        pytest.param(zip_of(TWO_LEGACY_RECORDS), TWO, id="zip in the AllPublicXML layout"),
        pytest.param(tar_of(TWO_LEGACY_RECORDS, "xz"), TWO, id="tar.xz"),
        pytest.param(tar_of(TWO_LEGACY_RECORDS, "gz"), TWO, id="tar.gz"),
        pytest.param(tar_of(TWO_LEGACY_RECORDS, ""), TWO, id="tar"),
        pytest.param(
            zip_of(
                {
                    "a.json": json.dumps({"studies": [study(nct_id="NCT09000001")]}).encode(),
                    "b.xml": legacy_record("NCT09000002"),
                }
            ),
            TWO,
            id="zip of API v2 JSON and XML",
        ),
        pytest.param(
            zip_of(
                {
                    **TWO_LEGACY_RECORDS,
                    "__MACOSX/NCT0900xxxx/._NCT09000001.xml": b"\x00\x05\x16\x07",
                    ".DS_Store": b"\x00\x00",
                }
            ),
            TWO,
            id="zip with macOS litter, which is skipped",
        ),
        pytest.param(
            tar_of({"./": b"", "./NCT09000001.xml": legacy_record("NCT09000001")}),
            ONE,
            id="tar of a folder made with tar -cf x.tar .",
        ),
    ],
)
def test_it_recognises_the_content_whatever_the_name(tmp_path, raw, ids):
    path = tmp_path / "studies.bin"
    path.write_bytes(raw)
    assert [s["protocolSection"]["identificationModule"]["nctId"] for s in read_studies(path)] == ids


def test_it_finds_xml_and_archives_in_folders(tmp_path):
    for name in ("a.json", "b.json.gz", "c.xml", "d.zip", "e.tar.xz", "f.tar.gz", "g.tgz", "notes.txt", "h.tar.bz2"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in study_files([tmp_path])] == [
        "a.json",
        "b.json.gz",
        "c.xml",
        "d.zip",
        "e.tar.xz",
        "f.tar.gz",
        "g.tgz",
    ]


@pytest.mark.parametrize(
    "raw, problem",
    [
        (
            b'<?xml version="1.0"?>\n<clinical_study>\n  <id_info>\n    <nct_id>NCT09000001</nct_id>\n  </id_inf>',
            "not well-formed XML: mismatched tag at line 5 column 5",
        ),
        (b"<clinical_study><brief_title>Truncated", "not well-formed XML: no element found at line 1 column 39"),
        (
            b"<clinical_study><brief_title>A &unknown; entity</brief_title></clinical_study>",
            "not well-formed XML: undefined entity at line 1 column 32",
        ),
        (
            b'<?xml version="1.0"?>\n<foo><nct_id>NCT09000001</nct_id></foo>',
            "not a clinical_study XML record (root element <foo>)",
        ),
        (legacy_record(nct_id=None), "the record has no NCT id (<id_info><nct_id>)"),
        (legacy_record(nct_id="NCT123"), "'NCT123' is not an NCT id ('NCT' followed by 8 digits)"),
        # An HTML page saved in place of a download: neither; the JSON wording is kept for it.
        (b"<html>", "not valid JSON or XML: no element found at line 1 column 7"),
        (b"\xfd7zXZ\x00broken", "not a valid xz file"),
        (b"PK\x03\x04broken", "not a valid zip file"),
        (zip_of({}), "the archive holds no study records"),
        (tar_of(TWO_LEGACY_RECORDS, "")[:1500], "not a valid tar file (unexpected end of data)"),
        (tar_of(TWO_LEGACY_RECORDS, "")[:3000], "not a valid tar file (it stops short of its end: cut off?)"),
        (
            zip_of(
                {"NCT0000xxxx/NCT00000101.xml": legacy_record("NCT00000101"), "NCT0000xxxx/NCT00000102.xml": b"<foo/>"}
            ),
            "NCT0000xxxx/NCT00000102.xml in the archive: not a clinical_study XML record (root element <foo>)",
        ),
        (
            tar_of({"NCT00000102.xml": legacy_record(nct_id=None)}),
            "NCT00000102.xml in the archive: the record has no NCT id (<id_info><nct_id>)",
        ),
        (
            zip_of({"studies.json": b"{not json"}),
            "studies.json in the archive: not valid JSON: Expecting property name",
        ),
    ],
)
def test_it_names_the_problem_with_a_malformed_file(raw, problem):
    with pytest.raises(ReadError) as error:
        parse_studies(raw)
    assert str(error.value).startswith(problem)


def test_it_refuses_a_doctype_so_no_entity_can_read_a_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("NCT09999999 the secret")
    for doctype in (
        f'<!DOCTYPE clinical_study [<!ENTITY secret SYSTEM "file://{secret}">]>',
        f'<!DOCTYPE clinical_study SYSTEM "file://{secret}">',
        '<!DOCTYPE clinical_study [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>',  # entity expansion
    ):
        raw = legacy_record(nct_id="&secret;").replace(b"<clinical_study>", doctype.encode() + b"\n<clinical_study>", 1)
        with pytest.raises(ReadError, match="XML with a DOCTYPE declaration is refused") as error:
            parse_studies(raw)
        assert "secret" not in str(error.value)


def test_it_reads_the_encoding_the_xml_declares():
    raw = legacy_record().decode().replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').encode("latin-1")
    assert b"H\xf4pital" in raw
    trial = trial_record(parse_studies(raw)[0], CATALOGUE)
    assert trial.fields["sites"] == ["Hôpital A, Lyon, France", "Paris, France"]


def test_it_refuses_archives_with_too_many_files(monkeypatch):
    monkeypatch.setattr(archives, "MAX_ARCHIVE_FILES", 2)
    files = {f"NCT0900000{n}.xml": legacy_record(f"NCT0900000{n}") for n in range(1, 4)}
    for raw in (zip_of(files), tar_of(files)):
        with pytest.raises(ReadError, match="the archive holds 3 files, more than the 2 one import may take"):
            parse_studies(raw)


def test_it_refuses_files_that_unpack_to_too_much(monkeypatch):
    monkeypatch.setattr(archives, "MAX_UNPACKED_BYTES", 100_000)
    padded = legacy_record().replace(
        b"<brief_title>", b"<brief_title>" + b" " * 200_000
    )  # compresses to almost nothing
    for raw in (
        zip_of({"a.xml": padded}),
        tar_of({"a.xml": padded}, "xz"),
        gzip.compress(padded),
        lzma.compress(padded),
    ):
        assert len(raw) < 100_000
        with pytest.raises(ReadError, match="unpacks to more than 0 MB, the most one"):
            parse_studies(raw)
    with pytest.raises(ReadError, match="the archive unpacks to more than"):
        parse_studies(tar_of({"a.xml": padded}, ""))  # a plain tar: its members' sizes are checked


# --- Real records ---


@functools.cache
def real_studies(source: str) -> dict[str, dict]:
    """The studies in a file under ../shared/data/ctgov, by NCT id."""
    studies = read_studies(shared_data("ctgov", *source.split("/")))
    return {s["protocolSection"]["identificationModule"]["nctId"]: s for s in studies}


def real_record(source: str, nct_id: str) -> TrialRecord:
    return trial_record(real_studies(source)[nct_id], CATALOGUE)


@pytest.fixture(scope="module")
def broad():
    started = time.perf_counter()
    studies = read_studies(shared_data("ctgov", "legacy_xml_broad.tar.xz"))
    return studies, time.perf_counter() - started


def read_index(name: str) -> dict[str, dict]:
    lines = shared_data("ctgov", name).read_text().splitlines()
    header = lines[0].split("\t")
    return {row[0]: dict(zip(header, row)) for row in (line.split("\t") for line in lines[1:])}


@pytest.mark.shared_data
def test_every_real_legacy_record_converts_and_yields_a_trial_record(broad):
    studies, read_seconds = broad
    started = time.perf_counter()
    samples = study_files([shared_data("ctgov", "legacy_xml_samples"), shared_data("ctgov", "seed")])
    small = [s for path in samples for s in read_studies(path)]
    diabetes = read_studies(shared_data("ctgov", "legacy_xml_diabetes.zip"))
    read_seconds += time.perf_counter() - started
    assert (len(samples), len(small), len(diabetes), len(studies)) == (16, 16, 42, 6633)

    started = time.perf_counter()
    records = [trial_record(s, CATALOGUE) for s in small + diabetes + studies]
    record_seconds = time.perf_counter() - started
    print(
        f"\n{len(records):,} legacy records: read and converted in {read_seconds:.1f} s, "
        f"trial records in {record_seconds:.1f} s"
    )
    protocol = [r for r in records if r.fields["eligibility_text"]]
    assert len(protocol) == 16 + 42 + 6618  # 15 broad records have no criteria text
    # NCT00000276's text is two headings with an empty "-" under each; every other text yields criteria.
    assert [r.nct_id for r in protocol if not any(c.source == "protocol" for c in r.criteria)] == ["NCT00000276"]

    # The archives' indexes were written from the XML by another tool: every record agrees with them.
    index = read_index("legacy_xml_broad_index.tsv") | read_index("legacy_xml_diabetes_index.tsv")

    def no_limit_as_blank(age):
        return "" if age == "N/A" else age

    for record in records[16:]:
        row = index[record.nct_id]
        assert (
            record.fields["brief_title"],
            "; ".join(record.fields["conditions"]),
            record.fields["minimum_age"],
            record.fields["maximum_age"],
            record.fields["sex"],
            record.fields["overall_status"],
        ) == (
            row["brief_title"],
            row["conditions"],
            no_limit_as_blank(row["minimum_age"]),
            no_limit_as_blank(row["maximum_age"]),
            row["gender"].upper(),
            STATUSES[row["overall_status"]],
        ), record.nct_id
    assert len({r.nct_id for r in records[16:]}) == len(index) == 6633 + 42


@pytest.mark.shared_data
def test_a_legacy_record_gives_the_same_trial_as_its_api_v2_record(broad):
    """Four trials are in both the 2023 XML and the API v2 download: their trial records are the same,
    eligibility text included, except that API v2 escapes markdown ("\\<3 years") and the XML does not."""
    legacy = {s["protocolSection"]["identificationModule"]["nctId"]: s for s in broad[0]}
    with gzip.open(shared_data("ctgov", "ctgov_v2_broad.json.gz")) as f:
        v2 = {s["protocolSection"]["identificationModule"]["nctId"]: s for s in json.load(f)["studies"]}
    both = sorted(legacy.keys() & v2.keys())
    assert both == ["NCT00000410", "NCT00492635", "NCT00498680", "NCT00499317"]

    def unescaped(record):
        fields = dict(record.fields, eligibility_text=_unescape(record.fields["eligibility_text"]))
        return fields, [(r.kind, _unescape(r.text), r.source, r.rule, r.rule_status) for r in record.criteria]

    for nct_id in both:
        ours, theirs = (trial_record(s[nct_id], CATALOGUE) for s in (legacy, v2))
        assert unescaped(ours) == unescaped(theirs), nct_id
    escaped = trial_record(v2["NCT00492635"], CATALOGUE).fields["eligibility_text"]
    assert "* Life expectancy \\<3 years" in escaped
    plain = trial_record(legacy["NCT00492635"], CATALOGUE).fields["eligibility_text"]
    assert "* Life expectancy <3 years" in plain


def _unescape(text: str) -> str:
    """API v2's markdown escapes undone: "\\<3 years" -> "<3 years"."""
    return re.sub(r"\\([\\`*_{}\[\]()#+\-.!<>&~^])", r"\1", text)


# The criteria of varied real records, read off the XML by hand. "head…tail" stands for a long item:
# it starts with head and ends with tail (so the wrapped lines were joined all the way).
HAND_CHECKED = {
    # Numbered items; "1.Type 1 ..." (no space) sat at the paragraph column, the renderer left it as text.
    ("seed/NCT03835312.xml", "NCT03835312"): [
        (INC, "Type 1 diabetes mellitus children with genetic immunodeficiency"),
        (
            INC,
            "Meet the diagnostic criteria of type 1 diabetes mellitus: clinical manifestations of typical diabetes "
            "mellitus include polyphagia, polyuria, weight loss, or diabetic ketoacidosis, confirmed by blood sugar "
            "level, islet function and autoimmune antibody.",
        ),
        (
            INC,
            "Existence of extrapancreatic organ damage: (1) inflammatory bowel disease, (2) impairment of renal "
            "function,…including symptomatic treatment of organ protective drugs.",
        ),
        (
            INC,
            "Gene mutation was found according to gene diagnosis: gene mutation…resulting in multiple organ "
            "dysfunction and poor prognosis.",
        ),
        (EXC, "Mature and effective treatment methods are available."),
        (EXC, "HIV, HBV and HCV were positive."),
        (EXC, "A the active period of infection."),
        (EXC, "At the active stage of malignant tumors."),
        (EXC, "Combination of other fatal diseases."),
        (EXC, "Existence of mental and psychological diseases."),
    ],
    # Numbered, wrapped; the registry text itself splits "Duration of diabetes" / "more than one year."
    ("legacy_xml_diabetes.zip", "NCT00491465"): [
        (INC, "Type I diabetic children"),
        (INC, "Tanner stage II-IV"),
        (INC, "Patients of the Schneider's national institute of childhood diabetes. Duration of diabetes"),
        (INC, "more than one year."),
        (INC, "HbA1C between 8 and 12 at time 0."),
        (INC, "Mandatory 4 daily self blood glucose measurements and daily recording of adverse events."),
        (INC, "A signed informed consent of the parents and child."),
        (EXC, "Additional chronic significant disease such as cardiac, liver, renal disease ."),
        (EXC, "Children who exercise regularly more than 180 min per week."),
        (EXC, "Cardiac symptoms: history of chest pain , syncope , palpitations or dyspnea during exercise."),
        (EXC, "Eating disorders."),
        (EXC, "Participation in a study during the past month."),
    ],
    # The headings are bullets themselves ("-  Inclusion Criteria:"), the criteria bullets nested under them.
    ("legacy_xml_samples/NCT03835676.xml", "NCT03835676"): [
        (
            INC,
            "PAH defined as a mean pulmonary artery pressure >25 mmHg on right heart catheterization at rest in "
            "the setting of a normal pulmonary arterial wedge pressure ≤15 mm Hg",
        ),
        (INC, "PAH that is idiopathic, familial, or associated with connective tissue disease."),
        (
            INC,
            "WHO class III or class IV despite the use of Endothelin receptor antagonists (ERA) and/or "
            "phosphodiesterase-5 inhibitors",
        ),
        (INC, "Age > 18 years"),
        (INC, "Sinus rhythm"),
        (
            EXC,
            "Patients with PAH associated with HIV infection, portal hypertension, congenital heart disease, "
            "schistosomiasis, chronic haemolytic anaemia",
        ),
        (
            EXC,
            "Patients with pulmonary hypertension due to veno-occlusive disease and/or pulmonarycapillary "
            "haemangiomatosis, thromboembolism.",
        ),
        (
            EXC,
            "Patients with left side heart disease that may contribute to pulmonary hypertension. Those patients "
            "are identified by having pulmonary wedge pressure >15 mmHg or elevated Left Ventricle (LV) "
            "end-diastolic pressure",
        ),
        (EXC, "Patients who are severely disabled and will not be able to complete the study"),
        (
            EXC,
            "Patients with significant lung disease as shown by forced vital capacity (FVC) < 70% predicted, or "
            "forced expiratory volume at one second (FEV1)/FVC < 50% - Life expectancy <1 year due to severe PAH "
            "or any other forms of terminal disease.",
        ),
        (EXC, "Pregnant women"),
        (EXC, "Refusal to give informed consent."),
    ],
    # Two inclusion headings, lead-in sentences, numbered sub-items under dashed bullets.
    ("legacy_xml_diabetes.zip", "NCT00005761"): [
        (INC, "Have the ability to understand and sign an informed consent."),
        (INC, "Are able and willing to give a blood sample."),
        (INC, "Are healthy as determined by study Investigator."),
        (INC, "Have no chronic diseases."),
        (INC, "Do not exhibit any clinical indications of diabetes."),
        (INC, "Have the ability to understand and sign an informed consent."),
        (INC, "Are able and willing to give a blood sample."),
        (
            INC,
            "Have a clinical diagnosis of diabetes based on any one of the following criteria:\n"
            "1. Documented history of plasma glucose value greater than or equal to 210 mg/dl on three different "
            "occasions.\n"
            "2. Fasting blood sugar greater than or equal to 150 mg/dl on three different occasions.\n"
            "3. Documented history of ketoacidosis.\n"
            "4. Insulin dependency.\n"
            "5. Documented history of abnormal glucose tolerance test.",
        ),
        (EXC, "Are under the age of 10."),
        (EXC, "Have severe systemic disease(s) that compromise our ability to obtain an adequate examination."),
        (
            EXC,
            "Have any of the following ocular characteristics or conditions in both eyes:\n"
            "1. Opacities of the ocular media, limitations or pupillary dilation or any other problems sufficient to "
            "preclude good, quality stereo fundus photographs.\n"
            "2. Ocular disease which confounds assessment of diabetic retinopathy such as advanced age-related "
            "macular degeneration, central serous choroidopathy, optic atrophy, retinal vein occlusion, active "
            "uveitis, significant explained or unexplained visual field loss, or any other type of retinopathy or "
            "retinal degeneration.\n"
            "3. Chronic requirement for any ocular medication for other diseases, such as glaucoma.",
        ),
    ],
    # No headings, no bullets: one criterion per paragraph, all inclusion (the "No ..." ones say what must hold).
    ("legacy_xml_diabetes.zip", "NCT00001344"): [
        (INC, "Patients must be over 18 years of age."),
        (
            INC,
            "Patients must have a definite diagnosis of diabetic neuropathy or post herpetic neuralgia or a "
            "diagnosis of neuropathic pain of various etiologies other than diabetic neuropathy or post herpetic "
            "neuralgia.",
        ),
        (INC, "Duration of symptoms must be at least 3 months."),
        (
            INC,
            "Severity of pain must be at least mild, if constant; or at least moderate, if intermittent and at "
            "least 2 hours duration a day.",
        ),
        (
            INC,
            "Patients using tricyclics, narcotics, or antiseizure medications, must keep the drug dosages constant "
            "throughout the study.",
        ),
        (
            INC,
            "No patients with unstable disease process; i.e., angina pectoris, accelerated hypertension, recent "
            "stroke or transient cerebral ischemia, uncontrolled seizures.",
        ),
        (
            INC,
            "No pregnant or lactating women. Women of child bearing potential must use birth control pills, "
            "intrauterine device, or barrier contraceptive devices.",
        ),
        (
            INC,
            "No history of significant drug abuse or PCP use. No history of IV drug abuse, prescription drug "
            "abuse, or alcoholism.",
        ),
        (INC, "No significant liver or kidney disease."),
        (INC, "No MAO inhibitors."),
        (
            INC,
            "No cognitive impairment or language difficulty as judged by difficulty completing pain diary, medical "
            "history, or telephone conversation.",
        ),
        (
            INC,
            "Patients must not have any other chronic pain condition that gives them pain greater than the "
            "neuropathy pain.",
        ),
    ],
    # PDQ style: the renderer filled each section into one paragraph, so its line structure is gone from the
    # XML; each section stays one long criterion (noted in the report, not recoverable from this format).
    ("legacy_xml_samples/NCT00005057.xml", "NCT00005057"): [
        (
            INC,
            "DISEASE CHARACTERISTICS: Histologically confirmed advanced stage IV malignant melanoma M1 All "
            "pathologic subtypes eligible…metastases likely to result in death within 3 months",
        ),
        (
            INC,
            "PATIENT CHARACTERISTICS: Age: 18 and over Performance status: Karnofsky 60-100%…"
            "toxic epidermal necrolysis or Stevens-Johnson syndrome)",
        ),
        (
            INC,
            "PRIOR CONCURRENT THERAPY: Biologic therapy: At least 4 weeks since prior biological response modifier "
            "therapy…immunosuppressive therapy (e.g., organ allograft)",
        ),
    ],
    # Two levels of nesting; letters and roman numerals the author typed, which the renderer left as text.
    ("legacy_xml_diabetes.zip", "NCT00001987"): [
        (
            INC,
            "Patients with evidence for insulin resistance or a disorder associated with severe insulin "
            "resistance, including:\n1. Patients with various syndromes of lipodystrophy\n2. Patients with known "
            "or suspected mutations on the insulin receptor gene\n3. Patients with known or suspected "
            "autoantibodies to the insulin receptor\n4. Patients with other severe forms of insulin resistance",
        ),
        (INC, "Family members of patients, above"),
        (INC, "Healthy control subjects without insulin resistance"),
        (
            INC,
            "Patients with evidence for severe insulin resistance or a disorder associated with severe insulin "
            "resistance must meet all of the following criteria:\n"
            "a. Suspected severe insulin resistance, or a disorder associated with severe insulin resistance, as "
            "evidenced by one or more of the following:\n"
            "i. Hyperinsulinemia (i.e. fasting insulin >30microunits/mL)\n"
            "ii. High insulin requirement (> 2 units per kg per day or > 200 units total per day)\n"
            "iii. Phenotypic features suggesting a defect in glucose/lipid metabolism:\n"
            "* Acanthosis nigricans\n* Lipodystrophy/abnormal fat distribution\n* Xanthomata\n* Fatty liver\n"
            "iv. Known or suspected mutations of the insulin receptor gene\n"
            "v. Known or suspected autoantibodies to the insulin receptor\n"
            "b. Age >= 6 months\n"
            "c. Ability of subject or Legally Authorized Representative (LAR) to understand and the willingness to "
            "sign a written informed consent document.",
        ),
        (
            INC,
            "Family members of patients, above (either affected or unaffected) must meet all of the following "
            "criteria\n1. Biological relatives…sign a written informed consent document.",
        ),
        (
            INC,
            "Healthy control subjects without insulin resistance must meet all of the following criteria\n"
            "1. In good general health…sign a written informed consent document.",
        ),
        (
            EXC,
            "Patients with evidence for insulin resistance or a disorder associated with severe insulin "
            "resistance\na. none",
        ),
        (EXC, "Family members of patients, above\na. Pregnant or lactating at the time of enrollment"),
        (
            EXC,
            "Healthy control subjects without insulin resistance\n1. Current use of prescription or "
            "non-prescription medication.…\n6. Abnormal screening labs, including the following:\n"
            "* ALT or AST more than 1.5 times the upper limit of normal\n* Glycosuria\n"
            "* Clinically significant anemia\n* Low eGFR (<60 mL/min/1.73m^2)\n"
            "* Any other abnormality that, in the opinion of the investigator, will increase risk to the subject "
            "from participation, or interfere with interpretation of study data",
        ),
    ],
    # A one-line record.
    ("legacy_xml_samples/NCT00000112.xml", "NCT00000112"): [
        (INC, "Obesity: BM +/- 95% for age general good health"),
    ],
}


@pytest.mark.shared_data
@pytest.mark.parametrize("source, nct_id", list(HAND_CHECKED), ids=[n for _, n in HAND_CHECKED])
def test_it_splits_real_legacy_criteria_as_read_by_hand(source, nct_id):
    got = [(r.kind, r.text) for r in real_record(source, nct_id).criteria if r.source == "protocol"]
    expected = HAND_CHECKED[source, nct_id]
    assert [kind for kind, _ in got] == [kind for kind, _ in expected]
    for (_, text), (_, want) in zip(got, expected):
        if "…" in want:
            head, tail = want.split("…")
            assert text.startswith(head) and text.endswith(tail), (text, want)
        else:
            assert text == want


@pytest.mark.shared_data
def test_it_keeps_nested_and_right_aligned_numbers_in_a_long_record():
    # NCT03832621: 10 inclusion and 31 exclusion items; "10." sits a column left of "9."; exclusion 4 has
    # dashed sub-bullets, 6 a "- " the author typed at the text column, 7 a lettered note.
    rows = [
        (r.kind, r.text)
        for r in real_record("legacy_xml_samples/NCT03832621.xml", "NCT03832621").criteria
        if r.source == "protocol"
    ]
    assert [kind for kind, _ in rows] == [INC] * 10 + [EXC] * 31
    assert rows[9][1] == (
        "Is willing and able to provide an adequate archival tumor sample (FFPE) available for tissue screening for "
        "central tissue screening. If the tumour block is not available, a minimum of twenty 3-micron unstained "
        "sections on charged slides of tumor will be required."
    )
    assert rows[13][1] == (
        "Inadequate haematological function indicated by all of the following:\n"
        "* White Blood Cell (WBC) count < 2 x 109/L\n* Absolute neutrophil count (ANC) < 1.5 x 109/L\n"
        "* Platelet count < 100 x 109/L\n"
        "* Haemoglobin < 9 g/dL (patients may have transfusions and/or growth factors to attain adequate Hb)"
    )
    assert rows[15][1] == (
        "Inadequate renal function indicated by all of the following:\n"
        "- Serum creatinine > 1.5 x ULN or calculated creatinine clearance < 40 ml/min"
    )
    assert rows[16][1].startswith(
        "INR > 1.5 and aPTT > 1.5 x ULN within 7 days prior to the start of study "
        "treatment for patients not receiving anti-coagulation\na. NOTE: The use of"
    )


@pytest.mark.shared_data
def test_the_seed_trial_splits_like_its_hand_structured_copy():
    """trials/seed/NCT03835312.json was structured by hand from the same record: the same criteria, in the
    same order, except that the hand copy keeps the first item's "1." ("1.Type 1 diabetes ...")."""
    record = real_record("seed/NCT03835312.xml", "NCT03835312")
    seed = json.loads((Path(__file__).parent.parent / "trials" / "seed" / "NCT03835312.json").read_text())
    ours = [(r.kind, r.text) for r in record.criteria]
    theirs = [(c["kind"], c["text"]) for c in seed["criteria"]]
    assert ours[:3] == theirs[:3]  # the registry limits
    assert theirs[3] == (INC, "1." + ours[3][1])
    assert ours[4:] == theirs[4:]
    same = (
        "brief_title",
        "official_title",
        "phase",
        "conditions",
        "keywords",
        "sites",
        "minimum_age",
        "maximum_age",
        "sex",
        "healthy_volunteers",
    )
    assert {k: record.fields[k] for k in same} == {k: seed[k] for k in same}


@pytest.mark.shared_data
@pytest.mark.parametrize(
    "source, nct_id, expected",
    [
        (
            "legacy_xml_samples/NCT00000112.xml",
            "NCT00000112",
            {
                "phase": "",
                "overall_status": "UNKNOWN",
                "minimum_age": "8 Years",
                "maximum_age": "18 Years",
                "sex": "ALL",
                "healthy_volunteers": True,
                "conditions": ["Obesity", "Glucose Intolerance", "Diabetes", "Acanthosis Nigricans"],
                "keywords": [],
                "sites": ["Yale University School of Medicine, Pediatric Endocrinology, New Haven, United States"],
            },
        ),
        (
            "seed/NCT03835312.xml",
            "NCT03835312",
            {
                "phase": "Not Applicable",
                "overall_status": "NOT_YET_RECRUITING",
                "minimum_age": "",
                "maximum_age": "18 Years",
                "sex": "ALL",
                "healthy_volunteers": False,
                "conditions": ["Diabetes Mellitus, Type 1", "Immunologic Deficiency Syndromes"],
                "keywords": ["Islets of Langerhans Transplantation", "Cord Blood Stem Cell Transplantation"],
                "sites": ["Children's Hospital of Fudan University, Shanghai, China"],
            },
        ),
        (
            "legacy_xml_diabetes.zip",
            "NCT00000532",
            {
                "phase": "Phase 3",
                "overall_status": "COMPLETED",
                "minimum_age": "45 Years",
                "maximum_age": "50 Years",
                "sex": "FEMALE",
                "healthy_volunteers": False,
            },
        ),
        ("legacy_xml_diabetes.zip", "NCT00005124", {"minimum_age": "", "maximum_age": "100 Years", "sex": "MALE"}),
        (
            "legacy_xml_diabetes.zip",
            "NCT00462202",
            {"overall_status": "TERMINATED", "minimum_age": "18 Years", "maximum_age": ""},
        ),
    ],
)
def test_it_maps_the_fields_of_real_records(source, nct_id, expected):
    record = real_record(source, nct_id)
    assert {k: record.fields[k] for k in expected} == expected


@pytest.mark.shared_data
def test_it_keeps_every_site_of_a_real_record_in_order():
    record = real_record("legacy_xml_samples/NCT03830281.xml", "NCT03830281")
    assert (record.fields["phase"], record.fields["overall_status"]) == ("Phase 3", "NOT_YET_RECRUITING")
    # 84 <location> elements; two are the same facility in the same city (different addresses): one site.
    assert len(record.fields["sites"]) == 83
    assert "Palm Research Center, Las Vegas, United States" in record.fields["sites"]
    assert record.fields["sites"][:2] == [
        "John Muir Physician Network Clinical Research Center, Concord, United States",
        "Valley Research, Fresno, United States",
    ]


# --- Importing (database) ---


def database_state():
    """Everything an import may write, to compare before and after."""
    return (
        sorted(Trial.objects.values_list("nct_id", "brief_title", "overall_status", "criteria_version")),
        sorted(Criterion.objects.values_list("trial__nct_id", "order", "text", "rule_status")),
        Trial.history.count(),
        Criterion.history.count(),
    )


@pytest.mark.shared_data
@pytest.mark.django_db
def test_it_imports_the_samples_and_the_diabetes_zip_and_a_second_run_changes_nothing(seeded):
    paths = [shared_data("ctgov", "legacy_xml_samples"), shared_data("ctgov", "legacy_xml_diabetes.zip")]
    started = time.perf_counter()
    first = import_paths(paths)
    seconds = time.perf_counter() - started
    assert first.errors == []
    # 15 files and one zip; NCT00000112 is in both (2019 and 2023), so the zip's copy finds its trial.
    assert (first.files, first.studies, first.created, first.updated, first.unchanged) == (16, 57, 56, 0, 1)
    assert Trial.objects.filter(nct_id__in=real_studies("legacy_xml_diabetes.zip")).count() == 42
    trial = Trial.objects.get(nct_id="NCT00006505")
    assert (trial.phase, trial.overall_status, trial.minimum_age, trial.maximum_age, trial.open_for_screening) == (
        "Phase 2",
        "COMPLETED",
        "18 Years",
        "65 Years",
        False,
    )
    assert trial.criteria.filter(source="protocol").count() > 10

    before = database_state()
    second = import_paths(paths)
    assert (second.created, second.updated, second.unchanged, second.drafts_made, second.errors) == (0, 0, 57, 0, [])
    assert database_state() == before
    print(f"\nimport of 57 legacy records: {seconds:.1f} s")


@pytest.mark.shared_data
@pytest.mark.django_db
def test_the_2023_copy_of_a_2019_record_updates_the_same_trial(seeded):
    import_paths([shared_data("ctgov", "legacy_xml_samples", "NCT00000112.xml")])
    trial = Trial.objects.get(nct_id="NCT00000112")
    history = (trial.history.count(), Criterion.history.filter(trial_id=trial.pk).count(), trial.criteria_version)
    summary = import_paths([shared_data("ctgov", "legacy_xml_diabetes.zip")])
    # The copies differ in line endings ("\r\n" in 2023), the download date, the observational design and the
    # order of MeSH terms: none of it a trial field, so the trial is matched and nothing is rewritten.
    assert (summary.created, summary.updated, summary.unchanged, summary.errors) == (41, 0, 1, [])
    trial = Trial.objects.get(nct_id="NCT00000112")  # the same row: no second trial
    assert (
        trial.history.count(),
        Criterion.history.filter(trial_id=trial.pk).count(),
        trial.criteria_version,
    ) == history


@pytest.mark.shared_data
@pytest.mark.django_db
def test_a_changed_legacy_record_updates_the_trial_and_keeps_curated_rules(seeded, tmp_path):
    original = shared_data("ctgov", "legacy_xml_samples", "NCT00000112.xml").read_bytes()
    import_paths([shared_data("ctgov", "legacy_xml_samples", "NCT00000112.xml")])
    curated = Criterion.objects.get(trial__nct_id="NCT00000112", text__startswith="Obesity")
    curated.rule, curated.rule_status = {"all": []}, "approved"
    curated.save()

    changed = original.replace(
        b"<overall_status>Unknown status</overall_status>", b"<overall_status>Completed</overall_status>"
    )
    changed = changed.replace(
        b"general good health\n", b"general good health\n\n        Exclusion Criteria:\n\n          -  Pregnancy\n"
    )
    assert changed.count(b"Pregnancy") == 1 and b"Completed" in changed
    (tmp_path / "NCT00000112.xml").write_bytes(changed)
    summary = import_paths([tmp_path])
    assert (summary.created, summary.updated, summary.errors) == (0, 1, [])
    trial = Trial.objects.get(nct_id="NCT00000112")
    assert trial.overall_status == "COMPLETED"
    rows = {c.text: c for c in trial.criteria.filter(source="protocol")}
    assert (rows[curated.text].rule, rows[curated.text].rule_status) == (curated.rule, "approved")
    assert (rows["Pregnancy"].kind, rows["Pregnancy"].rule_status) == (EXC, "draft")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, raw, problem",
    [
        (
            "bad.xml",
            b"<clinical_study>\n<id_info>\n  <nct_id>NCT09000001</nct_id>\n</clinical>",
            "not well-formed XML: mismatched tag at line 4 column 3",
        ),
        (
            "wrong_root.xml",
            b"<?xml version='1.0'?><study><nct_id>NCT09000001</nct_id></study>",
            "not a clinical_study XML record (root element <study>)",
        ),
        ("no_id.xml", legacy_record(nct_id=None), "the record has no NCT id (<id_info><nct_id>)"),
        (
            "doctype.xml",
            b'<?xml version="1.0"?>\n<!DOCTYPE clinical_study [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
            b"<clinical_study><id_info><nct_id>&x;</nct_id></id_info></clinical_study>",
            "XML with a DOCTYPE declaration is refused (clinical_study records have none)",
        ),
        (
            "one_bad_member.zip",
            zip_of({"NCT09000002.xml": legacy_record("NCT09000002"), "NCT09000003.xml": b"<foo/>"}),
            "NCT09000003.xml in the archive: not a clinical_study XML record (root element <foo>)",
        ),
    ],
)
def test_a_malformed_file_imports_nothing_and_says_why(seeded, tmp_path, name, raw, problem):
    import_paths([write(tmp_path, "NCT09000001.xml", legacy_record("NCT09000001", status="Completed"))])
    before = database_state()
    path = write(tmp_path / "bad", name, raw)
    summary = import_paths([path])
    assert summary.errors == [f"{path}: {problem}"]
    assert (summary.created, summary.updated) == (0, 0)
    assert database_state() == before


def write(folder: Path, name: str, raw: bytes) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(raw)
    return path
