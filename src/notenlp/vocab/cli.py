"""``notenlp vocab load|compile|info``: OMOP vocabularies into the warehouse, and the dictionary."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from notenlp.config import Settings

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--warehouse", type=Path, default=None, help="DuckDB warehouse (default: Settings().warehouse)")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    load = sub.add_parser("load", help="load an Athena download (or the shipped demo vocabulary) into the warehouse",
                          description="Load the vocabulary tables (replacing them) and print rows per table.")
    load.add_argument("--athena", type=Path, default=None,
                      help="folder of an Athena download (CONCEPT.csv, ...); default: the shipped demo vocabulary")
    load.add_argument("--no-icd10cm", action="store_true",
                      help="with the demo vocabulary, leave out ICD-10-CM from the simple-icd-10-cm package")
    compile_ = sub.add_parser("compile", help="compile the normalization dictionary from the warehouse vocabulary",
                              description="Compile the dictionary artifact and log it to MLflow.")
    compile_.add_argument("--out", type=Path, default=None,
                          help="artifact path (default: <home>/artifacts/vocab/dictionary.parquet)")
    compile_.add_argument("--no-mlflow", action="store_true", help="do not log the artifact to MLflow")
    info = sub.add_parser("info", help="rows per vocabulary table and concepts per vocabulary in the warehouse")
    info.add_argument("--top", type=int, default=20, help="vocabularies to list")


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env(warehouse=args.warehouse)
    warehouse = Path(settings.warehouse)
    if args.action == "load" and settings.on_postgres:
        return _load_postgres(args, settings)
    if args.action == "load":
        return _load(args, warehouse)
    if args.action == "compile":
        return _compile(args, settings, warehouse)
    if settings.on_postgres:
        return _info_postgres(args, settings)
    return _info(args, warehouse)


def _load(args: argparse.Namespace, warehouse: Path) -> int:
    from notenlp.vocab import loader

    if args.athena:
        counts = loader.load_athena(warehouse, args.athena)
    else:
        counts = loader.load_demo(warehouse, icd10cm=not args.no_icd10cm)
    print(f"vocabulary loaded into {warehouse}")
    for table, count in counts.items():
        print(f"  {table:24s} {count:>12,d}")
    return 0


def _load_postgres(args: argparse.Namespace, settings: Settings) -> int:
    """The same load into a scratch DuckDB file, then COPYed into the vocabulary schema in one transaction."""
    import tempfile

    from notenlp.warehouse import postgres

    postgres.ensure_schema(settings)
    settings.staging.mkdir(parents=True, exist_ok=True)  # an Athena download can outgrow /tmp
    with tempfile.TemporaryDirectory(dir=settings.staging) as tmp:
        scratch = Path(tmp) / "vocabulary.duckdb"
        _load(args, scratch)
        counts = postgres.load_vocabulary(settings, scratch)
    print(f"copied into PostgreSQL schema {settings.vocabulary_schema}: "
          + ", ".join(f"{table} {count:,d}" for table, count in counts.items()))
    return 0


def _compile(args: argparse.Namespace, settings: Settings, warehouse: Path) -> int:
    from notenlp.vocab import loader
    from notenlp.vocab.dictionary import compile_dictionary

    if settings.on_postgres:
        # The dictionary compiler reads DuckDB: the vocabulary schema's copy the night compiles from too
        # (made once per vocabulary state under staging/_vocabulary).
        from notenlp.warehouse import postgres

        if not postgres.has_vocabulary(settings):
            print(f"no vocabulary in PostgreSQL schema {settings.vocabulary_schema}: run `notenlp vocab load` first")
            return 1
        warehouse = postgres.vocabulary_snapshot(settings)
    elif not loader.has_vocabulary(warehouse):
        print(f"no vocabulary in {warehouse}: run `notenlp vocab load` first")
        return 1
    out = args.out or Path(settings.home) / "artifacts" / "vocab" / "dictionary.parquet"
    stats = compile_dictionary(warehouse, out)
    print(f"dictionary written to {out}")
    for name, value in stats.items():
        print(f"  {name:12s} {value:>12,d}")
    if not args.no_mlflow:
        _log_artifact(settings, out, stats)
    return 0


def _log_artifact(settings: Settings, path: Path, stats: dict[str, int]) -> None:
    from notenlp.tracking import configure_mlflow, ensure_experiment

    mlflow = configure_mlflow(settings)
    experiment_id = ensure_experiment("vocab-dictionary", settings)
    with mlflow.start_run(experiment_id=experiment_id, run_name="compile") as run:
        mlflow.log_params({"warehouse": _warehouse_name(settings), "artifact": path.name})
        mlflow.log_metrics({k: float(v) for k, v in stats.items()})
        mlflow.log_artifact(str(path), artifact_path="dictionary")
        print(f"  logged to MLflow run {run.info.run_id} (experiment vocab-dictionary)")


def _warehouse_name(settings: Settings) -> str:
    if settings.on_postgres:
        from notenlp.config import redacted_url

        return f"{redacted_url(settings.warehouse_url)} schema {settings.vocabulary_schema}"
    return str(settings.warehouse)


def _print_info(query, top: int, prefix: str = "") -> None:
    """Rows per vocabulary table and concepts per vocabulary; ``query(sql)`` returns the rows (the same SQL runs
    on DuckDB and PostgreSQL; ``prefix`` is the schema)."""
    from notenlp.vocab.loader import ATHENA_TABLES

    for table in ATHENA_TABLES:
        print(f"  {table:24s} {query(f'select count(*) from {prefix}{table}')[0][0]:>12,d}")
    rows = query("select vocabulary_id, count(*) as n, count(*) filter (where standard_concept = 'S') as standard "
                 f"from {prefix}concept group by 1 order by n desc, 1 limit {int(top)}")
    print("  vocabulary_id            concepts     standard")
    for vocabulary_id, n, standard in rows:
        print(f"  {vocabulary_id:20s} {n:>12,d} {standard:>12,d}")


def _info(args: argparse.Namespace, warehouse: Path) -> int:
    import duckdb

    from notenlp.vocab.loader import has_vocabulary

    if not has_vocabulary(warehouse):
        print(f"no vocabulary in {warehouse}")
        return 1
    with duckdb.connect(str(warehouse), read_only=True) as con:
        _print_info(lambda sql: con.execute(sql).fetchall(), args.top)
    return 0


def _info_postgres(args: argparse.Namespace, settings: Settings) -> int:
    """The same counts, asked of the vocabulary schema itself (nothing is copied)."""
    from notenlp.warehouse import postgres

    if not postgres.has_vocabulary(settings):
        print(f"no vocabulary in {_warehouse_name(settings)}")
        return 1
    with postgres.connect(settings) as con, con.cursor() as cur:
        def query(sql: str) -> list[tuple]:
            cur.execute(sql)
            return cur.fetchall()

        _print_info(query, args.top, f"{settings.vocabulary_schema}.")
    return 0
