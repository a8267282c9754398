"""Train the relation classifier and ship it as ``src/notenlp/resources/relations/model.json``.

Data: the ADE corpus v2 training split (the PMIDs the NER recipe trains on; the rest is held out for
``notenlp evaluate relations``) and demo gold notes (``--demo-gold gold.jsonl``, or generated with
``notenlp.demo.generator``), both with the mentions the annotate pipeline's entity steps find:
gold mentions move onto them, so training pairs look like the pairs met end to end
(``--entities gazetteer``: a term list for ADE and the gold mentions for the demo instead).
The adverse-event threshold is chosen on a dev part of the training PMIDs and stored in the model.
Logs params and held-out pair metrics to MLflow and registers ``notenlp-relations``.

    PYTHONPATH=src python models/relations/train.py [--demo-gold demo/gold.jsonl] [--out PATH]
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from notenlp.attributes import RELATION_TYPES
from notenlp.metrics import Score
from notenlp.doc import Doc
from notenlp.relations.ade import AdeSentence, in_dev_split, read_ade, split
from notenlp.relations.component import DEFAULT_RULES, load_rules
from notenlp.relations.features import FeatureExtractor
from notenlp.relations.model import RelationClassifier
from notenlp.relations.training import (GoldSpans, ade_docs, ade_found_docs, ade_gazetteer, demo_doc,
                                       demo_found_doc, pair_examples, read_demo_gold)
from notenlp.resources import resource_path

log = logging.getLogger("train_relations")
CLASSIFIED = ("causes_adverse_event", "treats", "reveals")
THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)


def demo_notes(path: str | None, n: int, seed: int) -> list[dict]:
    if path:
        return read_demo_gold(path)
    try:
        from notenlp.demo.generator import iter_demo_notes
    except ImportError:
        log.warning("no demo gold given and notenlp.demo.generator is not importable: training on ADE only")
        return []
    return list(iter_demo_notes(n, seed=seed))


def best_threshold(dev_f1: dict[float, float]) -> float:
    """The threshold with the best dev F1; a tie goes to the threshold nearest 0.5 (the lower if two are).

    F1s equal but for rounding tie: F1 = 2PR/(P+R) computes one F1 from different counts an ulp apart
    (1/3 from tp/fp/fn 1/0/4 is 0.33333333333333337, from 1/1/3 0.3333333333333333), and that last bit
    must not outvote the tie-break.
    """
    best = max(dev_f1.values())
    tied = [t for t, f1 in dev_f1.items() if math.isclose(f1, best, rel_tol=1e-9, abs_tol=1e-12)]
    return min(tied, key=lambda t: (round(abs(t - 0.5), 9), t))


def adverse_event_score(model: RelationClassifier, pairs: list[tuple[dict[str, float], str]],
                        threshold: float) -> Score:
    score = Score()
    for features, label in pairs:
        probability = model.probabilities(features, ["causes_adverse_event"])["causes_adverse_event"]
        predicted = probability >= threshold
        score.tp += predicted and label == "causes_adverse_event"
        score.fp += predicted and label != "causes_adverse_event"
        score.fn += not predicted and label == "causes_adverse_event"
    return score


def entity_finder(source: str) -> Callable[[Doc], Doc] | None:
    """The annotate pipeline's entity steps when ``source`` is ``pipeline`` and they import here."""
    if source != "pipeline":
        return None
    from notenlp.evaluation.relations import entity_pipeline

    pipeline, used, skipped = entity_pipeline("annotate")
    if pipeline is None:
        log.warning("no entity component importable: training mentions from the gazetteer and the demo gold")
        return None
    log.info("training mentions from the annotate pipeline: %s (not importable: %s)",
             ", ".join(used), ", ".join(skipped) or "none")
    return pipeline


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(resource_path("relations", "model.json")), help="model file to write")
    parser.add_argument("--rules", default=DEFAULT_RULES, help="rules file (cue words)")
    parser.add_argument("--demo-gold", help="demo gold.jsonl to train on (default: generate --demo-notes notes)")
    parser.add_argument("--demo-notes", type=int, default=300, help="demo notes to generate when no file is given")
    parser.add_argument("--demo-seed", type=int, default=101, help="seed of the generated training notes "
                        "(evaluation uses another seed)")
    parser.add_argument("--c", type=float, default=0.3, help="inverse L2 regularisation strength "
                        "(0.3 scored best of 0.1/0.3/1/3 on the dev PMIDs)")
    parser.add_argument("--entities", choices=("pipeline", "gazetteer"), default="pipeline",
                        help="mentions of the ADE training sentences: the annotate pipeline's or a term list's")
    parser.add_argument("--min-count", type=int, default=2, help="drop features seen fewer times")
    parser.add_argument("--no-register", action="store_true", help="log the run but do not register the model")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    started = time.time()
    extractor = FeatureExtractor(load_rules(args.rules))
    heads = {h for t in CLASSIFIED for h in RELATION_TYPES[t][0]}
    tails = {t_ for t in CLASSIFIED for t_ in RELATION_TYPES[t][1]}
    classified = set(CLASSIFIED)

    sentences = read_ade()
    train, held_out = split(sentences)
    find = entity_finder(args.entities)
    gazetteer = ade_gazetteer(train) if find is None else None

    def docs(part: list[AdeSentence]) -> Iterator[tuple[Doc, GoldSpans]]:
        return ade_docs(part, gazetteer) if find is None else ade_found_docs(part, find)

    x, y, dev = [], [], []
    for sentence, (doc, gold) in zip(train, docs(train)):
        for features, label, _ in pair_examples(doc, gold, extractor, heads, tails, classified):
            x.append(features)
            y.append(label)
            dev.append(in_dev_split(sentence.pmid))
    ade_pairs = len(y)
    notes = demo_notes(args.demo_gold, args.demo_notes, args.demo_seed)
    for note in notes:
        doc, gold = demo_doc(note) if find is None else demo_found_doc(note, find)
        for features, label, _ in pair_examples(doc, gold, extractor, heads, tails, classified):
            x.append(features)
            y.append(label)
            dev.append(False)
    log.info("training pairs: %d ADE + %d demo (%d demo notes)", ade_pairs, len(y) - ade_pairs, len(notes))

    # The adverse-event threshold is chosen on a dev part of the training PMIDs, then the model is refit on all.
    fit = RelationClassifier.fit([f for f, d in zip(x, dev) if not d], [l for l, d in zip(y, dev) if not d],
                                 c=args.c, min_count=args.min_count)
    dev_pairs = [(f, l) for f, l, d in zip(x, y, dev) if d]
    dev_f1 = {t: adverse_event_score(fit, dev_pairs, t).f1 for t in THRESHOLDS}
    threshold = best_threshold(dev_f1)
    log.info("dev adverse-event F1 by threshold: %s -> %.2f",
             ", ".join(f"{t:.2f}: {f:.3f}" for t, f in dev_f1.items()), threshold)
    model = RelationClassifier.fit(x, y, c=args.c, min_count=args.min_count, metadata={
        "trained_on": {"ade_train_sentences": len(train), "demo_notes": len(notes), "entities": args.entities},
        "split": "ADE: the NER recipe's held-out PMIDs (every fifth with mentions, sorted) held out; threshold dev: md5(pmid) % 8 == 0 of the rest",
        "thresholds": {"causes_adverse_event": threshold}})

    held_out_pairs = [(f, l) for doc, gold in docs(held_out)
                      for f, l, _ in pair_examples(doc, gold, extractor, heads, tails, classified)]
    score = {"causes_adverse_event": adverse_event_score(model, held_out_pairs, threshold)}
    out = model.save(args.out)
    metrics = {f"heldout_pairs_{k}": v for k, v in score["causes_adverse_event"].as_dict("ade_").items()}
    metrics.update({f"dev_ade_f1_at_{t:.2f}": f for t, f in dev_f1.items()})
    metrics.update({"ade_threshold": threshold, "train_pairs": len(y), "n_features": len(model.weights),
                    "train_seconds": time.time() - started})
    for key, value in metrics.items():
        print(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB)")

    from notenlp.relations.registry import log_and_register
    from notenlp.tracking import configure_mlflow, ensure_experiment

    mlflow = configure_mlflow()
    with mlflow.start_run(experiment_id=ensure_experiment("relations-training"), run_name="train-relations"):
        mlflow.log_params({"c": args.c, "min_count": args.min_count, "entities": args.entities,
                           "demo_notes": len(notes),
                           "demo_seed": args.demo_seed, "ade_train_sentences": len(train),
                           "ade_heldout_sentences": len(held_out), "classes": ",".join(model.classes)})
        mlflow.log_metrics(metrics)
        mlflow.log_artifact(str(out))
        if not args.no_register:
            uri = log_and_register(str(out), str(resource_path(*Path(args.rules).parts)
                                                 if not Path(args.rules).exists() else Path(args.rules)))
            print(f"registered notenlp-relations from {uri}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
