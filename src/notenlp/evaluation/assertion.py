"""``notenlp evaluate assertion``: assertion flags of given entity spans, beside medspaCy's ConText.

Gold formats:
- ``negex``: the NegEx annotation TSV (line, condition, sentence, negation, temporality,
  experiencer). The condition is located in its sentence (case-insensitive, any whitespace)
  and becomes the one target of a one-sentence note. Negated = "Negated"; historical =
  "Historical"; hypothetical = "Not particular"; family = experiencer "Other".
- ``demo``: the demo ``gold.jsonl``; each note's gold entities become its targets, with their
  gold labels (PROBLEM, DRUG, TEST, PROCEDURE), and all six flags are scored.
Both systems score the same spans in the same run: notenlp's annotate pipeline in targets
mode, and medspaCy 1.3.1 (blank English, its sentencizer, its target matcher on the same
spans, ``medspacy_context`` with its default rules).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from notenlp.attributes import ASSERTION_FLAGS, MEDICATION_ATTRIBUTES
from notenlp.doc import Doc, Span
from notenlp.metrics import Score, binary_score, format_table

log = logging.getLogger(__name__)

NEGEX_FLAGS = ("negated", "historical", "hypothetical", "family")
# medspaCy's ConText has no "conditional"; it is scored as never set.
MEDSPACY_ATTRIBUTES = {"negated": "is_negated", "possible": "is_uncertain", "historical": "is_historical",
                       "hypothetical": "is_hypothetical", "family": "is_family"}


@dataclass
class Case:
    """One note with its target spans and each span's gold flags."""

    key: str
    text: str
    spans: list[tuple[int, int]]
    gold: list[dict[str, bool]]
    labels: list[str] | None = None  # the gold entity labels, where the gold has them


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gold", required=True, help="gold file: the NegEx TSV or the demo gold.jsonl")
    parser.add_argument("--format", choices=("negex", "demo"), default="negex", help="gold format (default negex)")
    parser.add_argument("--pipeline", default="annotate", help="pipeline name or JSON path (default annotate)")
    parser.add_argument("--no-baseline", action="store_true", help="skip medspaCy (for quick rule checks)")
    parser.add_argument("--errors", type=int, default=0, metavar="N",
                        help="print up to N disagreements per flag (shows note text: use on public data only)")
    parser.add_argument("--experiment", default="evaluate-assertion", help="MLflow experiment name")


def find_span(condition: str, sentence: str) -> tuple[int, int] | None:
    """Where ``condition`` occurs in ``sentence``, ignoring case and runs of whitespace.

    The NegEx kit writes the annotated occurrence in capitals, so where the condition occurs
    more than once, the occurrence written in capitals is preferred.
    """
    words = condition.split()
    if not words:
        return None
    pattern = r"\s+".join(re.escape(w) for w in words)
    matches = list(re.finditer(rf"(?<!\w){pattern}(?!\w)", sentence, re.IGNORECASE)) or list(
        re.finditer(pattern, sentence, re.IGNORECASE))
    if not matches:
        return None
    capitals = [m for m in matches if m.group() == m.group().upper() and m.group() != m.group().lower()]
    return (capitals or matches)[0].span()


def read_negex(path: Path) -> tuple[list[Case], int]:
    cases, missing = [], 0
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader, None)
        for row in reader:
            if len(row) < 6:
                continue
            line, condition, sentence, negation, temporality, experiencer = (c.strip() for c in row[:6])
            span = find_span(condition, sentence)
            if span is None:
                missing += 1
                continue
            gold = {
                "negated": negation.lower() == "negated",
                "historical": temporality.lower() == "historical",
                "hypothetical": temporality.lower() == "not particular",
                "family": experiencer.lower() == "other",
            }
            cases.append(Case(key=f"negex-{line}", text=sentence, spans=[span], gold=[gold]))
    return cases, missing


def read_demo(path: Path) -> tuple[list[Case], int]:
    cases = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            note = json.loads(line)
            entities = [e for e in note.get("entities", []) if e.get("label") not in MEDICATION_ATTRIBUTES]
            if not entities:
                continue
            cases.append(Case(
                key=str(note["note_id"]), text=note["text"], spans=[(e["start"], e["end"]) for e in entities],
                gold=[{flag: bool(e.get(flag, False)) for flag in ASSERTION_FLAGS} for e in entities],
                labels=[e["label"] for e in entities],
            ))
    return cases, 0


def run_notenlp(cases: list[Case], pipeline_name: str) -> tuple[list[list[dict[str, bool]]], list[str], float]:
    from notenlp.annotate.loading import load_available_pipeline
    from notenlp.doc import TARGET_LABELS

    pipeline, skipped = load_available_pipeline(pipeline_name)
    predictions = []
    started = time.perf_counter()
    for case in cases:
        doc = Doc(text=case.text, note_id=case.key, targets=[Span(s, e) for s, e in case.spans])
        if case.labels:
            doc.user_data[TARGET_LABELS] = case.labels
        doc = pipeline(doc)
        by_span = {(e.start, e.end): e for e in doc.entities}
        predictions.append([
            {flag: bool(getattr(by_span[span], flag)) if span in by_span else False for flag in ASSERTION_FLAGS}
            for span in case.spans
        ])
    return predictions, pipeline.names, time.perf_counter() - started


def build_medspacy(terms: set[str]):
    """Blank English + medspaCy sentencizer + target matcher (the given phrases) + ConText default rules."""
    import medspacy  # noqa: F401  (registers the medspacy_* factories)
    import spacy
    from medspacy.target_matcher import TargetRule

    _quiet_pyrush()

    nlp = spacy.blank("en")
    nlp.add_pipe("medspacy_pyrush")
    matcher = nlp.add_pipe("medspacy_target_matcher")
    matcher.add([TargetRule(literal=term, category="PROBLEM") for term in sorted(terms)])
    nlp.add_pipe("medspacy_context")
    return nlp


