"""Training recipe of the NER model: assemble the corpora, train, score the dev parts, track in MLflow.

``models/ner/train.py`` and ``notenlp models`` call :func:`main`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from notenlp.attributes import PROBLEM
from notenlp.corpora import MISSING_MESSAGE, corpora_dir
from notenlp.ner.corpora import (
    BC5CDR_LABELS, CORPUS_DOMAINS, CORPUS_FILES, CORPUS_LABELS, NCBI_LABELS, LabelledText, demo_record, read_ade,
    read_pubtator, split_by_document,
)
from notenlp.ner.clusters import learn_clusters
from notenlp.ner.model import DEFAULT_PARAMS, NerModel
from notenlp.ner.tokenize import tokenize
from notenlp.resources import resource_path

log = logging.getLogger(__name__)

EXPERIMENT = "notenlp-ner"
REGISTERED_MODEL = "notenlp-ner"
DEMO_TRAIN_SEED = 1
# Clinical notes follow none of the corpora's conventions: the annotate pipeline tags by the mean of
# the three domains' weights (demo gold combined F1 0.810 vs 0.806 for "bc5cdr" and 0.759 for "ade",
# measured on a model without the morphology features).
DEFAULT_DOMAIN = "bc5cdr+ncbi+ade"  # demo notes for training use another seed than the demo gold scored by `notenlp evaluate`


def dev_sets(root: Path) -> dict[str, list[LabelledText]]:
    return {
        "bc5cdr": read_pubtator(root / CORPUS_FILES["bc5cdr"][1], BC5CDR_LABELS),
        "ncbi": read_pubtator(root / CORPUS_FILES["ncbi"][1], NCBI_LABELS),
        "ade": split_by_document(read_ade(root / CORPUS_FILES["ade"][1]))[1],
    }


def training_parts(root: Path, demo_notes: int) -> dict[str, list[LabelledText]]:
    return {
        "bc5cdr": read_pubtator(root / CORPUS_FILES["bc5cdr"][0], BC5CDR_LABELS),
        "ncbi": read_pubtator(root / CORPUS_FILES["ncbi"][0], NCBI_LABELS),
        "ade": split_by_document(read_ade(root / CORPUS_FILES["ade"][0]))[0],
        "demo": demo_training_notes(demo_notes),
    }


def unlabelled_texts(root: Path) -> list[str]:
    """Clinical and biomedical sentences without mention labels, for the word clusters.

    The ICD-10-CM titles as more unlabelled text were tried: BC5CDR dev chemical F1 0.906 ->
    0.903, disease 0.822 -> 0.817 (their contexts are title patterns, not running text)."""
    texts = [d.text for d in read_ade(root / CORPUS_FILES["ade"][0], include_negative=True) if not d.mentions]
    negex = root / "negex" / "negex_dev.tsv"
    if negex.exists():
        texts.extend(line.split("\t")[2] for line in negex.read_text(encoding="utf-8").splitlines()[1:]
                     if line.count("\t") >= 2)
    return texts


def fill_missing_labels(model: NerModel, docs: list[LabelledText], labels: tuple[str, ...]) -> list[LabelledText]:
    """Add the model's mentions of ``labels`` that overlap no gold mention: corpora annotate only
    some labels (NCBI: no chemicals; ADE: only drugs and effects that form an adverse event), and
    training on their silence would teach the CRF that those mentions are not entities."""
    filled = []
    for doc in docs:
        extra = [(m.start, m.end, m.label) for m in model.predict_sentences(doc.text) if m.label in labels
                 and all(m.end <= s or e <= m.start for s, e, _ in doc.mentions)]
        filled.append(LabelledText(doc.doc_id, doc.text, doc.mentions + extra))
    return filled


def without_labels(docs: list[LabelledText], labels: tuple[str, ...]) -> list[LabelledText]:
    return [LabelledText(d.doc_id, d.text, [m for m in d.mentions if m[2] not in labels]) for d in docs]


def align_boundaries(model: NerModel, docs: list[LabelledText], label: str) -> list[LabelledText]:
    """Replace each gold mention of ``label`` by the model's mentions of ``label`` that overlap
    it (the model's extent conventions), keeping the gold span where the model found none."""
    aligned = []
    for doc in docs:
        found = [(m.start, m.end, m.label) for m in model.predict_sentences(doc.text) if m.label == label]
        mentions = [m for m in doc.mentions if m[2] != label]
        for start, end, _ in (m for m in doc.mentions if m[2] == label):
            mentions.extend([f for f in found if f[0] < end and start < f[1]] or [(start, end, label)])
        aligned.append(LabelledText(doc.doc_id, doc.text, sorted(set(mentions))))
    return aligned


def train_all(root: Path, params: dict[str, Any], demo_notes: int) -> tuple[NerModel, dict[str, int]]:
    """BC5CDR (both labels, exhaustive) first; its model fills the labels the other corpora
    leave out; then the final model trains on everything.

    ADE's adverse-effect spans follow their own extent rules ("fatal aplastic anemia"), which
    clash with the BC5CDR/NCBI disease guidelines and cost the model strict precision on both.
    ``ade_effects`` says what to do with them: "gold" (default) keeps ADE's spans, "aligned"
    takes the helper's extent where it overlaps an effect and the effect's own span where the
    helper found nothing, "helper" keeps only the helper's problems. "aligned" raised BC5CDR
    dev disease F1 from 0.767 to 0.789 but dropped end-to-end ADE drug -> adverse event F1 from
    0.706 to 0.530, because the relations are scored on ADE's own extents: gold is the default.

    With ``domains`` (default) each corpus is its own domain (:data:`CORPUS_DOMAINS`): the
    features get per-corpus copies, so the conventions stop pulling the shared weights apart
    (BC5CDR dev disease F1 0.767 -> 0.795, NCBI 0.821 -> 0.837, the domain copies alone)."""
    parts = training_parts(root, demo_notes)
    counts = {k: len(v) for k, v in parts.items()}
    texts = [d.text for docs in parts.values() for d in docs] + unlabelled_texts(root)
    clusters = learn_clusters([t[0] for t in tokenize(text)] for text in texts) if params.get("clusters", True) else {}
    if params.get("fill_missing", True):
        helper_params = {**params, "max_iterations": params.get("helper_iterations", params["max_iterations"]),
                         "default_domain": ""}
        helper = NerModel.train(parts["bc5cdr"] + parts["demo"], helper_params, clusters)
        parts["ncbi"] = fill_missing_labels(helper, parts["ncbi"], ("DRUG",))
        effects = params.get("ade_effects", "gold")
        if effects == "aligned":
            parts["ade"] = align_boundaries(helper, parts["ade"], PROBLEM)
        elif effects == "helper":
            parts["ade"] = without_labels(parts["ade"], (PROBLEM,))
        parts["ade"] = fill_missing_labels(helper, parts["ade"], ("DRUG", "PROBLEM"))
        counts["filled_mentions"] = sum(len(d.mentions) for d in parts["ncbi"] + parts["ade"])
    docs = [dataclasses.replace(d, domain=CORPUS_DOMAINS.get(name) if params.get("domains", True) else None)
            for name, texts in parts.items() for d in texts]
    return NerModel.train(docs, params, clusters), counts


def demo_training_notes(n: int) -> list[LabelledText]:
    """Synthetic clinical notes (TEST, PROCEDURE and clinical style) when the demo generator is installed."""
    if n <= 0:
        return []
    try:
        from notenlp.demo.generator import iter_demo_notes
    except ImportError:
        log.warning("notenlp.demo.generator is not available: training without demo notes")
        return []
    return [demo_record(record) for record in iter_demo_notes(n, seed=DEMO_TRAIN_SEED)]


def score_model(model: NerModel, docs: list[LabelledText], labels: tuple[str, ...]) -> dict[str, Any]:
    """Strict and lenient span scores of the model on labelled texts, only for ``labels``."""
    from notenlp.evaluation.metrics import span_scores

    gold, predicted = [], []
    for k, doc in enumerate(docs):
        gold.extend((k, s, e, label) for s, e, label in doc.mentions if label in labels)
        predicted.extend((k, m.start, m.end, m.label) for m in model.predict_sentences(doc.text) if m.label in labels)
    return {"strict": span_scores(gold, predicted), "lenient": span_scores(gold, predicted, lenient=True)}


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
    from notenlp.lifecycle.steps import TRAIN_METRICS_ENV

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
