"""Source files read record by record (no Spark): a broken quote damages one record, and every problem is a
reason with line numbers, never text."""

from __future__ import annotations

import csv
import gzip
import io
import json

import pandas as pd
import pytest

from notenlp.config import ConfigError
from notenlp.stages.source_files import CSV_FORMATS, MIMIC3_COLUMNS, check_source, csv_records, jsonl_records

MIMIC3 = CSV_FORMATS["mimic3"]


def mimic3_line(row_id: int, text: str, **fields) -> str:
    values = {"ROW_ID": row_id, "SUBJECT_ID": 10 + row_id, "HADM_ID": 100 + row_id, "CHARTDATE": "2101-03-04",
              "CHARTTIME": "", "STORETIME": "", "CATEGORY": "Nursing", "DESCRIPTION": "Report", "CGID": "",
              "ISERROR": "", "TEXT": text, **fields}
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([values[c] for c in MIMIC3_COLUMNS])
    return out.getvalue()


def write(tmp_path, body: str, name: str = "NOTEEVENTS.csv") -> str:
    path = tmp_path / name
    path.write_text(",".join(MIMIC3_COLUMNS) + "\n" + body, encoding="utf-8")
    return str(path)


def good(n: int) -> str:
    return f"Patient Zabriskie {n} seen.\nLine two of note {n}, \"quoted\" word.\n\nPlan: rest."


def by_id(records) -> dict:
    return {r[5]: r for r in records if r[3] is None}


def test_a_clean_file_gives_every_record_with_its_lines(tmp_path):
    path = write(tmp_path, "".join(mimic3_line(i, good(i)) for i in range(1, 4)))
    records = list(csv_records(path, MIMIC3))
    assert [(r[1], r[2], r[3]) for r in records] == [(2, 5, None), (6, 9, None), (10, 13, None)]
    assert [r[-1] for r in records] == [good(i) for i in range(1, 4)]


def test_an_unbalanced_quote_damages_one_record_and_reading_resumes(tmp_path):
    broken = mimic3_line(2, good(2)).replace("Line two", 'He said "stop')  # an unescaped quote inside text
    path = write(tmp_path, mimic3_line(1, good(1)) + broken + "".join(mimic3_line(i, good(i)) for i in range(3, 6)))
    records = list(csv_records(path, MIMIC3))
    assert sorted(by_id(records)) == ["1", "3", "4", "5"]
    assert all(by_id(records)[str(i)][-1] == good(i) for i in (1, 3, 4, 5))
    damaged = [r for r in records if r[3] is not None]
    assert [(r[1], r[2], r[3]) for r in damaged] == [(6, 9, "unparseable_line")]
    assert damaged[0][4].startswith("lines=6-9; ") and "Zabriskie" not in damaged[0][4]
    assert all(v is None for v in damaged[0][5:])


def test_a_quote_left_open_ends_at_the_next_record(tmp_path):
    open_quote = '2,12,102,2101-03-04,,,Nursing,Report,,,"Zabriskie text never closed\nsecond line\n'
    path = write(tmp_path, mimic3_line(1, good(1)) + open_quote + mimic3_line(3, good(3)) + open_quote)
    records = list(csv_records(path, MIMIC3))
    assert sorted(by_id(records)) == ["1", "3"]
    damaged = sorted((r[1], r[2], r[4].split(";")[1].strip()) for r in records if r[3] == "unparseable_line")
    assert damaged == [(6, 7, "quote left open"), (12, 13, "quote left open at end of file")]


def test_a_quote_that_closes_a_record_early_takes_that_record_into_the_damaged_span(tmp_path):
    early = mimic3_line(2, 'He said "\nZabriskie rest of the note')  # '"' then newline: CSV sees a record end
    early = early.replace('""\n', '"\n', 1)
    path = write(tmp_path, mimic3_line(1, good(1)) + early + mimic3_line(3, good(3)))
    records = list(csv_records(path, MIMIC3))
    assert sorted(by_id(records)) == ["1", "3"]
    assert [(r[1], r[2]) for r in records if r[3] == "unparseable_line"] == [(6, 7)]


