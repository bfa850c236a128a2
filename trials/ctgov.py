"""Reading ClinicalTrials.gov study records. No Django imports.

Three steps, each a plain function tested without a database:

* `read_studies(path)`: a file as a list of API v2 study dicts; `ReadError` says what is wrong with it.
  API v2 JSON (one study, a list of studies or ``{"studies": [...]}``), a legacy ``<clinical_study>``
  XML record (converted by `ctgov_legacy`), or a zip / tar archive of either; gzip and xz unpacked.
* `trial_record(study, catalogue)`: one study as the trial's fields plus its criteria: the registry's
  age / sex / healthy-volunteer limits (with rules) and the protocol's bullets (`split_eligibility`),
  each with a draft rule when `draft_rule` recognises a common, unambiguous pattern.
* `split_eligibility(text)`: the eligibility text as inclusion and exclusion items, verbatim.

Drafts favour precision over recall: a wrong draft is worse than none, so a pattern only yields a
draft when the *whole* criterion says nothing but that pattern (see `draft_rule`).
"""

from __future__ import annotations

import gzip
import html
import io
import json
import lzma
import re
import tarfile
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from eligibility.engine import EXCLUSION, INCLUSION, QuestionSpec
from eligibility.rules import validate_rule

from . import ctgov_legacy

REGISTRY = "registry"
PROTOCOL = "protocol"
APPROVED = "approved"
DRAFT = "draft"

NCT_RE = re.compile(r"^NCT\d{8}$")


# --- Reading files -------------------------------------------------------------------------------


class ReadError(Exception):
    """A file that cannot be imported; the message names the problem (the caller adds the file)."""


STUDY_FILE_SUFFIXES = (".json", ".json.gz", ".xml", ".xml.gz", ".zip", ".tar.xz", ".tar.gz", ".tgz")

# One file is read into memory and imported in one transaction, so an archive (or a gzip / xz file)
# may unpack to this much at most: the 6,633-record AllPublicXML sample in ../shared/data unpacks
# to 109 MB and 6,636 entries. A zip bomb or a tar of a million records stops with a message instead.
MAX_UNPACKED_BYTES = 256 * 2**20
MAX_ARCHIVE_FILES = 20_000

GZIP_MAGIC = b"\x1f\x8b"
XZ_MAGIC = b"\xfd7zXZ\x00"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # an archive with files; an empty one
TAR_MAGIC = b"ustar"  # at offset 257, in POSIX, GNU and pax tar files alike
_XML_DECLARED = re.compile(rb"<(?:\?xml|clinical_study)\b")


def study_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files to import: each path itself, or every study file under a folder, sorted.

    Study files are API v2 JSON (*.json, *.json.gz), legacy XML (*.xml) and archives of either
    (*.zip, *.tar.xz, *.tar.gz, *.tgz). The name only picks files out of a folder: `parse_studies`
    reads the content for what it is.
    """
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(STUDY_FILE_SUFFIXES))
        else:
            files.append(path)
    return files


def read_studies(path: str | Path) -> list[dict]:
    """Every study in a file, as API v2 study dicts (see `parse_studies`)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ReadError("no such file") from None
    except OSError as exc:
        raise ReadError(f"cannot read: {exc.strerror or exc}") from None
    return parse_studies(raw)


def parse_studies(raw: bytes) -> list[dict]:
    """Every study in the bytes of a file, as API v2 study dicts, whatever the file is called.

    The content says what it is: gzip or xz is unpacked first; a zip or tar archive holds XML or
    JSON files, every one of them a study record (an error names the file in the archive); else
    the bytes are one document: a legacy `<clinical_study>` XML record when they start with "<"
    (converted by `ctgov_legacy`), otherwise API v2 JSON (one study, a list, or {"studies": [...]}).
    """
    raw = _unpacked(raw)
    if raw[:4] in ZIP_MAGICS:
        return _archive_studies(_zip_files(raw))
    if raw[257:262] == TAR_MAGIC:
        return _archive_studies(_tar_files(raw))
    return _document_studies(raw)


def _unpacked(raw: bytes) -> bytes:
    if raw[:2] == GZIP_MAGIC:
        return _read_at_most(gzip.GzipFile(fileobj=io.BytesIO(raw)), "gzip")
    if raw[:6] == XZ_MAGIC:
        return _read_at_most(lzma.LZMAFile(io.BytesIO(raw)), "xz")
    return raw


def _read_at_most(stream, kind: str) -> bytes:
    try:
        data = stream.read(MAX_UNPACKED_BYTES + 1)
    except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
        raise ReadError(f"not a valid {kind} file ({exc})") from None
    if len(data) > MAX_UNPACKED_BYTES:
        raise ReadError(f"unpacks to more than {_megabytes(MAX_UNPACKED_BYTES)}, the most one file may hold; "
                        "split it into smaller files")
    return data


def _document_studies(raw: bytes) -> list[dict]:
    start = raw.removeprefix(b"\xef\xbb\xbf")[:1024].lstrip()
    if start.startswith(b"<"):
        try:
            return [ctgov_legacy.study_from_xml(raw)]
        except ctgov_legacy.MalformedXML as exc:
            if _XML_DECLARED.match(start):
                raise ReadError(str(exc)) from None
            # Neither JSON nor XML: e.g. an HTML error page saved in place of a download.
            raise ReadError(f"not valid JSON or XML: {exc.problem}") from None
        except ctgov_legacy.RecordError as exc:
            raise ReadError(str(exc)) from None
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ReadError("not UTF-8 text (expected ClinicalTrials.gov JSON or XML)") from None
    except json.JSONDecodeError as exc:
        raise ReadError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except ValueError:  # an integer longer than Python converts (4,300 digits)
        raise ReadError("not valid JSON: it holds a number too long to read") from None
    except RecursionError:  # the decoder's own limit; no study record nests hundreds of levels deep
        raise ReadError("not valid JSON: nested too deeply to be a study record") from None
    return studies_in(data)


