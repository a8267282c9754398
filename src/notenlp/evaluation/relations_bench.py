"""Throughput of ``RelationExtractor`` beside the co-occurrence baseline, on the same notes.

Notes of about ``--chars`` characters are assembled from ADE corpus sentences (their gold mentions
plus gazetteer mentions) and a medication list with strengths, routes and frequencies, so each
carries about ``--entities`` entities; ``--demo-gold`` times on demo gold notes instead.
Logged to MLflow (experiment ``relations-bench``).
"""

from __future__ import annotations

import argparse
import copy
import logging
import random
import time

from notenlp.doc import Doc, Entity, Span

log = logging.getLogger(__name__)

MED_LINES = [("Metoprolol", "25 mg", "PO", "BID"), ("Lisinopril", "10 mg", "PO", "daily"),
             ("Heparin", "5000 units", "SC", "q8h"), ("Ondansetron", "4 mg", "IV", "q6h PRN")]


def assemble_notes(n: int, chars: int, entities: int, seed: int) -> list[Doc]:
    from notenlp.relations.ade import read_ade, split
    from notenlp.relations.training import ade_docs, ade_gazetteer

    sentences = read_ade()
    train, held_out = split(sentences)
    gazetteer = ade_gazetteer(train)
    pool = [doc for doc, _ in ade_docs(held_out, gazetteer)]
    rng = random.Random(seed)
    notes = []
    for k in range(n):
        text, ents, spans = "", [], []
        meds = "Medications:\n" + "".join(f"{i + 1}. {d} {s} {r} {f}\n" for i, (d, s, r, f) in enumerate(MED_LINES))
        labels = ("DRUG", "STRENGTH", "ROUTE", "FREQUENCY")
        cursor = len("Medications:\n")
        for i, line in enumerate(MED_LINES):
            cursor += len(f"{i + 1}. ")
            for part, label in zip(line, labels):
                ents.append(Entity(cursor, cursor + len(part), part, label))
                cursor += len(part) + 1
        spans.extend(Span(m, m + len(x)) for m, x in _line_spans(meds))
        text = meds + "\n"
        while len(text) < chars:
            sentence = rng.choice(pool)
            offset = len(text)
            text += sentence.text + " "
            spans.append(Span(offset, offset + len(sentence.text)))
            if len(ents) + len(sentence.entities) <= entities:
                ents.extend(Entity(e.start + offset, e.end + offset, e.text, e.label) for e in sentence.entities)
        notes.append(Doc(text=text, note_id=k, sentences=spans, entities=ents))
    return notes


def _line_spans(block: str) -> list[tuple[int, str]]:
    out, offset = [], 0
    for line in block.splitlines(keepends=True):
        if line.strip():
            out.append((offset, line.rstrip("\n")))
        offset += len(line)
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--notes", type=int, default=500, help="notes to time")
    parser.add_argument("--chars", type=int, default=2000, help="characters per assembled note")
    parser.add_argument("--entities", type=int, default=30, help="entities per assembled note")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--demo-gold", help="time on the notes of a demo gold.jsonl instead")


def run(args: argparse.Namespace) -> int:
    from notenlp.relations.component import RelationExtractor, load_rules
    from notenlp.evaluation.relations import cooccurrence
    from notenlp.relations.features import FeatureExtractor
    from notenlp.tracking import log_run

    if args.demo_gold:
        from notenlp.relations.training import demo_doc, read_demo_gold

        notes = [demo_doc(note)[0] for note in read_demo_gold(args.demo_gold)[: args.notes]]
    else:
        notes = assemble_notes(args.notes, args.chars, args.entities, args.seed)
    extractor = RelationExtractor()
    scope = FeatureExtractor(load_rules())
    chars = sum(len(d.text) for d in notes) / len(notes)
    ents = sum(len(d.entities) for d in notes) / len(notes)
    timings = {}
    for name, step in (("relations", lambda d: extractor(d)),
                       ("co-occurrence", lambda d: cooccurrence(d, 0, ["causes_adverse_event", "treats", "reveals",
                                                                          "has_strength"], scope=scope))):
        docs = [copy.deepcopy(d) for d in notes]
        started = time.perf_counter()
        for doc in docs:
            step(doc)
        timings[name] = len(docs) / (time.perf_counter() - started)
    relations = sum(len(extractor(copy.deepcopy(d)).relations) for d in notes) / len(notes)
    print(f"{len(notes)} notes, {chars:.0f} chars and {ents:.1f} entities per note, {relations:.1f} relations per note")
    for name, rate in timings.items():
        print(f"{name:14s} {rate:8.1f} notes/s  ({1000 / rate:.2f} ms/note)")
    log_run("relations-bench", "bench-relations",
            metrics={"relations_notes_per_s": timings["relations"], "baseline_notes_per_s": timings["co-occurrence"],
                     "chars_per_note": chars, "entities_per_note": ents, "relations_per_note": relations},
            params={"notes": len(notes), "source": "demo gold" if args.demo_gold else "assembled ADE + med list"})
    return 0
