"""``notenlp bench vocab``: load + compile time and peak memory on a full-size generated vocabulary.

Generates an Athena-format download (tab-separated, no quoting, YYYYMMDD dates) the size of a
full one (default 5M concepts, 10M synonyms, a 'Maps to'/'Mapped from' pair per non-standard
concept) with a realistic domain mix and RxNorm-style drug names, then times
``load_athena`` and ``compile_dictionary`` and reads the peak resident memory of the process
(``resource.getrusage`` of the process and of its compile workers; DuckDB runs in-process). Beside it, the baseline
measured in the same run: one plain DuckDB scan of the same files (the I/O floor).
Bar: load + compile < 15 minutes and < 8 GB.
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

BAR_SECONDS = 15 * 60
BAR_BYTES = 8 * 1024**3
# Share of concepts per domain, roughly as in a full Athena download with RxNorm Extension.
DOMAIN_MIX = (("Drug", 0.42), ("Condition", 0.12), ("Measurement", 0.10), ("Procedure", 0.10), ("Observation", 0.10),
              ("Device", 0.06), ("Spec Anatomic Site", 0.04), ("Geography", 0.03), ("Unit", 0.03))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--concepts", type=int, default=5_000_000, help="concepts to generate (default 5M)")
    parser.add_argument("--synonyms", type=int, default=10_000_000, help="synonyms to generate (default 10M)")
    parser.add_argument("--workdir", type=Path, default=None, help="where to write the files (default: a temp dir)")
    parser.add_argument("--no-mlflow", action="store_true", help="do not log the run to MLflow")


def _peak_rss_bytes() -> int:
    """Peak resident memory of this process or of its largest worker process (compile workers)."""
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return peak * (1 if sys.platform == "darwin" else 1024)


def _cpu_seconds() -> float:
    """CPU seconds of this process and its finished workers: on a shared machine, wall time alone
    says as much about the neighbours as about the compile."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def generate_athena(folder: Path, concepts: int, synonyms: int) -> None:
    """Write CONCEPT, CONCEPT_SYNONYM, CONCEPT_RELATIONSHIP and VOCABULARY with DuckDB (streamed)."""
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    bounds, cumulative = [], 0.0
    for domain, share in DOMAIN_MIX:
        cumulative += share
        bounds.append(f"WHEN (i % 1000) < {int(cumulative * 1000)} THEN '{domain}'")
    domain_case = "CASE " + " ".join(bounds) + " ELSE 'Observation' END"
    # Names from a 4,096-word synthetic lexicon: 2-6 words, drugs as RxNorm clinical drugs.
    con.execute("""SET VARIABLE lex = (SELECT list(
        chr((97 + i % 26)::INT) || chr((97 + (i // 26) % 26)::INT) || chr((97 + (i // 676) % 26)::INT) ||
        (['ine', 'itis', 'oma', 'osis', 'al', 'ic', 'ase', 'ol', 'emia', 'pathy'])[1 + i % 10] ORDER BY i)
        FROM range(4096) t(i))""")
    opts = "(HEADER, DELIMITER '\t', QUOTE '', ESCAPE '')"
    con.execute(f"""COPY (
        WITH c AS (SELECT i, {domain_case} AS domain_id, (hash(i) >> 1)::BIGINT AS h FROM range({concepts}) t(i))
        SELECT 1000000 + i AS concept_id,
               CASE WHEN domain_id = 'Drug' THEN
                    getvariable('lex')[1 + h % 4096] || ' ' || getvariable('lex')[1 + (h >> 12) % 4096]
                    || ' ' || ((h >> 24) % 1000 + 1) || ' MG ' ||
                    (['Oral Tablet', 'Oral Capsule', 'Injectable Solution', 'Topical Cream'])[1 + (h >> 34) % 4]
               ELSE array_to_string(list_transform(range(2 + (h % 5)::INT),
                    lambda x: getvariable('lex')[1 + (h >> (x * 12)) % 4096]), ' ') END AS concept_name,
               domain_id,
               CASE domain_id WHEN 'Drug' THEN 'RxNorm Extension' WHEN 'Measurement' THEN 'LOINC'
                    WHEN 'Condition' THEN 'SNOMED' ELSE 'SNOMED' END AS vocabulary_id,
               CASE domain_id WHEN 'Drug' THEN 'Clinical Drug' ELSE 'Clinical Finding' END AS concept_class_id,
               CASE WHEN i % 5 < 3 THEN 'S' ELSE '' END AS standard_concept,
               'C' || i AS concept_code, '19700101' AS valid_start_date, '20991231' AS valid_end_date,
               '' AS invalid_reason
        FROM c) TO '{folder / "CONCEPT.csv"}' {opts}""")
    con.execute(f"""COPY (
        SELECT 1000000 + (hash(i) % {concepts}) AS concept_id,
               array_to_string(list_transform(range(2 + (hash(i) % 4)::INT),
                   lambda x: getvariable('lex')[1 + (hash(i + x) % 4096)::BIGINT]), ' ') AS concept_synonym_name,
               4180186 AS language_concept_id
        FROM range({synonyms}) t(i)) TO '{folder / "CONCEPT_SYNONYM.csv"}' {opts}""")
    # Each non-standard concept maps to a standard one of its domain block (i - i % 5 is standard).
    con.execute(f"""COPY (
        SELECT * FROM (
            SELECT 1000000 + i AS concept_id_1, 1000000 + i - i % 5 AS concept_id_2, 'Maps to' AS relationship_id,
                   '19700101' AS valid_start_date, '20991231' AS valid_end_date, '' AS invalid_reason
            FROM range({concepts}) t(i) WHERE i % 5 >= 3
            UNION ALL
            SELECT 1000000 + i - i % 5, 1000000 + i, 'Mapped from', '19700101', '20991231', ''
            FROM range({concepts}) t(i) WHERE i % 5 >= 3)
        ) TO '{folder / "CONCEPT_RELATIONSHIP.csv"}' {opts}""")
    (folder / "VOCABULARY.csv").write_text(
        "vocabulary_id\tvocabulary_name\tvocabulary_reference\tvocabulary_version\tvocabulary_concept_id\n"
        "SNOMED\tSynthetic\tnotenlp bench\tbench\t0\n", encoding="utf-8")
    con.close()