def _archive_studies(files: Iterable[tuple[str, bytes]]) -> list[dict]:
    studies: list[dict] = []
    for name, raw in files:
        try:
            studies += _document_studies(raw)
        except ReadError as exc:
            raise ReadError(f"{name} in the archive: {exc}") from None
    if not studies:
        raise ReadError("the archive holds no study records")
    return studies


def _zip_files(raw: bytes) -> Iterable[tuple[str, bytes]]:
    """(name, content) of each file in a zip archive, within the limits."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, OSError) as exc:
        raise ReadError(f"not a valid zip file ({exc})") from None
    members = [m for m in archive.infolist() if not m.is_dir() and not _is_litter(m.filename)]
    _check_archive(len(members), sum(m.file_size for m in members))
    unpacked = 0
    for member in members:
        try:
            with archive.open(member) as stream:
                # The sizes in a zip's directory are the sender's word: read no further than the limit.
                data = stream.read(MAX_UNPACKED_BYTES - unpacked + 1)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError, zlib.error,
                lzma.LZMAError) as exc:  # RuntimeError: encrypted; NotImplementedError: unknown compression
            raise ReadError(f"{member.filename} in the archive: cannot be unpacked ({exc})") from None
        unpacked += len(data)
        _check_archive(len(members), unpacked)
        yield member.filename, data


def _tar_files(raw: bytes) -> Iterable[tuple[str, bytes]]:
    """(name, content) of each regular file in a tar archive, within the limits. Nothing is written
    to disk, so names like "../x" or links cannot reach outside; links and devices are skipped."""
    try:
        archive = tarfile.open(fileobj=io.BytesIO(raw), mode="r:")
        members = [m for m in archive.getmembers() if m.isfile() and not _is_litter(m.name)]
    except tarfile.TarError as exc:
        raise ReadError(f"not a valid tar file ({exc})") from None
    # Past its first file, tarfile stops quietly at a header it cannot read, so a tar cut short (an
    # interrupted copy) would import in part. A whole tar ends in blocks of zeros after its last file.
    rest = raw[archive.offset:]
    if len(rest) < tarfile.BLOCKSIZE or rest.strip(b"\0"):
        raise ReadError("not a valid tar file (it stops short of its end: cut off?)")
    # A sparse file's size is what it unpacks to, not what it takes in the tar: check before reading.
    _check_archive(len(members), sum(m.size for m in members))
    for member in members:
        try:
            data = archive.extractfile(member).read()
        except (tarfile.TarError, OSError) as exc:
            raise ReadError(f"{member.name} in the archive: cannot be unpacked ({exc})") from None
        yield member.name, data


def _is_litter(name: str) -> bool:
    # What archivers add by themselves: macOS's "__MACOSX/._NCT00000102.xml", ".DS_Store", "._*"
    # (but "./NCT00000102.xml", as `tar -cf x.tar .` names it, is a record).
    return any(part == "__MACOSX" or part.startswith(".") and part not in (".", "..") for part in name.split("/"))


def _check_archive(files: int, size: int) -> None:
    if files > MAX_ARCHIVE_FILES:
        raise ReadError(f"the archive holds {files:,} files, more than the {MAX_ARCHIVE_FILES:,} one import may "
                        "take; split it into smaller archives")
    if size > MAX_UNPACKED_BYTES:
        raise ReadError(f"the archive unpacks to more than {_megabytes(MAX_UNPACKED_BYTES)}, the most one import "
                        "may take; split it into smaller archives")


def _megabytes(size: int) -> str:
    return f"{size / 2**20:,.0f} MB"


def studies_in(data: Any) -> list[dict]:
    """The studies in parsed JSON: one study object, a list of them, or {"studies": [...]}."""
    if isinstance(data, dict) and "studies" in data:
        studies = data["studies"]
        where = "'studies'"
    elif isinstance(data, dict):
        studies = [data]
        where = ""
    elif isinstance(data, list):
        studies = data
        where = "the list"
    else:
        raise ReadError(f"expected a study object, a list of studies or {{\"studies\": [...]}}, got {_typename(data)}")
    if not isinstance(studies, list):
        raise ReadError(f"'studies' must be a list, got {_typename(studies)}")
    for i, study in enumerate(studies, start=1):
        if not isinstance(study, dict) or not isinstance(study.get("protocolSection"), dict):
            place = f"item {i} of {where}" if where else "the object"
            raise ReadError(f"{place} is not an API v2 study (no 'protocolSection' object)")
    return studies


def _typename(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", int: "a number",
            float: "a number"}.get(type(value), "nothing" if value is None else type(value).__name__)


# --- One study as a trial ------------------------------------------------------------------------


class StudyError(ReadError):
    """A study whose content cannot be imported (e.g. no NCT id)."""


@dataclass(frozen=True)
class CriterionRow:
    """One criterion as the importer will store it."""

    kind: str  # inclusion / exclusion
    text: str
    source: str = PROTOCOL  # protocol / registry
    rule: Any = None  # None: needs review
    rule_status: str = APPROVED  # a draft does not count in screening until approved


@dataclass(frozen=True)
class TrialRecord:
    nct_id: str
    fields: dict  # Trial field -> value (not open_for_screening: that is the site's choice)
    criteria: tuple[CriterionRow, ...] = field(default=())


PHASES = {"NA": "Not Applicable", "EARLY_PHASE1": "Early Phase 1", "PHASE1": "Phase 1", "PHASE2": "Phase 2",
          "PHASE3": "Phase 3", "PHASE4": "Phase 4"}
SEXES = {"ALL": "All", "FEMALE": "Female", "MALE": "Male"}


def trial_record(study: Mapping, catalogue: Mapping[str, QuestionSpec], index: int = 0) -> TrialRecord:
    """One API v2 study as trial fields and criteria (registry limits first, then protocol order)."""
    protocol = study.get("protocolSection") or {}
    ident = _module(protocol, "identificationModule")
    nct_id = ident.get("nctId")
    where = f"study {index}" if index else "study"
    if not nct_id:
        raise StudyError(f"{where} has no NCT id (protocolSection.identificationModule.nctId)")
    if not isinstance(nct_id, str) or not NCT_RE.match(nct_id.strip()):
        raise StudyError(f"{where}: {nct_id!r} is not an NCT id ('NCT' followed by 8 digits)")
    nct_id = nct_id.strip()
    status = _module(protocol, "statusModule")
    conditions = _module(protocol, "conditionsModule")
    design = _module(protocol, "designModule")
    eligibility = _module(protocol, "eligibilityModule")
    contacts = _module(protocol, "contactsLocationsModule")

    sex = str(eligibility.get("sex") or "ALL").upper()
    if sex not in SEXES:
        raise StudyError(f"{nct_id}: sex {eligibility.get('sex')!r} is not ALL, FEMALE or MALE")
    title = _text(ident.get("briefTitle")) or _text(ident.get("officialTitle")) or nct_id
    fields = {
        "brief_title": title[:500],
        "official_title": _text(ident.get("officialTitle")),
        "phase": "/".join(PHASES.get(p, str(p)) for p in design.get("phases") or [])[:60],
        "overall_status": _text(status.get("overallStatus"))[:40],
        "conditions": _strings(conditions.get("conditions")),
        "keywords": _strings(conditions.get("keywords")),
        "sites": _sites(contacts.get("locations")),
        "minimum_age": _age(eligibility.get("minimumAge"))[:30],
        "maximum_age": _age(eligibility.get("maximumAge"))[:30],
        "sex": sex,
        "healthy_volunteers": eligibility.get("healthyVolunteers") is True,
        "eligibility_text": _text(eligibility.get("eligibilityCriteria")),
    }
    rows = registry_criteria(fields, catalogue)
    for item in split_eligibility(fields["eligibility_text"]):
        rule = draft_rule(item.text, item.kind, catalogue, item.section, fields["conditions"])
        rows.append(CriterionRow(item.kind, item.text, PROTOCOL, rule, DRAFT if rule is not None else APPROVED))
    return TrialRecord(nct_id, fields, tuple(rows))


def _module(section: Mapping, name: str) -> Mapping:
    module = section.get(name)
    return module if isinstance(module, Mapping) else {}


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _strings(values: Any) -> list[str]:
    return [v.strip() for v in values if isinstance(v, str) and v.strip()] if isinstance(values, list) else []


def _sites(locations: Any) -> list[str]:
    """'Facility, City, Country' per location, in registry order, without repeats."""
    sites: dict[str, None] = {}
    for location in locations if isinstance(locations, list) else []:
        if isinstance(location, Mapping):
            parts = [_text(location.get(k)) for k in ("facility", "city", "country")]
            if any(parts):
                sites.setdefault(", ".join(p for p in parts if p))
    return list(sites)


def _age(value: Any) -> str:
    # The legacy registry wrote "N/A" for "no limit"; API v2 leaves the field out. Both mean none.
    text = _text(value)
    return "" if text.upper() in ("N/A", "NA", "NONE") else text


AGE_RE = re.compile(r"^(\d+)\s*(year|month|week|day)s?$", re.I)


def _age_limit(text: str) -> str | None:
    """'18 Years' -> '18 years'; None when the engine cannot compare it (e.g. '12 Hours')."""
    match = AGE_RE.match(text.strip())
    return _duration(int(match.group(1)), match.group(2).lower() + "s") if match else None


def registry_criteria(fields: Mapping, catalogue: Mapping[str, QuestionSpec]) -> list[CriterionRow]:
    """The registry's age, sex and healthy-volunteer limits as criteria, worded as the registry shows them.

    Age and sex become approved rules (they are structured data, not prose). "Accepts healthy
    volunteers: Yes" puts no limit on anyone ({"all": []}). "No" means "has the condition under study",
    which only a trial-specific question can say (the seed trials use their diagnosis question), so it
    is left for review. A registry rule the catalogue cannot check (no 'age' question yet, an age in
    hours) is left for review too rather than stored unchecked.
    """
    rows = []
    low, high = fields["minimum_age"], fields["maximum_age"]
    if low or high:
        words = f"{low} to {high}" if low and high else (f"{low} and older" if low else f"up to {high}")
        value = {}
        if low:
            value["min"] = _age_limit(low)
        if high:
            value["max"] = _age_limit(high)
        rule = None if None in value.values() else {"q": "age", "op": "age_between", "value": value}
        rows.append(CriterionRow(INCLUSION, f"Ages Eligible for Study: {words}", REGISTRY, _valid(rule, catalogue)))
    sex = fields["sex"]
    rule = {"all": []} if sex == "ALL" else {"q": "sex", "op": "=", "value": sex.lower()}
    rows.append(CriterionRow(INCLUSION, f"Sexes Eligible for Study: {SEXES[sex]}", REGISTRY, _valid(rule, catalogue)))
    healthy = fields["healthy_volunteers"]
    rows.append(CriterionRow(
        INCLUSION, f"Accepts Healthy Volunteers: {'Yes' if healthy else 'No'}", REGISTRY,
        {"all": []} if healthy else None,
    ))
    return rows


def _valid(rule: Any, catalogue: Mapping[str, QuestionSpec]) -> Any:
    return rule if rule is not None and not validate_rule(rule, catalogue) else None


# --- Splitting the eligibility text --------------------------------------------------------------


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
    r"\b(meets?|meeting|not|must|fulfil\w*|apply|applied|period|incorrect|appearance|during|see)\b", re.I,
)
_INLINE_HEADING = re.compile(
    r"^(?P<head>(?:[\w-]+\s+){0,2}?(?:non[- ]?inclusion|inclusion|exclusion)\s+criteria)\s*:\s*(?P<rest>\S.*)$", re.I,
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
        if not match or not body[match.end():].strip():
            break
        marker = marker or match.lastgroup
        if match.lastgroup == "number" and number is None:
            number = int(re.sub(r"\D", "", match.group("number")))
        body = body[match.end():].strip()
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
    criteria_follow = bool(_CRITERIA_WORD.match(head[match.end():]))
    if len(words) > 10 and not (criteria_follow and len(before) <= 2 and body.endswith(":")):
        return None  # a long line is a heading only as "Exclusion criteria for <what>:"
    label = len(words) <= 3 and not head[match.end():].strip()  # "Exclusion", "Other Exclusions"
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
        elif _is_subheading(line, parsed[i + 1:]):
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
    """"11." indented under item 10's sub-bullets still continues the top-level numbering
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



