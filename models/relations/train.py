"""Train the relation classifier and ship it as ``src/notenlp/resources/relations/model.json``.

Data: the ADE corpus v2 training split (80% of PMIDs by a stable hash; the rest is held out for
``notenlp evaluate relations``), with gazetteer mentions for negatives, plus demo gold notes
(``--demo-gold gold.jsonl``, or generated with ``notenlp.demo.generator`` when it is installed).
Logs params and held-out pair metrics to MLflow and registers ``notenlp-relations``.

    PYTHONPATH=src python models/relations/train.py [--demo-gold demo/gold.jsonl] [--out PATH]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from notenlp.attributes import RELATION_TYPES
from notenlp.evaluation.metrics import Score
from notenlp.relations.ade import in_train_split, read_ade
from notenlp.relations.component import DEFAULT_RULES, load_rules
from notenlp.relations.features import FeatureExtractor
from notenlp.relations.model import NONE, RelationClassifier
from notenlp.relations.training import ade_docs, ade_gazetteer, demo_doc, pair_examples, read_demo_gold
from notenlp.resources import resource_path

log = logging.getLogger("train_relations")
CLASSIFIED = ("causes_adverse_event", "treats", "reveals")


def demo_notes(path: str | None, n: int, seed: int) -> list[dict]:
    if path:
        return read_demo_gold(path)
    try:
        from notenlp.demo.generator import iter_demo_notes
    except ImportError:
        log.warning("no demo gold given and notenlp.demo.generator is not importable: training on ADE only")
        return []
    return list(iter_demo_notes(n, seed=seed))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(resource_path("relations", "model.json")), help="model file to write")
    parser.add_argument("--rules", default=DEFAULT_RULES, help="rules file (cue words)")
    parser.add_argument("--demo-gold", help="demo gold.jsonl to train on (default: generate --demo-notes notes)")
    parser.add_argument("--demo-notes", type=int, default=300, help="demo notes to generate when no file is given")
    parser.add_argument("--demo-seed", type=int, default=101, help="seed of the generated training notes "
                        "(evaluation uses another seed)")
    parser.add_argument("--c", type=float, default=1.0, help="inverse L2 regularisation strength")
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
    train = [s for s in sentences if in_train_split(s.pmid)]
    held_out = [s for s in sentences if not in_train_split(s.pmid)]
    gazetteer = ade_gazetteer(train)
    x, y = [], []
    for doc, gold in ade_docs(train, gazetteer):
        for features, label, _ in pair_examples(doc, gold, extractor, heads, tails, classified):
            x.append(features)
            y.append(label)
    ade_pairs = len(y)
    notes = demo_notes(args.demo_gold, args.demo_notes, args.demo_seed)
    for note in notes:
        doc, gold = demo_doc(note)
        for features, label, _ in pair_examples(doc, gold, extractor, heads, tails, classified):
            x.append(features)
            y.append(label)
    log.info("training pairs: %d ADE + %d demo (%d demo notes)", ade_pairs, len(y) - ade_pairs, len(notes))
    model = RelationClassifier.fit(x, y, c=args.c, min_count=args.min_count, metadata={
        "trained_on": {"ade_train_sentences": len(train), "demo_notes": len(notes)},
        "split": "ADE PMIDs with sha1(pmid) % 100 < 80"})

    score = {t: Score() for t in CLASSIFIED}
    for doc, gold in ade_docs(held_out, gazetteer):
        for features, label, allowed in pair_examples(doc, gold, extractor, heads, tails, classified):
            probabilities = model.probabilities(features, allowed)
            best = max((t for t in probabilities if t != NONE), key=probabilities.get, default=NONE)
            predicted = best if probabilities.get(best, 0.0) >= 0.5 else NONE
            for t in CLASSIFIED:
                if predicted == t and label == t:
                    score[t].tp += 1
                elif predicted == t:
                    score[t].fp += 1
                elif label == t:
                    score[t].fn += 1
    out = model.save(args.out)
    metrics = {f"heldout_pairs_{k}": v for k, v in score["causes_adverse_event"].as_dict("ade_").items()}
    metrics.update({"train_pairs": len(y), "n_features": len(model.weights), "train_seconds": time.time() - started})
    for key, value in metrics.items():
        print(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB)")

    from notenlp.relations.registry import log_and_register
    from notenlp.tracking import configure_mlflow, ensure_experiment

    mlflow = configure_mlflow()
    with mlflow.start_run(experiment_id=ensure_experiment("relations-training"), run_name="train-relations"):
        mlflow.log_params({"c": args.c, "min_count": args.min_count, "demo_notes": len(notes),
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
