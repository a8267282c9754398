"""The load stage: one night's validated Parquet into the warehouse (DuckDB or PostgreSQL), in one transaction.

Idempotent: each insert first deletes the rows of the night's notes (or of the night, for the
operational tables), so running a night again replaces its rows and never duplicates them.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from notenlp.attributes import MEDICATION_ATTRIBUTES
from notenlp.vocab.loader import ensure_vocabulary_tables
from notenlp.warehouse import (
    DELETE_NOTE_FACT_RELATIONSHIPS,
    LOAD_VOCABULARY_TABLES,
    SQL_DIR,
    connect,
    ensure_schema,
    run_sql_file,
)

log = logging.getLogger(__name__)

NOTE_CLASSES = SQL_DIR / "seeds" / "note_class_loinc.csv"
SEEDS = {
    "route_seed": SQL_DIR / "seeds" / "route_snomed.csv",
    "unit_seed": SQL_DIR / "seeds" / "unit_ucum.csv",
    "relation_seed": SQL_DIR / "seeds" / "fact_relationship_concepts.csv",
}
# DuckDB's own default is 80% of the machine: the load's joins and deletes spill to disk past this instead, so
# the process running the load stays under 4 GB whatever the night's size. NOTENLP_DUCKDB_MEMORY overrides.
LOAD_MEMORY_LIMIT = "2GB"


def load_memory_limit() -> str:
    import os

    return os.environ.get("NOTENLP_DUCKDB_MEMORY") or LOAD_MEMORY_LIMIT


def _glob(path: Path) -> str:
    return str(path / "*.parquet")


def _has_rows(con, path: Path) -> bool:
    return path.exists() and any(path.glob("*.parquet")) and con.execute(
        "select count(*) from read_parquet($p)", {"p": _glob(path)}).fetchone()[0] > 0


def load_night(night) -> tuple[int, int]:
    """Load the night; returns (rows read, rows written) over note, note_nlp and note_nlp_relation.

    The same SQL fills both warehouses: DuckDB runs it in the warehouse's transaction, PostgreSQL
    (``NOTENLP_WAREHOUSE_URL``) gets its result by COPY (``notenlp.warehouse.postgres``)."""
    notes = night.part("validate", "note")
    entities = night.part("validate", "note_nlp")
    relations = night.part("validate", "note_nlp_relation")
    if night.settings.on_postgres:
        from notenlp.warehouse import postgres

        postgres.load_night(night, lambda duck: _transform(duck, night))
    else:
        with connect(night.settings.warehouse) as con:
            con.execute("set memory_limit = $limit", {"limit": load_memory_limit()})
            ensure_schema(con)
            con.execute("begin transaction")
            try:
                _transform(con, night)
                con.execute("commit")
            except Exception:
                con.execute("rollback")
                raise
    import duckdb

    with duckdb.connect() as con:
        counts = [
            con.execute("select count(*) from read_parquet($p)", {"p": _glob(p)}).fetchone()[0]
            if _has_rows(con, p) else 0 for p in (notes, entities, relations)
        ]
    where = night.settings.results_schema if night.settings.on_postgres else night.settings.warehouse
    log.info("loaded %d notes, %d note_nlp rows, %d relations into %s", *counts, where)
    return sum(counts), sum(counts)


def _transform(con, night) -> str | None:
    """The night's rows into the warehouse tables of DuckDB connection ``con``; returns the glob of the
    night's notes, or None when it has none (then no note's rows are replaced)."""
    notes = night.part("validate", "note")
    entities = night.part("validate", "note_nlp")
    relations = night.part("validate", "note_nlp_relation")
    params = etl_params({
        "notes": _glob(notes), "entities": _glob(entities), "relations": _glob(relations),
        "nlp_system": night.nlp_system, "nlp_date": night.run_date.isoformat(),
        "nlp_datetime": night.started.isoformat(sep=" ", timespec="seconds"),
        "run_date": night.run_date.isoformat(),
    }, hashed_ids=night.settings.note_nlp_ids == "hash")
    has_notes = _has_rows(con, notes)
    if has_notes:
        ensure_vocabulary_tables(con, LOAD_VOCABULARY_TABLES)
        run_sql_file(con, "etl/insert_note.sql", {"deid_notes": params["notes"], "note_classes": str(NOTE_CLASSES)})
        load_note_rows(con, params, has_entities=_has_rows(con, entities), has_relations=_has_rows(con, relations))
        run_sql_file(con, "etl/insert_notenlp_note_state.sql", params)
    _load_quarantine(con, night)
    _load_phi_summary(con, night)
    return params["notes"] if has_notes else None


def load_note_rows(con, params: dict, *, has_entities: bool, has_relations: bool) -> None:
    """Replace the NOTE_NLP, note_nlp_relation and FACT_RELATIONSHIP rows of the night's notes (``params``:
    ``etl_params`` of the night's Parquet globs) on DuckDB connection ``con``, inside the caller's transaction."""
    ensure_vocabulary_tables(con, LOAD_VOCABULARY_TABLES)
    night_notes = "select note_id from read_parquet($notes)"
    con.execute(DELETE_NOTE_FACT_RELATIONSHIPS.format(schema="", vocabulary="", notes=night_notes),
                {"notes": params["notes"]})
    stage_relations(con, params["relations"] if has_relations else None)
    if has_entities:
        run_sql_file(con, "etl/insert_note_nlp.sql", params)
        unlinked = con.execute(
            "select count(*) from read_parquet($entities) where list_contains($attribute_labels, label) "
            "and note_nlp_id not in (select note_nlp_id_2 from night_relations)",
            {"entities": params["entities"], "attribute_labels": params["attribute_labels"]}).fetchone()[0]
        if unlinked:  # counted, not loaded: an attribute no relation gives a drug modifies no term
            log.info("%d medication attributes linked to no drug: not loaded (no NOTE_NLP row of their own)",
                     unlinked)
    else:
        con.execute(f"delete from note_nlp where note_id in ({night_notes})", {"notes": params["notes"]})
    if has_relations:
        run_sql_file(con, "etl/insert_note_nlp_relation.sql", params)
        run_sql_file(con, "etl/insert_fact_relationship.sql", params)
    else:  # a note whose relations are gone tonight keeps none of its earlier ones
        con.execute(f"delete from note_nlp_relation where note_id in ({night_notes})", {"notes": params["notes"]})


def etl_params(params: dict, *, hashed_ids: bool = False) -> dict:
    """``params`` plus what the note_nlp SQL reads besides the night's files: the medication attribute labels
    (in term_modifiers order), the seed files, and whether the 63-bit hashes are the ids (NOTENLP_NOTE_NLP_IDS)."""
    return {**params, "attribute_labels": list(MEDICATION_ATTRIBUTES), "hashed_ids": hashed_ids,
            **{name: str(path) for name, path in SEEDS.items()}}


def stage_relations(con, relations: str | None) -> None:
    """The night's validated relations (a Parquet glob, None when the night has none) as the temporary table
    ``night_relations`` that insert_note_nlp.sql reads for the drugs' attributes."""
    con.execute("create or replace temporary table night_relations "
                "(note_id bigint, note_nlp_id_1 bigint, note_nlp_id_2 bigint, relationship varchar)")
    if relations is not None:
        con.execute("insert into night_relations select note_id, note_nlp_id_1, note_nlp_id_2, relationship "
                    "from read_parquet($p)", {"p": relations})