# --- Draft rules ---------------------------------------------------------------------------------
#
# Each drafter reads a normalised criterion as tokens: recognised phrases become "@" tokens (a
# measure, a unit, a comparison, a disease), and every other word must be a harmless filler
# ("patients with", "known", "at screening"). One word the drafter does not know ("unless",
# "partner", "history of" a hepatitis, "weight") and there is no draft: that is how precision is kept.


def draft_rule(text: str, kind: str, catalogue: Mapping[str, QuestionSpec], section: str = "",
               conditions: Iterable[str] = ()) -> dict | None:
    """A draft rule for one protocol criterion, or None when it needs a person to read it.

    Drafted, when the whole criterion is the pattern and nothing else:
      * age ranges ("Aged 18-65 years", "≥ 18 years of age", "Age < 18"), with a sex if stated
        ("Men aged 40 to 70 years");
      * BMI, HbA1c and fasting glucose thresholds and ranges, converted to the catalogue's unit
        (HbA1c mmol/mol -> %, glucose mmol/L -> mg/dL); "BMI > 35 kg/m2", "HbA1c 7.0%-10.5%";
      * HIV / hepatitis B / hepatitis C exclusions, as any of the yes/no questions;
      * pregnancy and breastfeeding, guarded by sex so a man is never asked;
      * active malignancy (not in cancer trials, where it means "another" malignancy);
      * time since a type 1 diabetes diagnosis.
    Never drafted: "older than 18" / "> 18 years" (some protocols mean 18, some 19), hepatitis
    "history" (a cleared infection is not a current one), criteria about a partner or donor, and
    anything with a qualifier the pattern does not know ("unless", "except", "planning to become").
    A draft the catalogue rejects (a question missing, a value out of range) is dropped.
    """
    if _ABOUT_SOMEONE_ELSE.search(section or ""):
        return None
    clean = _normalise(text)
    if not clean or len(clean) > 250 or re.search(r"[*†‡#]", clean):
        return None  # long enough to say more than one thing, or pointing at a footnote
    for drafter in (_draft_age, _draft_measure, _draft_viral, _draft_pregnancy, _draft_malignancy,
                    _draft_t1d_duration):
        rule = drafter(clean, kind, catalogue, tuple(conditions))
        if rule is not None:
            return rule if not validate_rule(rule, catalogue) else None
    return None


