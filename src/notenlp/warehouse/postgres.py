"""A site's PostgreSQL as the warehouse, chosen by ``NOTENLP_WAREHOUSE_URL`` (DuckDB stays the default).

The three schemas of an OHDSI site: NOTE is read from ``cdm_schema`` (the site's identified notes; only
ever read), NOTE_NLP, the de-identified NOTE copy and notenlp's own tables are written to
``results_schema``, the vocabulary is read from ``vocabulary_schema``. CDM tables notenlp creates are the
official OHDSI CDM 5.4 PostgreSQL DDL (``sql/ddl/postgresql``); notenlp's extension tables use the same
``sql/ddl`` files as DuckDB.

The rows themselves come from the very SQL the DuckDB warehouse runs (``sql/etl/insert_<table>.sql``),
executed on an in-memory DuckDB over the night's Parquet; PostgreSQL receives the result through COPY in
one transaction that first deletes the night's earlier rows. So both warehouses hold the same rows by
construction, a load is all-or-nothing, a rerun replaces instead of duplicating, and nothing is sent row
by row. Reads (concepts, the vocabulary, the incremental state, CDM notes) go the other way through
``COPY ... TO STDOUT`` into Parquet or DuckDB files.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from contextlib import contextmanager
from pathlib import Path

from notenlp.warehouse import SQL_DIR, statements

log = logging.getLogger(__name__)

PG_DDL = SQL_DIR / "ddl" / "postgresql"
# The official DDL's schema placeholder (OHDSI CommonDataModel renders it with SqlRender).
PLACEHOLDER = "@cdmDatabaseSchema"
# Tables load_night writes, in the order they are loaded; all live in the results schema.
RESULT_TABLES = ("note", "note_nlp", "note_nlp_relation", "fact_relationship", "notenlp_note_state",
                 "notenlp_quarantine", "notenlp_phi_summary")
# notenlp's 63-bit ids in the results schema's CDM tables (widen_note_ids.sql).
WIDE_IDS = {"note": ("note_id", "person_id", "visit_occurrence_id"), "note_nlp": ("note_id",)}
# DuckDB types of the official NOTE columns, for reading the site's NOTE into Parquet.
CDM_NOTE_COLUMNS = {
    "note_id": "bigint", "person_id": "bigint", "note_date": "date", "note_datetime": "timestamp",
    "note_type_concept_id": "integer", "note_class_concept_id": "integer", "note_title": "varchar",
    "note_text": "varchar", "encoding_concept_id": "integer", "language_concept_id": "integer",
    "provider_id": "integer", "visit_occurrence_id": "bigint", "visit_detail_id": "integer",
    "note_source_value": "varchar", "note_event_id": "bigint", "note_event_field_concept_id": "integer",
}
CDM_INPUT = "cdm://note"  # ingest input naming the site's NOTE table (``--source omop --input cdm://note``)


def libpq_url(url: str) -> str:
    """SQLAlchemy's ``postgresql+psycopg://`` spelled as libpq wants it."""
    return "postgresql://" + url.split("://", 1)[1]


def connect(settings):
    import psycopg

    return psycopg.connect(libpq_url(settings.warehouse_url), application_name="notenlp")


def _quoted(columns) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def _table_exists(cur, schema: str, table: str) -> bool:
    cur.execute("select to_regclass(%s) is not null", (f"{schema}.{table}",))
    return cur.fetchone()[0]


def _official_tables(relative: str, schema: str) -> dict[str, str]:
    """Each CREATE TABLE of an official DDL file, with the placeholder set to ``schema``, by table name."""
    out = {}
    for statement in statements((PG_DDL / relative).read_text(encoding="utf-8")):
        rendered = statement.replace(PLACEHOLDER, schema)
        name = rendered.split("(", 1)[0].split(".")[-1].strip().lower()
        out[name] = rendered
    return out


