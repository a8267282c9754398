"""Recipe: train the NER CRF, score it on the dev parts, log to MLflow and register ``notenlp-ner``.

    python models/ner/train.py            # writes src/notenlp/resources/ner/ner_crf.zip
    python models/ner/train.py --help     # corpora handling, iterations, penalties, MLflow options

The training itself is ``notenlp.ner.training``; this script adds the command line and the tracking.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from notenlp.corpora import MISSING_MESSAGE, corpora_dir
from notenlp.lifecycle.steps import TRAIN_METRICS_ENV
from notenlp.ner.corpora import CORPUS_DOMAINS, CORPUS_LABELS
from notenlp.ner.model import DEFAULT_PARAMS, NerModel
from notenlp.ner.training import DEFAULT_DOMAIN, dev_sets, score_model, train_all
from notenlp.resources import resource_path

log = logging.getLogger("notenlp.ner.training")

EXPERIMENT = "notenlp-ner"
REGISTERED_MODEL = "notenlp-ner"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write the trained model file (default: the shipped resources/ner/ner_crf.zip, "
                             "which the annotate pipeline's ner_model loads)")
    parser.add_argument("--c1", type=float, default=DEFAULT_PARAMS["c1"], help="L1 penalty (prunes features)")
    parser.add_argument("--c2", type=float, default=DEFAULT_PARAMS["c2"], help="L2 penalty")
    parser.add_argument("--max-iterations", type=int, default=DEFAULT_PARAMS["max_iterations"], help="L-BFGS iterations")
    parser.add_argument("--demo-notes", type=int, default=0,
                        help="synthetic demo notes added to training (default 0: the demo gold comes from the same "
                             "generator, so training on its notes makes the demo figures measure template recall)")
    parser.add_argument("--helper-iterations", type=int, default=200,
                        help="L-BFGS iterations of the BC5CDR helper model that fills unannotated labels")
    parser.add_argument("--ade-effects", choices=("aligned", "helper", "gold"), default="gold",
                        help="problems of the ADE sentences: ADE's own adverse-effect spans (default), ADE's "
                             "effects with the helper's (BC5CDR) extent where it overlaps them, or only the "
                             "helper's problems")
    parser.add_argument("--no-fill", action="store_true",
                        help="train once, without filling the labels NCBI and ADE leave unannotated "
                             "(ADE then gives its own adverse-effect spans)")
    parser.add_argument("--no-domains", action="store_true",
                        help="no per-corpus (annotation convention) feature copies: one set of weights for all corpora")
    parser.add_argument("--default-domain", default=DEFAULT_DOMAIN,
                        help=f"domain the model tags by unless told otherwise, e.g. in the annotate pipeline: a "
                             f"training corpus, or several joined by '+' for their mean (default {DEFAULT_DOMAIN!r}; "
                             f"'' for the shared weights)")
    parser.add_argument("--no-lexicon", action="store_true",
                        help="no ICD-10-CM word and word-pair features and no drug-name feature")
    parser.add_argument("--no-pairs", action="store_true", help="no ICD-10-CM word-pair features")
    parser.add_argument("--no-drug-names", action="store_true",
                        help="no drug-name feature (the drug-named-entity-recognition package's one-word names)")
    parser.add_argument("--no-register", action="store_true", help="log to MLflow but do not register the model")
    parser.add_argument("--no-mlflow", action="store_true", help="train and save only")


def run(args: argparse.Namespace) -> int:
    root = corpora_dir()
    if root is None:
        log.error(MISSING_MESSAGE)
        return 2
    params = {"c1": args.c1, "c2": args.c2, "max_iterations": args.max_iterations, "fill_missing": not args.no_fill,
              "helper_iterations": args.helper_iterations, "ade_effects": args.ade_effects,
              "domains": not args.no_domains, "default_domain": "" if args.no_domains else args.default_domain,
              "lexicon": not args.no_lexicon, "pairs": not args.no_pairs, "drug_names": not args.no_drug_names}
    started = time.perf_counter()
    model, counts = train_all(root, params, args.demo_notes)
    log.info("trained on %s", ", ".join(f"{k}: {v}" for k, v in counts.items()))
    train_seconds = time.perf_counter() - started
    out = model.save(args.out or resource_path("ner", "ner_crf.zip"))
    size = out.stat().st_size
    print(f"trained in {train_seconds:.0f}s on {model.meta['training']['tokens']} tokens; "
          f"model {size / 1e6:.2f} MB at {out}")
    metrics: dict[str, float] = {"train_seconds": train_seconds, "model_bytes": size}
    for name, dev in dev_sets(root).items():
        domain = CORPUS_DOMAINS[name] if CORPUS_DOMAINS[name] in model.meta.get("domains", ()) else None
        scores = score_model(model.with_domain(domain), dev, CORPUS_LABELS[name])
        for mode, by_label in scores.items():
            for label, score in sorted(by_label.items()):
                for key, value in score.as_dict().items():
                    metrics[f"{name}.{mode}.{label}.{key}"] = value
                if mode == "strict":
                    print(f"{name:7s} dev strict {label:8s} P={score.precision:.3f} R={score.recall:.3f} F1={score.f1:.3f}")
    metrics_file = os.environ.get(TRAIN_METRICS_ENV)
    if metrics_file:
        Path(metrics_file).write_text(json.dumps(metrics), encoding="utf-8")
    if not args.no_mlflow:
        log_and_register(out, model, params, metrics, counts, register=not args.no_register)
    return 0


def log_and_register(path: Path, model: NerModel, params: dict[str, Any], metrics: dict[str, float],
                     counts: dict[str, int], *, register: bool) -> str:
    """Log the run (params, per-label dev metrics, the model as a pyfunc) and register it as ``notenlp-ner``."""
    from notenlp.tracking import configure_mlflow, ensure_experiment

    mlflow = configure_mlflow()
    with mlflow.start_run(experiment_id=ensure_experiment(EXPERIMENT), run_name="train-crf") as run:
        mlflow.log_params({**params, **{f"texts.{k}": v for k, v in counts.items()},
                           "labels": ",".join(model.labels), "features": len(model.crf.attribute_row)})
        mlflow.log_metrics({k.replace("@", "_at_"): float(v) for k, v in metrics.items()})
        from notenlp.ner.mlflow_model import log_pyfunc

        info = log_pyfunc(str(path), registered_model_name=REGISTERED_MODEL if register else None)
        if register:
            log.info("registered %s version %s", REGISTERED_MODEL, info.registered_model_version)
        return run.info.run_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="train.py", description="Train the NER CRF on the public corpora and the demo notes.")
    add_arguments(parser)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
