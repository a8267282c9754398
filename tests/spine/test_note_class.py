"""insert_note.sql gives each note the loaded vocabulary's LOINC concept of its category's document code."""

from __future__ import annotations

import csv

import duckdb

from notenlp.warehouse import ensure_schema, run_sql_file
from notenlp.vocab.loader import ensure_concept_table
from notenlp.warehouse.load import NOTE_CLASSES

# concept ids of a test vocabulary (Athena assigns real ones per release); codes are real LOINC codes
TEST_LOINC = [(9001, "18842-5", ""), (9002, "34109-9", ""), (9003, "11506-3", "D"), (9004, "11506-3", "")]


def _notes_parquet(con, path, categories):
    rows = ", ".join(f"({i}, {i}, date '2020-01-0{i}', timestamp '2020-01-0{i} 08:00', "
                     f"{'null' if c is None else repr(c)}, 't{i}', 'mimic3', 'text', 100)"
                     for i, c in enumerate(categories, start=1))
    con.execute(f"copy (select * from (values {rows}) as t(note_id, person_id, note_date, note_datetime, note_type, "
                f"note_title, note_source, note_text, visit_occurrence_id)) to '{path}' (format parquet)")


def test_note_class_comes_from_the_category_and_the_loaded_vocabulary(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schema(con)
    ensure_concept_table(con)
    for concept_id, code, invalid in TEST_LOINC:
        con.execute("insert into concept values (?, 'x', 'Observation', 'LOINC', 'Clinical Observation', 'S', ?, "
                    "date '1970-01-01', date '2099-12-31', nullif(?, ''))", [concept_id, code, invalid])
    _notes_parquet(con, tmp_path / "notes.parquet", ["Discharge summary", "Social Work ", "Physician ", "ECG", "Mystery", None])

    run_sql_file(con, "etl/insert_note.sql", {"deid_notes": str(tmp_path / "notes.parquet"), "note_classes": str(NOTE_CLASSES)})

    got = dict(con.execute("select note_id, note_class_concept_id from note order by note_id").fetchall())
    # discharge summary; social work -> generic "Note"; physician -> the valid progress-note concept;
    # ECG's code is not in this vocabulary, an unknown or missing category has no class
    assert got == {1: 9001, 2: 9002, 3: 9004, 4: 0, 5: 0, 6: 0}


def test_seed_categories_are_unique_and_lowercase():
    with NOTE_CLASSES.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    categories = [r["note_type"] for r in rows]
    assert len(categories) == len(set(categories))
    assert all(c == c.strip().lower() for c in categories)
    assert all(r["loinc_code"].count("-") == 1 and r["loinc_code"].split("-")[0].isdigit() for r in rows)


def test_note_class_is_0_without_a_loaded_vocabulary(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schema(con)
    ensure_concept_table(con)
    _notes_parquet(con, tmp_path / "notes.parquet", ["Discharge summary"])

    run_sql_file(con, "etl/insert_note.sql", {"deid_notes": str(tmp_path / "notes.parquet"), "note_classes": str(NOTE_CLASSES)})

    assert con.execute("select note_class_concept_id from note").fetchall() == [(0,)]