def ensure_schema(settings) -> None:
    """Create what is missing, never touch what a site already has (except widening notenlp's ids)."""
    results, vocab = settings.results_schema, settings.vocabulary_schema
    with connect(settings) as con, con.cursor() as cur:
        for schema in (results, vocab):
            cur.execute(f"create schema if not exists {schema}")
        for name, ddl in _official_tables("omop_cdm_5.4_note.sql", results).items():
            if not _table_exists(cur, results, name):
                cur.execute(ddl)
        _widen_ids(cur, results)
        _check_hashed_ids(cur, settings)
        cur.execute(f"set local search_path to {results}")
        for name in ("note_nlp_relation.sql", "notenlp_operational.sql"):  # same files as DuckDB
            for statement in statements((SQL_DIR / "ddl" / name).read_text(encoding="utf-8")):
                cur.execute(statement)
        for name, ddl in _official_tables("omop_cdm_5.4_vocabulary.sql", vocab).items():
            if not _table_exists(cur, vocab, name):
                cur.execute(ddl)


def _check_hashed_ids(cur, settings) -> None:
    """NOTENLP_NOTE_NLP_IDS=hash writes 63-bit ids: only into a site's bigint columns (the official DDL's are
    integer; notenlp never widens them on its own, since the dense default fits them)."""
    if settings.note_nlp_ids != "hash":
        return
    from notenlp.config import ConfigError

    cur.execute("select table_name || '.' || column_name from information_schema.columns where table_schema = %s "
                "and (table_name, column_name) in (('note_nlp', 'note_nlp_id'), ('fact_relationship', 'fact_id_1'), "
                "('fact_relationship', 'fact_id_2')) and data_type <> 'bigint'", (settings.results_schema,))
    narrow = sorted(f"{settings.results_schema}.{r[0]}" for r in cur.fetchall())
    if narrow:
        raise ConfigError(f"NOTENLP_NOTE_NLP_IDS=hash needs bigint columns, but {', '.join(narrow)} are integer: "
                          "keep the default 'dense' ids, or alter those columns")


def _widen_ids(cur, schema: str) -> None:
    cur.execute("select table_name, column_name from information_schema.columns where table_schema = %s "
                "and data_type = 'integer'", (schema,))
    narrow = {(t, c) for t, c in cur.fetchall()}
    if any((t, c) in narrow for t, cols in WIDE_IDS.items() for c in cols):
        log.info("widening notenlp's ids in %s.note and %s.note_nlp to bigint (sql/ddl/postgresql/widen_note_ids.sql)",
                 schema, schema)
        cur.execute(f"set local search_path to {schema}")
        for statement in statements((PG_DDL / "widen_note_ids.sql").read_text(encoding="utf-8")):
            cur.execute(statement)


# ------------------------------------------------------------------------------------------- bulk moves
def copy_in(cur, duck, query: str, table: str, columns: list[str], scratch: Path) -> int:
    """The rows of a DuckDB query into a PostgreSQL table through one COPY (CSV written by DuckDB)."""
    path = scratch / f"{table.replace('.', '_')}.csv"
    duck.execute(f"copy ({query}) to '{path}' (format csv, header false)")
    with cur.copy(f"copy {table} ({_quoted(columns)}) from stdin (format csv)") as copy, path.open("rb") as f:
        while chunk := f.read(1 << 20):
            copy.write(chunk)
    path.unlink()
    return cur.rowcount


def copy_out(cur, query: str, out: Path) -> Path:
    """A PostgreSQL query's rows into a CSV file (read back with ``read_copied``)."""
    with out.open("wb") as f, cur.copy(f"copy ({query}) to stdout (format csv)") as copy:
        for chunk in copy:
            f.write(chunk)
    return out


def read_copied(path: Path, columns: dict[str, str]) -> str:
    """A DuckDB relation over a ``copy_out`` file with exactly the given column types."""
    spec = ", ".join(f"'{name}': '{ctype}'" for name, ctype in columns.items())
    # PostgreSQL writes NULL unquoted and '' as "": quoted empties stay empty strings. No hive partitioning:
    # files under run_date=... folders must not gain a run_date column.
    return (f"read_csv('{path}', header = false, columns = {{{spec}}}, delim = ',', quote = '\"', "
            "escape = '\"', allow_quoted_nulls = false, auto_detect = false, hive_partitioning = false)")


