"""``notenlp nightly``: one night end to end (ingest -> deidentify -> annotate -> normalize -> validate -> load
-> refresh_cohorts).

``--demo`` first writes the bundled synthetic demo notes (when missing) and runs on them, so a fresh
clone shows NOTE_NLP rows in ``warehouse/notenlp.duckdb`` with one command.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from datetime import date
from pathlib import Path

from notenlp.stages.cli import add_allow_shipped_models, settings_from

log = logging.getLogger(__name__)
DEMO_NOTES = 300
DEMO_SEED = 7


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--demo", action="store_true",
                        help=f"generate {DEMO_NOTES} synthetic demo notes into demo/ (if absent) and process them")
    parser.add_argument("--demo-notes", type=int, default=DEMO_NOTES, help="how many demo notes to generate")
    parser.add_argument("--source", choices=("mimic3", "mimic4", "omop", "jsonl"), default="mimic3",
                        help="input format (default: mimic3)")
    parser.add_argument("--input", help="input path: MIMIC-III NOTEEVENTS.csv(.gz), MIMIC-IV discharge.csv(.gz), "
                        "OMOP NOTE Parquet (or cdm://note: the NOTE table of NOTENLP_CDM_SCHEMA in the PostgreSQL "
                        "warehouse), or JSONL")
    parser.add_argument("--run-date", type=date.fromisoformat, default=date.today(),
                        help="the night to process, YYYY-MM-DD (default: today)")
    parser.add_argument("--sparknlp-input", help="Parquet with Spark NLP annotation columns to normalize and load")
    parser.add_argument("--home", help="folder holding warehouse/, staging/, sealed/, mlruns/ (default: .)")
    parser.add_argument("--master", help="Spark master (default local[*])")
    parser.add_argument("--report", action=argparse.BooleanOptionalAction, default=True,
                        help="write the night's data-quality report (default: yes)")
    parser.add_argument("--register-models", action=argparse.BooleanOptionalAction, default=None,
                        help="before the night, evaluate, register and promote every catalog model that has no "
                        "champion yet, so the night runs on models:/<name>@champion (default: yes with --demo)")
    add_allow_shipped_models(parser)


def register_missing_champions(settings) -> None:
    """Evaluate, register and promote each catalog model without a champion (a fresh store's first night)."""
    from notenlp.lifecycle import steps
    from notenlp.lifecycle.catalog import load_catalog
    from notenlp.lifecycle.registry import current_champion

    for name in load_catalog():
        if current_champion(name, settings=settings) is not None:
            continue
        try:
            version = steps.register(name, steps.evaluate(name, settings=settings), settings=settings)
            decision = steps.promote(name, version, settings=settings)
        except Exception as exc:  # the class name only: a failed registration must not stop the night
            log.warning("model %s was not registered (%s); the night uses the shipped files", name,
                        type(exc).__name__)
            continue
        log.info("model %s v%s: %s", name, version, decision.reason)


def run(args: argparse.Namespace) -> int:
    from notenlp.stages.runner import run_night

    settings = settings_from(args)
    source, input_path = args.source, args.input
    if args.demo:
        from notenlp.demo.generator import write_demo

        demo_dir = settings.home / "demo"
        csv = demo_dir / "NOTEEVENTS.csv.gz"
        if not csv.exists():
            log.info("writing %d demo notes to %s", args.demo_notes, demo_dir)
            write_demo(demo_dir, args.demo_notes, DEMO_SEED)
        source, input_path = "mimic3", str(csv)
    if not input_path:
        raise SystemExit("notenlp nightly needs --input PATH (or --demo)")
    if args.register_models if args.register_models is not None else args.demo:
        from notenlp.preflight import bound_mlflow_requests

        bound_mlflow_requests()  # an unreachable server fails each call in seconds, not minutes
        register_missing_champions(settings)
    t0 = time.perf_counter()
    from notenlp.stages.table import StageFailed, failure_frames

    try:
        logs = run_night(settings, args.run_date, source, input_path, sparknlp_input=args.sparknlp_input)
    except StageFailed as failure:
        if getattr(args, "verbose", False):  # notenlp -v
            print(failure_frames(failure), file=sys.stderr, end="")
        print(f"notenlp nightly {args.run_date}: {failure}", file=sys.stderr)
        return 1
    from notenlp.stages.night import Night
    from notenlp.stages.table import run_stage

    try:
        cohorts = run_stage("refresh_cohorts", Night(settings, args.run_date))
    except StageFailed as failure:
        print(f"notenlp nightly {args.run_date}: {failure}", file=sys.stderr)
        return 1
    report = None
    if args.report:
        from notenlp.quality.report import write_night_report

        report = write_night_report(settings, args.run_date, settings.home / "reports")
    elapsed = time.perf_counter() - t0
    loaded = {r.stage: r for r in logs}
    print()
    print(f"notenlp nightly {args.run_date}: done in {elapsed:.0f}s")
    for r in logs:
        print(f"  {r.stage:<11} in={r.rows_in:<8} out={r.rows_out:<8} quarantined={r.rows_quarantined:<6} "
              f"skipped={r.rows_skipped}")
    if cohorts:
        print(f"cohorts:   {', '.join(f'{name} {n}' for name, n in cohorts.items())} (notenlp cohort list)")
    if settings.on_postgres:
        from notenlp.config import redacted_url

        print(f"warehouse: {redacted_url(settings.warehouse_url)} schema {settings.results_schema}")
    else:
        print(f"warehouse: {Path(settings.warehouse).resolve()}")
    if report:
        print(f"report:    {Path(report).resolve()}")
    if settings.on_postgres:
        return 0 if "load" in loaded else 1
    print("query it:  .venv/bin/python -c \"import duckdb; print(duckdb.connect('warehouse/notenlp.duckdb', "
          "read_only=True).sql('select term_exists, count(*) from note_nlp group by 1'))\"")
    return 0 if "load" in loaded else 1
