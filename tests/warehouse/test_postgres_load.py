"""PostgreSQL loads are one transaction: a night whose rows PostgreSQL refuses leaves the earlier rows as
they were; a night loaded twice holds its rows once. (Real server from conftest; no Spark.)"""

from __future__ import annotations

from datetime import date

import duckdb
import psycopg
import pytest

from notenlp.config import Settings
from notenlp.stages.night import Night
from notenlp.warehouse import postgres

NOTE = ("insert into note values ({id}, 1, date '2026-01-01', null, 32817, 0, 't', 'text {id}', 32678, 4180186, "
        "null, null, null, 'x', null, null)")
NOTE_NLP = ("insert into note_nlp values ({nlp_id}, {id}, null, 's', '0', 'fever', 0, 0, 'sys', date '2026-01-01', "
            "null, '{term_exists}', null, null)")


@pytest.fixture
def night(postgres_url, tmp_path):
    with psycopg.connect(postgres_url, autocommit=True) as con:
        con.execute("drop schema if exists results cascade; drop schema if exists vocab cascade")
    settings = Settings(home=tmp_path, warehouse_url=postgres_url)
    postgres.ensure_schema(settings)
    return Night(settings, date(2026, 1, 2))


def _notes_parquet(path, ids) -> str:
    with duckdb.connect() as con:
        con.execute(f"copy (select unnest({list(ids)}::bigint[]) as note_id) to '{path}' (format parquet)")
    return str(path)


def _night_rows(notes, ids, *, term_exists: str = "y"):
    def transform(duck):
        for i in ids:
            duck.execute(NOTE.format(id=i))
            duck.execute(NOTE_NLP.format(id=i, nlp_id=i, term_exists=term_exists))  # dense ids, as the key SQL gives
            duck.execute(f"insert into note_nlp_relation values ({i}, {i}, {i + 100}, 7, 'treats', 0.5, "
                         "'sys', date '2026-01-01', null)")
            duck.execute(f"insert into fact_relationship values (0, {i}, 0, {i + 100}, 0)")  # demo vocabulary: 0
        return notes
    return transform


def _counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as con:
        return {t: con.execute(f"select count(*) from results.{t}").fetchone()[0]
                for t in ("note", "note_nlp", "note_nlp_relation", "fact_relationship")}


def test_a_refused_night_leaves_the_earlier_rows(night, postgres_url, tmp_path):
    notes = _notes_parquet(tmp_path / "notes.parquet", [1, 2, 3])
    postgres.load_night(night, _night_rows(notes, [1, 2, 3]))
    assert _counts(postgres_url) == {"note": 3, "note_nlp": 3, "note_nlp_relation": 3, "fact_relationship": 3}

    # DuckDB ignores varchar lengths, PostgreSQL refuses term_exists 'yes' in the official varchar(1), after
    # the night's earlier rows were deleted and its notes copied: all of it is rolled back
    with pytest.raises(psycopg.errors.StringDataRightTruncation):
        postgres.load_night(night, _night_rows(notes, [1, 2], term_exists="yes"))
    assert _counts(postgres_url) == {"note": 3, "note_nlp": 3, "note_nlp_relation": 3, "fact_relationship": 3}


def test_a_night_loaded_twice_holds_its_rows_once(night, postgres_url, tmp_path):
    notes = _notes_parquet(tmp_path / "notes.parquet", [1, 2])
    for _ in range(2):
        postgres.load_night(night, _night_rows(notes, [1, 2]))
    assert _counts(postgres_url) == {"note": 2, "note_nlp": 2, "note_nlp_relation": 2, "fact_relationship": 2}
    with psycopg.connect(postgres_url) as con:
        assert con.execute("select max(note_nlp_id) from results.note_nlp").fetchone()[0] == 2


def test_a_warehouse_url_that_cannot_work_is_one_config_error():
    from notenlp.config import ConfigError

    with pytest.raises(ConfigError, match="must be a PostgreSQL URL"):
        Settings(warehouse_url="mysql://u@h/db")
    with pytest.raises(ConfigError, match="NOTENLP_RESULTS_SCHEMA"):
        Settings(warehouse_url="postgresql://u@h/db", results_schema="results; drop table note")
    settings = Settings(warehouse_url="postgresql+psycopg://u:secret@h:5432/db")
    assert settings.on_postgres and not Settings().on_postgres
    assert "secret" not in str(settings.to_json())
    assert postgres.libpq_url(settings.warehouse_url) == "postgresql://u:secret@h:5432/db"


def test_vocab_load_fills_the_vocabulary_schema(night, postgres_url, tmp_path, monkeypatch, capsys):
    from notenlp.cli import main

    monkeypatch.setenv("NOTENLP_HOME", str(tmp_path))
    monkeypatch.setenv("NOTENLP_WAREHOUSE_URL", postgres_url)
    for _ in range(2):  # a second load replaces the rows, never adds to them
        assert main(["vocab", "load", "--no-icd10cm"]) == 0
    assert "copied into PostgreSQL schema vocab" in capsys.readouterr().out
    with psycopg.connect(postgres_url) as con:
        concepts = con.execute("select count(*) from vocab.concept").fetchone()[0]
    with duckdb.connect() as duck:
        from notenlp.vocab.loader import load_demo

        assert concepts == load_demo(duck, icd10cm=False)["concept"] > 0


def test_hashed_ids_into_the_official_integer_columns_are_one_config_error(night, postgres_url, tmp_path):
    from notenlp.config import ConfigError

    settings = Settings(home=tmp_path, warehouse_url=postgres_url, note_nlp_ids="hash")
    with pytest.raises(ConfigError, match=r"needs bigint columns, but results\.fact_relationship\.fact_id_1, "
                                          r"results\.fact_relationship\.fact_id_2, results\.note_nlp\.note_nlp_id"):
        postgres.ensure_schema(settings)
    with psycopg.connect(postgres_url, autocommit=True) as con:  # a site that widened its columns
        con.execute("alter table results.note_nlp alter column note_nlp_id type bigint; alter table "
                    "results.fact_relationship alter column fact_id_1 type bigint, alter column fact_id_2 type bigint")
    postgres.ensure_schema(settings)