_ABOUT_SOMEONE_ELSE = re.compile(r"\b(partners?|donors?|spouses?|caregivers?|carers?)\b", re.I)
_ONCOLOGY = re.compile(
    r"cancer|carcinoma|tumou?r|neoplas|malignan|leuka?emia|lymphoma|myeloma|sarcoma|melanoma|nsclc|"
    r"glioma|blastoma|metasta|myelodysplas|oncolog", re.I,
)


def _normalise(text: str) -> str:
    """Lower case, markdown and HTML escapes undone, comparison signs and decimals made uniform."""
    t = html.unescape(text or "")
    t = re.sub(r"\\(.)", r"\1", t)  # markdown escapes: "\>" -> ">"
    t = unicodedata.normalize("NFKC", t)  # full-width signs and digits, "m²" -> "m2"
    for old, new in (("≥", " >= "), ("⩾", " >= "), ("≤", " <= "), ("⩽", " <= "), ("–", "-"), ("—", "-"),
                     ("~", "-"), ("’", "'"), ("\n", " ")):
        t = t.replace(old, new)
    t = t.lower()
    t = re.sub(r">\s*/\s*=|>\s*or\s*=|=\s*>", " >= ", t)
    t = re.sub(r"<\s*/\s*=|=\s*/\s*<|<\s*or\s*=|=\s*<", " <= ", t)
    t = re.sub(r"(\d),(\d)(?!\d)", r"\1.\2", t)  # "18,5" is a decimal
    t = re.sub(r"\s+", " ", t)
    return t.strip(" .;,:")


def _tokens(text: str, subs: list[tuple[str, str]]) -> list[str]:
    for pattern, token in subs:
        text = re.sub(pattern, f" {token} ", text)
    return re.findall(r"@\w+|\d+(?:\.\d+)?|[a-z]+(?:'[a-z]+)?|[<>]=?|[=+%]", text)


def _phrases(*pairs: tuple[str, str]) -> list[tuple[str, str]]:
    # Letters may not touch a phrase ("hiv" is not in "archive"); digits may ("35kg/m2", "12%").
    return [(rf"(?<![a-z@])(?:{pattern})(?![a-z])", token) for pattern, token in pairs]