def export_to_parquet(settings, query: str, columns: dict[str, str], out: Path) -> int:
    """A PostgreSQL query into one Parquet file; returns its row count."""
    import duckdb

    out.parent.mkdir(parents=True, exist_ok=True)
    with connect(settings) as con, con.cursor() as cur, tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        csv = copy_out(cur, query, Path(tmp) / "rows.csv")
        with duckdb.connect() as duck:
            duck.execute(f"copy (select * from {read_copied(csv, columns)}) to '{out}' (format parquet)")
            return duck.execute(f"select count(*) from read_parquet('{out}')").fetchone()[0]


# ------------------------------------------------------------------------------------------ vocabulary
def has_vocabulary(settings) -> bool:
    with connect(settings) as con, con.cursor() as cur:
        if not _table_exists(cur, settings.vocabulary_schema, "concept"):
            return False
        cur.execute(f"select exists (select 1 from {settings.vocabulary_schema}.concept)")
        return cur.fetchone()[0]


def load_vocabulary(settings, duckdb_path: Path) -> dict[str, int]:
    """Every vocabulary table of a DuckDB file (``notenlp vocab load`` output) into the vocabulary schema, in one
    transaction that replaces the schema's rows."""
    import duckdb

    from notenlp.vocab.loader import ddl_tables

    counts = {}
    with duckdb.connect(str(duckdb_path), read_only=True) as duck, connect(settings) as con, con.cursor() as cur, \
            tempfile.TemporaryDirectory() as tmp:
        present = {r[0] for r in duck.execute("select table_name from information_schema.tables").fetchall()}
        for table, columns in ddl_tables().items():
            if table not in present or not _table_exists(cur, settings.vocabulary_schema, table):
                continue
            target = f"{settings.vocabulary_schema}.{table}"
            cur.execute(f"delete from {target}")
            names = [c for c, _ in columns]
            copy_in(cur, duck, f"select {_quoted(names)} from {table}", target, names, Path(tmp))
            counts[table] = duck.execute(f"select count(*) from {table}").fetchone()[0]
    return counts


def ensure_vocabulary(settings) -> None:
    """The bundled demo vocabulary into an empty vocabulary schema (the DuckDB warehouse does the same)."""
    if has_vocabulary(settings):
        return
    from notenlp.vocab.loader import load_demo

    log.info("no vocabulary in %s: loading the bundled demo vocabulary", settings.vocabulary_schema)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vocabulary.duckdb"
        load_demo(path)
        load_vocabulary(settings, path)


def _vocabulary_state(cur, schema: str) -> str:
    """Cheap fingerprint of the vocabulary schema: row counts and the vocabularies' versions."""
    parts = []
    for table in ("concept", "concept_synonym", "concept_relationship", "concept_ancestor", "drug_strength"):
        cur.execute(f"select count(*) from {schema}.{table}")
        parts.append(cur.fetchone()[0])
    cur.execute(f"select string_agg(vocabulary_id || ':' || coalesce(vocabulary_version, ''), ',' "
                f"order by vocabulary_id) from {schema}.vocabulary")
    parts.append(cur.fetchone()[0])
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def vocabulary_snapshot(settings) -> Path:
    """The vocabulary schema as a DuckDB file (what the dictionary compiler and concept checks read), made
    once per vocabulary state under ``staging/_vocabulary``."""
    import duckdb

    from notenlp.vocab.loader import ddl_tables

    folder = settings.staging / "_vocabulary"
    folder.mkdir(parents=True, exist_ok=True)
    with connect(settings) as con, con.cursor() as cur:
        out = folder / f"vocabulary-{_vocabulary_state(cur, settings.vocabulary_schema)}.duckdb"
        if out.exists():
            return out
        log.info("copying the vocabulary schema %s into %s", settings.vocabulary_schema, out)
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            partial = Path(tmp) / out.name
            with duckdb.connect(str(partial)) as duck:
                for table, columns in ddl_tables().items():
                    types = dict(columns)
                    cols = ", ".join(f"{n} {t}" for n, t in columns)
                    duck.execute(f"create table {table} ({cols})")
                    if not _table_exists(cur, settings.vocabulary_schema, table):
                        continue
                    csv = copy_out(cur, f"select {_quoted(types)} from {settings.vocabulary_schema}.{table}",
                                   Path(tmp) / f"{table}.csv")
                    duck.execute(f"insert into {table} select * from {read_copied(csv, types)}")
                    csv.unlink()
            partial.rename(out)
    return out


