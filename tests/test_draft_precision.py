"""Draft rules from protocol text: precision on the labelled sample, and tables of cases. Pure: no database."""

import json
from pathlib import Path

import pytest

from ctgov.drafts import draft_rule, score_drafts
from eligibility.rules import validate_rule
from tests.factories import seed_catalogue

LABELS = json.loads((Path(__file__).parent / "data" / "ctgov_labels.json").read_text())["criteria"]
CATALOGUE = seed_catalogue()  # trials/seed/questions.json, with the pregnant / breastfeeding questions
INC, EXC = "inclusion", "exclusion"

FEMALE = {"q": "sex", "op": "=", "value": "female"}
MALE = {"q": "sex", "op": "=", "value": "male"}


def age(**limits):
    return {"q": "age", "op": "age_between", "value": limits}


def yes(code, value=True):
    return {"q": code, "op": "=", "value": value}


def test_the_labelled_sample_is_big_and_mostly_no_draft():
    assert len(LABELS) >= 150
    assert sum(1 for row in LABELS if row["expected"] is None) >= 100
    assert all(validate_rule(row["expected"], CATALOGUE) == [] for row in LABELS if row["expected"] is not None)


def test_it_keeps_draft_precision_at_95_percent_or_more():
    score = score_drafts(LABELS, CATALOGUE)
    assert score.drafted >= 50, "too few drafts to measure precision"
    assert score.precision >= 0.95, "\n".join(f"{t!r}: drafted {d}, label {e}" for t, d, e in score.wrong)


DRAFTED = [
    # Age ranges, with a sex when one is stated. "< 18 years" is at most 17 completed years.
    ("Aged 18-65 years", INC, age(min="18 years", max="65 years")),
    ("Patients aged ≥ 15 and ≤ 65 years.", INC, age(min="15 years", max="65 years")),
    ("18 years of age or older at the time of informed consent.", INC, age(min="18 years")),
    ("Age \\< 18 years.", EXC, age(max="17 years")),
    ("Age ranging between 6 months and \\<16 years", INC, age(min="6 months", max="15 years")),
    ("Men aged 40 - 70", INC, {"all": [MALE, age(min="40 years", max="70 years")]}),
    ("Woman ≥ 18 years old", INC, {"all": [FEMALE, age(min="18 years")]}),
    ("Male or female, aged 1-70 years", INC, age(min="1 year", max="70 years")),
    # BMI, HbA1c and fasting glucose, converted to the catalogue's unit.
    ("BMI \\> 35 kg/m2", EXC, {"q": "bmi", "op": ">", "value": 35, "unit": "kg/m²"}),
    ("body mass index ≥ 40", EXC, {"q": "bmi", "op": ">=", "value": 40, "unit": "kg/m²"}),
    (
        "Body mass index higher or equal to 18,5 and lower or equal than 29,9 kg/m2.",
        INC,
        {"q": "bmi", "op": "between", "value": [18.5, 29.9], "unit": "kg/m²"},
    ),
    (
        "Body mass index \\> 19 and \\< 28.5 Kg/m2",
        INC,
        {
            "all": [
                {"q": "bmi", "op": ">", "value": 19, "unit": "kg/m²"},
                {"q": "bmi", "op": "<", "value": 28.5, "unit": "kg/m²"},
            ]
        },
    ),
    (
        "Patients with BMI \\> 40 Kg/m2 or BMI \\< 18.5 Kg/m2.",
        EXC,
        {
            "any": [
                {"q": "bmi", "op": ">", "value": 40, "unit": "kg/m²"},
                {"q": "bmi", "op": "<", "value": 18.5, "unit": "kg/m²"},
            ]
        },
    ),
    ("Uncontrolled diabetes mellitus (HbA1C \\>12%)", EXC, {"q": "hba1c", "op": ">", "value": 12, "unit": "%"}),
    ("HbA1c ≥ 58 mmol/mol", INC, {"q": "hba1c", "op": ">=", "value": 7.5, "unit": "%"}),
    (
        "HbA1c 7.0-10.0 percent (53-86 millimoles per mole \\[mmol/mol\\]) (both inclusive) at screening",
        INC,
        {"q": "hba1c", "op": "between", "value": [7, 10], "unit": "%"},
    ),
    ("Fasting plasma glucose ≥ 7.0 mmol/L", INC, {"q": "fasting_glucose", "op": ">=", "value": 126, "unit": "mg/dL"}),
    # HIV and hepatitis exclusions.
    ("HIV, HBV and HCV were positive.", EXC, {"any": [yes("hiv"), yes("hepatitis_b"), yes("hepatitis_c")]}),
    ("Known active hepatitis B or C infection", EXC, {"any": [yes("hepatitis_b"), yes("hepatitis_c")]}),
    ("History of HIV infection.", EXC, yes("hiv")),
    # Pregnancy and breastfeeding: asked of women only.
    ("Pregnant or breast-feeding women", EXC, {"all": [FEMALE, {"any": [yes("pregnant"), yes("breastfeeding")]}]}),
    ("Pregnancy", EXC, {"all": [FEMALE, yes("pregnant")]}),
    ("Non-pregnant and non-nursing", INC, {"not": {"all": [FEMALE, {"any": [yes("pregnant"), yes("breastfeeding")]}]}}),
    # Active malignancy, outside cancer trials.
    ("Active malignancy", EXC, yes("malignancy")),
    ("No active cancer", INC, yes("malignancy", False)),
    # Time since a type 1 diabetes diagnosis.
    (
        "Diagnosed with type 1 diabetes less than 9 weeks ago",
        INC,
        {"all": [yes("t1d_diagnosis"), {"q": "t1d_diagnosis_date", "op": "within", "value": "9 weeks"}]},
    ),
    (
        "Type 1 diabetes for at least 1 year",
        INC,
        {"all": [yes("t1d_diagnosis"), {"q": "t1d_diagnosis_date", "op": "before", "value": "1 year"}]},
    ),
]