def _load_quarantine(con, night) -> None:
    con.execute("delete from notenlp_quarantine where run_date = $d::date", {"d": night.run_date.isoformat()})
    root = night.settings.staging / "quarantine"
    for part in sorted(root.glob(f"stage=*/{night.key}")):
        if _has_rows(con, part):
            con.execute(
                "insert into notenlp_quarantine select $d::date, stage, record_key, reason, detail "
                "from read_parquet($p)", {"d": night.run_date.isoformat(), "p": _glob(part)})


def _load_phi_summary(con, night) -> None:
    con.execute("delete from notenlp_phi_summary where run_date = $d::date", {"d": night.run_date.isoformat()})
    part = night.part("deidentify", "_phi_summary")
    if _has_rows(con, part):
        con.execute("insert into notenlp_phi_summary select $d::date, phi_type, n from read_parquet($p)",
                    {"d": night.run_date.isoformat(), "p": _glob(part)})


def load_quarantine(night) -> None:
    """Put the night's quarantine rows into notenlp_quarantine: the load stage does it in its transaction; a
    failed stage does it here, so its rows are not only in staging."""
    _replace_night_rows(night, "notenlp_quarantine", lambda con: _load_quarantine(con, night))


def load_run_log(night) -> None:
    """Put the night's stage records into notenlp_run_log (after the load stage wrote its own, or when a stage
    failed: ``error`` holds its cause). A night that failed before recording its nlp_system has none."""
    _replace_night_rows(night, "notenlp_run_log", lambda con: _insert_run_log(con, night))


def _replace_night_rows(night, table: str, fill) -> None:
    """``fill(con)`` replaces the night's rows of ``table`` on a DuckDB connection: the warehouse's own, or on
    PostgreSQL a scratch copy whose rows then replace the night's in the results schema."""
    if night.settings.on_postgres:
        from notenlp.warehouse import postgres

        postgres.replace_night_rows(night, table, fill)
        return
    with connect(night.settings.warehouse) as con:
        ensure_schema(con)
        fill(con)


def _insert_run_log(con, night) -> None:
    records = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(night.meta_dir.glob("stage_*.json"))]
    system = night.nlp_system if (night.meta_dir / "nlp_system.txt").exists() else None
    con.execute("delete from notenlp_run_log where run_date = $d::date", {"d": night.run_date.isoformat()})
    for r in records:
        con.execute(
            "insert into notenlp_run_log (run_date, stage, started_at, finished_at, rows_in, rows_out, "
            "rows_quarantined, rows_skipped, nlp_system, error) "
            "values ($d::date, $stage, $s::timestamp, $f::timestamp, $i, $o, $q, $k, $n, $e)",
            {"d": night.run_date.isoformat(), "stage": r["stage"], "s": r["started_at"], "f": r["finished_at"],
             "i": r["rows_in"], "o": r["rows_out"], "q": r["rows_quarantined"], "k": r["rows_skipped"],
             "n": system, "e": r.get("error")})
