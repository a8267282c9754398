"""``notenlp bench annotate``: notes/s of the annotate pipeline beside an equivalent medspaCy pipeline.

Both run on the same notes in the same run, twice: in this one process, one note at a time
(per-process rate), then across ``--workers`` processes (default: one per core), each worker
building its pipeline once and taking batches of notes, as Spark's ``mapInPandas`` does; the
clock starts when every worker has built its pipeline and annotated one note. Each system gets
the same number of workers.
- notenlp: the default annotate pipeline with every component importable here (the run says
  which ran);
- medspaCy 1.3.1: blank English, its sentencizer (PyRuSH), its target matcher with the same
  terms, its sectionizer and ConText with their default rules.
Terms: when notenlp has an entity-finding component (dictionary or model NER), medspaCy gets
every distinct entity text notenlp found; otherwise both use the notes' gold entities (demo
notes carry them): notenlp as targets, medspaCy as target-matcher terms. The same run scores
assertion on the NegEx set for both (see ``notenlp.evaluation.assertion``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import statistics
import time
from collections.abc import Callable
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from notenlp.attributes import MEDICATION_ATTRIBUTES
from notenlp.doc import Doc, Span

log = logging.getLogger(__name__)

ENTITY_COMPONENTS = ("dictionary", "ner_model")
BATCH_NOTES = 20  # notes per task handed to a worker (a small mapInPandas batch)


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", help="JSONL notes (JSONL contract; gold 'entities' used when present); "
                                         "default: generated demo notes")
    parser.add_argument("--notes", type=int, default=300, help="number of notes (default 300)")
    parser.add_argument("--seed", type=int, default=0, help="demo generator seed (default 0)")
    parser.add_argument("--pipeline", default="annotate", help="pipeline name or JSON path (default annotate)")
    parser.add_argument("--workers", type=int, default=default_workers(),
                        help="worker processes for the parallel run of each system (default: the cores here, "
                             f"{default_workers()})")
    parser.add_argument("--negex", help="NegEx TSV for the assertion part (default: the shared corpus, skipped if absent)")
    parser.add_argument("--experiment", default="bench-annotate", help="MLflow experiment name")


def load_notes(path: str | None, n: int, seed: int) -> list[dict[str, Any]]:
    if path:
        with open(path, encoding="utf-8") as handle:
            return [json.loads(line) for line in itertools.islice((l for l in handle if l.strip()), n)]
    try:
        from notenlp.demo.generator import iter_demo_notes
    except ImportError:
        raise SystemExit("no --input given and notenlp.demo.generator is not available here") from None
    return list(iter_demo_notes(n, seed))


def gold_spans(note: dict[str, Any]) -> list[tuple[int, int]]:
    return [(e["start"], e["end"]) for e in note.get("entities", []) if e.get("label") not in MEDICATION_ATTRIBUTES]


def time_notenlp(pipeline, notes: list[dict[str, Any]], use_targets: bool) -> tuple[float, set[str], int]:
    terms: set[str] = set()
    entities = 0
    started = time.perf_counter()
    for i, note in enumerate(notes):
        targets = [Span(s, e) for s, e in gold_spans(note)] if use_targets else None
        doc = pipeline(Doc(text=note["text"], note_id=note.get("note_id", i), targets=targets))
        entities += len(doc.entities)
        terms.update(" ".join(e.text.lower().split()) for e in doc.entities if e.label not in MEDICATION_ATTRIBUTES)
    return time.perf_counter() - started, terms, entities


def _note_input(note: dict[str, Any], index: int, use_targets: bool) -> tuple[str, Any, list[tuple[int, int]] | None]:
    return note["text"], note.get("note_id", index), gold_spans(note) if use_targets else None


def _annotate_batch(pipeline, batch: list[tuple[str, Any, list[tuple[int, int]] | None]]) -> int:
    entities = 0
    for text, note_id, spans in batch:
        targets = [Span(s, e) for s, e in spans] if spans is not None else None
        entities += len(pipeline(Doc(text=text, note_id=note_id, targets=targets)).entities)
    return entities


def _medspacy_batch(nlp, batch: list[tuple[str, Any, Any]]) -> int:
    return sum(len(doc.ents) for doc in nlp.pipe(text for text, _, _ in batch))


_worker: dict[str, Callable[[list], int]] = {}


def _init_worker(system: str, pipeline_name: str, terms: set[str], warm_up: str, ready) -> None:
    """Build the system once in this worker, annotate one note, then wait until every worker is ready."""
    if system == "notenlp":
        from notenlp.annotate.loading import load_available_pipeline

        pipeline, _ = load_available_pipeline(pipeline_name)
        _annotate_batch(pipeline, [(warm_up, "warm-up", None)])
        _worker["run"] = lambda batch: _annotate_batch(pipeline, batch)
    else:
        nlp = build_medspacy_full(terms)
        _medspacy_batch(nlp, [(warm_up, "warm-up", None)])
        _worker["run"] = lambda batch: _medspacy_batch(nlp, batch)
    ready.wait()


def _process(batch: list) -> tuple[int, float]:
    """Entities found in the batch and this worker's CPU seconds spent on it."""
    cpu = time.process_time()
    entities = _worker["run"](batch)
    return entities, time.process_time() - cpu


