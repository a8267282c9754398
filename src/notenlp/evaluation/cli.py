"""``notenlp evaluate <target>``: each target scores one annotator beside a baseline, in the same run."""

from __future__ import annotations

import argparse

from notenlp.evaluation.targets import add_target_parsers, run_target

TARGETS: dict[str, tuple[str, str]] = {
    "deid": ("notenlp.evaluation.deid", "PHI recall/precision/F2 per type, token and entity level"),
    "assertion": ("notenlp.evaluation.assertion", "negation, temporality, experiencer (NegEx TSV, demo gold)"),
    "ner": ("notenlp.evaluation.ner", "strict and lenient mention F1 per label (BC5CDR, NCBI, ADE, demo gold)"),
    "normalize": ("notenlp.evaluation.normalize", "top-1 concept accuracy on the demo gold"),
    "phrasings": ("notenlp.evaluation.phrasings", "top-1 concept accuracy on real phrasings (NCBI, BC5CDR), dev and aside"),
    "relations": ("notenlp.evaluation.relations", "relation precision/recall/F1 (ADE corpus v2, demo gold)"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_parsers(parser, TARGETS)


def run(args: argparse.Namespace) -> int:
    return run_target(args, "notenlp evaluate")
