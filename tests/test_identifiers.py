"""Pseudonymity (eligibility/identifiers.py): tables of patient references and free texts, each identifier shape
refused with its code, valid study codes and ordinary clinical notes accepted. Pure: no database."""

import pytest

from eligibility.identifiers import check_reference, find_identifiers


def codes(findings):
    return [f.code for f in findings]


REFUSED_REFERENCES = [
    # (reference, codes found)
    ("John Smith", ["name", "shape"]),
    ("Smith, J.", ["name", "shape"]),
    ("J. Smith", ["name", "shape"]),
    ("Smith", ["shape"]),  # a bare word: no digit, so not a study code
    ("王小明", ["name", "shape"]),
    ("欧阳娜娜", ["name", "shape"]),
    ("李雷", ["name", "shape"]),
    ("Smith, J. DOB 01/02/70", ["date_of_birth", "name", "shape"]),
    ("01/02/1970", ["date", "shape"]),
    ("1970-01-02", ["date"]),
    ("2.3.1970", ["date", "shape"]),
    ("3 March 1970", ["date", "shape"]),
    ("1970年3月2日", ["date", "name", "shape"]),
    ("jane@example.org", ["email", "shape"]),
    ("+44 7700 900123", ["phone", "shape"]),
    ("07700-900123", ["phone"]),
    ("13812345678", ["phone"]),
    ("138-1234-5678", ["phone"]),
    ("+86 13812345678", ["phone", "shape"]),
    ("11010519491231002X", ["national_id"]),
    ("110105194912310021", ["national_id"]),
    ("MRN12345678", ["record_number"]),
    ("MRN-884421", ["record_number"]),
    ("MRN 12345678", ["record_number", "shape"]),
    ("A1234567", ["record_number"]),
    ("Jane 1234567", ["record_number", "shape"]),
    ("ab", ["shape"]),
    ("-AB-12-", ["shape"]),
    ("AB-12345678901234567", ["record_number"]),  # 17 digits: longer than any phone number
]


@pytest.mark.parametrize(("reference", "expected"), REFUSED_REFERENCES)
def test_it_refuses_identifiers_as_a_patient_reference(reference, expected):
    assert sorted(codes(check_reference(reference))) == sorted(expected)


@pytest.mark.parametrize(
    "reference",
    ["JD-2014", "T1D-NEW-01", "KL-2012", "X-1", "P001", "STUDY-0042", "2024-001", "REV-01", "s12-a3", "AB-2010"],
)
def test_it_accepts_study_codes(reference):
    assert check_reference(reference) == []


def test_a_site_sets_its_own_reference_pattern():
    pattern, hint = r"^SITE[0-9]{3}-[0-9]{4}$", "SITE, 3 digits, a hyphen and 4 digits (e.g. SITE012-0042)"
    assert check_reference("SITE012-0042", pattern, hint) == []
    [finding] = check_reference("JD-2014", pattern, hint)
    assert finding.code == "shape"
    assert finding.reference_message() == f"A patient reference is a study code: {hint}."


FREE_TEXT = [
    # (text, codes found)
    ("please review", []),
    ("New onset T1D, keen to take part. Seen by Dr Jones in clinic on Tuesday.", []),
    ("BMI 32.4, HbA1c 7.5 %, weight 70 kg, BP 120/80, eGFR 90 ml/min/1.73m2, since 2026", []),
    ("insulin 0.5 U/kg/day; C-peptide 0.3 nmol/L", []),
    ("MRN 12345678, call 07700 900123", ["record_number", "phone"]),
    ("hospital number: A123456", ["record_number"]),
    ("住院号 20231234", ["record_number"]),
    ("call mother on +86 138 1234 5678", ["phone"]),
    ("DOB 01/02/70", ["date_of_birth"]),
    ("born 3 March 1970", ["date_of_birth"]),
    ("出生日期 1970年3月2日", ["date_of_birth"]),
    ("seen on 21/11/2026", ["date"]),
    ("Mr Smith agreed to be contacted", ["name"]),
    ("Smith, J. agreed", ["name"]),
    ("name: Jane", ["name"]),
    ("患者王小明，新诊断1型糖尿病", ["name"]),
    ("patient 王小明 agreed", ["name"]),
    ("e-mail jane@example.org", ["email"]),
    ("ID 11010519491231002X", ["national_id"]),
    ("Smith, J. DOB 01/02/70 MRN 1234567 tel 020 7946 0958", ["name", "date_of_birth", "record_number", "phone"]),
]


@pytest.mark.parametrize(("text", "expected"), FREE_TEXT)
def test_it_finds_identifiers_in_free_text(text, expected):
    assert sorted(codes(find_identifiers(text))) == sorted(expected)


def test_a_message_names_what_was_found_and_not_the_identifier():
    [finding] = find_identifiers("call 13812345678")
    assert finding.code == "phone"
    assert "phone number" in finding.free_text_message()
    assert "13812345678" not in finding.free_text_message()
