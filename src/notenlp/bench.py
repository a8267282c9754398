"""``notenlp bench <target>``: throughput of an annotator beside a baseline on the same notes, or of a whole night."""

from __future__ import annotations

import argparse

from notenlp.evaluation.targets import add_target_parsers, run_target

TARGETS: dict[str, tuple[str, str]] = {
    "deid": ("notenlp.evaluation.deid_bench", "notes/s of de-identification beside Presidio's recognizers"),
    "annotate": ("notenlp.evaluation.annotate_bench", "notes/s of the annotate pipeline beside an equivalent medspaCy pipeline"),
    "vocab": ("notenlp.evaluation.vocab_bench", "load and compile time of a full-size generated vocabulary"),
    "relations": ("notenlp.evaluation.relations_bench", "notes/s of relation extraction beside co-occurrence pairing"),
    "startup": ("notenlp.evaluation.whole_process",
                "whole-process runs, start-up included, of annotate and deid beside medspaCy and Presidio"),
    "nightly": ("notenlp.nightly_bench", "one real night over N demo notes: rows, seconds, notes/s, MB/s and peak "
                "memory per stage and end to end"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_parsers(parser, TARGETS)


def run(args: argparse.Namespace) -> int:
    return run_target(args, "notenlp bench")