def test_missing_column_and_invalid_utf8_are_named(tmp_path):
    path = tmp_path / "NOTEEVENTS.csv"
    body = (",".join(MIMIC3_COLUMNS) + "\n" + mimic3_line(1, good(1)) + "2,12,102,2101-03-04,,,Nursing,Report,,\n"
            + mimic3_line(3, "Zabriskie caf\udcc3 and \udcff\udcfe"))
    path.write_bytes(body.encode("utf-8", "surrogateescape"))
    records = {r[1]: r for r in csv_records(str(path), MIMIC3)}
    assert records[6][3:5] == ("missing_column", "lines=6-6; fields=10 of 11; missing=TEXT")
    assert records[7][3:5] == ("invalid_utf8", "lines=7-7; replaced_bytes=3")
    assert records[7][-1] == "Zabriskie caf\ufffd and \ufffd\ufffd"


def test_jsonl_lines_keep_their_numbers(tmp_path):
    path = tmp_path / "notes.jsonl"
    lines = [json.dumps({"note_id": 1, "person_id": 1, "note_date": "2020-01-01", "text": "a"}), "",
             "Zabriskie is not JSON", json.dumps([1, 2]),
             json.dumps({"note_id": 4, "person_id": 1, "note_date": "2020-01-01"})]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    records = list(jsonl_records(str(path)))
    assert [(r[1], r[3]) for r in records] == [(1, None), (3, "unparseable_line"), (4, "unparseable_line"),
                                             (5, "missing_column")]
    assert records[0][5:] == ("1", "1", "2020-01-01", "a")
    assert records[1][4].startswith("lines=3-3; not JSON; sha256=")
    assert records[3][4] == "lines=5-5; missing=text"


@pytest.fixture
def inputs(tmp_path):
    mimic3 = write(tmp_path, mimic3_line(1, good(1)))
    mimic4 = tmp_path / "discharge.csv.gz"
    with gzip.open(mimic4, "wt", encoding="utf-8") as handle:
        pd.DataFrame([{"note_id": "1-DS-1", "subject_id": 1, "hadm_id": 2, "note_type": "DS", "note_seq": 1,
                       "charttime": "2180-05-07 00:00:00", "storetime": "", "text": "x"}]).to_csv(handle, index=False)
    headerless = tmp_path / "headerless.csv"
    headerless.write_text(mimic3_line(1, good(1)), encoding="utf-8")
    parquet = tmp_path / "note.parquet"
    pd.DataFrame([{"note_id": 1, "person_id": 1, "note_date": "2020-01-01", "note_text": "x"}]).to_parquet(parquet)
    return {"mimic3": mimic3, "mimic4": str(mimic4), "headerless": str(headerless), "omop": str(parquet)}


@pytest.mark.parametrize("source, given, message", [
    ("mimic4", "mimic3", "does not match --source mimic4: it looks like MIMIC-III NOTEEVENTS (--source mimic3); "
                         "MIMIC-IV-Note needs a header line note_id,subject_id,hadm_id,note_type,note_seq,charttime,"
                         "storetime,text"),
    ("mimic3", "mimic4", "does not match --source mimic3: it looks like MIMIC-IV-Note (--source mimic4)"),
    ("jsonl", "mimic3", "does not match --source jsonl: it looks like MIMIC-III NOTEEVENTS (--source mimic3)"),
    ("mimic3", "omop", "does not match --source mimic3: it looks like OMOP NOTE Parquet (--source omop)"),
    ("mimic3", "headerless", "does not match --source mimic3: it has no header line of a known source"),
])
def test_a_header_that_does_not_match_the_source_is_one_line(inputs, source, given, message):
    with pytest.raises(ConfigError) as error:
        check_source(source, inputs[given])
    assert message in str(error.value) and "\n" not in str(error.value)
    assert "Zabriskie" not in str(error.value)  # a headerless file's first line is note text
    assert check_source(given if given != "headerless" else "mimic3", inputs[given if given != "headerless"
                                                                            else "mimic3"])


def test_a_missing_input_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match="does not exist or holds no files"):
        check_source("mimic3", str(tmp_path / "nope.csv"))
