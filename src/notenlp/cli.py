"""``notenlp`` command line.

Each command lives in its own module exposing ``add_arguments(parser)`` and ``run(args) -> int``;
modules are imported only when their command runs, so ``notenlp --help`` starts fast and
never imports Spark or Airflow.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

COMMANDS: dict[str, tuple[str, str]] = {
    "demo-data": ("notenlp.demo.cli", "write synthetic MIMIC-style notes and their gold annotations"),
    "nightly": ("notenlp.nightly", "run every stage for one night, end to end, into the warehouse"),
    "run": ("notenlp.stages.cli", "run one stage (ingest, deidentify, annotate, normalize, validate, load)"),
    "deid": ("notenlp.deid.cli", "de-identify a JSONL file of notes (JSONL contract)"),
    "annotate": ("notenlp.annotate.cli", "annotate a JSONL file of notes (JSONL contract)"),
    "evaluate": ("notenlp.evaluation.cli", "score an annotator against gold data, beside a baseline"),
    "bench": ("notenlp.bench", "time an annotator beside a baseline on the same notes"),
    "vocab": ("notenlp.vocab.cli", "load OMOP vocabularies and compile the normalization dictionary"),
    "cohort": ("notenlp.cohorts.cli", "list, refresh or show the cohort definitions of sql/cohorts/"),
    "report": ("notenlp.quality.report", "write the nightly data-quality HTML report"),
    "models": ("notenlp.lifecycle.cli", "train, evaluate, register and promote models in MLflow"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="notenlp",
        description="Offline clinical-notes data engineering: de-identify, annotate, normalize, "
        "validate and load OMOP CDM 5.4 NOTE_NLP.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    top, rest = parser.parse_known_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if top.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    for noisy in ("matplotlib", "py4j", "great_expectations", "alembic", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if top.command is None:
        parser.print_help()
        return 2
    module_name, help_text = COMMANDS[top.command]
    module = importlib.import_module(module_name)
    command = argparse.ArgumentParser(prog=f"notenlp {top.command}", description=help_text)
    module.add_arguments(command)
    args, extra = command.parse_known_args(rest)
    if extra and not hasattr(args, "_module"):
        command.error(f"unrecognized arguments: {' '.join(extra)}")
    args.target_args = extra
    args.verbose = top.verbose
    from notenlp.config import ConfigError

    try:
        return int(module.run(args) or 0)
    except ConfigError as exc:  # a setting that cannot work: one line, the traceback only with -v
        if top.verbose:
            import traceback

            traceback.print_exc()
        print(f"notenlp: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
