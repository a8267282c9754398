"""Load an OHDSI Athena vocabulary download into the DuckDB warehouse.

Athena files are tab-separated with a header row, no quoting at all (names may hold ``"``)
and dates as ``YYYYMMDD``. Each table is streamed by DuckDB's ``read_csv`` with the column
types of the OMOP CDM 5.4 DDL (``sql/ddl/vocabulary.sql``) and replaced as a whole, so a
reload is idempotent. Files may be gzipped (``CONCEPT.csv.gz``), as the shipped demo is.

ICD-10-CM source concepts (``load_icd10cm``) come from the installed ``simple-icd-10-cm``
package: concept ids are local (``ICD10CM_CONCEPT_ID_BASE`` + position of the code in the
package's sorted code list, i.e. > 2,000,000,000 as OMOP reserves for local concepts), and a
'Maps to' row to a standard SNOMED concept exists only where the code's description and the
SNOMED concept's name have the same normalized key (``notenlp.vocab.text.key``: case,
punctuation, plural) after dropping parenthesised qualifiers, and that key names exactly one
standard Condition/Observation concept. No other mapping is guessed.
"""

from __future__ import annotations

import logging
import re
import time
from datetime import date
from pathlib import Path

from notenlp.resources import data_dir, resource_path
from notenlp.vocab import text

log = logging.getLogger(__name__)

DDL_PATH = data_dir("sql") / "ddl" / "vocabulary.sql"
DEMO_VOCAB_DIR = resource_path("demo_vocab")
# Tables of an Athena download, in load order.
ATHENA_TABLES = (
    "concept", "concept_synonym", "concept_relationship", "concept_ancestor", "vocabulary",
    "domain", "concept_class", "relationship", "drug_strength",
)
ICD10CM_CONCEPT_ID_BASE = 2_000_000_000
_CREATE_RE = re.compile(r"CREATE TABLE (\w+) \((.*?)\);", re.S)
_COLUMN_RE = re.compile(r"^\s*(\w+)\s+([\w() ,]+?)\s+(NOT NULL|NULL)\s*,?\s*$")


def ddl_tables() -> dict[str, list[tuple[str, str]]]:
    """Column names and DuckDB types of every vocabulary table, read from the DDL file."""
    tables: dict[str, list[tuple[str, str]]] = {}
    for name, body in _CREATE_RE.findall(DDL_PATH.read_text(encoding="utf-8")):
        columns = []
        for line in body.splitlines():
            match = _COLUMN_RE.match(line)
            if match:
                columns.append((match.group(1), match.group(2).strip()))
        tables[name] = columns
    return tables


def _connect(con_or_path):
    import duckdb

    if isinstance(con_or_path, (str, Path)):
        Path(con_or_path).parent.mkdir(parents=True, exist_ok=True)
        return duckdb.connect(str(con_or_path)), True
    return con_or_path, False


def _create(con, table: str, columns: list[tuple[str, str]]) -> None:
    con.execute(f"DROP TABLE IF EXISTS {table}")
    cols = ", ".join(f"{name} {ctype}" for name, ctype in columns)
    con.execute(f"CREATE TABLE {table} ({cols})")


def ensure_concept_table(con) -> None:
    """An empty CDM ``concept`` table when no vocabulary is loaded, so that SQL joining it finds no
    concept (and writes 0) instead of failing; loading a vocabulary replaces it."""
    cols = ", ".join(f"{name} {ctype}" for name, ctype in ddl_tables()["concept"])
    con.execute(f"CREATE TABLE IF NOT EXISTS concept ({cols})")


def ensure_vocabulary_tables(con, tables) -> None:
    """Empty CDM vocabulary ``tables`` where they are missing (see ``ensure_concept_table``)."""
    columns = ddl_tables()
    for table in tables:
        cols = ", ".join(f"{name} {ctype}" for name, ctype in columns[table])
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({cols})")


def _athena_file(athena_dir: Path, table: str) -> Path | None:
    for candidate in (f"{table.upper()}.csv", f"{table.upper()}.csv.gz", f"{table}.csv", f"{table}.csv.gz"):
        path = athena_dir / candidate
        if path.exists():
            return path
    return None


