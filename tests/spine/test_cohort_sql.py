"""The cohort SQL keeps affirmed, current mentions of a concept or its descendants only."""

from __future__ import annotations

from pathlib import Path

import duckdb

from notenlp.warehouse import ensure_schema

SQL = Path(__file__).resolve().parents[2] / "sql" / "cohorts" / "affirmed_condition_patients.sql"


def test_affirmed_condition_patients(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schema(con)
    con.execute("create table if not exists concept_ancestor (ancestor_concept_id integer, "
                "descendant_concept_id integer, min_levels_of_separation integer, max_levels_of_separation integer)")
    con.execute("insert into concept_ancestor values (100, 101, 1, 1)")
    con.execute("insert into note (note_id, person_id, note_date, note_type_concept_id, note_class_concept_id, "
                "note_text, encoding_concept_id, language_concept_id) values "
                "(1, 1, '2020-01-01', 0, 0, 't', 0, 0), (2, 2, '2020-01-02', 0, 0, 't', 0, 0), "
                "(3, 3, '2020-01-03', 0, 0, 't', 0, 0), (4, 1, '2020-02-01', 0, 0, 't', 0, 0)")
    rows = [(1, 1, 101, "Y", "present"), (2, 2, 100, "N", "present"), (3, 3, 100, "Y", "past"),
            (4, 4, 100, "Y", "present"), (5, 4, 999, "Y", "present")]
    for nlp_id, note_id, concept, exists, temporal in rows:
        con.execute("insert into note_nlp (note_nlp_id, note_id, lexical_variant, note_nlp_concept_id, nlp_date, "
                    "term_exists, term_temporal) values (?, ?, 'x', ?, '2020-03-01', ?, ?)",
                    [nlp_id, note_id, concept, exists, temporal])
    result = con.execute(SQL.read_text(), {"ancestor_concept_id": 100}).fetchall()
    assert [(r[0], str(r[1]), str(r[2]), r[3]) for r in result] == [(1, "2020-01-01", "2020-02-01", 2)]
