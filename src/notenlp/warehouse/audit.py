"""The sealed PHI audit: a separate, owner-only DuckDB file, never the analytics warehouse."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from notenlp.schemas import PHI_AUDIT

_COLUMNS = ", ".join(f"{name} {typ.replace('string', 'varchar')}" for name, typ in (c.split() for c in PHI_AUDIT.split(", ")))


def load_phi_audit(audit_db: Path, parquet_dir: Path, *, run_date: date) -> int:
    """Replace the audit rows of the notes in ``parquet_dir``; returns the number of rows loaded."""
    import duckdb

    audit_db.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(audit_db.parent, 0o700)
    files = list(parquet_dir.glob("*.parquet"))
    with duckdb.connect(str(audit_db)) as con:
        con.execute(f"create table if not exists phi_audit (run_date date, {_COLUMNS})")
        if not files:
            return 0
        source = f"read_parquet('{parquet_dir}/*.parquet')"
        con.execute(f"delete from phi_audit where note_id in (select note_id from {source})")
        con.execute(f"insert into phi_audit select $run_date::date, * from {source}", {"run_date": run_date.isoformat()})
        n = con.execute(f"select count(*) from {source}").fetchone()[0]
    os.chmod(audit_db, 0o600)
    return n
