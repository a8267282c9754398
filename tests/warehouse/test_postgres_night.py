"""The demo night into a site's PostgreSQL (official OHDSI CDM 5.4 DDL) equals the same night into DuckDB.

Real components: Debian's PostgreSQL server (conftest), a local SparkSession, GX, MLflow, the DuckDB file.
The site: schema ``cdm`` holds NOTE created with the official DDL and filled with the demo notes (integer
ids, as at a site); ``vocab`` and ``results`` start empty. The same night (same home, so the same
sealed secret, surrogates, date shifts and nlp_system) runs twice: ``--source omop`` from a Parquet copy
of the site's NOTE into DuckDB, and ``--input cdm://note`` into PostgreSQL. Every loaded table is then
compared: row counts, and a checksum of its rows (order-free; floats rounded to 9 significant digits;
the load-time columns nlp_datetime, started_at and finished_at left out, because they are wall clocks).
"""

from __future__ import annotations

import hashlib
import math
from datetime import date

import duckdb
import psycopg
import pytest

from notenlp.warehouse.postgres import PG_DDL, RESULT_TABLES, _official_tables

pytestmark = pytest.mark.slow

NOTES = 24
RUN_DATE = date(2026, 12, 5)
TABLES = (*RESULT_TABLES, "notenlp_run_log")
WALL_CLOCK = {"nlp_datetime", "started_at", "finished_at"}


def _site_note_parquet(demo_csv, out) -> None:
    """The demo notes as a site's OMOP NOTE rows (what an ETL from MIMIC-III NOTEEVENTS writes)."""
    with duckdb.connect() as con:
        con.execute(f"""
            copy (
                select
                    "ROW_ID"::integer as note_id, "SUBJECT_ID"::integer as person_id,
                    "CHARTDATE"::date as note_date, try_cast("CHARTTIME" as timestamp) as note_datetime,
                    32817 as note_type_concept_id, 0 as note_class_concept_id, "DESCRIPTION" as note_title,
                    "TEXT" as note_text, 32678 as encoding_concept_id, 4180186 as language_concept_id,
                    null::integer as provider_id, try_cast("HADM_ID" as integer) as visit_occurrence_id,
                    null::integer as visit_detail_id, "CATEGORY" as note_source_value,
                    null::integer as note_event_id, null::integer as note_event_field_concept_id
                from read_csv('{demo_csv}', header = true, all_varchar = true, quote = '"', escape = '"')
                where coalesce("ISERROR", '') <> '1'  -- a site's CDM holds no rows its source marked in error
            ) to '{out}' (format parquet)""")


def _create_site_cdm(url: str, notes_parquet) -> int:
    """Schema cdm with the official NOTE DDL, holding the notes (COPY, as a site's ETL would)."""
    with psycopg.connect(url) as con, con.cursor() as cur, duckdb.connect() as duck:
        cur.execute("drop schema if exists cdm cascade; drop schema if exists results cascade; "
                    "drop schema if exists vocab cascade; create schema cdm")
        cur.execute(_official_tables("omop_cdm_5.4_note.sql", "cdm")["note"])
        with cur.copy("copy cdm.note from stdin") as copy:
            for row in duck.execute(f"select * from read_parquet('{notes_parquet}')").fetchall():
                copy.write_row(row)
        cur.execute("select count(*) from cdm.note")
        return cur.fetchone()[0]


def _canonical(value):
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.9g}"
    return repr(value if not hasattr(value, "isoformat") else value.isoformat())


def _fingerprint(columns, rows) -> tuple[int, str]:
    keep = [i for i, c in enumerate(columns) if c not in WALL_CLOCK]
    lines = sorted("|".join(_canonical(row[i]) for i in keep) for row in rows)
    return len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _duckdb_tables(path) -> dict[str, tuple[int, str]]:
    with duckdb.connect(str(path), read_only=True) as con:
        out = {}
        for table in TABLES:
            result = con.execute(f"select * from {table}")
            out[table] = _fingerprint([d[0] for d in result.description], result.fetchall())
        return out