def load_athena(con_or_path, athena_dir: str | Path, *, tables: tuple[str, ...] = ATHENA_TABLES) -> dict[str, int]:
    """Replace the vocabulary tables with an Athena download; returns rows per table.

    A table whose file is absent is created empty (Athena leaves out e.g. DRUG_STRENGTH when
    no drug vocabulary was chosen). A folder without a CONCEPT file, or whose CONCEPT file holds no
    row, is refused (``ConfigError``) before any table is replaced: the concept table is loaded
    first, and rolled back when empty, so a wrong folder never wipes a loaded vocabulary.
    """
    from notenlp.config import ConfigError

    athena_dir = Path(athena_dir)
    if not athena_dir.is_dir():
        raise ConfigError(f"Athena folder {athena_dir} does not exist")
    if "concept" in tables and _athena_file(athena_dir, "concept") is None:
        raise ConfigError(f"Athena folder {athena_dir} has no CONCEPT.csv (or CONCEPT.csv.gz): pass the folder "
                          "of an unzipped Athena download; the vocabulary in the warehouse is unchanged")
    con, owned = _connect(con_or_path)
    schema = ddl_tables()
    counts: dict[str, int] = {}
    try:
        for table in tables:
            columns = schema[table]
            started = time.perf_counter()
            con.execute("BEGIN TRANSACTION")
            _create(con, table, columns)
            path = _athena_file(athena_dir, table)
            if path is not None:
                types = ", ".join(f"'{name}': '{ctype}'" for name, ctype in columns)
                con.execute(
                    f"INSERT INTO {table} SELECT * FROM read_csv(?, delim='\t', header=true, quote='', escape='', "
                    f"auto_detect=false, columns={{{types}}}, dateformat='%Y%m%d', strict_mode=false)",
                    [str(path)],
                )
            counts[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            if table == "concept" and not counts[table]:
                con.execute("ROLLBACK")
                raise ConfigError(f"{path} holds no concept row: the vocabulary in the warehouse is unchanged")
            con.execute("COMMIT")
            log.info("loaded %s: %d rows in %.1fs%s", table, counts[table], time.perf_counter() - started,
                     "" if path else " (no file, left empty)")
    finally:
        if owned:
            con.close()
    return counts


def _icd10cm_class(code: str, is_leaf: bool) -> str:
    digits = len(code.replace(".", ""))
    return f"{digits}-char {'billing' if is_leaf else 'nonbill'} code"


def _icd10cm_domain(code: str) -> str:
    # Chapters V-Z are external causes and factors influencing health status, not conditions.
    return "Observation" if code[0] in "VWXYZ" else "Condition"


def load_icd10cm(con_or_path) -> dict[str, int]:
    """Add ICD-10-CM source concepts (and the honest 'Maps to' rows) to a loaded vocabulary."""
    import simple_icd_10_cm as icd

    con, owned = _connect(con_or_path)
    try:
        codes = sorted(c for c in icd.get_all_codes(with_dots=True) if icd.is_category(c) or icd.is_subcategory(c))
        snomed = con.execute(
            "SELECT concept_id, concept_name FROM concept WHERE vocabulary_id = 'SNOMED' AND standard_concept = 'S' "
            "AND domain_id IN ('Condition', 'Observation') AND invalid_reason IS NULL"
        ).fetchall()
        by_key: dict[str, list[int]] = {}
        for concept_id, name in snomed:
            by_key.setdefault(text.key(name), []).append(concept_id)
        today = date(1970, 1, 1)
        end = date(2099, 12, 31)
        concepts, maps = [], []
        for position, code in enumerate(codes, 1):
            concept_id = ICD10CM_CONCEPT_ID_BASE + position
            description = icd.get_description(code)
            concepts.append((concept_id, description[:255], _icd10cm_domain(code), "ICD10CM",
                             _icd10cm_class(code, icd.is_leaf(code)), None, code, today, end, None))
            for name in dict.fromkeys([description, re.sub(r"\s*\([^)]*\)", "", description)]):
                targets = by_key.get(text.key(name), [])
                if len(targets) == 1:
                    maps.append((concept_id, targets[0], "Maps to", today, end, None))
                    maps.append((targets[0], concept_id, "Mapped from", today, end, None))
                    break
        con.execute("BEGIN TRANSACTION")
        con.execute("DELETE FROM concept_relationship WHERE concept_id_1 > ? OR concept_id_2 > ?",
                    [ICD10CM_CONCEPT_ID_BASE, ICD10CM_CONCEPT_ID_BASE])
        con.execute("DELETE FROM concept WHERE concept_id > ?", [ICD10CM_CONCEPT_ID_BASE])
        _insert_rows(con, "concept", concepts)
        _insert_rows(con, "concept_relationship", maps)
        con.execute("DELETE FROM vocabulary WHERE vocabulary_id = 'ICD10CM'")
        con.execute("INSERT INTO vocabulary VALUES ('ICD10CM', 'ICD-10-CM (simple-icd-10-cm package)', "
                    "'https://pypi.org/project/simple-icd-10-cm/', ?, 0)", [_icd_version()])
        con.execute("COMMIT")
        log.info("loaded ICD10CM: %d concepts, %d 'Maps to' by exact normalized name", len(concepts), len(maps) // 2)
        return {"icd10cm_concepts": len(concepts), "icd10cm_maps_to": len(maps) // 2}
    finally:
        if owned:
            con.close()


def _insert_rows(con, table: str, rows: list[tuple]) -> None:
    """Bulk insert through Arrow (DuckDB's executemany goes row by row)."""
    if not rows:
        return
    import pyarrow as pa

    columns = [name for name, _ in ddl_tables()[table]]
    batch = pa.table({name: [row[i] for row in rows] for i, name in enumerate(columns)})
    con.register("_rows", batch)
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM _rows")
    finally:
        con.unregister("_rows")


def _icd_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"simple-icd-10-cm {version('simple-icd-10-cm')}"
    except PackageNotFoundError:
        return "simple-icd-10-cm"


def load_demo(con_or_path, *, icd10cm: bool = True) -> dict[str, int]:
    """The shipped demo vocabulary (from the Synthea27Nj OMOP CDM) plus ICD-10-CM."""
    con, owned = _connect(con_or_path)
    try:
        counts = load_athena(con, DEMO_VOCAB_DIR)
        if icd10cm:
            counts.update(load_icd10cm(con))
        return counts
    finally:
        if owned:
            con.close()


def loaded_vocabulary_warehouse() -> Path | None:
    """The run's warehouse when it holds a loaded vocabulary, else None (callers use the demo vocabulary).

    A warehouse that cannot be read (a writer holds its lock) counts as none, so that annotators
    fall back to the demo vocabulary rather than fail."""
    from notenlp.config import Settings

    warehouse = Path(Settings.from_env().warehouse)
    try:
        return warehouse if _has_vocabulary_remembered(warehouse) else None
    except Exception as exc:
        log.warning("cannot read the vocabulary in the warehouse (%s); using the demo vocabulary", type(exc).__name__)
        return None


def _has_vocabulary_remembered(warehouse: Path) -> bool:
    """``has_vocabulary`` of a warehouse file, remembered per file state (``notenlp.cache.file_state``): each
    ``notenlp annotate`` start asked, and answering imported DuckDB and opened the warehouse (twice)."""
    if not warehouse.exists():
        return False
    from notenlp import cache

    return cache.cached("warehouse-state", f"has-vocabulary-{cache.content_key(cache.file_state(warehouse))}",
                        lambda: has_vocabulary(warehouse))


def has_vocabulary(con_or_path) -> bool:
    """True when the warehouse holds a non-empty concept table."""
    path = Path(con_or_path) if isinstance(con_or_path, (str, Path)) else None
    if path is not None and not path.exists():
        return False
    import duckdb

    con = duckdb.connect(str(path), read_only=True) if path else con_or_path
    try:
        exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'concept'").fetchone()[0]
        return bool(exists) and con.execute("SELECT count(*) FROM concept").fetchone()[0] > 0
    except duckdb.Error:
        return False
    finally:
        if path:
            con.close()