def time_workers(system: str, pipeline_name: str, terms: set[str], inputs: list, workers: int) -> tuple[float, float, int]:
    """Wall seconds for ``workers`` processes to annotate every input, their CPU seconds, and the entities found."""
    # Fresh worker processes, as Spark's Python workers are: a fork would inherit this process's heap
    # (both systems, already built for the one-process timing), and each worker's garbage collector
    # would walk and copy those pages while it works, charged to whichever system runs in the workers.
    context = get_context("spawn")
    ready = context.Barrier(workers + 1)
    batches = [inputs[i:i + BATCH_NOTES] for i in range(0, len(inputs), BATCH_NOTES)]
    with context.Pool(workers, initializer=_init_worker,
                      initargs=(system, pipeline_name, terms, inputs[0][0], ready)) as pool:
        ready.wait()  # every worker has built its pipeline and annotated one note
        started = time.perf_counter()
        results = pool.map(_process, batches, chunksize=1)
        seconds = time.perf_counter() - started
    return seconds, max(sum(cpu for _, cpu in results), 1e-9), sum(entities for entities, _ in results)


def build_medspacy_full(terms: set[str]):
    from notenlp.evaluation.assertion import build_medspacy

    nlp = build_medspacy(terms)
    nlp.add_pipe("medspacy_sectionizer", before="medspacy_context")
    return nlp


def time_medspacy(nlp, notes: list[dict[str, Any]]) -> tuple[float, int]:
    entities = 0
    started = time.perf_counter()
    for doc in nlp.pipe(note["text"] for note in notes):
        entities += len(doc.ents)
    return time.perf_counter() - started, entities


