"""The sealed PHI audit: what was replaced by what, in an owner-only DuckDB file outside the warehouse."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pandas as pd

from notenlp.schemas import PHI_AUDIT

log = logging.getLogger(__name__)

TABLE = "phi_audit"
COLUMNS = [part.strip().split(" ")[0] for part in PHI_AUDIT.split(",")]
_DUCKDB_TYPES = {"bigint": "BIGINT", "int": "INTEGER", "string": "VARCHAR"}


def create_table_sql() -> str:
    columns = []
    for part in PHI_AUDIT.split(","):
        name, spark_type = part.strip().split(" ")
        columns.append(f'"{name}" {_DUCKDB_TYPES[spark_type]}')
    return f"CREATE TABLE IF NOT EXISTS {TABLE} ({', '.join(columns)})"


def write_audit(audit_db: Path, rows: pd.DataFrame) -> int:
    """Replace the audit rows of every note_id in ``rows`` (idempotent per note); returns rows written."""
    import duckdb

    audit_db = Path(audit_db)
    missing = [c for c in COLUMNS if c not in rows.columns]
    if missing:
        raise ValueError(f"audit rows lack columns {missing}")
    audit_db.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(audit_db.parent, 0o700)
    old_umask = os.umask(0o077)
    try:
        frame = rows[COLUMNS].copy()
        con = duckdb.connect(str(audit_db))
        try:
            con.execute(create_table_sql())
            con.register("incoming", frame)
            con.execute("BEGIN TRANSACTION")
            con.execute(f"DELETE FROM {TABLE} WHERE note_id IN (SELECT DISTINCT note_id FROM incoming)")
            con.execute(f"INSERT INTO {TABLE} SELECT {', '.join(chr(34) + c + chr(34) for c in COLUMNS)} FROM incoming")
            con.execute("COMMIT")
            con.unregister("incoming")
        finally:
            con.close()
    finally:
        os.umask(old_umask)
    for path in [audit_db, *audit_db.parent.glob(audit_db.name + ".wal")]:
        if path.exists():
            os.chmod(path, 0o600)
    log.info("sealed audit: %d rows for %d notes", len(frame), frame["note_id"].nunique())
    return len(frame)


def audit_rows(note_id: int, person_id: int | None, text: str, result) -> list[dict]:
    """Audit rows of one de-identified note (``result`` is a DeidResult)."""
    return [{
        "note_id": note_id, "person_id": person_id, "start": span.start, "end": span.end,
        "phi_type": span.type, "phi_subtype": span.subtype, "detector": span.source,
        "original": text[span.start:span.end], "replacement": replacement,
        "date_shift_days": result.date_shift_days,
    } for span, replacement in zip(result.phi, result.replacements)]
