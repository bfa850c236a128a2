"""Splitting eligibility text into criteria. Pure: no database.

The real texts are nine records from ../shared/data/ctgov/ctgov_v2_broad.json.gz, copied verbatim into
tests/data/ctgov_split_sample.json so these tests always run; the expected splits below were written by
hand from the texts. An expectation ending in "…" is a prefix (the item is long); otherwise it is the
whole item, verbatim.
"""

import gzip
import json
from pathlib import Path

import pytest

from ctgov.split import Item, heading_kind, split_eligibility
from tests.conftest import shared_data

SAMPLE = json.loads((Path(__file__).parent / "data" / "ctgov_split_sample.json").read_text())
INC, EXC = "inclusion", "exclusion"


def split(nct_id):
    return [(item.kind, item.text) for item in split_eligibility(SAMPLE[nct_id])]


def assert_split(nct_id, expected):
    got = split(nct_id)
    assert [kind for kind, _ in got] == [kind for kind, _ in expected], nct_id
    for (_, text), (_, want) in zip(got, expected):
        if want.endswith("…"):
            assert text.startswith(want[:-1]), (text, want)
        else:
            assert text == want


def test_it_splits_markdown_bullets_under_plain_headings():
    assert_split(
        "NCT00000410",
        [
            (INC, "Duration of symptoms: 6 or more weeks."),
            (INC, "Treatments tried: Non-steroidal anti-inflammatory medical therapy and physical therapy."),
            (INC, "Surgical screening: Persistent radicular pain provoked by moderate exercise, sitting, incr…"),
            (INC, "Tests: MRI to confirm diagnosis and level(s)."),
            (EXC, "Previous lumbar spine surgery."),
            (EXC, "Not a surgical candidate for any of these reasons: Overall health which makes spinal surge…"),
            (EXC, "Possible pregnancy."),
            (EXC, "Active malignancy: A patient with a history of any invasive malignancy (except non-melanom…"),
            (EXC, "Current fracture, infection, and/or deformity (greater than 15 degrees of lumbar scoliosis…"),
            (EXC, "Age less than 18 years."),
            (EXC, "Cauda Equina syndrome or progressive neurological deficit (usually requiring urgent surgery)."),
            (
                EXC,
                "Unavailability for follow-up (planning to move, no telephone, etc.) or inability to complete data surveys.",
            ),
            (EXC, "Symptoms less than 6 weeks."),
            (EXC, 'Patient currently enrolled in any experimental "spine related" study.'),
        ],
    )


def test_it_keeps_numbered_sub_items_with_their_parent():
    assert_split(
        "NCT04204473",
        [
            (INC, "18-75years old, male or female."),
            (INC, "Histological or cytological confirmation diagnosis of NSCLC"),
            (INC, "At least one measurable lesion according to Response Evaluation Criteria in Solid Tumours…"),
            (INC, "Life expectancy of at least 3 months."),
            (INC, "Eastern Cooperative Oncology Group (ECOG) performance score 0 or 1."),
            (INC, "Documentation of disease progression while on previous continuous treatment with first-lin…"),
            # "a.Neutrophils ...; b.Hemoglobin ..." is one indented paragraph under item 7.
            (
                INC,
                "Adequate bone marrow reserve or organ function as demonstrated by any of the following "
                "laboratory values:\na.Neutrophils (absolute value) ≥ 1.5×10\\^9/L; b.Hemoglobin ≥ 90 g/L;…",
            ),
            (INC, "Female subjects have a negative urine or serum pregnancy."),
            (INC, "Provision of signed and dated, written informed consent prior to any study specific proced…"),
            (EXC, "Treatment with any of the following:\n1. Treatment with an EGFR TKI within 14 days or about…"),
            (EXC, "Any unresolved toxicities from prior therapy greater than Common Terminology Criteria for…"),
            (EXC, "Spinal cord compression or brain metastases unless asymptomatic."),
            (EXC, "Dysphagia, or active digestive system diseases or previous significant bowel resection or…"),
            (EXC, "Cardiac function and disease are consistent with the following:\n1. Corrected QT interval(Q…"),
            (EXC, "Active human immunodeficiency virus (HIV), syphilis, hepatitis c virus (HCV) or hepatitis…"),
            # "7 .Previous": a stray space does not hide the number.
            (EXC, "Previous history of interstitial lung disease(ILD)、drug-induced ILD or radiation pneumonit…"),
            # Items 9 and 10 run on inside item 8 in the registry text; they are not split out.
            (
                EXC,
                "Previous allogeneic bone marrow transplant. 9. Hypersensitivity to TY-9591 or similar "
                "compounds or excipients. 10.Pregnant or lactating women.",
            ),
        ],
    )
    treatment = split("NCT04204473")[9][1]
    assert treatment.count("\n") == 6  # six numbered sub-items, one per line, markers kept
    assert treatment.splitlines()[-1].startswith("6. Patients currently receiving")


