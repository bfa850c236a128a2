"""Legacy ClinicalTrials.gov `<clinical_study>` XML records, as API v2 study dicts. No Django imports.

Before API v2 the registry published one XML document per trial (the "AllPublicXML" dump, schema
public.xsd). `study_from_xml(raw)` turns one such document into the dict an API v2 download holds for
the same trial, so `ctgov.studies.trial_record` reads both alike: the fields it uses, with legacy words
("Active, not recruiting", "Phase 1/Phase 2", "Accepts Healthy Volunteers") as API v2 enum values.

The eligibility text is the one part that needs more than renaming: the legacy renderer hard-wrapped
it at 99 columns with hanging indents. `eligibility_text` undoes that (see there).
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element, TreeBuilder
from xml.parsers import expat

from eligibility.vocabulary import NCT_RE


class RecordError(ValueError):
    """Bytes that are not one importable clinical_study record; the message names the problem."""


class MalformedXML(RecordError):
    """Not well-formed XML; `problem` is the parser's complaint and where ("mismatched tag at line 3 column 5")."""

    def __init__(self, problem: str):
        super().__init__(f"not well-formed XML: {problem}")
        self.problem = problem


def study_from_xml(raw: bytes) -> dict:
    """One clinical_study XML document as an API v2 study dict ({"protocolSection": {...}})."""
    root = parse_xml(raw)
    if root.tag != "clinical_study":
        raise RecordError(f"not a clinical_study XML record (root element <{root.tag}>)")
    return study_from_element(root)


def parse_xml(raw: bytes) -> Element:
    """The document's root element. A DOCTYPE is refused outright: the registry never sends one, and
    refusing it means no entity (external, or expanding into gigabytes) is ever declared or resolved."""
    builder = TreeBuilder()
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = _refuse_doctype
    # Unreachable without a DOCTYPE; set anyway so that no future default can resolve an entity.
    parser.EntityDeclHandler = _refuse_entity
    parser.ExternalEntityRefHandler = _refuse_entity
    try:
        parser.Parse(raw, True)
    except expat.ExpatError as exc:
        raise MalformedXML(f"{expat.errors.messages[exc.code]} at line {exc.lineno} column {exc.offset + 1}") from None
    return builder.close()


def _refuse_doctype(*args) -> None:
    raise RecordError("XML with a DOCTYPE declaration is refused (clinical_study records have none)")


def _refuse_entity(*args) -> None:
    raise RecordError("XML entity declarations are refused")


# Legacy words -> API v2 enum values. Anything else becomes upper snake case ("Foo bar" -> "FOO_BAR").
STATUSES = {
    "Active, not recruiting": "ACTIVE_NOT_RECRUITING",
    "Approved for marketing": "APPROVED_FOR_MARKETING",
    "Available": "AVAILABLE",
    "Completed": "COMPLETED",
    "Enrolling by invitation": "ENROLLING_BY_INVITATION",
    "No longer available": "NO_LONGER_AVAILABLE",
    "Not yet recruiting": "NOT_YET_RECRUITING",
    "Recruiting": "RECRUITING",
    "Suspended": "SUSPENDED",
    "Temporarily not available": "TEMPORARILY_NOT_AVAILABLE",
    "Terminated": "TERMINATED",
    "Unknown status": "UNKNOWN",
    "Withdrawn": "WITHDRAWN",
    "Withheld": "WITHHELD",
}
PHASES = {
    "N/A": ["NA"],
    "Early Phase 1": ["EARLY_PHASE1"],
    "Phase 1": ["PHASE1"],
    "Phase 2": ["PHASE2"],
    "Phase 3": ["PHASE3"],
    "Phase 4": ["PHASE4"],
    "Phase 1/Phase 2": ["PHASE1", "PHASE2"],
    "Phase 2/Phase 3": ["PHASE2", "PHASE3"],
}
SEXES = {"All": "ALL", "Both": "ALL", "Male": "MALE", "Female": "FEMALE"}  # "Both": older snapshots' "All"
HEALTHY_VOLUNTEERS = {"Accepts Healthy Volunteers": True, "Yes": True, "No": False}


def study_from_element(root: Element) -> dict:
    """A parsed <clinical_study> as an API v2 study dict. Absent values are left out, as API v2 does."""
    nct_id = _text(root, "id_info/nct_id")
    if not nct_id:
        raise RecordError("the record has no NCT id (<id_info><nct_id>)")
    if not NCT_RE.match(nct_id):
        raise RecordError(f"{nct_id!r} is not an NCT id ('NCT' followed by 8 digits)")
    eligibility = root.find("eligibility")
    eligibility = eligibility if eligibility is not None else Element("eligibility")
    gender = _text(eligibility, "gender")
    criteria = eligibility_text(eligibility.findtext("criteria/textblock") or "")
    protocol = _present(
        identificationModule=_present(
            nctId=nct_id,
            briefTitle=_text(root, "brief_title"),
            officialTitle=_text(root, "official_title"),
        ),
        statusModule=_present(
            overallStatus=_status(_text(root, "overall_status")),
            lastKnownStatus=_status(_text(root, "last_known_status")),
        ),
        conditionsModule=_present(conditions=_texts(root, "condition"), keywords=_texts(root, "keyword")),
        designModule=_present(phases=_phases(_text(root, "phase"))),
        eligibilityModule=_present(
            eligibilityCriteria=criteria,
            sex=SEXES.get(gender, gender.upper()),  # an unknown word is left for trial_record to reject
            minimumAge=_age(_text(eligibility, "minimum_age")),
            maximumAge=_age(_text(eligibility, "maximum_age")),
            healthyVolunteers=HEALTHY_VOLUNTEERS.get(_text(eligibility, "healthy_volunteers")),
        ),
        contactsLocationsModule=_present(locations=[_location(el) for el in root.findall("location")]),
    )
    return {"protocolSection": protocol}