def _quiet_pyrush() -> None:
    """PyRuSH logs every sentence decision at DEBUG through loguru; that would print note text and slow the baseline."""
    try:
        from loguru import logger
    except ImportError:
        return
    logger.disable("PyRuSH")


def medspacy_entities(nlp, text: str, spans: list[tuple[int, int]]) -> tuple[list[Any], int]:
    """medspaCy's entity for each span: its target matcher's match, or the token-aligned span added when it found none."""
    from spacy.tokens import Span as SpacySpan

    with nlp.select_pipes(disable=["medspacy_context"]):
        doc = nlp(text)
    chosen, added = [], 0
    for start, end in spans:
        ents = list(doc.ents)
        match = next((e for e in ents if e.start_char == start and e.end_char == end), None)
        match = match or next((e for e in ents if e.start_char < end and start < e.end_char), None)
        if match is None:
            aligned = doc.char_span(start, end, label="PROBLEM", alignment_mode="expand")
            if aligned is None:
                chosen.append(None)
                continue
            doc.ents = [e for e in ents if e.end <= aligned.start or e.start >= aligned.end] + [
                SpacySpan(doc, aligned.start, aligned.end, "PROBLEM")]
            match, added = aligned, added + 1
        chosen.append((match.start, match.end))
    doc = nlp.get_pipe("medspacy_context")(doc)
    by_tokens = {(e.start, e.end): e for e in doc.ents}
    return [by_tokens.get(c) if c else None for c in chosen], added


def run_medspacy(cases: list[Case]) -> tuple[list[list[dict[str, bool]]], int, float]:
    terms = {" ".join(case.text[s:e].lower().split()) for case in cases for s, e in case.spans}
    nlp = build_medspacy(terms)
    predictions, added_total = [], 0
    started = time.perf_counter()
    for case in cases:
        ents, added = medspacy_entities(nlp, case.text, case.spans)
        added_total += added
        predictions.append([
            {flag: bool(ent is not None and flag in MEDSPACY_ATTRIBUTES and getattr(ent._, MEDSPACY_ATTRIBUTES[flag]))
             for flag in ASSERTION_FLAGS}
            for ent in ents
        ])
    return predictions, added_total, time.perf_counter() - started


def score(cases: list[Case], predictions: list[list[dict[str, bool]]], flags: tuple[str, ...]) -> dict[str, Score]:
    return {flag: binary_score((g[flag], p[flag]) for case, preds in zip(cases, predictions)
                               for g, p in zip(case.gold, preds) if flag in g) for flag in flags}


def iter_errors(cases: list[Case], predictions: list[list[dict[str, bool]]], flag: str) -> Iterator[str]:
    for case, preds in zip(cases, predictions):
        for (start, end), g, p in zip(case.spans, case.gold, preds):
            if g.get(flag) != p[flag]:
                yield f"{case.key} gold={g[flag]} pred={p[flag]} [{case.text[start:end]}] {' '.join(case.text.split())[:300]}"


def run(args: argparse.Namespace) -> int:
    from notenlp.tracking import log_run

    path = Path(args.gold)
    if not path.exists():
        from notenlp.corpora import MISSING_MESSAGE

        log.error("gold file not found: %s (%s)", path, MISSING_MESSAGE)
        return 2
    cases, missing = read_negex(path) if args.format == "negex" else read_demo(path)
    flags = NEGEX_FLAGS if args.format == "negex" else ASSERTION_FLAGS
    spans = sum(len(c.spans) for c in cases)
    log.info("%d notes, %d target spans (%d conditions not found in their sentence)", len(cases), spans, missing)
    ours, components, ours_seconds = run_notenlp(cases, args.pipeline)
    systems = {"notenlp": score(cases, ours, flags)}
    medspacy_added = 0
    medspacy_seconds = None
    if not args.no_baseline:
        theirs, medspacy_added, medspacy_seconds = run_medspacy(cases)
        systems["medspacy"] = score(cases, theirs, flags)
        log.info("medspaCy target matcher missed %d spans; they were added as entities before ConText", medspacy_added)
    rows, metrics = [], {}
    for flag in flags:
        for system, scores in systems.items():
            s = scores[flag]
            rows.append({"flag": flag, "system": system, "gold": s.tp + s.fn, "precision": s.precision,
                         "recall": s.recall, "f1": s.f1, "tp": s.tp, "fp": s.fp, "fn": s.fn})
            metrics.update(s.as_dict(prefix=f"{system}.{flag}."))
    print(format_table(rows, ["flag", "system", "gold", "precision", "recall", "f1", "tp", "fp", "fn"]))
    print(f"notenlp components: {', '.join(components)}; {spans} spans in {ours_seconds:.2f}s"
          + (f"; medspaCy {medspacy_seconds:.2f}s" if medspacy_seconds is not None else ""))
    for flag in flags if args.format == "negex" else ():  # public sentences only; never print note text of real notes
        for line in list(iter_errors(cases, ours, flag))[: args.errors]:
            print(f"[{flag}] {line}")
    metrics.update({"spans": spans, "conditions_not_found": missing, "medspacy_spans_added": medspacy_added,
                    "notenlp_seconds": ours_seconds})
    if medspacy_seconds is not None:
        metrics["medspacy_seconds"] = medspacy_seconds
    log_run(args.experiment, f"assertion-{args.format}", metrics=metrics,
            params={"gold": path.name, "format": args.format, "pipeline": args.pipeline,
                    "components": ",".join(components), "baseline": "none" if args.no_baseline else "medspacy 1.3.1"},
            tables={"scores": rows})
    return 0