def export_concepts(settings, out: Path) -> None:
    """concept_id, domain_id, standard_concept, invalid_reason of every concept, as Parquet (for Spark)."""
    export_to_parquet(
        settings, f"select concept_id, domain_id, standard_concept, invalid_reason from "
                  f"{settings.vocabulary_schema}.concept",
        {"concept_id": "integer", "domain_id": "varchar", "standard_concept": "varchar", "invalid_reason": "varchar"},
        out)


# -------------------------------------------------------------------------------------- night's state
def export_note_state(settings, nlp_system: str, run_date, out: Path) -> int:
    """(note_id, text_hash) processed by ``nlp_system`` before ``run_date``, as Parquet; returns the count."""
    import psycopg.sql as pgsql

    query = pgsql.SQL("select note_id, text_hash from {}.notenlp_note_state where nlp_system = {} "
                      "and run_date < {}").format(pgsql.Identifier(settings.results_schema),
                                                  pgsql.Literal(nlp_system), pgsql.Literal(run_date))
    with connect(settings) as con:
        rendered = query.as_string(con)
    return export_to_parquet(settings, rendered, {"note_id": "bigint", "text_hash": "varchar"}, out)


def last_night_system(settings) -> tuple | None:
    """(run date, nlp_system) of the latest night in the incremental state, or None before any night."""
    results = settings.results_schema
    with connect(settings) as con, con.cursor() as cur:
        if not _table_exists(cur, results, "notenlp_note_state"):
            return None
        cur.execute(f"select run_date, nlp_system from {results}.notenlp_note_state order by run_date desc limit 1")
        return cur.fetchone()


def export_cdm_notes(settings, out: Path) -> Path:
    """The site's NOTE table (identified text: ``out`` must be in the sealed area) as Parquet for ingest."""
    n = export_to_parquet(settings, f"select {_quoted(CDM_NOTE_COLUMNS)} from {settings.cdm_schema}.note",
                          CDM_NOTE_COLUMNS, out / "note.parquet")
    log.info("read %d notes from %s.note", n, settings.cdm_schema)
    return out


# ------------------------------------------------------------------------------------ nights, for reading
# The column that dates a results table's rows (a night's NOTE_NLP rows carry it as nlp_date).
NIGHT_COLUMN = {"note_nlp": "nlp_date", "note_nlp_relation": "nlp_date"}


def night_dates(settings) -> list:
    """Every night the results schema holds (from the run log and NOTE_NLP), oldest first; [] before any."""
    results = settings.results_schema
    with connect(settings) as con, con.cursor() as cur:
        if not all(_table_exists(cur, results, t) for t in ("notenlp_run_log", "note_nlp")):
            return []
        cur.execute(f"select run_date from {results}.notenlp_run_log union "
                    f"select nlp_date from {results}.note_nlp order by 1")
        return [row[0] for row in cur.fetchall()]


def _duckdb_types() -> dict[str, dict[str, str]]:
    """{table: {column: DuckDB type}} of the DuckDB warehouse's tables and CONCEPT (one definition: sql/ddl)."""
    import duckdb

    from notenlp.vocab.loader import ensure_concept_table
    from notenlp.warehouse import ensure_schema as ensure_duckdb_schema

    with duckdb.connect() as duck:
        ensure_duckdb_schema(duck)
        ensure_concept_table(duck)
        rows = duck.execute("select table_name, column_name, data_type from information_schema.columns "
                            "order by table_name, ordinal_position").fetchall()
    types: dict[str, dict[str, str]] = {}
    for table, column, ctype in rows:
        types.setdefault(table, {})[column] = ctype
    return types


