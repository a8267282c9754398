"""Dates outside the text: the note row's dates and the dates in its text keep their interval.

``date_mode`` "shift" (de-identified warehouse) moves note_date / note_datetime by the same
per-person offset as the text; "keep" (identified CDM) leaves them and shifts the text by the
site's own table, so an extract that shifts the CDM by that table agrees with its notes.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import duckdb
import pandas as pd
import pytest

from notenlp.config import ConfigError, Settings
from notenlp.deid.surrogates import SHIFT_MAX_DAYS, SHIFT_MIN_DAYS
from notenlp.schemas import NOTE
from notenlp.stages import deidentify as deid

CONFIG = {"mode": "surrogate", "secret_hex": "ab" * 32}
_ISO_RE = re.compile(r"\b\d{4}-\d\d-\d\d\b")
# note_id -> (person_id, note_date, note_datetime, the date its text mentions)
NOTES = {
    1: (1, "2101-03-20", "2101-03-20 08:30:00", "2101-03-14"),
    2: (1, "2101-06-02", "2101-06-02 23:59:00", "2101-05-30"),
    3: (2, "2150-01-01", None, "2149-12-25"),
    4: (3, "2120-02-29", "2120-02-29 12:00:00", "2120-03-01"),
}


def _text(mentioned: str) -> str:
    return f"Patient seen by Dr. Smith. Surgery on {mentioned}. Call 617-555-1234 for results."


@pytest.fixture(scope="module")
def notes(spark):
    rows = [{
        "note_id": note_id, "source_note_id": str(note_id), "person_id": person, "visit_occurrence_id": None,
        "note_date": date.fromisoformat(day), "note_datetime": datetime.fromisoformat(at) if at else None,
        "note_type": "Discharge summary", "note_title": "", "note_source": "jsonl", "note_text": _text(mentioned),
        "text_hash": "",
    } for note_id, (person, day, at, mentioned) in NOTES.items()]
    return spark.createDataFrame(pd.DataFrame(rows).astype({"visit_occurrence_id": "Int64"}), NOTE)


def _mentioned(text: str) -> date:
    (found,) = _ISO_RE.findall(text)
    return date.fromisoformat(found)


def _run(notes, **kwargs):
    out = deid.deidentify(notes, CONFIG, **kwargs).cache()
    rows = {r.note_id: r for r in deid.deidentified_notes(out).collect()}
    audit = deid.phi_audit_rows(out).collect()
    quarantine = {r.record_key: r.reason for r in deid.deid_quarantine(out).collect()}
    offsets = {r.note_id: r.date_shift_days for r in out.select("note_id", "date_shift_days").collect()}
    out.unpersist()
    return rows, audit, quarantine, offsets


def _interval(note_day: date, mentioned: date) -> int:
    return (mentioned - note_day).days


def test_shift_mode_moves_the_note_row_with_its_text(notes):
    rows, audit, quarantine, offsets = _run(notes, date_mode="shift")
    assert quarantine == {} and set(rows) == set(NOTES)
    for note_id, (person, day, at, mentioned) in NOTES.items():
        row = rows[note_id]
        before = _interval(date.fromisoformat(day), date.fromisoformat(mentioned))
        assert _interval(row.note_date, _mentioned(row.note_text)) == before
        moved = (row.note_date - date.fromisoformat(day)).days
        assert moved == offsets[note_id] and SHIFT_MIN_DAYS <= moved <= SHIFT_MAX_DAYS < 0  # never 0
        assert row.note_date != date.fromisoformat(day)
        if at is None:
            assert row.note_datetime is None
        else:  # same wall-clock time, same days
            assert row.note_datetime == datetime.fromisoformat(at) + timedelta(days=moved)
    assert offsets[1] == offsets[2]  # one person, one offset across notes
    assert len({offsets[1], offsets[3], offsets[4]}) == 3
    assert "date_shift_days" not in deid.DEID_COLUMNS  # the offset never reaches staging or the warehouse
    row_audit = [a for a in audit if a.detector == "note_row"]
    assert {(a.note_id, a.phi_subtype) for a in row_audit} == {
        (n, f"NOTE.{c}") for n, v in NOTES.items() for c, value in zip(deid.NOTE_ROW_DATES, v[1:3]) if value}
    assert all(a.date_shift_days == offsets[a.note_id] and a.start is None for a in row_audit)
    assert {a.original for a in row_audit if a.phi_subtype == "NOTE.note_date"} == {v[1] for v in NOTES.values()}


@pytest.fixture
def site_table(tmp_path):
    """The site's offsets: person 1 back 100 days, person 2 forward 42; person 3 is missing."""
    path = tmp_path / "shifts.csv"
    path.write_text("person_id,date_shift_days\n1,-100\n2,42\n", encoding="utf-8")
    return path


