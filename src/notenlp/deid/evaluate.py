"""``notenlp evaluate deid``: PHI recall, precision and F2 per type, token and entity level, beside Presidio.

Gold formats:
- ``demo``: the demo gold.jsonl (``notenlp demo-data``), every PHI type of the contract;
- ``presidio``: Presidio's synthetic set (synth_dataset_v2.json), types mapped onto ours; by default
  only its held-out fifth (index % 5 == 0), since the token model trains on the rest.

Token level: every word/number token gets the type of the PHI span covering it; a token counts as
found when the prediction covers it with the same type ("PHI" rows ignore the type). Entity level:
strict (same offsets and type) and lenient (overlap, same type) from ``notenlp.evaluation.metrics``.
Clock times are not identifiers under HIPAA Safe Harbor and the de-identifier leaves them by default;
gold DATE.TIME spans are therefore left out unless ``--detect-times`` is given (the count is printed).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from notenlp.evaluation.metrics import Score, format_table, span_scores

log = logging.getLogger(__name__)

PRESIDIO_TYPES = {
    "PERSON": "NAME", "STREET_ADDRESS": "LOCATION", "GPE": "LOCATION", "ORGANIZATION": "LOCATION",
    "ZIP_CODE": "LOCATION", "DATE_TIME": "DATE", "PHONE_NUMBER": "PHONE", "EMAIL_ADDRESS": "EMAIL",
    "DOMAIN_NAME": "URL", "IP_ADDRESS": "IP", "US_SSN": "ID", "CREDIT_CARD": "ID", "IBAN_CODE": "ID",
    "US_DRIVER_LICENSE": "ID", "AGE": "AGE",
}  # TITLE and NRP (nationality, religion, politics) are not PHI under HIPAA and are left out.


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gold", type=Path, default=None,
                        help="gold file (default for presidio: the shared corpora's synth_dataset_v2.json)")
    parser.add_argument("--format", choices=("demo", "presidio"), default="demo")
    parser.add_argument("--split", choices=("heldout", "all"), default="heldout",
                        help="presidio only: score the held-out fifth the model never saw (default) or all")
    parser.add_argument("--limit", type=int, default=0, help="score only the first N notes (0 = all)")
    parser.add_argument("--detect-times", action="store_true", help="treat clock times as PHI (and score them)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the Presidio baseline")
    parser.add_argument("--no-mlflow", action="store_true", help="print only; do not log to MLflow")


def load_gold(path: Path, fmt: str, split: str = "heldout") -> Iterator[dict]:
    """Gold notes as ``{"note_id", "person_id", "note_date", "text", "phi": [(start, end, type, subtype)]}``."""
    if fmt == "presidio":
        for index, item in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            if split == "heldout" and index % 5:
                continue
            phi = [(s["start_position"], s["end_position"], PRESIDIO_TYPES[s["entity_type"]], s["entity_type"])
                   for s in item["spans"] if s["entity_type"] in PRESIDIO_TYPES]
            yield {"note_id": index, "person_id": None, "note_date": None, "text": item["full_text"], "phi": phi}
        return
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                note = json.loads(line)
                yield {"note_id": note["note_id"], "person_id": note.get("person_id"),
                       "note_date": note.get("note_date"), "text": note["text"],
                       "phi": [(p["start"], p["end"], p["type"], p.get("subtype", "")) for p in note["phi"]]}


def token_labels(text: str, spans) -> list[tuple[int, int, str]]:
    """(start, end, type or '') of each word/number token."""
    from notenlp.deid.features import TOKEN_RE

    ordered = sorted((s[0], s[1], s[2]) for s in spans)
    out, k = [], 0
    for m in TOKEN_RE.finditer(text):
        if not m.group()[0].isalnum():
            continue
        while k < len(ordered) and ordered[k][1] <= m.start():
            k += 1
        label = ""
        for start, end, phi_type in ordered[k:k + 4]:
            if start < m.end() and m.start() < end:
                label = phi_type
                break
        out.append((m.start(), m.end(), label))
    return out


def score_system(notes: list[dict], detect) -> tuple[dict[str, Score], dict[str, Score], dict[str, Score], float]:
    """Token, strict-entity and lenient-entity scores per type, and seconds spent detecting."""
    tokens: dict[str, Score] = defaultdict(Score)
    gold_spans, pred_spans, elapsed = [], [], 0.0
    for note in notes:
        started = time.perf_counter()
        predicted = detect(note)
        elapsed += time.perf_counter() - started
        pred = [(p.start, p.end, p.type) for p in predicted]
        gold = [(g[0], g[1], g[2]) for g in note["phi"]]
        gold_spans += [(note["note_id"], *g) for g in gold]
        pred_spans += [(note["note_id"], *p) for p in pred]
        for (_, _, g), (_, _, p) in zip(token_labels(note["text"], gold), token_labels(note["text"], pred)):
            if g and p:
                tokens["PHI"].tp += 1
            elif p:
                tokens["PHI"].fp += 1
            elif g:
                tokens["PHI"].fn += 1
            if g and g == p:
                tokens[g].tp += 1
            else:
                if p:
                    tokens[p].fp += 1
                if g:
                    tokens[g].fn += 1
    strict = span_scores(gold_spans, pred_spans)
    lenient = span_scores(gold_spans, pred_spans, lenient=True)
    untyped_gold = [(*g[:3], "PHI") for g in gold_spans]
    untyped_pred = [(*p[:3], "PHI") for p in pred_spans]
    strict["PHI"] = span_scores(untyped_gold, untyped_pred)["ALL"]
    lenient["PHI"] = span_scores(untyped_gold, untyped_pred, lenient=True)["ALL"]
    return dict(tokens), strict, lenient, elapsed


def run(args: argparse.Namespace) -> int:
    from notenlp.corpora import MISSING_MESSAGE, corpus_path
    from notenlp.deid.deidentifier import Deidentifier
    from notenlp.doc import Doc

    gold_path = args.gold
    if gold_path is None and args.format == "presidio":
        gold_path = corpus_path("presidio-synth", "synth_dataset_v2.json")
        if gold_path is None:
            log.error(MISSING_MESSAGE)
            return 2
    if gold_path is None:
        log.error("--gold is required for --format demo (write one with `notenlp demo-data`)")
        return 2
    notes = []
    dropped_times = 0
    for note in load_gold(gold_path, args.format, args.split):
        if not args.detect_times:
            kept = [g for g in note["phi"] if g[3] != "DATE.TIME"]
            dropped_times += len(note["phi"]) - len(kept)
            note["phi"] = kept
        notes.append(note)
        if args.limit and len(notes) >= args.limit:
            break
    deidentifier = Deidentifier(mode="tag", detect_times=args.detect_times)
    systems = {"notenlp": lambda n: deidentifier.detect(n["text"], n["note_date"])}
    if not args.no_baseline:
        from notenlp.deid.baseline import PresidioPatternBaseline

        baseline = PresidioPatternBaseline()
        systems[baseline.name] = lambda n: baseline.detect(n["text"])
    rows, metrics, tables = [], {}, {}
    for name, detect in systems.items():
        tokens, strict, lenient, seconds = score_system(notes, detect)
        types = sorted((set(tokens) | set(strict)) - {"ALL"}, key=lambda t: (t != "PHI", t))
        for phi_type in types:
            tok, ent, len_ = tokens.get(phi_type, Score()), strict.get(phi_type, Score()), lenient.get(phi_type, Score())
            rows.append({"system": name, "type": phi_type, "tok_recall": tok.recall, "tok_precision": tok.precision,
                         "tok_f2": tok.f(2), "ent_recall": ent.recall, "ent_precision": ent.precision,
                         "ent_f2": ent.f(2), "lenient_f2": len_.f(2), "gold_tokens": tok.tp + tok.fn})
            for label, score in (("token", tok), ("entity", ent), ("lenient", len_)):
                metrics.update({f"{name}.{label}.{phi_type}.{k}": v for k, v in
                                (("recall", score.recall), ("precision", score.precision), ("f2", score.f(2)))})
        metrics[f"{name}.notes_per_s"] = len(notes) / seconds if seconds else 0.0
    columns = ["system", "type", "tok_recall", "tok_precision", "tok_f2", "ent_recall", "ent_precision", "ent_f2",
               "lenient_f2", "gold_tokens"]
    print(f"de-identification on {len(notes)} {args.format} notes ({gold_path.name}, split={args.split}); "
          f"gold clock-time spans left out: {dropped_times}")
    print(format_table(rows, columns))
    tables["per_type"] = rows
    if not args.no_mlflow:
        from notenlp.tracking import log_run

        log_run("notenlp-evaluate-deid", f"deid-{args.format}", metrics=metrics,
                params={"gold": gold_path.name, "format": args.format, "split": args.split, "notes": len(notes),
                        "detect_times": args.detect_times, "baseline": ",".join(list(systems)[1:])},
                tables=tables)
    return 0