_COMPARISONS = _phrases(
    (r"greater than or equal to|more than or equal to|higher than or equal to|higher or equal (?:to|than)|"
     r"equal to or (?:greater|higher|more|older)(?: than)?|older (?:than )?or equal to|above/equal|at least|"
     r"not less than|no less than|not younger than", "@ge"),
    (r"less than or equal to|lower than or equal to|lower or equal (?:to|than)|"
     r"equal to or (?:less|lower|younger)(?: than)?|younger (?:than )?or equal to|below/equal|at most|"
     r"not more than|no more than|not greater than|not older than|not exceeding|up to", "@le"),
    (r"or (?:older|more|higher|above|greater|over)|and (?:older|above|over|higher|more)", "@orabove"),
    (r"or (?:younger|less|lower|below|under)|and (?:younger|below|under)", "@orbelow"),
    (r"greater than|more than|higher than|older than|above|over|exceeds|exceeding|in excess of", "@gt"),
    (r"less than|lower than|younger than|below|under", "@lt"),
    (r"between|ranging from|range of|from", "@between"),
    (r"and|to|through", "@and"),
) + [(r">=", " @ge "), (r"<=", " @le "), (r">", " @gt "), (r"<", " @lt "), (r"(?<=\d)\s*\+", " @orabove "),
     (r"(?<=\d)\s*-\s*(?=\d|@lt|@le|<)", " @and ")]

_SHAPE = {"@ge": "G", "@gt": "g", "@le": "L", "@lt": "l", "@orabove": "P", "@orbelow": "Q", "@between": "B",
          "@and": "A"}
_OPS = {"G": ">=", "g": ">", "L": "<=", "l": "<", "P": ">=", "Q": "<="}

# Filler words an age or threshold criterion may carry without changing what it says.
_AGE_FILLERS = frozenset("""
    a an the of is are be been being should must have has who patient patients subject subjects participant
    participants people persons individuals adult adults inclusive included including both critical cut off
    value old range ranging in with
""".split())
# A lab threshold may also name the condition it measures: "Uncontrolled diabetes (HbA1c > 12%)".
_MEASURE_FILLERS = _AGE_FILLERS | frozenset("""
    whose within level levels result results currently current diabetic diabetics uncontrolled poorly controlled
    diabetes mellitus dm defined as by measured central laboratory
""".split())

# When a value is taken ("at screening", "within 3 months prior to enrollment"): the clinician enters
# the current value, so the timing adds nothing the rule could check.
_TIMING = (
    r"\bwithin (?:the )?(?:last |past )?(?:\d+|one|two|three|four|six|thirty)(?: \[\d+\])? (?:days?|weeks?|months?)"
    r"(?: (?:prior to|before|of) (?:the )?(?:enrol+ment|enrolment|baseline|screening|randomi[sz]ation|"
    r"study (?:entry|treatment|start)|signing (?:the )?informed consent(?: form)?))?"
    r"|\bat (?:the )?(?:screening )?visit \d+"
    r"|\bat (?:the )?(?:time of )?(?:signing (?:the |of )?)?(?:informed consent(?: form)?|consent|enrol+ment|"
    r"study enrol+ment|screening(?: visit)?|(?:study|trial) entry|registration|randomi[sz]ation|baseline)"
)

_AGE_SUBS = _phrases(
    (r"(?:both )?(?:males? (?:and|or|/) females?|females? (?:and|or|/) males?|men (?:and|or) women|"
     r"women (?:and|or) men|(?:of )?either (?:sex|gender)|both (?:sexes|genders)|any (?:sex|gender)|"
     r"regardless of (?:sex|gender))", ""),
    (r"males?|men|man|boys?", "@male"),
    (r"females?|women|woman|girls?", "@female"),
    (r"years? of age|years? old|years?|yrs?|y/o", "@years"),
    (r"months? of age|months? old|months?", "@months"),
    (r"weeks? of age|weeks? old|weeks?", "@weeks"),
    (r"days? of age|days? old|days?", "@days"),
    (r"between the ages? of|the ages? of|ages? range|ages?|aged", "@age"),
) + _COMPARISONS


def _shape(tokens: list[str]) -> tuple[str, list]:
    """One letter per token ("M", "N", "U", comparison letters) and the tokens' values."""
    letters, values = [], []
    for token in tokens:
        if re.fullmatch(r"\d+(?:\.\d+)?", token):
            letters.append("N")
            values.append(float(token))
        elif token in _SHAPE:
            letters.append(_SHAPE[token])
            values.append(token)
        elif token.startswith("@u_") or token in ("@years", "@months", "@weeks", "@days"):
            if letters and letters[-1] == "U" and values[-1] == token:
                continue  # "kilograms per meter squared (kg/m2)"
            letters.append("U")
            values.append(token)
        elif token.startswith("@m_"):
            if letters and letters[-1] == "M":
                continue  # "Body mass index (BMI)": one measure named twice
            if letters == ["B"]:  # "between a BMI of 18.5 and 30": read as "BMI between 18.5 and 30"
                letters.insert(0, "M")
                values.insert(0, token)
                continue
            letters.append("M")
            values.append(token)
        else:
            return "", []  # a word the pattern does not know
    return "".join(letters), values


# Bounds as (op letter, number index) pairs, for the shapes a threshold or range takes.
_BOUND_SHAPES = [
    (re.compile(r"^M([GgLl])NU?$"), lambda m: [(m.group(1), 2)]),
    (re.compile(r"^MNU?([PQ])$"), lambda m: [(m.group(1), 1)]),
    (re.compile(r"^MNP?U([PQ])$"), lambda m: [(m.group(1), 1)]),
    (re.compile(r"^MB?NU?ANU?$"), lambda m: [("G", m.group(0).index("N")), ("L", m.group(0).rindex("N"))]),
    (re.compile(r"^MB?NU?A([Ll])NU?$"), lambda m: [("G", m.group(0).index("N")), (m.group(1), m.group(0).rindex("N"))]),
    (re.compile(r"^MB?([Gg])NU?A?([Ll])NU?$"),
     lambda m: [(m.group(1), m.group(0).index("N")), (m.group(2), m.group(0).rindex("N"))]),
    (re.compile(r"^NU?([Ll])M([Ll])NU?$"),
     lambda m: [({"l": "g", "L": "G"}[m.group(1)], 0), (m.group(2), m.group(0).rindex("N"))]),
]


