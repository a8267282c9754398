"""Ingest maps each source onto the canonical note schema and quarantines what it cannot map."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

from notenlp.stages import ingest

MIMIC3_ROWS = [
    {"ROW_ID": 1, "SUBJECT_ID": 10, "HADM_ID": 100, "CHARTDATE": "2101-03-04", "CHARTTIME": "2101-03-04 10:00:00",
     "STORETIME": "", "CATEGORY": "Discharge summary", "DESCRIPTION": "Report", "CGID": "", "ISERROR": "",
     "TEXT": 'Admission Date: [**2101-3-4**]\nHPI: "quoted" chest pain,\nsecond line.'},
    {"ROW_ID": 2, "SUBJECT_ID": 11, "HADM_ID": "", "CHARTDATE": "2101-03-05", "CHARTTIME": "", "STORETIME": "",
     "CATEGORY": "Nursing", "DESCRIPTION": "", "CGID": "", "ISERROR": "1", "TEXT": "entered in error"},
    {"ROW_ID": 3, "SUBJECT_ID": 12, "HADM_ID": "", "CHARTDATE": "not a date", "CHARTTIME": "", "STORETIME": "",
     "CATEGORY": "Radiology", "DESCRIPTION": "", "CGID": "", "ISERROR": "", "TEXT": "CXR: clear."},
    {"ROW_ID": 4, "SUBJECT_ID": 13, "HADM_ID": "", "CHARTDATE": "2101-03-06", "CHARTTIME": "", "STORETIME": "",
     "CATEGORY": "Nursing", "DESCRIPTION": "", "CGID": "", "ISERROR": "", "TEXT": "   "},
]


@pytest.fixture
def mimic3_csv(tmp_path):
    path = tmp_path / "NOTEEVENTS.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        pd.DataFrame(MIMIC3_ROWS).to_csv(handle, index=False)
    return path


def test_mimic3_multiline_quoted_text_and_quarantine_reasons(spark, mimic3_csv):
    mapped = ingest.read_source(spark, "mimic3", str(mimic3_csv))
    notes, quarantine = ingest.canonical_notes(mapped)
    rows = {r.note_id: r for r in notes.collect()}
    assert list(rows) == [1]
    assert rows[1].note_text == MIMIC3_ROWS[0]["TEXT"]
    assert rows[1].person_id == 10 and rows[1].visit_occurrence_id == 100
    assert str(rows[1].note_date) == "2101-03-04" and rows[1].note_source == "mimic3"
    assert len(rows[1].text_hash) == 64
    reasons = {r.record_key: r.reason for r in quarantine.collect()}
    assert reasons == {"2": "source_marked_error", "3": "missing_or_invalid_note_date", "4": "blank_text"}


def test_mimic4_string_ids_become_stable_bigints(spark, tmp_path):
    path = tmp_path / "discharge.csv"
    pd.DataFrame([
        {"note_id": "10000032-DS-21", "subject_id": 10000032, "hadm_id": 22595853, "note_type": "DS",
         "note_seq": 21, "charttime": "2180-05-07 00:00:00", "storetime": "", "text": "Name: ___\nline 2"},
    ]).to_csv(path, index=False)
    first = ingest.canonical_notes(ingest.read_source(spark, "mimic4", str(path)))[0].collect()
    again = ingest.canonical_notes(ingest.read_source(spark, "mimic4", str(path)))[0].collect()
    assert first[0].note_id == again[0].note_id and first[0].note_id > 0
    assert first[0].source_note_id == "10000032-DS-21" and first[0].note_text == "Name: ___\nline 2"


def test_jsonl_and_omop_sources(spark, tmp_path):
    jsonl = tmp_path / "notes.jsonl"
    jsonl.write_text(json.dumps({"note_id": 7, "person_id": 1, "note_date": "2020-01-02", "text": "no fever"}) + "\n")
    notes, _ = ingest.canonical_notes(ingest.read_source(spark, "jsonl", str(jsonl)))
    assert [(r.note_id, r.note_text) for r in notes.collect()] == [(7, "no fever")]

    parquet = tmp_path / "note.parquet"
    pd.DataFrame([{"note_id": 5, "person_id": 2, "note_date": pd.Timestamp("2020-02-03").date(),
                   "note_text": "denies pain", "note_title": "t"}]).to_parquet(parquet)
    notes, _ = ingest.canonical_notes(ingest.read_source(spark, "omop", str(parquet)))
    assert [(r.note_id, r.person_id, r.note_source) for r in notes.collect()] == [(5, 2, "omop")]


def test_duplicate_ids_with_different_text_are_quarantined(spark, tmp_path):
    jsonl = tmp_path / "notes.jsonl"
    lines = [{"note_id": 1, "person_id": 1, "note_date": "2020-01-01", "text": "a"},
             {"note_id": 1, "person_id": 1, "note_date": "2020-01-01", "text": "b"},
             {"note_id": 2, "person_id": 1, "note_date": "2020-01-01", "text": "c"},
             {"note_id": 2, "person_id": 1, "note_date": "2020-01-01", "text": "c"}]
    jsonl.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    notes, _ = ingest.canonical_notes(ingest.read_source(spark, "jsonl", str(jsonl)))
    good, bad = ingest.duplicate_ids(notes)
    assert [r.note_id for r in good.collect()] == [2]
    assert sorted(r.reason for r in bad.collect()) == ["duplicate_note_id_with_different_text"] * 2


def test_only_new_or_changed(spark):
    notes = spark.createDataFrame([(1, "h1"), (2, "h2"), (3, "h3")], "note_id bigint, text_hash string")
    processed = spark.createDataFrame([(1, "h1"), (2, "old")], "note_id bigint, text_hash string")
    assert sorted(r.note_id for r in ingest.only_new_or_changed(notes, processed).collect()) == [2, 3]
    assert ingest.only_new_or_changed(notes, None).count() == 3
