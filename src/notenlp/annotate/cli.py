"""``notenlp annotate``: annotate a JSONL file of notes (JSONL contract), streaming line by line.

Each input line ``{"note_id", "text", "person_id"?, "note_date"?, "targets"?}`` gives one output
line from ``notenlp.jsonl.annotation_record``. With ``targets``, the entities are exactly those
spans, with their assertion attributes. Memory stays bounded: one note is held at a time.
"""

from __future__ import annotations

import argparse
import gc
import logging
import time
from collections.abc import Iterable, Iterator

from notenlp.doc import Doc
from notenlp.jsonl import ContractError, annotation_record, read_docs, write_records
from notenlp.pipeline import Pipeline

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", required=True, help="JSONL notes ('-' = stdin)")
    parser.add_argument("--output", required=True, help="JSONL annotations ('-' = stdout)")
    parser.add_argument("--pipeline", default="annotate",
                        help="pipeline name under resources/pipelines or a JSON config path (default annotate); "
                             "components that cannot be imported here are left out with a warning")
    parser.add_argument("--progress-every", type=int, default=1000, metavar="N", help="log progress every N notes")


def annotate_records(pipeline: Pipeline, docs: Iterable[Doc], progress_every: int = 1000) -> Iterator[dict]:
    started = time.perf_counter()
    count = 0
    for doc in docs:
        yield annotation_record(pipeline(doc))
        count += 1
        if progress_every and count % progress_every == 0:
            elapsed = time.perf_counter() - started
            log.info("annotated %d notes (%.1f notes/s)", count, count / elapsed if elapsed else 0.0)


def run(args: argparse.Namespace) -> int:
    from notenlp.annotate.loading import load_available_pipeline

    pipeline, _ = load_available_pipeline(args.pipeline)
    gc.freeze()  # the pipeline lives as long as this process: later collections need not walk its objects
    log.info("pipeline %s (%s): %s", args.pipeline, pipeline.fingerprint(), ", ".join(pipeline.names))
    started = time.perf_counter()
    try:
        count = write_records(args.output, annotate_records(pipeline, read_docs(args.input), args.progress_every))
    except ContractError as exc:
        log.error("input does not follow the JSONL contract: %s", exc)
        return 2
    elapsed = time.perf_counter() - started
    log.info("annotated %d notes in %.1fs", count, elapsed)
    return 0
