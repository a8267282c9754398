"""The cohort template keeps affirmed, current mentions of a concept or its descendants, in the window only."""

from __future__ import annotations

import duckdb

from notenlp.cohorts import ensure_tables
from notenlp.warehouse import SQL_DIR

SQL = SQL_DIR / "cohorts" / "affirmed_condition_patients.sql"


def test_affirmed_condition_patients(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_tables(con)
    con.execute("insert into concept_ancestor values (100, 101, 1, 1)")
    con.execute("insert into note (note_id, person_id, note_date, note_type_concept_id, note_class_concept_id, "
                "note_text, encoding_concept_id, language_concept_id) values "
                "(1, 1, '2020-01-01', 0, 0, 't', 0, 0), (2, 2, '2020-01-02', 0, 0, 't', 0, 0), "
                "(3, 3, '2020-01-03', 0, 0, 't', 0, 0), (4, 1, '2020-02-01', 0, 0, 't', 0, 0), "
                "(5, 5, '2019-01-01', 0, 0, 't', 0, 0), (6, 5, '2020-06-01', 0, 0, 't', 0, 0)")
    rows = [(1, 1, 101, "Y", "present"), (2, 2, 100, "N", "present"), (3, 3, 100, "Y", "past"),
            (4, 4, 100, "Y", "present"), (5, 4, 999, "Y", "present"), (6, 5, 100, "Y", "present")]
    for nlp_id, note_id, concept, exists, temporal in rows:
        con.execute("insert into note_nlp (note_nlp_id, note_id, lexical_variant, note_nlp_concept_id, nlp_date, "
                    "term_exists, term_temporal, \"offset\", term_modifiers) "
                    "values (?, ?, 'x', ?, '2020-03-01', ?, ?, '0', 'negated=false;label=PROBLEM')",
                    [nlp_id, note_id, concept, exists, temporal])
    con.execute(SQL_DIR.joinpath("ddl", "note_fact.sql").read_text())
    result = con.execute(f"select * from ({SQL.read_text()}) order by 1",
                         {"ancestor_concept_id": 100, "within_days": 100}).fetchall()
    # person 5's only mention lies 517 days before their latest note: outside the 100-day window
    assert [(r[0], str(r[1]), str(r[2])) for r in result] == [(1, "2020-01-01", "2020-02-01")]
