"""The embedded DuckDB warehouse: OMOP CDM 5.4 NOTE / NOTE_NLP, vocabulary and notenlp's own tables.

SQL lives in ``sql/ddl`` (one file per table group) and ``sql/etl`` (one ``insert_<table>.sql`` per
loaded table); this module only runs it. Stage outputs are read straight from Parquet by DuckDB,
so loading streams and needs no JDBC.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from notenlp.resources import data_dir

log = logging.getLogger(__name__)

SQL_DIR = data_dir("sql")
# vocabulary.sql belongs to notenlp.vocab.loader, which replaces those tables as a whole.
DDL_FILES = ("note.sql", "note_nlp.sql", "note_nlp_relation.sql", "fact_relationship.sql", "notenlp_operational.sql")
_PARAM = re.compile(r"\$([a-z_]+)")

# The vocabulary tables the load SQL reads (empty ones are made when no vocabulary is loaded).
LOAD_VOCABULARY_TABLES = ("concept", "domain", "relationship")
# The FACT_RELATIONSHIP rows between two NOTE_NLP rows of the night's notes: removed before those NOTE_NLP
# rows are replaced (FACT_RELATIONSHIP has no note_id; both ends of a row are mentions of one note).
DELETE_NOTE_FACT_RELATIONSHIPS = """
delete from {schema}fact_relationship
where domain_concept_id_1 = (
        select coalesce(max(domain_concept_id), 0) from {vocabulary}domain where domain_id = 'Note'
    )
    and domain_concept_id_2 = domain_concept_id_1
    and fact_id_1 in (select note_nlp_id from {schema}note_nlp where note_id in ({notes}))
"""


def connect(path: str | Path, *, read_only: bool = False):
    import duckdb

    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    con.execute("set enable_progress_bar = false")
    return con


def statements(sql: str) -> list[str]:
    """Split a SQL file into statements (our SQL files keep ';' out of strings and comments)."""
    body = "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


def run_sql_file(con, relative: str, params: Mapping[str, Any] | None = None) -> None:
    params = dict(params or {})
    for statement in statements((SQL_DIR / relative).read_text(encoding="utf-8")):
        used = {name: params[name] for name in set(_PARAM.findall(statement))}
        con.execute(statement, used) if used else con.execute(statement)


def ensure_schema(con) -> None:
    for name in DDL_FILES:
        if (SQL_DIR / "ddl" / name).exists():
            run_sql_file(con, f"ddl/{name}")


def table_count(con, table: str) -> int:
    return con.execute(f"select count(*) from {table}").fetchone()[0]
