"""Splitting a protocol's eligibility text into inclusion and exclusion items, verbatim. No Django imports."""

from __future__ import annotations

import re
from dataclasses import dataclass

from eligibility.engine import EXCLUSION, INCLUSION


@dataclass(frozen=True)
class Item:
    kind: str  # inclusion / exclusion
    text: str  # verbatim, without its own bullet marker
    section: str = ""  # the heading it sits under, e.g. "Key Inclusion Criteria"


# A bullet or number at the start of a line: "* ", "- ", "• ", "1. ", "1)", "(1)", "a. ", "ii) "...
# Numbers need no space after them ("1.Type 1 diabetes") but must not be a decimal ("1.5 mg/dL").
# Markdown escapes ("\*", "8\.") count as the marker they escape.
_MARKER = re.compile(
    r"""^(?:
        (?P<bullet>\\?[*\-–•·▪◦●○■□➢►✓](?=\s|[^\W\d_])|o(?=\s))
      | (?P<number>\(?\d{1,3}\s?\\?[.)）、](?!\d))
      | (?P<alpha>\(?(?:[ivx]{1,4}|[a-zA-Z])\)|(?:[ivx]{1,4}|[a-zA-Z])\.(?=\s))
    )[ \t]*""",
    re.X,
)
_KEYWORD = re.compile(r"\b(non[- ]?inclusion|inclusion|exclusions?)\b", re.I)
_CRITERIA_WORD = re.compile(r"^\s*(criteria|criterion|citeria|requirements?)\b", re.I)
# Words that make a line a sentence about the criteria rather than a heading over them.
_SENTENCE_WORDS = re.compile(
    r"\b(meets?|meeting|not|must|fulfil\w*|apply|applied|period|incorrect|appearance|during|see)\b",
    re.I,
)
_INLINE_HEADING = re.compile(
    r"^(?P<head>(?:[\w-]+\s+){0,2}?(?:non[- ]?inclusion|inclusion|exclusion)\s+criteria)\s*:\s*(?P<rest>\S.*)$",
    re.I,
)
# Short labels that group items ("Cohort 1", "Phase IIa", "At Visit2", "Part A:") rather than state one.
_GROUP_LABEL = re.compile(r"^(?:at\s+)?(?:cohort|phase|part|arm|group|stage|step|visit)\s*[\w.-]{0,6}\s*:?$", re.I)


@dataclass
class _Line:
    indent: int
    marker: str  # "", or the marker's type: bullet / number / alpha
    body: str  # without the marker
    raw: str  # stripped, with the marker
    number: int | None = None  # 7 for "7." / "7)" / "(7)"


def _read_line(line: str) -> _Line:
    expanded = line.expandtabs(4)
    stripped = expanded.strip()
    indent = len(expanded) - len(expanded.lstrip())
    body, marker, number = stripped, "", None
    for _ in range(2):  # "• 1. The patient ...": a bullet and a number make one marker
        match = _MARKER.match(body)
        if not match or not body[match.end() :].strip():
            break
        marker = marker or match.lastgroup
        if match.lastgroup == "number" and number is None:
            number = int(re.sub(r"\D", "", match.group("number")))
        body = body[match.end() :].strip()
    return _Line(indent, marker, body, stripped, number)


def heading_kind(line: str) -> tuple[str, str, str] | None:
    """(kind, heading, rest) when `line` heads an inclusion or exclusion section, else None.

    `rest` is text after "Exclusion Criteria:" on the same line (a first item), usually empty.
    """
    body = _read_line(line).body.strip()
    inline = _INLINE_HEADING.match(body)
    if inline:
        head, rest = inline.group("head"), inline.group("rest").strip()
        rest = _read_line(rest).body  # "Inclusion Criteria:- Males with ..."
        if _is_placeholder(rest):
            rest = ""
        return _kind_of(head), head, rest
    head = body.rstrip().rstrip(":").rstrip()
    words = head.split()
    if not words or len(words) > 14 or head.endswith((".", ";", ",")) or body.count(":") > 1:
        return None
    found = _KEYWORD.findall(head)
    if len(found) != 1:  # none, or "inclusion/exclusion criteria apply" (a note, not a heading)
        return None
    match = _KEYWORD.search(head)
    before = head[: match.start()].split()
    if _SENTENCE_WORDS.search(head):
        return None
    shouted = head.upper() == head
    criteria_follow = bool(_CRITERIA_WORD.match(head[match.end() :]))
    if len(words) > 10 and not (criteria_follow and len(before) <= 2 and body.endswith(":")):
        return None  # a long line is a heading only as "Exclusion criteria for <what>:"
    label = len(words) <= 3 and not head[match.end() :].strip()  # "Exclusion", "Other Exclusions"
    if not (shouted or (criteria_follow and len(before) <= 4) or label or body.endswith(":")):
        return None
    return _kind_of(head), head, ""


def _kind_of(head: str) -> str:
    return EXCLUSION if re.search(r"exclusion|non[- ]?inclusion", head, re.I) else INCLUSION