def _location(location: Element) -> dict:
    return _present(
        facility=_text(location, "facility/name"),
        status=_status(_text(location, "status")),
        city=_text(location, "facility/address/city"),
        state=_text(location, "facility/address/state"),
        zip=_text(location, "facility/address/zip"),
        country=_text(location, "facility/address/country"),
    )


def _text(element: Element, path: str) -> str:
    return (element.findtext(path) or "").strip()


def _texts(element: Element, path: str) -> list[str]:
    return [text for el in element.findall(path) if (text := (el.text or "").strip())]


def _present(**values) -> dict:
    return {key: value for key, value in values.items() if value not in (None, "", [], {})}


def _status(value: str) -> str:
    return STATUSES.get(value) or _enum(value)


def _phases(value: str) -> list[str]:
    if not value:
        return []  # observational studies have no phase
    return PHASES.get(value) or [_enum(part) for part in value.split("/")]


def _enum(value: str) -> str:
    return re.sub(r"\W+", "_", value.strip()).strip("_").upper()


def _age(value: str) -> str:
    # "N/A" is the legacy "no limit"; API v2 leaves the field out.
    return "" if value.upper() in ("N/A", "NA", "NONE") else value


# --- The eligibility text ------------------------------------------------------------------------

# How the legacy renderer lays out the eligibility text, measured on the 6,700 records in
# ../shared/data/ctgov: paragraphs start at the base column (8); a list item's marker is "-  " (a
# markdown bullet) or "1. " ("10. " one column to the left), its text 5 columns deeper than the
# enclosing level's; every paragraph and item is filled to 99 columns with continuation lines at its
# text column; and a blank line separates every paragraph and item. So a run of non-blank lines is
# one paragraph or item (lines starting with "2." inside a run are wrapped text, not items).
_RENDERED_MARKER = re.compile(r"(-  |\d{1,3}\. )")
_LEVEL = 5  # columns per list level


def eligibility_text(textblock: str) -> str:
    """The legacy `<criteria><textblock>` in the layout API v2 gives the same text.

    Each paragraph and item on one line; the renderer's "-  " bullets as "* " (its numbers stay);
    nested items indented under their parent's text, as API v2 does ("1. Has:" then "   * a");
    headings and the author's own markers ("•", "a)", "1.Type") kept as written. Blank lines only
    around paragraphs and before a nested list, as API v2 has them. Words are not touched: only
    whitespace changes (API v2 also escapes markdown, "\\>"; that is not reproduced here).
    """
    lines = textblock.replace("\r\n", "\n").replace("\r", "\n").expandtabs(4).split("\n")
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            blocks[-1].append(line.rstrip())
        elif blocks[-1]:
            blocks.append([])
    blocks = [block for block in blocks if block]
    if not blocks:
        return ""
    base = min(_indent(block[0]) for block in blocks)

    out: list[str] = []
    columns = [0]  # the output text column of the latest item at each depth (0: paragraphs)
    previous_depth = None  # the previous block's list depth; 0 for a paragraph
    for block in blocks:
        indent = _indent(block[0])
        text = " ".join(line.strip() for line in block)
        marker = _RENDERED_MARKER.match(block[0][indent:])
        if marker:
            # Rounded, so a marker a column or two off (e.g. "-  " at the base column) finds its level.
            depth = 1 + max(0, (indent + len(marker.group()) - base - _LEVEL + 2) // _LEVEL)
            while len(columns) < depth:
                columns.append(columns[-1] + 2)
            mark = "*" if marker.group().startswith("-") else marker.group().strip()
            column = columns[depth - 1]
            columns = columns[:depth] + [column + len(mark) + 1]
            line = " " * column + f"{mark} {text[len(marker.group()) :].strip()}"
        else:
            # A paragraph at an item's text column continues that item (a second paragraph of it).
            depth = max(0, (indent - base + 2) // _LEVEL)
            column = columns[min(depth, len(columns) - 1)]
            columns = columns[: depth + 1]
            line = " " * column + text
        if out:
            same_list = marker and previous_depth and depth <= previous_depth
            out.append("\n" if same_list else "\n\n")
        out.append(line)
        previous_depth = depth if marker else 0
    return "".join(out)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())