def test_keep_mode_leaves_note_dates_and_shifts_the_text_by_the_site_table(spark, notes, site_table):
    table = {1: -100, 2: 42}
    rows, audit, quarantine, _ = _run(notes, date_mode="keep", date_shifts=deid.site_date_shifts(spark, site_table))
    assert quarantine == {"4": deid.NO_DATE_SHIFT}  # person 3 has no site offset: held back, not keyed
    assert set(rows) == {1, 2, 3}
    for note_id, row in rows.items():
        person, day, at, mentioned = NOTES[note_id]
        assert row.note_date == date.fromisoformat(day)
        assert row.note_datetime == (datetime.fromisoformat(at) if at else None)
        assert (_mentioned(row.note_text) - date.fromisoformat(mentioned)).days == table[person]
        # A research extract that shifts the CDM by the same table keeps the note's interval.
        extract_day = row.note_date + timedelta(days=table[person])
        assert _interval(extract_day, _mentioned(row.note_text)) == _interval(
            date.fromisoformat(day), date.fromisoformat(mentioned))
    assert not [a for a in audit if a.detector == "note_row"]


def test_shift_mode_with_a_site_table_moves_row_and_text_by_its_offsets(spark, notes, tmp_path):
    path = tmp_path / "shifts.parquet"
    pd.DataFrame({"person_id": [1, 2, 3], "date_shift_days": [-7, 365, -1]}).to_parquet(path)
    rows, _, quarantine, _ = _run(notes, date_mode="shift", date_shifts=deid.site_date_shifts(spark, path))
    assert quarantine == {}
    table = {1: -7, 2: 365, 3: -1}
    for note_id, row in rows.items():
        person, day, _, mentioned = NOTES[note_id]
        assert (row.note_date - date.fromisoformat(day)).days == table[person]
        assert (_mentioned(row.note_text) - date.fromisoformat(mentioned)).days == table[person]


def test_the_stage_keeps_the_offset_sealed(spark, notes, tmp_path):
    from notenlp.stages.night import Night
    from notenlp.stages.runner import run_deidentify

    settings = Settings(home=tmp_path)
    night = Night(settings, date(2026, 11, 1))
    notes.write.mode("overwrite").parquet(str(night.part("ingest")))
    log = run_deidentify(spark, night)
    assert (log.rows_in, log.rows_out, log.rows_quarantined) == (4, 4, 0)
    staged = spark.read.parquet(str(night.part("deidentify")))
    assert "date_shift_days" not in staged.columns
    moved = {r.note_id: r.note_date for r in staged.collect()}
    assert all(moved[n] != date.fromisoformat(v[1]) for n, v in NOTES.items())
    with duckdb.connect(str(settings.audit_db), read_only=True) as con:
        sealed = dict(con.execute("select note_id, replacement from phi_audit "
                                  "where phi_subtype = 'NOTE.note_date'").fetchall())
    assert {n: date.fromisoformat(v) for n, v in sealed.items()} == moved


@pytest.mark.parametrize("content, message", [
    ("person,date_shift_days\n1,-3\n", "lacks column(s) person_id"),
    ("person_id,date_shift_days\n1,-3\n1,-4\n", "1 rows repeat a person_id"),
    ("person_id,date_shift_days\n1,-3.5\n2,x\n3,4\n", "2 of 3 rows are not an integer"),
])
def test_a_bad_site_table_is_one_clear_error(spark, tmp_path, content, message):
    path = tmp_path / "shifts.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        deid.site_date_shifts(spark, path)


@pytest.mark.parametrize("env, message", [
    ({"NOTENLP_DATE_MODE": "moved"}, "NOTENLP_DATE_MODE must be one of shift, keep, not 'moved'"),
    ({"NOTENLP_DATE_MODE": "keep"}, "NOTENLP_DATE_MODE=keep needs NOTENLP_DATE_SHIFT_TABLE"),
    ({"NOTENLP_DATE_SHIFT_TABLE": "/nonexistent/shifts.csv"}, "/nonexistent/shifts.csv does not exist"),
])
def test_a_date_config_mistake_is_one_line_and_a_nonzero_exit(home, monkeypatch, capsys, env, message):
    from notenlp.cli import main

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["run", "load"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (home / "warehouse").exists()


def test_the_default_is_a_deidentified_warehouse():
    assert Settings().date_mode == "shift" and Settings().date_shift_table is None


def test_changing_how_dates_move_changes_nlp_system_so_notes_are_reprocessed(tmp_path):
    from notenlp.fingerprints import deid_choices, nlp_system

    table = tmp_path / "shifts.csv"
    table.write_text("person_id,date_shift_days\n1,-100\n", encoding="utf-8")
    systems = {nlp_system({"components": []}, deid_settings=deid_choices(settings)) for settings in (
        Settings(), Settings(date_mode="keep", date_shift_table=table), Settings(deid_mode="tag"))}
    table.write_text("person_id,date_shift_days\n1,-200\n", encoding="utf-8")
    systems.add(nlp_system({"components": []}, deid_settings=deid_choices(
        Settings(date_mode="keep", date_shift_table=table))))
    assert len(systems) == 4
