"""Source files read record by record, so that no record is lost, fused with its neighbour or swallowed.

Spark's multi-line CSV parser follows an unbalanced quote to the next quote anywhere in the file: one
broken note turned the rest of a 200-note MIMIC file into 3,073 rows and lost the note after it. Here a
MIMIC CSV is split into records by its quotes, as CSV is, but a line that can only begin a record (its
first fields are the short id and date columns of the source) ends an open quote: the damaged span becomes
one record flagged ``unparseable_line`` with its line numbers, and reading resumes on the next record.
JSONL is read line by line, so a line that is not a JSON object is flagged with its line number.

Every record is a tuple ``(file, line, line_end, problem, problem_detail, *columns)``: ``problem`` is None
or ``unparseable_line`` / ``missing_column`` / ``invalid_utf8``; ``problem_detail`` holds counts and line
numbers only, never text. Invalid UTF-8 bytes are replaced by U+FFFD and counted. Pure Python (no Spark):
``notenlp.stages.ingest`` runs it on the executors, one task per file.
"""

from __future__ import annotations

import csv
import glob
import gzip
import hashlib
import io
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from notenlp.config import ConfigError

MIMIC3_COLUMNS = ("ROW_ID", "SUBJECT_ID", "HADM_ID", "CHARTDATE", "CHARTTIME", "STORETIME", "CATEGORY",
                  "DESCRIPTION", "CGID", "ISERROR", "TEXT")
MIMIC4_COLUMNS = ("note_id", "subject_id", "hadm_id", "note_type", "note_seq", "charttime", "storetime", "text")
JSONL_COLUMNS = ("note_id", "person_id", "note_date", "text")
OMOP_REQUIRED = ("note_id", "person_id", "note_date", "note_text")
RECORD_FIELDS = ("_file", "_line", "_line_end", "_problem", "_problem_detail")

_FIELD = r'(?:"(?:[^"\r\n]|"")*"|[^",\r\n]*)'  # one CSV field on one line
_DIGITS = r'(?:"?\d*"?)'


@dataclass(frozen=True)
class CsvFormat:
    source: str
    title: str
    columns: tuple[str, ...]
    record_start: re.Pattern  # a line that can only be the first line of a record


CSV_FORMATS = {
    "mimic3": CsvFormat("mimic3", "MIMIC-III NOTEEVENTS", MIMIC3_COLUMNS,
                        re.compile(rf"{_DIGITS},{_DIGITS},(?:{_FIELD},){{7}}")),
    "mimic4": CsvFormat("mimic4", "MIMIC-IV-Note", MIMIC4_COLUMNS,
                        re.compile(rf'"?[A-Za-z0-9_-]+"?,{_DIGITS},(?:{_FIELD},){{4}}')),
}
SOURCE_TITLES = {**{k: f.title for k, f in CSV_FORMATS.items()}, "jsonl": "JSONL", "omop": "OMOP NOTE Parquet"}


# ------------------------------------------------------------------------------------------------ files
def source_files(path: str) -> list[str]:
    """The files under an input path (file, folder or glob), sorted; hidden and ``_``-prefixed names skipped,
    as Spark skips them."""
    found: list[str] = []
    for match in sorted(glob.glob(path)) or [path]:
        if os.path.isdir(match):
            for root, dirs, files in os.walk(match):
                dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
                found += [os.path.join(root, f) for f in sorted(files) if not f.startswith((".", "_"))]
        elif os.path.isfile(match):
            found.append(match)
    if not found:
        raise ConfigError(f"input {path} does not exist or holds no files")
    return found


def _open_bytes(path: str):
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else open(path, "rb")


def decode(raw: bytes) -> tuple[str, int]:
    """UTF-8 text and the number of bytes that were not UTF-8 (each replaced by U+FFFD)."""
    try:
        return raw.decode("utf-8"), 0
    except UnicodeDecodeError:
        text = raw.decode("utf-8", "surrogateescape")
        bad = sum(1 for ch in text if "\udc80" <= ch <= "\udcff")
        return re.sub("[\udc80-\udcff]", "\ufffd", text), bad


