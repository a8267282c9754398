"""``notenlp evaluate normalize``: top-1 concept accuracy on the demo gold mentions.

Every gold PROBLEM/DRUG/TEST/PROCEDURE mention that has a standard concept is given to the
``Normalizer`` without its concept (offsets, label and the gold sections kept, so the text
after a drug and the section are visible as they are in the pipeline). Beside it, in the same
run, the baseline: exact, case-insensitive string match of the mention to a concept name or
synonym of the same vocabulary (through 'Maps to'). Only counts and concept names are printed
and logged; note text never is.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from notenlp.attributes import LABEL_DOMAINS
from notenlp.doc import Doc, Entity, Section
from notenlp.metrics import format_table
from notenlp.vocab import drugs

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gold", type=Path, default=None,
                        help="gold.jsonl of `notenlp demo-data` (default: generate --notes demo notes in memory)")
    parser.add_argument("--notes", type=int, default=300, help="demo notes to generate when no --gold is given")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated demo notes")
    parser.add_argument("--dictionary", default=None, help="compiled dictionary artifact (default: as the pipeline)")
    parser.add_argument("--min-score", type=float, default=0.75, help="normalizer score threshold")
    parser.add_argument("--show-errors", type=int, default=0,
                        help="print this many wrong (mention, gold concept, predicted concept) rows")
    parser.add_argument("--confusion", action="store_true",
                        help="print the errors by label and kind (no concept, ingredient for a product, ...), "
                             "drugs split by whether the note states a strength for them")
    parser.add_argument("--no-mlflow", action="store_true", help="do not log the run to MLflow")


def _gold_records(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    if args.gold:
        with open(args.gold, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)
        return
    from notenlp.demo.generator import iter_demo_notes

    yield from iter_demo_notes(args.notes, seed=args.seed)


def exact_string_index(dictionary_vocab: Path | None = None) -> tuple[dict[str, int], dict[int, tuple[str, str]]]:
    """lower(concept name or synonym) -> standard concept id, from the vocabulary the dictionary uses;
    and concept id -> (name, class) for reporting."""
    import duckdb

    from notenlp.config import Settings
    from notenlp.vocab import loader

    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Path(Settings.from_env().warehouse)
        if dictionary_vocab is None and loader.has_vocabulary(warehouse):
            path = warehouse
        else:
            path = Path(tmp) / "demo.duckdb"
            loader.load_demo(path)
        con = duckdb.connect(str(path), read_only=True)
        rows = con.execute("""
            WITH names AS (
                SELECT concept_id, concept_name AS name FROM concept
                UNION ALL SELECT concept_id, concept_synonym_name FROM concept_synonym),
            standard AS (
                SELECT c.concept_id AS source_id,
                       CASE WHEN c.standard_concept = 'S' THEN c.concept_id ELSE r.concept_id_2 END AS concept_id
                FROM concept c LEFT JOIN concept_relationship r
                  ON r.concept_id_1 = c.concept_id AND r.relationship_id = 'Maps to')
            SELECT lower(n.name), min(s.concept_id) FROM names n JOIN standard s ON s.source_id = n.concept_id
            WHERE s.concept_id IS NOT NULL GROUP BY 1
        """).fetchall()
        names = {cid: (name, cls) for cid, name, cls in
                 con.execute("SELECT concept_id, concept_name, concept_class_id FROM concept").fetchall()}
        con.close()
    return dict(rows), names


def run(args: argparse.Namespace) -> int:
    from notenlp.vocab.normalizer import Normalizer

    started = time.perf_counter()
    normalizer = Normalizer(dictionary=args.dictionary, min_score=args.min_score)
    exact, names = exact_string_index(Path(args.dictionary) if args.dictionary else None)
    totals: dict[str, Counter] = defaultdict(Counter)
    confusion: Counter = Counter()
    errors: list[dict[str, Any]] = []
    notes = 0
    for record in _gold_records(args):
        notes += 1
        gold = [e for e in record["entities"] if e["label"] in LABEL_DOMAINS and e.get("concept_id")]
        if not gold:
            continue
        doc = Doc(text=record["text"], note_id=record["note_id"],
                  sections=[Section(s["start"], s["end"], s["name"]) for s in record.get("sections", [])],
                  entities=[Entity(e["start"], e["end"], e["text"], e["label"], section=e.get("section", ""))
                            for e in gold])
        normalizer(doc)
        strength_heads = {r["head"] for r in record.get("relations", ()) if r.get("type") == "has_strength"}
        stated = {e["concept_id"] for e in gold if e["id"] in strength_heads} if strength_heads else set()
        for g, predicted in zip(gold, doc.entities):
            for group in ("ALL", g["label"]):
                totals[group]["n"] += 1
                totals[group]["normalizer"] += predicted.concept_id == g["concept_id"]
                totals[group]["exact_string"] += exact.get(g["text"].lower()) == g["concept_id"]
            if g["label"] == "DRUG":
                # The gold drug is the patient's product even where the note names only the drug;
                # the ingredient is what the text supports, so count ingredient agreement too.
                gold_name, gold_class = names.get(g["concept_id"], ("", ""))
                same = bool(predicted.concept_id) and drugs.ingredient_key(predicted.concept_name) == \
                    drugs.ingredient_key(gold_name, gold_class)
                totals["DRUG (ingredient level)"]["n"] += 1
                totals["DRUG (ingredient level)"]["normalizer"] += same
                exact_id = exact.get(g["text"].lower())
                exact_name = names.get(exact_id, ("", ""))
                totals["DRUG (ingredient level)"]["exact_string"] += bool(exact_id) and \
                    drugs.ingredient_key(*exact_name) == drugs.ingredient_key(gold_name, gold_class)
            if g["label"] == "DRUG":
                group = "DRUG (strength in note)" if g["concept_id"] in stated else "DRUG (no strength in note)"
                totals[group]["n"] += 1
                totals[group]["normalizer"] += predicted.concept_id == g["concept_id"]
                totals[group]["exact_string"] += exact.get(g["text"].lower()) == g["concept_id"]
            if predicted.concept_id != g["concept_id"]:
                confusion[(g["label"], _error_kind(g, predicted, names),
                           ("yes" if g["concept_id"] in stated else "no") if g["label"] == "DRUG" else "")] += 1
            if predicted.concept_id != g["concept_id"] and len(errors) < args.show_errors:
                errors.append({"mention": g["text"], "label": g["label"], "gold": g["concept_id"],
                               "predicted": predicted.concept_id, "predicted_name": predicted.concept_name,
                               "score": predicted.match_score})
        if notes % 100 == 0:
            log.info("normalized mentions of %d notes (%.0fs)", notes, time.perf_counter() - started)
    rows = [{"mentions": group, "n": c["n"], "normalizer": c["normalizer"] / c["n"] if c["n"] else 0.0,
             "exact_string": c["exact_string"] / c["n"] if c["n"] else 0.0}
            for group, c in sorted(totals.items(), key=lambda item: (item[0] != "ALL", item[0]))]
    print(f"top-1 concept accuracy on {notes} demo notes ({time.perf_counter() - started:.1f}s)")
    print(format_table(rows, ["mentions", "n", "normalizer", "exact_string"]))
    if args.confusion and confusion:
        print(format_table([{"label": label, "error": kind, "strength_in_note": in_note, "n": n}
                            for (label, kind, in_note), n in confusion.most_common()],
                           ["label", "error", "strength_in_note", "n"]))
    if errors:
        print(format_table(errors, ["mention", "label", "gold", "predicted", "predicted_name", "score"]))
    if not args.no_mlflow and rows:
        from notenlp.tracking import log_run

        metrics = {}
        for row in rows:
            name = row["mentions"].replace(" (", "_").replace(")", "").replace(" ", "_")
            metrics[f"{name}_accuracy"] = row["normalizer"]
            metrics[f"{name}_exact_string_accuracy"] = row["exact_string"]
            metrics[f"{name}_n"] = row["n"]
        log_run("evaluate-normalize", "normalizer-vs-exact-string", metrics=metrics,
                params={"notes": notes, "gold": str(args.gold or f"demo seed {args.seed}"),
                        "min_score": args.min_score, "dictionary": args.dictionary or "default"},
                tables={"accuracy": rows})
    return 0


def _error_kind(gold: dict[str, Any], predicted: Entity, names: dict[int, tuple[str, str]]) -> str:
    if not predicted.concept_id:
        return "no concept"
    if gold["label"] != "DRUG":
        return "other concept"
    gold_name, gold_class = names.get(gold["concept_id"], ("", ""))
    name, concept_class = names.get(predicted.concept_id, ("", ""))
    if drugs.ingredient_key(name, concept_class) != drugs.ingredient_key(gold_name, gold_class):
        return "other drug"
    if concept_class == "Ingredient":
        return "ingredient for the product"
    if gold_class == "Ingredient":
        return "product for the ingredient"
    return "other product of the ingredient"