def _bounds(shape: str) -> list[tuple[str, int]] | None:
    for pattern, bounds in _BOUND_SHAPES:
        match = pattern.match(shape)
        if match:
            return bounds(match)
    return None


def _limits(shape: str, values: list, mixed_units: bool = False) -> list[tuple[str, float, str | None]] | None:
    """(op letter, number, unit token) for each bound of a threshold or range, or None.

    A number without a unit takes the criterion's one unit ("7.0-10.0%"). Two different units are
    not one threshold ("7% (53 mmol/mol)" once the equivalent is dropped), except for ages when
    every number has its own ("6 months to 16 years").
    """
    bounds = _bounds(shape) if shape else None
    if not bounds:
        return None
    units = {i: values[i + 1] if i + 1 < len(shape) and shape[i + 1] == "U" else None for _, i in bounds}
    given = {u for u in units.values() if u}
    if len(given) > 1 and not (mixed_units and all(units.values())):
        return None
    default = next(iter(given)) if given else None
    return [(op, values[i], units[i] or default) for op, i in bounds]


def _draft_age(text: str, kind: str, catalogue, conditions) -> dict | None:
    tokens = _tokens(re.sub(_TIMING, " ", text), _AGE_SUBS)
    sexes = {t for t in tokens if t in ("@male", "@female")}
    # "Age 18-65", "18 years old": plainly an age. A bare "18-55 years" is one too, but a bare
    # "≥ 12 months" may be how long something lasted.
    named = "@age" in tokens or re.search(r"\b(?:old|of age)\b", text) is not None
    tokens = [t for t in tokens if t not in ("@male", "@female", "@age") and t not in _AGE_FILLERS]
    if len(sexes) > 1 or not (named or any(t in _AGE_UNITS for t in tokens)):
        return None
    shape, values = _shape(["@m_age"] + tokens)  # "18 years or older": the unit implies the measure
    limits = _limits(shape, values, mixed_units=True)
    if not limits or not named and not all(unit == "@years" for _, _, unit in limits):
        return None
    value: dict[str, str] = {}
    for op, amount, unit in limits:
        if op == "g" or not amount.is_integer():
            return None  # "> 18 years" means 18 to some protocols and 19 to others: not unambiguous
        amount = int(amount) - (1 if op == "l" else 0)  # "< 18 years": at most 17 completed years
        key = "min" if op in "GP" else "max"
        if amount < 0 or key in value:
            return None
        value[key] = _duration(amount, _AGE_UNITS[unit or "@years"])
    if "min" in value and "max" in value and _years(value["min"]) > _years(value["max"]):
        return None
    rule = {"q": "age", "op": "age_between", "value": {k: value[k] for k in ("min", "max") if k in value}}
    if sexes:
        return {"all": [{"q": "sex", "op": "=", "value": sexes.pop().lstrip("@")}, rule]}
    return rule


_AGE_UNITS = {"@years": "years", "@months": "months", "@weeks": "weeks", "@days": "days"}


def _duration(amount: int, unit: str) -> str:
    return f"{amount} {unit[:-1] if amount == 1 else unit}"


def _years(duration: str) -> float:
    amount, unit = duration.split()
    return int(amount) / {"year": 1, "years": 1, "month": 12, "months": 12, "week": 52.18, "weeks": 52.18,
                          "day": 365.25, "days": 365.25}[unit]


@dataclass(frozen=True)
class _Measure:
    code: str
    units: Mapping[str, Any]  # unit token -> function converting to the catalogue's unit
    bare: tuple[float, float] | None = None  # values that need no unit (BMI always; HbA1c when plainly %)


_MEASURES = {
    "@m_bmi": _Measure("bmi", {"@u_kgm2": lambda v: v}, bare=(8, 90)),
    "@m_hba1c": _Measure("hba1c", {"@u_pct": lambda v: v, "@u_mmolmol": lambda v: round(v / 10.929 + 2.15, 1)},
                         bare=(3, 20)),
    "@m_fpg": _Measure("fasting_glucose", {"@u_mgdl": lambda v: v, "@u_mmoll": lambda v: round(v * 18.016)}),
}
_MEASURE_SUBS = _phrases(
    (r"body[- ]mass[- ]index\d?|bmi", "@m_bmi"),
    (r"(?:glycated|glycosylated) ha?emoglobin(?: a1c)?|ha?emoglobin a1c|hg?ba1c|hgb a1c|hb a1c|a1c|"
     r"hba1c(?:\(ngsp\)|-value)?", "@m_hba1c"),
    (r"fasting (?:plasma |blood |serum )?glucose|fasted (?:plasma )?glucose|fpg", "@m_fpg"),
    (r"kg\s*/\s*m\s*\^?\s*2|kilograms? per (?:square )?met(?:er|re)s?(?: squared)?|kilogram/met(?:er|re) squared",
     "@u_kgm2"),
    (r"%|percent|per cent", "@u_pct"),
    (r"mmol/mol|millimoles per mole", "@u_mmolmol"),
    (r"mg\s*/\s*dl", "@u_mgdl"),
    (r"mmol\s*/\s*l", "@u_mmoll"),
) + _COMPARISONS + _phrases((r"or", "@or"))


