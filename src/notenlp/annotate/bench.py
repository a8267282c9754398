"""``notenlp bench annotate``: notes/s of the annotate pipeline beside an equivalent medspaCy pipeline.

Both run on the same notes in the same process, one note at a time on one core:
- notenlp: the default annotate pipeline with every component importable here (the run says
  which ran);
- medspaCy 1.3.1: blank English, its sentencizer (PyRuSH), its target matcher with the same
  terms, its sectionizer and ConText with their default rules.
Terms: when notenlp has an entity-finding component (dictionary or model NER), medspaCy gets
every distinct entity text notenlp found; otherwise both use the notes' gold entities (demo
notes carry them): notenlp as targets, medspaCy as target-matcher terms. The same run scores
assertion on the NegEx set for both (see ``evaluate_assertion``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import time
from pathlib import Path
from typing import Any

from notenlp.attributes import MEDICATION_ATTRIBUTES
from notenlp.doc import Doc, Span

log = logging.getLogger(__name__)

ENTITY_COMPONENTS = ("dictionary", "ner_model")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", help="JSONL notes (JSONL contract; gold 'entities' used when present); "
                                         "default: generated demo notes")
    parser.add_argument("--notes", type=int, default=300, help="number of notes (default 300)")
    parser.add_argument("--seed", type=int, default=0, help="demo generator seed (default 0)")
    parser.add_argument("--pipeline", default="annotate", help="pipeline name or JSON path (default annotate)")
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


def build_medspacy_full(terms: set[str]):
    from notenlp.annotate.evaluate_assertion import build_medspacy

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
    from notenlp.annotate import evaluate_assertion as assertion
    from notenlp.annotate.loading import load_available_pipeline
    from notenlp.corpora import corpus_path
    from notenlp.evaluation.metrics import format_table
    from notenlp.tracking import log_run

    notes = load_notes(args.input, args.notes, args.seed)
    if not notes:
        log.error("no notes to time")
        return 2
    mean_chars = sum(len(n["text"]) for n in notes) / len(notes)
    pipeline, skipped = load_available_pipeline(args.pipeline)
    use_targets = not any(name in pipeline.names for name in ENTITY_COMPONENTS)
    if use_targets and not any(gold_spans(n) for n in notes):
        log.warning("no entity component and no gold entities: timing sentences, sections, medications and ConText only")
    log.info("timing notenlp on %d notes (mean %.0f chars): %s%s", len(notes), mean_chars, ", ".join(pipeline.names),
             " [gold entities as targets]" if use_targets else "")
    pipeline(Doc(text=notes[0]["text"]))  # first call outside the clock: lazy caches
    ours_seconds, terms, ours_entities = time_notenlp(pipeline, notes, use_targets)
    if use_targets:
        terms = {" ".join(n["text"][s:e].lower().split()) for n in notes for s, e in gold_spans(n)}
    log.info("timing medspaCy on the same notes with %d target terms", len(terms))
    nlp = build_medspacy_full(terms)
    next(iter(nlp.pipe([notes[0]["text"]])))
    theirs_seconds, theirs_entities = time_medspacy(nlp, notes)

    ours_rate, theirs_rate = len(notes) / ours_seconds, len(notes) / theirs_seconds
    rows = [
        {"system": "notenlp", "notes": len(notes), "seconds": ours_seconds, "notes_per_s": ours_rate, "entities": ours_entities},
        {"system": "medspacy", "notes": len(notes), "seconds": theirs_seconds, "notes_per_s": theirs_rate,
         "entities": theirs_entities},
    ]
    print(format_table(rows, ["system", "notes", "seconds", "notes_per_s", "entities"]))
    print(f"notenlp components: {', '.join(pipeline.names)}" + (f" (not available: {', '.join(skipped)})" if skipped else "")
          + ("; gold entities as targets" if use_targets else ""))
    print(f"speed-up: {ours_rate / theirs_rate:.1f}x medspaCy; mean note length {mean_chars:.0f} chars")
    metrics: dict[str, float] = {"notenlp_notes_per_s": ours_rate, "medspacy_notes_per_s": theirs_rate,
                                 "speedup": ours_rate / theirs_rate, "notes": len(notes), "mean_chars": mean_chars}

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
                    "baseline": "medspacy 1.3.1"})
    return 0
