"""Precision of the import's draft rules on the hand-labelled sample (tests/data/ctgov_labels.json).

    .venv/bin/python scripts/draft_precision.py [LABELS.json]

Prints precision (drafts equal to the label / drafts made), how many criteria got drafts, recall, and
every wrong draft. Pure: no database; the catalogue is read from trials/seed/questions.json.
"""

import gzip
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ctgov.drafts import draft_rule, score_drafts  # noqa: E402
from ctgov.split import split_eligibility  # noqa: E402
from eligibility.engine import QuestionSpec  # noqa: E402

LABELS = ROOT / "tests" / "data" / "ctgov_labels.json"
RECORDS = Path(
    os.environ.get("PRESCREEN_SHARED_DIR", ROOT.parent / "shared"), "data", "ctgov", "ctgov_v2_broad.json.gz"
)
QUESTIONS = ROOT / "trials" / "seed" / "questions.json"


def seed_catalogue() -> dict[str, QuestionSpec]:
    return {row["code"]: QuestionSpec.from_row(row) for row in json.loads(QUESTIONS.read_text())}


def main(path: Path = LABELS) -> int:
    rows = json.loads(path.read_text())["criteria"]
    score = score_drafts(rows, seed_catalogue())
    print(
        f"labelled criteria:   {score.labelled} ({score.expected} labelled with a rule, "
        f"{score.labelled - score.expected} labelled 'no draft')"
    )
    print(f"criteria with drafts: {score.drafted} ({score.drafted / score.labelled:.0%} of the sample)")
    print(f"precision:           {score.precision:.1%} ({score.correct} of {score.drafted} drafts match the label)")
    print(f"recall:              {score.recall:.1%} ({score.correct} of {score.expected} labelled rules drafted)")
    for text, draft, label in score.wrong:
        print(f"\nWRONG: {text!r}\n  draft: {json.dumps(draft)}\n  label: {json.dumps(label)}")
    if RECORDS.exists():
        # The sample over-represents drafts (75 of its rows were drawn from drafted criteria); this is the real rate.
        catalogue = seed_catalogue()
        total = drafted = 0
        for study in json.loads(gzip.decompress(RECORDS.read_bytes()))["studies"]:
            protocol = study["protocolSection"]
            conditions = protocol.get("conditionsModule", {}).get("conditions", [])
            for item in split_eligibility(protocol["eligibilityModule"].get("eligibilityCriteria", "")):
                total += 1
                drafted += draft_rule(item.text, item.kind, catalogue, item.section, conditions) is not None
        print(
            f"all records ({RECORDS.name}): {drafted} of {total} protocol criteria got drafts ({drafted / total:.1%})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else LABELS))
