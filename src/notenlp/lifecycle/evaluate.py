"""Score any model that answers the JSONL contract against gold records, the same way for every model.

Gold records follow the demo gold contract (``docs/demo_gold.md``): the input fields plus ``entities``
(offsets, label, assertion flags, concept ids) and ``relations`` (entity ids). Gold sets:

- ``demo``: synthetic notes from ``notenlp.demo.generator`` (a seed the nightly demo does not use);
- ``negex``: the development NegEx rows in the corpora folder (condition span + assertion labels);
- any path to a JSONL file of gold records.

Metrics are named ``<gold set>.<metric>``; a family of metrics is reported only when the gold set
annotates it (the NegEx rows carry no relations, so no relation F1 comes from them).
"""

from __future__ import annotations

import csv
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from notenlp.attributes import ASSERTION_FLAGS
from notenlp.corpora import corpus_path
from notenlp.metrics import Score, binary_score, span_scores

log = logging.getLogger(__name__)

DEMO_GOLD_NOTES = 40
DEMO_GOLD_SEED = 7919  # not the nightly demo's seed, so the model is scored on notes it never ran on
Predictor = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


@dataclass
class GoldSet:
    name: str
    records: list[dict[str, Any]]
    scores: frozenset[str]  # metric families it annotates: entities, assertion, relations, concepts


def demo_gold(n: int = DEMO_GOLD_NOTES, seed: int = DEMO_GOLD_SEED) -> GoldSet | None:
    try:
        from notenlp.demo.generator import iter_demo_notes
    except ImportError:
        log.warning("demo gold unavailable: notenlp.demo.generator is not installed")
        return None
    return GoldSet("demo", list(iter_demo_notes(n, seed=seed)),
                   frozenset({"entities", "assertion", "relations", "concepts"}))


def _negex_flags(negation: str, temporality: str, experiencer: str) -> dict[str, bool]:
    negation, temporality = negation.strip().lower(), temporality.strip().lower()
    return {
        "negated": negation == "negated", "possible": negation == "possible",
        "historical": temporality == "historical",
        "hypothetical": temporality in {"hypothetical", "not particular"},
        "conditional": False, "family": experiencer.strip().lower() == "other",
    }


def negex_gold() -> GoldSet | None:
    """NegEx development rows as gold records; rows whose condition is not found verbatim are skipped."""
    path = corpus_path("negex", "negex_dev.tsv")
    if path is None:
        log.info("NegEx development gold not found in the corpora folder; skipped")
        return None
    records, skipped = [], 0
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        next(reader, None)
        for row in reader:
            if len(row) < 6:
                skipped += 1
                continue
            line, condition, sentence = row[0], row[1].strip(), row[2]
            match = re.search(re.escape(condition), sentence, flags=re.IGNORECASE)
            if not condition or match is None:
                skipped += 1
                continue
            entity = {"id": 0, "start": match.start(), "end": match.end(), "label": "PROBLEM",
                      **_negex_flags(row[3], row[4], row[5])}
            records.append({"note_id": f"negex-{line}", "text": sentence, "entities": [entity], "relations": []})
    log.info("NegEx gold: %d rows, %d skipped (condition not found verbatim)", len(records), skipped)
    return GoldSet("negex", records, frozenset({"assertion"}))