def test_it_treats_text_without_headings_as_inclusion_and_drops_sub_headings():
    # PDQ style: "DISEASE CHARACTERISTICS:", "Age", "Renal" label what follows; "Not specified" says nothing.
    assert_split(
        "NCT00057759",
        [
            (INC, "Prior treatment on RTOG-9910 for intermediate relapse-risk stage II or III prostate cancer…"),
            (INC, "Radiotherapy completed within the past 6 months to 5 years"),
            (INC, "Pretreatment (before enrollment on this study) erectile dysfunction as measured by Interna…"),
            (INC, "Patients without partners or without partners willing to participate allowed"),
            (INC, "18 and over"),
            (INC, "Zubrod 0-2"),
            (INC, "No myocardial infarction within the past year"),
            (INC, "No other invasive cancer within the past 5 years except localized basal cell or squamous c…"),
            (INC, "No anatomical genital abnormalities or concurrent conditions that would prohibit sexual in…"),
            (INC, "No other major medical or psychiatric illness that would preclude study participation"),
            (INC, "More than 6 months since prior androgen suppression (e.g., leuprolide or goserelin), antia…"),
            (INC, "See Disease Characteristics"),
            (INC, "No prior penile implant"),
            (INC, "No prior bilateral orchiectomy"),
            (INC, "No concurrent sildenafil"),
            (INC, "No concurrent participation in another medical research study to treat prostate cancer"),
            (INC, "No concurrent organic nitrate or requirement for nitrates (e.g., nitroglycerin as needed)"),
            (INC, "No concurrent ketoconazole, itraconazole, or erythromycin"),
            (INC, "No concurrent use of mechanical (vacuum) devices or intracorporeal, intraurethral, topical…"),
        ],
    )
    assert split("NCT00057759")[0][1] == (
        "Prior treatment on RTOG-9910 for intermediate relapse-risk stage II or III prostate cancer as determined "
        "by any of the following combinations of factors:\n"
        "* T1b-4, Gleason score 2-6, and prostate-specific antigen (PSA) greater than 10 ng/mL but no greater than 100 ng/mL\n"
        "* T1b-4, Gleason score 7, and PSA less than 20 ng/mL\n"
        "* T1b-1c, Gleason score 8-10, and PSA less than 20 ng/mL"
    )


def test_it_reads_key_inclusion_and_key_exclusion_headings():
    items = split_eligibility(SAMPLE["NCT04770285"])
    assert [(i.kind, i.section) for i in items] == [(INC, "Key Inclusion Criteria")] * 4 + [
        (EXC, "Key Exclusion Criteria")
    ] * 5
    assert items[1].text == "Participants with a Hamilton Rating Scale for Depression, 17-item (HAM-D17) score ≥ 18"
    assert (
        items[4].text
        == "Participants with an inadequate response to \\> 1 adequate trial of ADT for the current episode."
    )


def test_it_reads_numbered_headings_and_drops_lead_in_sentences():
    # "1. Inclusion Criteria" / "2. Exclusion Criteria" are headings; "To be eligible ..., male subjects must
    # meet the following requirements:" introduces the list and is not a criterion.
    assert_split(
        "NCT00636506",
        [
            (INC, "The subject has been diagnosed with erectile dysfunction and has made an informed decision…"),
            (INC, "The subject has not had a previous penile prosthesis."),
            (INC, "The subject is willing and able to give written valid Informed Consent."),
            (INC, "The subject's reading level is judged adequate for reading and understanding the Informed…"),
            (INC, "The subject is ≥ 21 years of age."),
            (INC, "The subject has no known sensitivity to rifampin, minocycline or other tetracyclines as in…"),
            (INC, "The subject does not have systemic lupus erythematosus"),
            (INC, "The subject has the manual dexterity or mental ability to operate the pump."),
            (INC, "The subject does not have active urogenital infection or active skin infection in region o…"),
            (INC, "The subject is willing and able to return for follow-up evaluations and questionnaire comp…"),
            (INC, "The subject is an acceptable risk for anesthesia and surgery."),
            (EXC, "The subject's reading level is judged inadequate for reading and understanding the Informe…"),
            (EXC, "The subject is not willing or able to give written valid Informed Consent"),
            # "i." / "ii." / "e)" ... after a parent ending in ":" are its sub-items even at the same depth.
            (
                EXC,
                "The subject meets any of the following contraindications for InhibiZone™ use:\n"
                "i. known allergy to or sensitivity to rifampin, minocycline, or to tetracyclines.\n"
                "ii. diagnosed with systemic lupus erythematosus. d) The subject has a current Urinary Tract…",
            ),
        ],
    )
    assert (
        split("NCT00636506")[-1][1].splitlines()[-1]
        == "h) The subject has been diagnosed with severe fibrosis due to priapism."
    )