def _draft_measure(text: str, kind: str, catalogue, conditions) -> dict | None:
    """BMI, HbA1c or fasting glucose against one threshold or a range: "BMI > 35 kg/m2"."""
    if "%" in text or "percent" in text:  # "HbA1c 7.0-10.0% (53-86 mmol/mol)": the equivalent says it twice
        text = re.sub(r"\(?\s*\d+(?:\.\d+)?(?:\s*-\s*\d+(?:\.\d+)?)?\s*(?:mmol/mol|millimoles per mole)"
                      r"(?:\s*\[mmol/mol\])?\s*\)?", " ", text)
    tokens = _tokens(re.sub(_TIMING, " ", text), _MEASURE_SUBS)
    tokens = [t for t in tokens if t not in _MEASURE_FILLERS]
    measures = {t for t in tokens if t.startswith("@m_")}
    if len(measures) != 1:
        return None
    measure = _MEASURES[measures.pop()]
    spec = catalogue.get(measure.code)
    if spec is None:
        return None
    if "@or" in tokens:  # "BMI > 40 or BMI < 18.5": either bound, as its own threshold
        i = tokens.index("@or")
        parts = [tokens[:i], tokens[i + 1:]]
        if not parts[1] or not parts[1][0].startswith("@m_"):
            parts[1] = [tokens[0]] + parts[1]
        leaves = [_measure_leaves(part, measure, spec) for part in parts]
        if any(leaf is None or len(leaf) != 1 for leaf in leaves):
            return None
        return {"any": [leaf[0] for leaf in leaves]}
    leaves = _measure_leaves(tokens, measure, spec)
    if not leaves:
        return None
    return leaves[0] if len(leaves) == 1 else {"all": leaves}


def _measure_leaves(tokens: list[str], measure: _Measure, spec: QuestionSpec) -> list[dict] | None:
    shape, values = _shape(tokens)
    limits = _limits(shape, values)
    if not limits:
        return None
    converted = []
    for op, number, unit in limits:
        if unit is None:
            if not measure.bare or not measure.bare[0] <= number <= measure.bare[1]:
                return None
            unit = next(iter(measure.units))
        if unit not in measure.units:
            return None
        value = measure.units[unit](number)
        converted.append((_OPS[op], int(value) if float(value).is_integer() else value))
    unit = {"unit": spec.unit} if spec.unit else {}
    if len(converted) == 2 and converted[0][0] == ">=" and converted[1][0] == "<=":
        low, high = converted[0][1], converted[1][1]
        return [{"q": spec.code, "op": "between", "value": [low, high], **unit}] if low <= high else None
    if len(converted) == 2 and converted[0][1] >= converted[1][1]:
        return None
    return [{"q": spec.code, "op": op, "value": value, **unit} for op, value in converted]


# Words that may surround a disease or condition without changing it ("Known active hepatitis B infection").
_CONDITION_FILLERS = frozenset("""
    a an the of is are was were be been has have had who with patient patients subject subjects participant
    participants people persons individuals known active current currently chronic infection infections infected
    positive positivity seropositive seropositivity serology serologic test testing tested for or and confirmed
    documented diagnosed diagnosis evidence virus viral at time screening result results surface antigen presence type
""".split())

_VIRAL_SUBS = _phrases(
    (r"hepatitis (?:type )?b (?:and/or|or|and|/) (?:hepatitis )?c|hepatitis b/c|hbv/hcv|hcv/hbv|hcv (?:or|and) hbv|"
     r"hbv (?:or|and) hcv", "@hbv @hcv"),
    (r"human immunodeficiency virus(?: type 1| \(hiv\)| \(hiv-?1\))?|hiv[- ]?1(?:/2| and 2)?|hiv|"
     r"acquired immune? ?deficiency syndrome(?: \(aids\))?|aids", "@hiv"),
    (r"hepatitis b(?: virus)?(?: \(hbv\))?(?: surface antigen)?(?: \(hbsag\))?|hbv|hbsag", "@hbv"),
    (r"hepatitis c(?: virus)?(?: \(hcv\))?|hcv", "@hcv"),
)
_VIRAL_CODES = {"@hiv": "hiv", "@hbv": "hepatitis_b", "@hcv": "hepatitis_c"}


def _draft_viral(text: str, kind: str, catalogue, conditions) -> dict | None:
    """'HIV, hepatitis B or hepatitis C infection' as an exclusion: any of the three yes/no questions."""
    if kind != EXCLUSION:
        return None
    tokens = _tokens(re.sub(r"\(\s*(?:hiv|hbv|hcv|hbsag|aids)\s*\)", " ", text), _VIRAL_SUBS)
    found = [t for t in tokens if t in _VIRAL_CODES]
    words = [t for t in tokens if t not in _VIRAL_CODES]
    hepatitis = {"@hbv", "@hcv"} & set(found)
    # A history of HIV is HIV; a history of hepatitis B or C may be a cleared infection.
    allowed = _CONDITION_FILLERS | ({"history"} if not hepatitis else set())
    if not found or any(w not in allowed for w in words):
        return None
    leaves = [{"q": _VIRAL_CODES[t], "op": "=", "value": True} for t in dict.fromkeys(found)]
    return leaves[0] if len(leaves) == 1 else {"any": leaves}


_PREGNANCY_SUBS = _phrases(
    (r"pregnan(?:t|cy)|positive (?:urine |serum )?pregnancy test", "@pregnant"),
    (r"breast[- ]?feeding|breasting[- ]feeding|breast[- ]?feed|lactating|lactation|lacting|nursing(?: mothers?)?|"
     r"(?:in )?the period of (?:lactation|breast[- ]?feeding)", "@breastfeeding"),
    (r"non[- ]?", "@not "),
)
_PREGNANCY_FILLERS = frozenset("""
    a an the of is are be being who patient patients subject subjects participant participants people persons
    women woman female females mother mothers currently current known to or and at time enrollment enrolment
    screening nor
""".split())