def run(args: argparse.Namespace) -> int:
    from notenlp.evaluation import assertion
    from notenlp.annotate.loading import load_available_pipeline
    from notenlp.corpora import corpus_path
    from notenlp.metrics import format_table
    from notenlp.tracking import log_run

    notes = load_notes(args.input, args.notes, args.seed)
    if not notes:
        log.error("no notes to time")
        return 2
    mean_chars = sum(len(n["text"]) for n in notes) / len(notes)
    median_chars = statistics.median(len(n["text"]) for n in notes)
    pipeline, skipped = load_available_pipeline(args.pipeline)
    use_targets = not any(name in pipeline.names for name in ENTITY_COMPONENTS)
    if use_targets and not any(gold_spans(n) for n in notes):
        log.warning("no entity component and no gold entities: timing sentences, sections, medications and ConText only")
    log.info("timing notenlp on %d notes (mean %.0f chars): %s%s", len(notes), mean_chars, ", ".join(pipeline.names),
             " [gold entities as targets]" if use_targets else "")
    pipeline(Doc(text=notes[0]["text"]))  # first call outside the clock: lazy caches
    cpu = time.process_time()
    ours_seconds, terms, ours_entities = time_notenlp(pipeline, notes, use_targets)
    ours_single_cpu = max(time.process_time() - cpu, 1e-9)
    if use_targets:
        terms = {" ".join(n["text"][s:e].lower().split()) for n in notes for s, e in gold_spans(n)}
    log.info("timing medspaCy on the same notes with %d target terms", len(terms))
    nlp = build_medspacy_full(terms)
    next(iter(nlp.pipe([notes[0]["text"]])))
    cpu = time.process_time()
    theirs_seconds, theirs_entities = time_medspacy(nlp, notes)
    theirs_single_cpu = max(time.process_time() - cpu, 1e-9)

    inputs = [_note_input(note, i, use_targets) for i, note in enumerate(notes)]
    workers = max(1, args.workers)
    log.info("timing both systems again across %d worker processes", workers)
    ours_par_seconds, ours_cpu, ours_par_entities = time_workers("notenlp", args.pipeline, set(), inputs, workers)
    theirs_par_seconds, theirs_cpu, theirs_par_entities = time_workers("medspacy", args.pipeline, terms, inputs, workers)

    n = len(notes)
    rows = [
        {"system": "notenlp", "processes": 1, "notes": n, "seconds": ours_seconds, "notes_per_s": n / ours_seconds,
         "cpu_seconds": ours_single_cpu, "entities": ours_entities},
        {"system": "medspacy", "processes": 1, "notes": n, "seconds": theirs_seconds, "notes_per_s": n / theirs_seconds,
         "cpu_seconds": theirs_single_cpu, "entities": theirs_entities},
        {"system": "notenlp", "processes": workers, "notes": n, "seconds": ours_par_seconds,
         "notes_per_s": n / ours_par_seconds, "cpu_seconds": ours_cpu, "entities": ours_par_entities},
        {"system": "medspacy", "processes": workers, "notes": n, "seconds": theirs_par_seconds,
         "notes_per_s": n / theirs_par_seconds, "cpu_seconds": theirs_cpu, "entities": theirs_par_entities},
    ]
    print(format_table(rows, ["system", "processes", "notes", "seconds", "notes_per_s", "cpu_seconds", "entities"]))
    print(f"notenlp components: {', '.join(pipeline.names)}" + (f" (not available: {', '.join(skipped)})" if skipped else "")
          + ("; gold entities as targets" if use_targets else ""))
    speedup, par_speedup = theirs_seconds / ours_seconds, theirs_par_seconds / ours_par_seconds
    print(f"speed-up over medspaCy: {speedup:.1f}x in one process, {par_speedup:.1f}x with {workers} workers each; "
          f"{n} notes, mean length {mean_chars:.0f} chars, median {median_chars:.0f}; {default_workers()} cores here"
          + ("" if ours_par_entities == ours_entities else "; WARNING: workers found another entity count"))
    print(f"notes per CPU-second of one process: notenlp {n / ours_single_cpu:.1f}, medspaCy {n / theirs_single_cpu:.1f} "
          f"(on {workers} idle cores the {workers}-worker rate approaches {workers}x these)")
    metrics: dict[str, float] = {
        "notenlp_notes_per_s": n / ours_seconds, "medspacy_notes_per_s": n / theirs_seconds, "speedup": speedup,
        "notenlp_workers_notes_per_s": n / ours_par_seconds, "medspacy_workers_notes_per_s": n / theirs_par_seconds,
        "workers_speedup": par_speedup, "notenlp_notes_per_cpu_s": n / ours_cpu, "medspacy_notes_per_cpu_s": n / theirs_cpu,
        "workers": workers, "notes": n, "mean_chars": mean_chars, "median_chars": median_chars}

    negex = Path(args.negex) if args.negex else corpus_path("negex", "negex_dev.tsv")
    tables: dict[str, Any] = {"throughput": rows}
    if negex and negex.exists():
        cases, _ = assertion.read_negex(negex)
        ours, _, _ = assertion.run_notenlp(cases, args.pipeline)
        theirs, _, _ = assertion.run_medspacy(cases)
        score_rows = []
        for system, predictions in (("notenlp", ours), ("medspacy", theirs)):
            scores = assertion.score(cases, predictions, assertion.NEGEX_FLAGS)
            for flag, s in scores.items():
                score_rows.append({"system": system, "flag": flag, "precision": s.precision, "recall": s.recall, "f1": s.f1})
                metrics[f"{system}.negex.{flag}.f1"] = s.f1
        print(format_table(score_rows, ["flag", "system", "precision", "recall", "f1"]))
        tables["negex"] = score_rows
    else:
        log.warning("NegEx set not found: assertion part skipped")
    log_run(args.experiment, "bench-annotate", metrics=metrics, tables=tables,
            params={"components": ",".join(pipeline.names), "targets_mode": use_targets, "input": args.input or "demo",
                    "workers": workers, "cores": default_workers(), "baseline": "medspacy 1.3.1"})
    return 0