@pytest.mark.parametrize("text, kind, rule", DRAFTED)
def test_it_drafts(text, kind, rule):
    assert draft_rule(text, kind, CATALOGUE) == rule
    assert validate_rule(rule, CATALOGUE) == []


NOT_DRAFTED = [
    # Ambiguous or qualified ages.
    ("Age \\> 18 years", INC),  # 18 to some protocols, 19 to others
    ("Age over 30 years old", INC),
    ("≤ 25 years old at the time of original diagnosis with ALL or AML", INC),
    ("Patients aged \\< 18 years at diagnosis", EXC),
    ("≥12 months", INC),  # how long what lasted?
    ("Healthy male subjects between the ages of 40 and 55 years, inclusive", INC),
    ("Age 18-75 years old, male or female, signed informed consent;", INC),
    # Thresholds with something else in them.
    ("Body Mass Index (BMI) of approximately 18 to 30 kg/m2", INC),
    ("BMI \\<30, BMI \\>=18.5, weight \\>110 lbs.", INC),
    ("If diabetic, HgbA1C level ≤ 7.5% within 1 month prior to enrollment.", INC),
    ("Has a history of uncontrolled diabetes (HbA1c\\>9%).", EXC),
    ("Poorly controlled diabetes mellitus as defined by HgA1c \\> 8.0 mg% at time of enrollment;", EXC),
    ("Fasting glucose \\> 126", EXC),  # no unit
    # Infections with exceptions, other viruses, or a history that may be cleared.
    ("Known HIV, active Hepatitis B or Hepatitis C infection (screening not required).", EXC),
    ("History of hepatitis B or C, or other forms of non-infectious liver disease.", EXC),
    ("Positive for HIV, HCV, syphilis", EXC),
    ("HCV antibody positive, active hepatitis B (hepatitis B virus carrier can be recruited)", EXC),
    ("Use of HIV protease inhibitors within 2 weeks prior to the screening visit", EXC),
    ("Hepatitis B (HBsAg positive) \\*\\*", EXC),  # a footnote may say more
    ("HIV infection", INC),  # an HIV trial's inclusion: left for review
    # Pregnancy: plans, partners, and inclusions that also say who the trial is for.
    ("Pregnant or planning to become pregnant during the course of the trial.", EXC),
    ("Sexual partner is a pregnant or lactating female", EXC),
    ("Women who are not breastfeeding.", INC),
    ("Negative pregnancy test (serum) for women of childbearing potential.", INC),
    ("Pregnant and nursing people are eligible to participate.", EXC),
    # Malignancy: history, other malignancies, cancer trials.
    ("Current or previous malignancy.", EXC),
    ("Individuals with another active malignancy", EXC),
    ("Malignancy", EXC),  # current or ever? not said
    ("Patient must not have active cancer", EXC),
    # Everything else.
    ("Ability to give written informed consent", INC),
    ("Life expectancy of ≥ 12 weeks", INC),
    ("ECOG performance status of 0 or 1", INC),
]


@pytest.mark.parametrize("text, kind", NOT_DRAFTED)
def test_it_leaves_for_review(text, kind):
    assert draft_rule(text, kind, CATALOGUE) is None


def test_it_makes_no_malignancy_draft_in_a_cancer_trial():
    assert draft_rule("Active malignancy", EXC, CATALOGUE, conditions=["Non-small Cell Lung Cancer"]) is None
    assert draft_rule("Active malignancy", EXC, CATALOGUE, conditions=["Erectile Dysfunction"]) == yes("malignancy")


def test_it_makes_no_draft_for_a_partner_or_donor():
    assert draft_rule("Pregnancy", EXC, CATALOGUE, section="Partner Exclusion Criteria") is None
    assert draft_rule("HIV infection", EXC, CATALOGUE, section="Donor Exclusion Criteria") is None


def test_it_makes_no_draft_the_catalogue_cannot_check():
    without_pregnancy = {code: spec for code, spec in CATALOGUE.items() if code != "pregnant"}
    assert draft_rule("Pregnancy", EXC, without_pregnancy) is None
    assert draft_rule("BMI \\> 95 kg/m2", EXC, CATALOGUE) is None  # outside the plausible range
