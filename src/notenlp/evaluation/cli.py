"""``notenlp evaluate <target>``: each target scores one annotator beside a baseline, in the same run."""

from __future__ import annotations

import argparse
import importlib

TARGETS: dict[str, tuple[str, str]] = {
    "deid": ("notenlp.deid.evaluate", "PHI recall/precision/F2 per type, token and entity level"),
    "assertion": ("notenlp.annotate.evaluate_assertion", "negation, temporality, experiencer (NegEx TSV, demo gold)"),
    "ner": ("notenlp.ner.evaluate", "strict and lenient mention F1 per label (BC5CDR, NCBI, ADE, demo gold)"),
    "normalize": ("notenlp.vocab.evaluate", "top-1 concept accuracy on the demo gold"),
    "relations": ("notenlp.relations.evaluate", "relation precision/recall/F1 (ADE corpus v2, demo gold)"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="target", metavar="TARGET", required=True)
    for name, (module_name, help_text) in TARGETS.items():
        target = sub.add_parser(name, help=help_text, description=help_text)
        target.set_defaults(_module=module_name)
        importlib.import_module(module_name).add_arguments(target)


def run(args: argparse.Namespace) -> int:
    return int(importlib.import_module(args._module).run(args) or 0)
