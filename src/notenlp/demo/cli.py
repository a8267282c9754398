"""``notenlp demo-data``: write synthetic MIMIC-style notes and their gold annotations.

Writes DIR/NOTEEVENTS.csv.gz (MIMIC-III NOTEEVENTS format, about 1% ISERROR rows),
DIR/notes.jsonl (JSONL-contract input, ISERROR rows excluded) and DIR/gold.jsonl (PHI spans,
sections, entities with assertion flags and OMOP concept ids, relations; see docs/demo_gold.md).
The output depends only on --notes and --seed.
"""

from __future__ import annotations

import argparse
import time

from notenlp.demo.generator import write_demo


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = __doc__.split("\n\n", 1)[1].strip()
    parser.add_argument("--notes", type=int, default=200, metavar="N",
                        help="number of NOTEEVENTS rows to write, ISERROR rows included (default 200)")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    parser.add_argument("--out", default="demo", metavar="DIR", help="output folder (default demo)")
    parser.add_argument("--workers", type=int, default=1, metavar="W",
                        help="processes generating notes; the output is the same for any W (default 1)")


def run(args: argparse.Namespace) -> int:
    if args.notes < 1 or args.workers < 1:
        raise SystemExit("--notes and --workers must be at least 1")
    started = time.perf_counter()
    paths = write_demo(args.out, args.notes, args.seed, workers=args.workers)
    elapsed = time.perf_counter() - started
    print(f"wrote {args.notes} notes (seed {args.seed}) in {elapsed:.1f} s ({args.notes / elapsed:.0f} notes/s):")
    for path in paths.values():
        print(f"  {path}  ({path.stat().st_size / 1e6:.1f} MB)")
    return 0