def _draft_pregnancy(text: str, kind: str, catalogue, conditions) -> dict | None:
    """Pregnancy or breastfeeding, as an exclusion ("Pregnant or lactating women") or an inclusion
    that denies it ("Non-pregnant, non-lactating"). Both are asked of women only."""
    tokens = _tokens(text, _PREGNANCY_SUBS)
    found = [t for t in tokens if t in ("@pregnant", "@breastfeeding")]
    words = [t for t in tokens if t not in ("@pregnant", "@breastfeeding")]
    if not found:
        return None
    negated = "@not" in words or "not" in words or "no" in words
    if kind == EXCLUSION:
        if negated or any(w not in _PREGNANCY_FILLERS for w in words):
            return None
    else:
        # Only a plain denial: "Not pregnant or breastfeeding", "Non-pregnant and non-nursing", "No pregnancy".
        # "Women who are not breastfeeding" says who the trial is for as well: left for review.
        denial = ("@not", "not", "no", "or", "and", "nor")
        if tokens[0] not in ("@not", "not", "no") or any(w not in denial for w in words):
            return None
    codes = list(dict.fromkeys(t.lstrip("@") for t in found))
    leaves = [{"q": code, "op": "=", "value": True} for code in codes]
    either = leaves[0] if len(leaves) == 1 else {"any": leaves}
    condition = {"all": [{"q": "sex", "op": "=", "value": "female"}, either]}
    return condition if kind == EXCLUSION else {"not": condition}


_MALIGNANCY_SUBS = _phrases(
    (r"malignan(?:cy|cies|t disease|t diseases|t tumou?rs?)|cancers?", "@malignancy"),
    (r"currently active|active|current|ongoing", "@active"),
)


def _draft_malignancy(text: str, kind: str, catalogue, conditions) -> dict | None:
    """'Active malignancy' / 'Current cancer' (exclusion) or 'No active malignancy' (inclusion)."""
    if any(_ONCOLOGY.search(c) for c in conditions):
        return None  # in a cancer trial "active malignancy" means another one than the trial's
    tokens = _tokens(text, _MALIGNANCY_SUBS)
    if "@malignancy" not in tokens or "@active" not in tokens:
        return None
    if tokens.index("@active") > tokens.index("@malignancy"):
        return None
    words = [t for t in tokens if t not in ("@malignancy", "@active")]
    fillers = {"a", "an", "the", "of", "any", "kind", "type", "with", "has", "have", "known", "presence",
               "evidence", "clinical", "patient", "patients", "subject", "subjects", "participant", "participants"}
    if kind == INCLUSION:
        if not words or words[0] not in ("no", "without"):
            return None
        words = words[1:]
    if any(w not in fillers for w in words):
        return None
    return {"q": "malignancy", "op": "=", "value": kind == EXCLUSION}


_T1D_SUBS = _phrases(
    (r"type (?:1|i|one) diabetes(?: mellitus)?|t1dm?", "@t1d"),
    (r"years?", "@years"), (r"months?", "@months"), (r"weeks?", "@weeks"), (r"days?", "@days"),
    (r"at least|for at least|>=|or more|or longer", "@ge"),
    (r"less than|within|under|<", "@lt"),
)


def _draft_t1d_duration(text: str, kind: str, catalogue, conditions) -> dict | None:
    """'Diagnosed with type 1 diabetes less than 9 weeks ago' / 'for at least 1 year'."""
    tokens = _tokens(text.replace(">=", " >= ").replace("<", " < "), _T1D_SUBS)
    if tokens.count("@t1d") != 1:
        return None
    fillers = {"diagnosed", "diagnosis", "of", "with", "for", "a", "an", "the", "clinical", "clinically", "confirmed",
               "duration", "since", "ago", "by", "ada", "criteria", "standard", "patients", "patient", "subjects",
               "participants", "has", "have", "been", "who", "is", "are", "@t1d"}
    rest = [t for t in tokens if t not in fillers]
    if len(rest) != 3 or rest[0] not in ("@ge", "@lt") or not rest[1].isdigit() or rest[2] not in _AGE_UNITS:
        return None
    if rest[0] == "@ge" and "ago" in tokens:
        return None
    return {"all": [
        {"q": "t1d_diagnosis", "op": "=", "value": True},
        {"q": "t1d_diagnosis_date", "op": "within" if rest[0] == "@lt" else "before",
         "value": _duration(int(rest[1]), _AGE_UNITS[rest[2]])},
    ]}


# --- Measuring the drafts ------------------------------------------------------------------------


@dataclass(frozen=True)
class DraftScore:
    """How `draft_rule` does on hand-labelled criteria (tests/data/ctgov_labels.json)."""

    labelled: int  # criteria in the sample
    drafted: int  # criteria that got a draft
    correct: int  # drafts equal to the label
    expected: int  # criteria labelled with a rule (the rest should get none)
    wrong: tuple[tuple[str, Any, Any], ...] = ()  # (text, draft, label) for every wrong draft

    @property
    def precision(self) -> float:
        return self.correct / self.drafted if self.drafted else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.expected if self.expected else 1.0


def score_drafts(rows: Iterable[Mapping], catalogue: Mapping[str, QuestionSpec]) -> DraftScore:
    """Compare `draft_rule` with each row's "expected" rule (None: no draft should be made)."""
    labelled = drafted = correct = expected = 0
    wrong = []
    for row in rows:
        labelled += 1
        expected += row["expected"] is not None
        draft = draft_rule(row["text"], row["kind"], catalogue, row.get("section", ""), row.get("conditions", ()))
        if draft is None:
            continue
        drafted += 1
        if draft == row["expected"]:
            correct += 1
        else:
            wrong.append((row["text"], draft, row["expected"]))
    return DraftScore(labelled, drafted, correct, expected, tuple(wrong))