def jsonl_gold(path: str | Path) -> GoldSet:
    with open(path, encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    return GoldSet(Path(path).stem, records, frozenset({"entities", "assertion", "relations", "concepts"}))


def load_gold_sets(names: Iterable[str]) -> Iterator[GoldSet]:
    for name in names:
        gold = {"demo": demo_gold, "negex": negex_gold}.get(name)
        found = gold() if gold else jsonl_gold(name)
        if found is not None:
            yield found


def input_record(gold: dict[str, Any], *, gold_targets: bool) -> dict[str, Any]:
    record = {k: gold[k] for k in ("note_id", "text", "person_id", "note_date") if gold.get(k) is not None}
    if gold_targets:
        record["targets"] = [{"start": e["start"], "end": e["end"], "label": e["label"]}
                             for e in gold.get("entities", [])]
    return record


def _f_metrics(prefix: str, score: Score) -> dict[str, float]:
    return {f"{prefix}_precision": score.precision, f"{prefix}_recall": score.recall, f"{prefix}_f1": score.f1}


def score_records(gold: GoldSet, predicted: list[dict[str, Any]]) -> dict[str, float]:
    """Metrics of predicted annotation records against a gold set, matched by ``note_id``."""
    by_note = {str(p["note_id"]): p for p in predicted}
    metrics: dict[str, float] = {"notes": float(len(gold.records))}
    gold_spans, pred_spans, gold_rel, pred_rel = [], [], [], []
    flag_pairs: dict[str, list[tuple[bool, bool]]] = {flag: [] for flag in ASSERTION_FLAGS}
    gold_flags = {flag for r in gold.records for e in r.get("entities", []) for flag in ASSERTION_FLAGS if e.get(flag)}
    all_flags_right = matched = gold_entities = concept_total = concept_right = 0
    for record in gold.records:
        key = str(record["note_id"])
        pred = by_note.get(key, {"entities": [], "relations": []})
        pred_by_span = {(e["start"], e["end"]): e for e in pred["entities"]}
        gold_spans += [(key, e["start"], e["end"], e["label"]) for e in record.get("entities", [])]
        pred_spans += [(key, e["start"], e["end"], e["label"]) for e in pred["entities"]]
        for entity in record.get("entities", []):
            gold_entities += 1
            hit = pred_by_span.get((entity["start"], entity["end"]))
            if hit is None:
                continue
            matched += 1
            pairs = [(bool(entity.get(flag, False)), bool(hit.get(flag, False))) for flag in ASSERTION_FLAGS]
            for flag, pair in zip(ASSERTION_FLAGS, pairs):
                flag_pairs[flag].append(pair)
            all_flags_right += all(g == p for g, p in pairs)
            if entity.get("concept_id"):
                concept_total += 1
                concept_right += hit.get("concept_id") == entity["concept_id"]
        gold_rel += _relation_keys(key, record)
        pred_rel += _relation_keys(key, pred)
    if "entities" in gold.scores:
        for mode, lenient in (("strict", False), ("lenient", True)):
            metrics.update(_f_metrics(f"entity_{mode}", span_scores(gold_spans, pred_spans, lenient=lenient)["ALL"]))
    if "assertion" in gold.scores and gold_entities:
        metrics["assertion_coverage"] = matched / gold_entities
        metrics["assertion_accuracy"] = all_flags_right / matched if matched else 0.0
        for flag, pairs in flag_pairs.items():
            # Reported whenever the gold set has the flag, so a model that finds none scores 0, not "missing".
            if flag in gold_flags or any(p for _, p in pairs):
                metrics[f"{flag}_f1"] = binary_score(pairs).f1
    if "relations" in gold.scores and gold_rel:
        rel = Score()
        gold_set, pred_set = set(gold_rel), set(pred_rel)
        rel.tp, rel.fp, rel.fn = len(gold_set & pred_set), len(pred_set - gold_set), len(gold_set - pred_set)
        metrics.update(_f_metrics("relation", rel))
    if "concepts" in gold.scores and concept_total:
        metrics["concept_accuracy"] = concept_right / concept_total
    return {f"{gold.name}.{name}": float(value) for name, value in metrics.items()}


def _relation_keys(note: str, record: dict[str, Any]) -> list[tuple]:
    spans = {e.get("id", i): (e["start"], e["end"]) for i, e in enumerate(record.get("entities", []))}
    return [(note, spans.get(r["head"]), spans.get(r["tail"]), r["type"]) for r in record.get("relations", [])
            if r["head"] in spans and r["tail"] in spans]


def evaluate(predict: Predictor, gold_sets: Iterable[GoldSet], *, gold_targets: bool = False) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for gold in gold_sets:
        inputs = [input_record(record, gold_targets=gold_targets) for record in gold.records]
        metrics.update(score_records(gold, predict(inputs)))
        log.info("scored %d notes of gold set %r", len(inputs), gold.name)
    return metrics