@contextmanager
def nights_in_duckdb(settings, reads: dict[str, tuple[str, ...] | None], nights):
    """An in-memory DuckDB holding, of each results table in ``reads``, the rows of ``nights`` (the named
    columns, or all when None), and of ``concept`` (when read) the concepts those NOTE_NLP rows name, with
    the DuckDB warehouse's types: so SQL written for the DuckDB warehouse (the data-quality report) runs
    unchanged on a PostgreSQL warehouse, reading only the nights it shows."""
    import duckdb
    import psycopg.sql as pgsql

    types = _duckdb_types()
    results, vocab = settings.results_schema, settings.vocabulary_schema
    duck = duckdb.connect()
    try:
        duck.execute("set enable_progress_bar = false")
        with connect(settings) as con, con.cursor() as cur, tempfile.TemporaryDirectory() as tmp:
            dates = pgsql.SQL(", ").join(pgsql.Literal(d) for d in nights).as_string(con) if nights else "null"
            for table, wanted in reads.items():
                columns = {c: types[table][c] for c in (wanted or types[table])}
                schema = vocab if table == "concept" else results
                if not _table_exists(cur, schema, table):  # the report says which table is missing
                    continue
                if table == "concept":
                    where = (f"concept_id in (select note_nlp_concept_id from {results}.note_nlp "
                             f"where nlp_date in ({dates}))")
                else:
                    where = f"{NIGHT_COLUMN.get(table, 'run_date')} in ({dates})"
                csv = copy_out(cur, f"select {_quoted(columns)} from {schema}.{table} where {where}",
                               Path(tmp) / "rows.csv")
                duck.execute(f"create table {table} as select * from {read_copied(csv, columns)}")
        yield duck
    finally:
        duck.close()


# ------------------------------------------------------------------------------------------------ load
# The vocabulary rows the night's insert SQL reads (columns, filter): LOINC note classes, UCUM units and routes
# (insert_note.sql, insert_note_nlp.sql), the Note domain and the relationships (insert_fact_relationship.sql).
_LOAD_VOCABULARY_ROWS = {
    "concept": ({"concept_id": "integer", "concept_code": "varchar", "vocabulary_id": "varchar",
                 "domain_id": "varchar", "standard_concept": "varchar", "invalid_reason": "varchar"},
                "vocabulary_id in ('LOINC', 'UCUM') or domain_id = 'Route'"),
    "domain": ({"domain_id": "varchar", "domain_concept_id": "integer"}, "domain_id = 'Note'"),
    "relationship": ({"relationship_id": "varchar", "relationship_concept_id": "integer"}, "true"),
}


@contextmanager
def _scratch(night):
    """An in-memory DuckDB with the warehouse's tables and the vocabulary rows the load reads, in which the
    night's insert SQL runs exactly as it does against the DuckDB warehouse."""
    import duckdb

    from notenlp.vocab.loader import ensure_concept_table, ensure_vocabulary_tables
    from notenlp.warehouse import ensure_schema as ensure_duckdb_schema
    from notenlp.warehouse import LOAD_VOCABULARY_TABLES

    work = night.work_dir("load")
    work.mkdir(parents=True, exist_ok=True)
    duck = duckdb.connect()
    try:
        duck.execute("set enable_progress_bar = false")
        ensure_duckdb_schema(duck)
        ensure_concept_table(duck)
        ensure_vocabulary_tables(duck, LOAD_VOCABULARY_TABLES)
        with connect(night.settings) as con, con.cursor() as cur:
            for table, (columns, where) in _LOAD_VOCABULARY_ROWS.items():
                csv = copy_out(cur, f"select {_quoted(columns)} from {night.settings.vocabulary_schema}.{table} "
                                    f"where {where}", work / f"{table}.csv")
                duck.execute(f"insert into {table} by name select * from {read_copied(csv, columns)}")
        yield duck, work
    finally:
        duck.close()
        import shutil

        shutil.rmtree(work, ignore_errors=True)


def _columns(duck, table: str) -> list[str]:
    return [r[0] for r in duck.execute(f"describe {table}").fetchall()]


