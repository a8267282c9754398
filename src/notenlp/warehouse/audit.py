"""Load a night's PHI audit rows from the sealed staging Parquet into the sealed audit DuckDB.

The table and its permissions are those of ``notenlp.deid.audit``; this loader streams Parquet
with DuckDB instead of going through pandas, so a night of millions of PHI spans stays bounded.
"""

from __future__ import annotations

import os
from pathlib import Path

from notenlp.deid.audit import COLUMNS, TABLE, create_table_sql


def load_phi_audit(audit_db: Path, parquet_dir: Path) -> int:
    """Replace the audit rows of the notes in ``parquet_dir``; returns the number of rows loaded."""
    import duckdb

    audit_db.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(audit_db.parent, 0o700)
    if not any(parquet_dir.glob("*.parquet")):
        return 0
    source = f"read_parquet('{parquet_dir}/*.parquet')"
    columns = ", ".join(f'"{c}"' for c in COLUMNS)
    old_umask = os.umask(0o077)
    try:
        with duckdb.connect(str(audit_db)) as con:
            con.execute(create_table_sql())
            con.execute("begin transaction")
            con.execute(f"delete from {TABLE} where note_id in (select note_id from {source})")
            con.execute(f"insert into {TABLE} select {columns} from {source}")
            con.execute("commit")
            n = con.execute(f"select count(*) from {source}").fetchone()[0]
    finally:
        os.umask(old_umask)
    os.chmod(audit_db, 0o600)
    return n