def _first_line(path: str) -> bytes:
    with _open_bytes(path) as handle:
        try:
            return handle.readline(1 << 16)
        except (OSError, EOFError):  # a truncated or broken gzip stream
            return b""


# ------------------------------------------------------------------------------------------------ header
def header_source(path: str) -> str | None:
    """Which source a file's first line is the header of (None: no known header)."""
    first = _first_line(path)
    if first.startswith(b"PAR1"):
        return "omop"
    text, _ = decode(first)
    try:
        obj = json.loads(text)
    except ValueError:
        obj = None
    if isinstance(obj, dict):
        return "jsonl"
    try:
        names = next(csv.reader([text.rstrip("\r\n")]))
    except (csv.Error, StopIteration):
        return None
    for fmt in CSV_FORMATS.values():
        if [n.strip() for n in names] == list(fmt.columns):
            return fmt.source
    return None


def check_source(source: str, path: str) -> list[str]:
    """The input's files, after checking that each one is what ``--source`` reads; else one ConfigError line
    naming what the file looks like (never quoting the file: a headerless file's first line is note text)."""
    files = source_files(path)
    if source == "omop":
        return files
    for name in files:
        found = header_source(name)
        if found == source or (source == "jsonl" and found is None and _jsonl_has_object(name)):
            continue
        looks = f"looks like {SOURCE_TITLES[found]} (--source {found})" if found else \
            "has no header line of a known source"
        wanted = CSV_FORMATS[source].columns if source in CSV_FORMATS else JSONL_COLUMNS
        raise ConfigError(f"input {name} does not match --source {source}: it {looks}; {SOURCE_TITLES[source]} "
                          f"needs {'a header line ' if source in CSV_FORMATS else 'objects with '}"
                          f"{','.join(wanted)}")
    return files


def _jsonl_has_object(path: str, lines: int = 20) -> bool:
    """A JSONL file whose first line is broken still counts as JSONL when one of its first lines is an object."""
    with _open_bytes(path) as handle:
        for _, raw in zip(range(lines), handle):
            try:
                if isinstance(json.loads(decode(raw)[0]), dict):
                    return True
            except ValueError:
                continue
    return False