def _postgres_tables(url: str) -> dict[str, tuple[int, str]]:
    with psycopg.connect(url) as con, con.cursor() as cur:
        out = {}
        for table in TABLES:
            cur.execute(f"select * from results.{table}")
            out[table] = _fingerprint([d.name for d in cur.description], cur.fetchall())
        return out


def _column_types(url: str, schema: str, table: str) -> dict[str, str]:
    with psycopg.connect(url) as con, con.cursor() as cur:
        cur.execute("select column_name, data_type from information_schema.columns where table_schema = %s "
                    "and table_name = %s", (schema, table))
        return dict(cur.fetchall())


def test_demo_night_into_postgres_equals_duckdb(postgres_url, home, monkeypatch, tmp_path):
    from notenlp.config import Settings
    from notenlp.demo.generator import write_demo
    from notenlp.stages.night import Night
    from notenlp.stages.runner import run_night
    from notenlp.stages.table import run_stage

    monkeypatch.setenv("NOTENLP_DRIVER_MEMORY", "2g")
    site_notes = tmp_path / "site_note.parquet"
    _site_note_parquet(write_demo(tmp_path / "demo", NOTES, seed=7)["noteevents"], site_notes)
    n_notes = _create_site_cdm(postgres_url, site_notes)
    assert n_notes > NOTES // 2

    duck_settings = Settings.from_env(home=home, spark_master="local[2]", spark_shuffle_partitions=2)
    duck_logs = run_night(duck_settings, RUN_DATE, "omop", str(site_notes))
    pg_settings = Settings.from_env(home=home, spark_master="local[2]", spark_shuffle_partitions=2,
                                    warehouse_url=postgres_url)
    pg_logs = run_night(pg_settings, RUN_DATE, "omop", "cdm://note")

    assert [(r.stage, r.rows_in, r.rows_out, r.rows_quarantined) for r in pg_logs] == \
        [(r.stage, r.rows_in, r.rows_out, r.rows_quarantined) for r in duck_logs]
    in_duckdb = _duckdb_tables(duck_settings.warehouse)
    in_postgres = _postgres_tables(postgres_url)
    assert in_duckdb["note"][0] == n_notes and in_duckdb["note_nlp"][0] > NOTES  # a night that found entities
    assert in_postgres == in_duckdb
    # the official DDL's tables, with notenlp's hashed note ids widened to bigint in the results schema only;
    # note_nlp_id keeps the official integer (dense ids from notenlp_note_nlp_key)
    assert _column_types(postgres_url, "cdm", "note")["note_id"] == "integer"
    assert _column_types(postgres_url, "results", "note_nlp")["note_nlp_id"] == "integer"
    assert _column_types(postgres_url, "results", "note_nlp")["note_id"] == "bigint"
    assert _column_types(postgres_url, "vocab", "drug_strength")["amount_value"] == "numeric"

    # the load stage run again (as Airflow's retry would) replaces its rows: same counts and checksums
    run_stage("load", Night(pg_settings, RUN_DATE))
    assert _postgres_tables(postgres_url) == in_duckdb


def test_official_ddl_files_are_the_cited_tables():
    """The shipped official DDL holds exactly the tables notenlp needs, with the official placeholder."""
    assert set(_official_tables("omop_cdm_5.4_note.sql", "s")) == {"note", "note_nlp", "fact_relationship"}
    vocab = _official_tables("omop_cdm_5.4_vocabulary.sql", "s")
    assert set(vocab) == {"concept", "vocabulary", "domain", "concept_class", "concept_relationship",
                          "relationship", "concept_synonym", "concept_ancestor", "drug_strength"}
    assert all("@cdmDatabaseSchema" in (PG_DDL / f).read_text() for f in
               ("omop_cdm_5.4_note.sql", "omop_cdm_5.4_vocabulary.sql"))
