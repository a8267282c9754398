"""Training the NER model: assemble the corpora, train, score the dev parts.

The recipe ``models/ner/train.py`` (run by ``notenlp models train notenlp-ner``) drives these and
tracks the run in MLflow; nothing here knows about MLflow.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from notenlp.attributes import PROBLEM
from notenlp.ner.corpora import (
    BC5CDR_LABELS, CORPUS_DOMAINS, CORPUS_FILES, NCBI_LABELS, LabelledText, demo_record, read_ade,
    read_pubtator, split_by_document,
)
from notenlp.ner.clusters import learn_clusters
from notenlp.ner.model import NerModel
from notenlp.ner.tokenize import tokenize

log = logging.getLogger(__name__)

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
    from notenlp.metrics import span_scores

    gold, predicted = [], []
    for k, doc in enumerate(docs):
        gold.extend((k, s, e, label) for s, e, label in doc.mentions if label in labels)
        predicted.extend((k, m.start, m.end, m.label) for m in model.predict_sentences(doc.text) if m.label in labels)
    return {"strict": span_scores(gold, predicted), "lenient": span_scores(gold, predicted, lenient=True)}