# ------------------------------------------------------------------------------------------------ CSV
def _span_detail(first: int, last: int, raw: Iterable[str], why: str) -> str:
    digest = hashlib.sha256("".join(raw).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"lines={first}-{last}; {why}; sha256={digest}"


def csv_records(path: str, fmt: CsvFormat) -> Iterator[tuple]:
    """Records of a MIMIC CSV file (header on line 1), each with its first and last line number.

    A record begins on a line that looks like the start of one (``fmt.record_start``: the id and date columns)
    and ends where its quotes balance at a line end. Damaged spans, each one ``unparseable_line`` record that
    runs to the line before the next record start: a quoted field still open when a record start arrives
    (an unbalanced quote), a record CSV cannot parse or with more fields than the header, and lines that do
    not begin a record where one should begin; such lines right after a record mean a stray quote closed it
    early, so that record joins the span. Fewer fields than the header: ``missing_column``.
    """
    width = len(fmt.columns)
    name = os.path.basename(path)

    def damaged(first: int, last: int, lines: list[str], why: str) -> tuple:
        return (name, first, last, "unparseable_line", _span_detail(first, last, lines, why), *(None,) * width)

    def parsed(first: int, last: int, lines: list[str], bad_bytes: int) -> tuple | None:
        try:
            rows = list(csv.reader(io.StringIO("".join(lines), newline=""), strict=True))
        except csv.Error:
            return None
        if len(rows) != 1 or len(rows[0]) > width:
            return None
        fields = rows[0]
        if len(fields) < width:
            return (name, first, last, "missing_column", f"lines={first}-{last}; fields={len(fields)} of {width}; "
                    f"missing={','.join(fmt.columns[len(fields):])}", *fields, *(None,) * (width - len(fields)))
        if bad_bytes:
            return (name, first, last, "invalid_utf8", f"lines={first}-{last}; replaced_bytes={bad_bytes}", *fields)
        return (name, first, last, None, None, *fields)

    held: tuple | None = None  # the record that ended on the line before, until the next line shows it ended
    held_lines: list[str] = []
    record: list[str] = []  # lines of the record being read (its quote is open)
    first = bad_bytes = 0
    damage: list[str] = []  # lines of a damaged span
    damage_first, damage_why = 0, ""
    number = 1
    with _open_bytes(path) as handle:
        handle.readline()  # the header, checked by check_source
        for raw in handle:
            number += 1
            line, bad = decode(raw)
            starts = fmt.record_start.match(line) is not None
            if record and not starts:  # inside a quoted field
                record.append(line)
                bad_bytes += bad
                if line.count('"') % 2 == 0:
                    continue
            elif record:  # a record start while a quote is open: the quote was never closed
                damage, damage_first, damage_why, record = record, first, "quote left open", []
            if damage:
                if not starts:
                    damage.append(line)
                    continue
                yield damaged(damage_first, number - 1, damage, damage_why)
                damage = []
            if record:  # its quote closed on this line
                lines, record = record, []
                result = parsed(first, number, lines, bad_bytes)
                if result is None:
                    damage, damage_first, damage_why = lines, first, "broken quoting or too many fields"
                else:
                    if held is not None:
                        yield held
                    held, held_lines = result, lines
                continue
            if not line.strip():  # a blank line between records
                if held is not None:
                    yield held
                    held = None
                continue
            if not starts:  # where a record should begin, a line that cannot begin one
                if held is not None:  # a stray quote ended the record before too early
                    damage, damage_first = held_lines + [line], held[1]
                    held = None
                else:
                    damage, damage_first = [line], number
                damage_why = "line does not begin a record"
                continue
            first, bad_bytes = number, bad
            if line.count('"') % 2 == 1:
                record = [line]
                continue
            result = parsed(first, number, [line], bad_bytes)
            if result is None:
                damage, damage_first, damage_why = [line], number, "broken quoting or too many fields"
                continue
            if held is not None:
                yield held
            held, held_lines = result, [line]
        if record:
            damage, damage_first, damage_why = record, first, "quote left open at end of file"
        if damage:
            yield damaged(damage_first, number, damage, damage_why)
        if held is not None:
            yield held


# ------------------------------------------------------------------------------------------------ JSONL
def jsonl_records(path: str) -> Iterator[tuple]:
    """One record per non-blank line: an object with the contract's keys, ``unparseable_line`` (not JSON, or not
    an object), ``missing_column`` (a key absent) or ``invalid_utf8``."""
    name = os.path.basename(path)
    empty = (None,) * len(JSONL_COLUMNS)
    with _open_bytes(path) as handle:
        for number, raw in enumerate(handle, 1):
            line, bad = decode(raw)
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                obj = None
            if not isinstance(obj, dict):
                why = "not JSON" if obj is None else f"a JSON {type(obj).__name__}, not an object"
                yield (name, number, number, "unparseable_line", _span_detail(number, number, [line], why), *empty)
                continue
            values = tuple(_scalar(obj.get(c)) for c in JSONL_COLUMNS)
            missing = [c for c in JSONL_COLUMNS if c not in obj]
            if missing:
                yield (name, number, number, "missing_column", f"lines={number}-{number}; missing={','.join(missing)}",
                       *values)
            elif bad:
                yield (name, number, number, "invalid_utf8", f"lines={number}-{number}; replaced_bytes={bad}", *values)
            else:
                yield (name, number, number, None, None, *values)


def _scalar(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def read_records(source: str, path: str) -> Iterator[tuple]:
    """The records of one file of ``source`` (runs in a Spark task)."""
    if source == "jsonl":
        return jsonl_records(path)
    return csv_records(path, CSV_FORMATS[source])


def record_columns(source: str) -> tuple[str, ...]:
    return JSONL_COLUMNS if source == "jsonl" else CSV_FORMATS[source].columns