def split_eligibility(text: str) -> list[Item]:
    """The eligibility text as one item per top-level bullet or numbered line, in order.

    * Sections: any heading naming inclusion or exclusion ("Inclusion Criteria:", "Key Exclusion
      Criteria", "INCLUSION CRITERIA", "Non-inclusion criteria:", "1. Exclusion Criteria"). Text before
      the first heading is inclusion when that heading is an exclusion one (an unlabelled inclusion
      list); with no heading at all, every item is inclusion: protocols state conditions a patient
      must meet ("No prior chemotherapy"), so the statement holding is what inclusion means.
    * Items: one per top-level bullet ("* ", "- ", "1.", "1)", "a)"), or per paragraph when there
      are no bullets. Deeper-indented lines, and differently marked items after a line ending in ":"
      ("Must have one of the following:" then "* ..."), are sub-items: appended to the parent's text,
      one per line, with their own markers.
    * Left out (they stay in the trial's eligibility text): headings, sub-headings that only label
      what follows ("DISEASE CHARACTERISTICS:", "Renal", "Cohort 2", "Phase I"), and introductory
      paragraphs before the inclusion heading.
    * Text is verbatim: only the item's own marker and surrounding whitespace are removed.
    """
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    parsed = [_read_line(line) if line.strip() else None for line in lines]
    items: list[Item] = []
    preamble: list[tuple[_Line, list[str]]] = []  # items before any heading: kind decided later
    kind: str | None = None
    section = ""
    current: dict | None = None  # {"line", "parts", "child_marker"}
    blank_before = True

    def flush():
        nonlocal current
        if current is not None:
            body = "\n".join(current["parts"]).strip()
            if body and not _is_placeholder(body):
                if kind is None:
                    preamble.append((current["line"], body))
                else:
                    items.append(Item(kind, body, section))
        current = None

    def start(line: _Line, body: str):
        nonlocal current
        flush()
        current = {"line": line, "parts": [body], "child_marker": None}

    for i, line in enumerate(parsed):
        if line is None:
            blank_before = True
            continue
        # A bulleted line under an item is a sub-item even if it reads like a heading; a bare heading
        # is a heading at any depth ("   Exclusion Criteria" indented under the last inclusion item).
        nested = current is not None and line.indent > current["line"].indent and bool(line.marker)
        heading = None if nested else heading_kind(line.raw)
        if heading:
            flush()
            if kind is None:
                _resolve_preamble(preamble, heading[0], items)
            kind, section, rest = heading
            if rest:
                start(_Line(line.indent, "", rest, rest), rest)
            blank_before = False
            continue
        if line.marker:
            if current is not None and line.indent > current["line"].indent and not _continues(current, line):
                current["parts"].append(line.raw)
                current["child_number"] = line.number
            elif current is not None and _is_child(current, line):
                current["parts"].append(line.raw)
            elif _GROUP_LABEL.match(line.body):
                flush()
            else:
                start(line, line.body)
        elif current is not None and (line.indent > current["line"].indent or not blank_before):
            current["parts"].append(line.raw)  # a continuation line, or lazy markdown continuation
        elif _is_subheading(line, parsed[i + 1 :]):
            flush()
        else:
            start(line, line.body)  # a paragraph is an item of its own
        blank_before = False
    flush()
    if kind is None:
        _resolve_preamble(preamble, None, items)
    return items


def _is_placeholder(text: str) -> bool:
    """'None', 'Nil', 'N/A', 'Not specified': a placeholder, not a criterion."""
    return text.strip(" .:-").lower() in ("", "none", "nil", "n/a", "na", "not applicable", "not specified")


def _continues(current: dict, line: _Line) -> bool:
    """ "11." indented under item 10's sub-bullets still continues the top-level numbering
    (unless item 10 has a numbered sub-list that "11." could continue)."""
    top = current["line"]
    if top.number is None or line.number != top.number + 1:
        return False
    child = current.get("child_number")
    return child is None or line.number != child + 1


def _is_child(current: dict, line: _Line) -> bool:
    """A differently marked item at the same depth, after a parent ending in ':', is its sub-item."""
    parent = current["line"]
    if line.indent != parent.indent or not parent.marker:
        return False
    if current["child_marker"]:
        return line.marker == current["child_marker"]
    if current["parts"][-1].rstrip().endswith(":") and len(current["parts"]) == 1 and line.marker != parent.marker:
        current["child_marker"] = line.marker
        return True
    return False


def _is_subheading(line: _Line, following: list) -> bool:
    """A paragraph that labels what follows ("Renal", "DISEASE CHARACTERISTICS:") rather than states a criterion."""
    body = line.body.strip()
    if _GROUP_LABEL.match(body):
        return True
    if body.endswith(":"):
        return True  # "PATIENT CHARACTERISTICS:", "Subjects must meet the following:" introduce what follows
    nxt = next((other for other in following if other is not None), None)
    if nxt is None:
        return False
    # "Renal" then "* Creatinine ...": a label. (A short line before a heading is an item: "Age 40 to 70".)
    short = len(body.split()) <= 5 and not body.endswith((".", ";", ","))
    return short and bool(nxt.marker) and nxt.indent <= line.indent


def _resolve_preamble(preamble: list, first_heading: str | None, items: list[Item]) -> None:
    """Items before the first heading: an unlabelled inclusion list, or an introduction to drop."""
    for line, body in preamble:
        if first_heading == INCLUSION and not line.marker:
            continue  # "To be eligible, participants must:" before "Inclusion Criteria:" introduces, not states
        items.append(Item(INCLUSION, body, ""))
    preamble.clear()