def _known_note_nlp_keys(night, duck, work: Path) -> int:
    """Put the keys of tonight's mentions that already have a note_nlp_id into the scratch key table, plus a
    row (key -1, which no hash takes) holding the last id issued unless a known key holds it, so that
    insert_note_nlp.sql hands out ids after it; returns that last id. Only tonight's keys travel, not every
    key ever issued."""
    entities = night.part("validate", "note_nlp")
    if not entities.exists() or not any(entities.glob("*.parquet")):
        return 0
    results = night.settings.results_schema
    columns = {"note_nlp_key": "bigint", "note_nlp_id": "bigint"}
    with connect(night.settings) as con, con.transaction(), con.cursor() as cur:
        cur.execute("create temp table night_keys (note_nlp_key bigint primary key) on commit drop")
        copy_in(cur, duck, f"select distinct note_nlp_id from read_parquet('{entities}/*.parquet')", "night_keys",
                ["note_nlp_key"], work)
        csv = copy_out(cur, f"select k.note_nlp_key, k.note_nlp_id from {results}.notenlp_note_nlp_key k "
                            "join night_keys using (note_nlp_key)", work / "known_keys.csv")
        cur.execute(f"select coalesce(max(note_nlp_id), 0) from {results}.notenlp_note_nlp_key")
        issued = cur.fetchone()[0]
    duck.execute(f"insert into notenlp_note_nlp_key select * from {read_copied(csv, columns)}")
    # the last id issued may be one of tonight's own keys (a rerun): then it is in the table already
    duck.execute("insert into notenlp_note_nlp_key select -1, $issued where $issued > 0 and not exists "
                 "(select 1 from notenlp_note_nlp_key where note_nlp_id = $issued)", {"issued": issued})
    return issued


def load_night(night, transform) -> None:
    """``transform(duck)`` fills the scratch tables from the night's Parquet (``load._transform``); then one
    PostgreSQL transaction deletes the night's earlier rows and COPYs the scratch rows in."""
    from notenlp.warehouse import DELETE_NOTE_FACT_RELATIONSHIPS

    settings = night.settings
    results = settings.results_schema
    with _scratch(night) as (duck, work):
        issued = _known_note_nlp_keys(night, duck, work)
        notes = transform(duck)
        with connect(settings) as con, con.transaction(), con.cursor() as cur:
            copy_in(cur, duck, f"select note_nlp_key, note_nlp_id from notenlp_note_nlp_key where note_nlp_id > {issued}",
                    f"{results}.notenlp_note_nlp_key", ["note_nlp_key", "note_nlp_id"], work)
            if notes is not None:  # the night's notes replace every earlier row of the same notes
                cur.execute("create temp table night_notes (note_id bigint primary key) on commit drop")
                copy_in(cur, duck, f"select distinct note_id from read_parquet('{notes}')", "night_notes",
                        ["note_id"], work)
                cur.execute(DELETE_NOTE_FACT_RELATIONSHIPS.format(
                    schema=f"{results}.", vocabulary=f"{settings.vocabulary_schema}.",
                    notes="select note_id from night_notes"))
                for table in ("note", "note_nlp", "note_nlp_relation", "notenlp_note_state"):
                    cur.execute(f"delete from {results}.{table} where note_id in (select note_id from night_notes)")
            for table in ("notenlp_quarantine", "notenlp_phi_summary"):
                cur.execute(f"delete from {results}.{table} where run_date = %s", (night.run_date,))
            for table in RESULT_TABLES:
                columns = _columns(duck, table)
                n = copy_in(cur, duck, f"select {_quoted(columns)} from {table}", f"{results}.{table}", columns,
                            work)
                log.debug("copied %d rows into %s.%s", n, results, table)


def replace_night_rows(night, table: str, transform) -> None:
    """Replace the night's rows of ``table`` (one with a run_date; ``transform(duck)`` writes them into the
    scratch table) in one transaction."""
    results = night.settings.results_schema
    with _scratch(night) as (duck, work):
        transform(duck)
        columns = _columns(duck, table)
        with connect(night.settings) as con, con.transaction(), con.cursor() as cur:
            cur.execute(f"delete from {results}.{table} where run_date = %s", (night.run_date,))
            copy_in(cur, duck, f"select {_quoted(columns)} from {table}", f"{results}.{table}", columns, work)