def test_it_reads_items_before_an_exclusion_heading_as_inclusion():
    # No inclusion heading; "At Visit1" / "At Visit2" group the items and are not criteria.
    assert_split(
        "NCT02587988",
        [
            (INC, "≥19 age"),
            (INC, "Hypertension Patients who need amlodipine 5mg"),
            (INC, "Abnormal Erectile function ≥ at least 3months based on screening date"),
            (INC, "Patients who are expected to frequent use of Tadalafil (at least two times for weeks)"),
            (INC, "Patients understood the consents and purpose of this trial and signed informed consent form"),
            (INC, "90≤ sitSBP \\< 140 mmHg and 50 ≤ sitDBP \\< 90 mmHg"),
            (INC, "Sexual dysfunction rate ≥ 50% for 4 weeks run-in period"),
            (INC, "International Index of Erectile Function(IIEF)- Erectile Function(EF) domain score ≤ 25"),
            (EXC, "History of hypersensitivity to Amlodipine or Tadalafil"),
            (EXC, "Has a severe liver disorder(Child-Pugh Class C) or liver enzyme (AST, ALT) level exceeds 3…"),
            (EXC, "Has a clinically significant renal failure (Scr \\> 2mg/dl)"),
            (EXC, "Uncontrolled diabetes mellitus (HbA1C \\>12%)"),
            (EXC, "At screening date, blood pressure gap of selected arms is sitSBP ≥20mmHg or sitDBP ≥10mmHg"),
            (EXC, "Taking PDE-5 inhibitors or other therapeutic agents for Erectile Dysfunction within 7 days…"),
            (EXC, "No reaction to PDE-5 inhibitors"),
        ],
    )


def test_it_splits_paragraphs_under_upper_case_headings():
    assert_split(
        "NCT00042536",
        [
            (INC, "Subjects must be medically healthy and free of mental illness, take no medication, and mus…"),
            (INC, "For assessments of sexual function before and after the study subjects are required to com…"),
            (EXC, "Persons having taken antidepressant or other medications likely to alter monoamine neuroch…"),
            (EXC, "Individuals will also be excluded if they have: a) evidence for an axis I psychiatric diso…"),
            (EXC, "Persons must exhibit no or only moderate alcohol use. Persons with current or previous reg…"),
            (EXC, "Individuals beyond age 50 are excluded because subjects beyond age 50 have a far greater l…"),
        ],
    )


def test_it_reads_one_word_headings():
    assert_split(
        "NCT02560883",
        [
            (INC, "Patients with classic hairy cell leukemia"),
            (INC, "Patients with the variant of hairy cell leukemia."),
            (EXC, "Children are excluded from the study, since Hairy Cell Leukemia wasn't described in children."),
        ],
    )


def test_it_handles_cohorts_and_numbering_that_continues_past_sub_bullets():
    got = split("NCT01515527")
    assert [kind for kind, _ in got] == [INC] * 7 + [EXC] * 4 + [INC] * 6 + [EXC] * 4  # "Cohort 1/2" are dropped
    assert got[2][1] == (
        "Adequate organ function as defined below:\n"
        "* liver function (bilirubin \\< 2mg/dL, AST and/or ALT \\<3 x ULN)\n"
        "* kidney function (creatinine \\< 1.5 x ULN )."
    )
    # "* Creatinine ..." bullets at the same depth as "10. ...: " are its sub-items; "11." (indented under
    # the last bullet) continues the top-level numbering and is an item of its own.
    assert got[13][1] == (
        "Patients must have one of the following:\n"
        "* Creatinine \\>/= 2 mg/dL\n"
        "* Total bilirubin \\>/= 2 mg/dL\n"
        "* ECOG Performance Status equal to 3 or 4\n"
        "* Is ineligible for participation in a protocol of higher priority"
    )
    assert got[14][1].startswith("A negative urine pregnancy test is required within 1 week")


def test_the_sample_is_verbatim_from_the_shared_records():
    path = shared_data("ctgov", "ctgov_v2_broad.json.gz")
    studies = json.loads(gzip.decompress(path.read_bytes()))["studies"]
    texts = {
        s["protocolSection"]["identificationModule"]["nctId"]: s["protocolSection"]["eligibilityModule"][
            "eligibilityCriteria"
        ]
        for s in studies
    }
    assert {nct_id: texts[nct_id] for nct_id in SAMPLE} == SAMPLE


