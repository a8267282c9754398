"""``notenlp run <stage>``: run one stage of one night (what each Airflow task and spark-submit job calls)."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date

from notenlp.config import ConfigError, Settings
from notenlp.stages.table import NIGHT_STAGES

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stage", choices=NIGHT_STAGES, help="the stage to run")
    parser.add_argument("--run-date", type=date.fromisoformat, default=date.today(),
                        help="the night to process, YYYY-MM-DD (default: today)")
    parser.add_argument("--source", choices=("mimic3", "mimic4", "omop", "jsonl"), default="mimic3",
                        help="input format for the ingest stage (default: mimic3)")
    parser.add_argument("--input", help="input path for the ingest stage (file, folder or glob)")
    parser.add_argument("--sparknlp-input", help="normalize: Parquet with Spark NLP annotation columns instead of "
                        "notenlp's annotate output")
    parser.add_argument("--engine", choices=("python", "sparknlp"), help="annotate: where entities come from, "
                        "the Python components or a Spark NLP PipelineModel (NOTENLP_ENGINE)")
    parser.add_argument("--sparknlp-model", help="annotate with --engine sparknlp: folder of a saved Spark NLP "
                        "PipelineModel with a ner_chunk output (NOTENLP_SPARKNLP_MODEL)")
    parser.add_argument("--home", help="folder holding warehouse/, staging/, sealed/, mlruns/ (NOTENLP_HOME)")
    parser.add_argument("--master", help="Spark master, e.g. local[*], spark://host:7077, yarn, k8s://... "
                        "(NOTENLP_SPARK_MASTER)")
    add_allow_shipped_models(parser)


def add_allow_shipped_models(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allow-shipped-models", action="store_true", default=None,
                        help="run the shipped model files even when the MLflow store lacks the champions earlier "
                        "nights used (which reprocesses every note) (NOTENLP_ALLOW_SHIPPED_MODELS)")


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings.from_env(home=getattr(args, "home", None), spark_master=getattr(args, "master", None),
                             allow_shipped_models=getattr(args, "allow_shipped_models", None),
                             engine=getattr(args, "engine", None), sparknlp_model=getattr(args, "sparknlp_model", None))


def run(args: argparse.Namespace) -> int:
    from notenlp.stages.night import Night
    from notenlp.stages.table import StageFailed, failure_frames, run_stage

    if args.stage == "ingest" and not args.input:
        raise SystemExit("notenlp run ingest needs --input PATH (and --source)")
    night = Night(settings_from(args), args.run_date)
    try:
        run_stage(args.stage, night, {"source": args.source, "input": args.input,
                                      "sparknlp_input": args.sparknlp_input})
    except StageFailed as failure:  # one line; the stage's record holds the same cause
        if getattr(args, "verbose", False):  # notenlp -v
            print(failure_frames(failure), file=sys.stderr, end="")
        print(f"notenlp run {args.stage} {args.run_date}: {failure}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the thin spark-submit jobs in ``jobs/``."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="notenlp-job")
    add_arguments(parser)
    try:
        return run(parser.parse_args(argv))
    except ConfigError as exc:  # a setting that cannot work: one line, no traceback
        print(f"notenlp: {exc}", file=sys.stderr)
        return 2
