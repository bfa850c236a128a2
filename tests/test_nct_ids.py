"""One NCT id pattern for the model, URL routes, the importer and the API: "NCT" and 8 ASCII digits."""

import pytest
from django.core.exceptions import ValidationError

from eligibility.vocabulary import NCT_RE
from trials.models import Trial


@pytest.mark.parametrize(
    "text, ok",
    [
        ("NCT01219465", True),
        ("NCT0121946", False),
        ("NCT012194650", False),
        ("nct01219465", False),
        ("NCT٠١٢١٩٤٦٥", False),  # Arabic-Indic digits are digits to Python's \d, not to ClinicalTrials.gov
        ("NCT０１２１９４６５", False),  # fullwidth digits
    ],
)
def test_it_reads_nct_ids(text, ok):
    assert bool(NCT_RE.match(text)) is ok


def test_the_model_refuses_digits_of_other_scripts():
    field = Trial._meta.get_field("nct_id")
    field.run_validators("NCT01219465")
    with pytest.raises(ValidationError) as info:
        field.run_validators("NCT٠١٢١٩٤٦٥")
    assert info.value.error_list[0].code == "invalid_nct"