def run(args: argparse.Namespace) -> int:
    import duckdb

    from notenlp.metrics import format_table
    from notenlp.vocab.dictionary import compile_dictionary
    from notenlp.vocab.loader import load_athena

    with tempfile.TemporaryDirectory(prefix="notenlp-bench-vocab-", dir=args.workdir) as tmp:
        folder = Path(tmp) / "athena"
        started = time.perf_counter()
        generate_athena(folder, args.concepts, args.synonyms)
        generate_s = time.perf_counter() - started
        size = sum(p.stat().st_size for p in folder.iterdir())
        print(f"generated {args.concepts:,} concepts, {args.synonyms:,} synonyms ({size / 1e9:.2f} GB) "
              f"in {generate_s:.0f}s")

        started = time.perf_counter()
        con = duckdb.connect()
        for name in ("CONCEPT", "CONCEPT_SYNONYM", "CONCEPT_RELATIONSHIP"):
            con.execute("SELECT count(*) FROM read_csv(?, delim='\t', header=true, quote='', escape='', "
                        "all_varchar=true)", [str(folder / f"{name}.csv")]).fetchone()
        con.close()
        scan_s = time.perf_counter() - started

        warehouse = Path(tmp) / "warehouse.duckdb"
        started, cpu = time.perf_counter(), _cpu_seconds()
        counts = load_athena(warehouse, folder)
        load_s, load_cpu = time.perf_counter() - started, _cpu_seconds() - cpu
        rss_after_load = _peak_rss_bytes()

        started, cpu = time.perf_counter(), _cpu_seconds()
        stats = compile_dictionary(warehouse, Path(tmp) / "dictionary.parquet")
        compile_s, compile_cpu = time.perf_counter() - started, _cpu_seconds() - cpu
        peak = _peak_rss_bytes()

    total = load_s + compile_s
    rows = [
        {"step": "baseline: scan files (I/O floor)", "seconds": scan_s, "cpu_seconds": "", "peak_rss_gb": ""},
        {"step": "load_athena", "seconds": load_s, "cpu_seconds": load_cpu, "peak_rss_gb": rss_after_load / 1024**3},
        {"step": "compile_dictionary", "seconds": compile_s, "cpu_seconds": compile_cpu,
         "peak_rss_gb": peak / 1024**3},
        {"step": "load + compile", "seconds": total, "cpu_seconds": load_cpu + compile_cpu,
         "peak_rss_gb": peak / 1024**3},
    ]
    print(format_table(rows, ["step", "seconds", "cpu_seconds", "peak_rss_gb"]))
    print(f"rows loaded: {counts}; dictionary: {stats}")
    within = total < BAR_SECONDS and peak < BAR_BYTES
    print(f"bar (< {BAR_SECONDS // 60} min, < {BAR_BYTES / 1024**3:.0f} GB): {'met' if within else 'NOT met'} "
          f"at {args.concepts:,} concepts / {args.synonyms:,} synonyms")
    if not args.no_mlflow:
        from notenlp.tracking import log_run

        log_run("bench-vocab", f"{args.concepts}-concepts", metrics={
            "generate_s": generate_s, "scan_baseline_s": scan_s, "load_s": load_s, "compile_s": compile_s,
            "load_compile_s": total, "load_compile_cpu_s": load_cpu + compile_cpu, "peak_rss_gb": peak / 1024**3, "dictionary_keys": stats["keys"],
            "dictionary_bytes": stats["bytes"]},
            params={"concepts": args.concepts, "synonyms": args.synonyms}, tables={"steps": rows})
    return 0 if within else 1
