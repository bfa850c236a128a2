"""Reading ClinicalTrials.gov study files: a file or an archive as a list of API v2 study dicts. No Django imports.

`read_studies(path)` (or `parse_studies(raw)` for an upload) reads API v2 JSON (one study, a list of studies or
``{"studies": [...]}``), a legacy ``<clinical_study>`` XML record (converted by `ctgov.legacy`), or a zip / tar
archive of either; gzip and xz are unpacked. `ReadError` says what is wrong with a file.
"""

from __future__ import annotations

import gzip
import io
import json
import lzma
import re
import tarfile
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import legacy


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
    (converted by `legacy`), otherwise API v2 JSON (one study, a list, or {"studies": [...]}).
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
        raise ReadError(
            f"unpacks to more than {_megabytes(MAX_UNPACKED_BYTES)}, the most one file may hold; "
            "split it into smaller files"
        )
    return data


def _document_studies(raw: bytes) -> list[dict]:
    start = raw.removeprefix(b"\xef\xbb\xbf")[:1024].lstrip()
    if start.startswith(b"<"):
        try:
            return [legacy.study_from_xml(raw)]
        except legacy.MalformedXML as exc:
            if _XML_DECLARED.match(start):
                raise ReadError(str(exc)) from None
            # Neither JSON nor XML: e.g. an HTML error page saved in place of a download.
            raise ReadError(f"not valid JSON or XML: {exc.problem}") from None
        except legacy.RecordError as exc:
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
        except (
            zipfile.BadZipFile,
            RuntimeError,
            NotImplementedError,
            OSError,
            EOFError,
            zlib.error,
            lzma.LZMAError,
        ) as exc:  # RuntimeError: encrypted; NotImplementedError: unknown compression
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
    rest = raw[archive.offset :]
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
        raise ReadError(
            f"the archive holds {files:,} files, more than the {MAX_ARCHIVE_FILES:,} one import may "
            "take; split it into smaller archives"
        )
    if size > MAX_UNPACKED_BYTES:
        raise ReadError(
            f"the archive unpacks to more than {_megabytes(MAX_UNPACKED_BYTES)}, the most one import "
            "may take; split it into smaller archives"
        )


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
        raise ReadError(f'expected a study object, a list of studies or {{"studies": [...]}}, got {_typename(data)}')
    if not isinstance(studies, list):
        raise ReadError(f"'studies' must be a list, got {_typename(studies)}")
    for i, study in enumerate(studies, start=1):
        if not isinstance(study, dict) or not isinstance(study.get("protocolSection"), dict):
            place = f"item {i} of {where}" if where else "the object"
            raise ReadError(f"{place} is not an API v2 study (no 'protocolSection' object)")
    return studies


def _typename(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", int: "a number", float: "a number"}.get(
        type(value), "nothing" if value is None else type(value).__name__
    )
