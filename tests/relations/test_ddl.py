from pathlib import Path

import duckdb
import pytest

from notenlp.attributes import RELATION_TYPES

DDL = Path(__file__).resolve().parents[2] / "sql" / "ddl"


@pytest.fixture()
def connection():
    con = duckdb.connect()
    con.execute((DDL / "note_nlp_relation.sql").read_text())
    yield con
    con.close()


def test_table_has_the_documented_columns(connection):
    columns = [(name, kind) for name, kind, *_ in connection.execute("describe note_nlp_relation").fetchall()]
    assert columns == [("note_nlp_relation_id", "BIGINT"), ("note_id", "BIGINT"), ("note_nlp_id_1", "BIGINT"),
                       ("note_nlp_id_2", "BIGINT"), ("relationship_id", "VARCHAR"), ("score", "DOUBLE"),
                       ("nlp_system", "VARCHAR"), ("nlp_date", "DATE"), ("nlp_datetime", "TIMESTAMP")]
    doc = (DDL / "note_nlp_relation.md").read_text()
    for name, _ in columns:
        assert f"| `{name}` |" in doc


def test_every_relation_type_loads_and_others_are_rejected(connection):
    for k, relation in enumerate(RELATION_TYPES):
        connection.execute("insert into note_nlp_relation values (?, 1, 10, 11, ?, 0.5, 'notenlp', date '2026-01-01', null)",
                           [k, relation])
    with pytest.raises(duckdb.ConstraintException):
        connection.execute("insert into note_nlp_relation values (99, 1, 10, 11, 'likes', 0.5, 'x', date '2026-01-01', null)")
    with pytest.raises(duckdb.ConstraintException):
        connection.execute("insert into note_nlp_relation values (98, 1, 10, 10, 'treats', 0.5, 'x', date '2026-01-01', null)")
