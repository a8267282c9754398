"""``notenlp bench <target>``: throughput of an annotator beside a baseline on the same notes."""

from __future__ import annotations

import argparse
import importlib

TARGETS: dict[str, tuple[str, str]] = {
    "deid": ("notenlp.deid.bench", "notes/s of de-identification beside Presidio's recognizers"),
    "annotate": ("notenlp.annotate.bench", "notes/s of the annotate pipeline beside an equivalent medspaCy pipeline"),
    "vocab": ("notenlp.vocab.bench", "load and compile time of a full-size generated vocabulary"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="target", metavar="TARGET", required=True)
    for name, (module_name, help_text) in TARGETS.items():
        target = sub.add_parser(name, help=help_text, description=help_text)
        target.set_defaults(_module=module_name)
        importlib.import_module(module_name).add_arguments(target)


def run(args: argparse.Namespace) -> int:
    return int(importlib.import_module(args._module).run(args) or 0)