# Small cases, one table: (text, expected [(kind, text)]).
CASES = [
    (
        "Inclusion Criteria:\n- Adults\n- Consent\nExclusion Criteria:\n- Pregnancy",
        [(INC, "Adults"), (INC, "Consent"), (EXC, "Pregnancy")],
    ),
    (
        "INCLUSION CRITERIA\n1) Adults\n2) Consent\n\nEXCLUSION CRITERIA\n(1) Pregnancy",
        [(INC, "Adults"), (INC, "Consent"), (EXC, "Pregnancy")],
    ),
    ("Key inclusion criteria\n* Adults\nKey exclusion criteria\n* Pregnancy", [(INC, "Adults"), (EXC, "Pregnancy")]),
    (
        "1.Type 1 diabetes\n- Confirmed by ADA criteria\nExclusion Criteria:\n- HIV",  # the seed trial's style
        [(INC, "Type 1 diabetes"), (INC, "Confirmed by ADA criteria"), (EXC, "HIV")],
    ),
    (
        "Inclusion Criteria:\n* Adequate organ function:\n  * ANC ≥ 1.5\n  * Platelets ≥ 100\n* Consent",
        [(INC, "Adequate organ function:\n* ANC ≥ 1.5\n* Platelets ≥ 100"), (INC, "Consent")],
    ),
    (
        "Inclusion Criteria:\n1. Must have one of:\n   a. HbA1c ≥ 7%\n   b. Fasting glucose ≥ 126 mg/dL\n2. Consent",
        [(INC, "Must have one of:\na. HbA1c ≥ 7%\nb. Fasting glucose ≥ 126 mg/dL"), (INC, "Consent")],
    ),
    ("* Adults\n* Consent", [(INC, "Adults"), (INC, "Consent")]),  # no headings at all: all inclusion
    ("Adults aged 18-65\n\nWritten consent", [(INC, "Adults aged 18-65"), (INC, "Written consent")]),
    ("* Adults aged 18-65\nwho can consent", [(INC, "Adults aged 18-65\nwho can consent")]),  # markdown soft wrap
    ("Inclusion Criteria:\n* Adults\n\nExclusion Criteria:\n\n* None", [(INC, "Adults")]),
    ("Inclusion Criteria:\n\nNil\n\nExclusion Criteria:\n\nNil", []),
    ("Exclusion Criteria: Pregnancy", [(EXC, "Pregnancy")]),  # heading and item on one line
    ("Non-inclusion criteria:\n* Pregnancy", [(EXC, "Pregnancy")]),
    ("Inclusion Criteria:\n\\* Adults\n8\\. Consent", [(INC, "Adults"), (INC, "Consent")]),  # markdown escapes
    (
        "Inclusion Criteria:\n\n* Adults\n* Patient meets the inclusion criteria for trial entry",
        [(INC, "Adults"), (INC, "Patient meets the inclusion criteria for trial entry")],
    ),  # a sentence, not a heading
    ("Inclusion Criteria:\r\n* Adults\r\n* BMI 1.5 above\r\n", [(INC, "Adults"), (INC, "BMI 1.5 above")]),
    ("", []),
]


@pytest.mark.parametrize("text, expected", CASES)
def test_it_splits(text, expected):
    assert [(i.kind, i.text) for i in split_eligibility(text)] == expected


HEADINGS = [
    ("Inclusion Criteria:", INC),
    ("Key Exclusion Criteria", EXC),
    ("INCLUSION CRITERIA", INC),
    ("1. Exclusion Criteria", EXC),
    ("• Inclusion Criteria:", INC),
    ("Partner Inclusion Criteria:", INC),
    ("Exclusion criteria for medical history and comorbidities:", EXC),
    ("Non-inclusion criteria:", EXC),
    ("Other Exclusions", EXC),
    ("Exclusion Citeria:", EXC),
    ("Further inclusion criteria apply.", None),
    ("Note: Other protocol-defined inclusion/exclusion criteria applied.", None),
    ("Patient meets the inclusion criteria for trial entry", None),
    ("The patient is in an exclusion period determined by a previous study", None),
    ("Not meeting inclusion criteria", None),
    ("Age 18 to 65", None),
]


@pytest.mark.parametrize("line, kind", HEADINGS)
def test_it_recognises_headings(line, kind):
    found = heading_kind(line)
    assert (found[0] if found else None) == kind


def test_items_keep_the_heading_they_sit_under():
    items = split_eligibility("Donor Inclusion Criteria:\n* Healthy\nExclusion Criteria:\n* HIV")
    assert items == [Item(INC, "Healthy", "Donor Inclusion Criteria"), Item(EXC, "HIV", "Exclusion Criteria")]
