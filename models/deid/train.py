"""Train the de-identifier's name/location token model and register it in MLflow as ``notenlp-deid``.

Training data (never the scored test parts):
- Presidio's synthetic PII sentences (../shared/corpora/presidio-synth), the 4 of every 5 sentences
  whose index is not a multiple of 5 (``notenlp evaluate deid --format presidio`` scores the rest);
- demo notes from ``notenlp.demo.generator.iter_demo_notes`` when that module is present;
- generated clinical sentences: names, places and facilities from the shipped lexicons beside
  capitalised clinical words, drugs and eponyms that must stay (the negatives a PII corpus lacks);
- realistic ICU nursing notes of the benchmark's dev part (``notenlp.evaluation.nursing_notes``) written
  with a training seed of their own (``NURSING_TRAIN_SEED``), never the seed the dev figures are scored on,
  and never the kept-aside part.

After training, the whole de-identifier with the new model is scored on the benchmark's dev part
(``notenlp.evaluation.deid_benchmark``: PHI token recall, precision, F2, damage rate); the figures are logged with the
MLflow run and written to ``$NOTENLP_TRAIN_METRICS`` when the model lifecycle runs the recipe, so that
``notenlp-deid`` is registered and gated on them like the other models.

Usage: python models/deid/train.py [--out src/notenlp/resources/deid/token_model.npz] [--demo-notes 400]
       [--nursing-notes 600]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sys
from pathlib import Path

import numpy as np

from notenlp.corpora import MISSING_MESSAGE, corpus_path
from notenlp.deid.deidentifier import Deidentifier
from notenlp.deid.features import LABELS, N_BUCKETS, TOKEN_RE, hash_features, token_features, word_key
from notenlp.deid.model import TokenModel
from notenlp.lifecycle.catalog import DEID_DEV_GOLD
from notenlp.resources import resource_path

log = logging.getLogger("train_deid")
NURSING_TRAIN_SEED = 4721  # not DEV_SEED (the dev figures) nor ASIDE_SEED (the kept-aside part)
DEFAULT_OUT = resource_path("deid", "token_model.npz")  # the shipped model, wherever notenlp is installed
PRESIDIO_TYPES = {"PERSON": "NAME", "GPE": "LOCATION", "STREET_ADDRESS": "LOCATION", "ORGANIZATION": "LOCATION"}
CLINICAL_CAPS = ["Lasix", "Vanco", "Zosyn", "Levophed", "Neo", "Propofol", "Fentanyl", "Heparin", "Coumadin", "Insulin",
                 "Tylenol", "Dilaudid", "Ativan", "Haldol", "Protonix", "Lopressor", "Flagyl", "Cipro", "Keppra",
                 "Neuro", "Resp", "Cardiac", "Skin", "Renal", "Pain", "Plan", "Assessment", "Action", "Response",
                 "Lungs", "Abd", "Ext", "Social", "Dispo", "Code", "Full", "Access", "Activity", "Diet", "Pt",
                 "Patient", "Family", "Afebrile", "Tolerating", "Continue", "Monitor", "Denies", "Alert", "Oriented",
                 "Tele", "Echo", "CT", "MRI", "CXR", "Foley", "PICC", "NGT", "OGT", "ETT", "Vent", "BiPAP",
                 "Diuresed", "Started", "Weaned", "Increased", "Given", "Received", "Noted", "Remains", "Will"]
EPONYM_PHRASES = ["Parkinson's disease", "Wilson's disease", "Bell's palsy", "Graves disease", "Hodgkin lymphoma",
                  "Crohn's disease", "Alzheimer's dementia", "Cushing syndrome", "Foley catheter", "Swan Ganz",
                  "Addison's disease", "Barrett's esophagus", "Raynaud's phenomenon", "Guillain Barre syndrome",
                  "Hashimoto thyroiditis", "Kussmaul respirations", "Cheyne Stokes breathing", "Murphy's sign",
                  "Homans sign", "Trendelenburg position", "Glasgow Coma Scale", "Doppler study", "Holter monitor"]
TEMPLATES = [
    "{CLIN}: {clin} overnight. {CLIN} {clin}.", "Pt seen by {FIRST} {LAST} this am.", "Spoke with {FIRST} regarding plan.",
    "{LAST} family at bedside.", "Wife {FIRST} updated by phone.", "Discussed with Dr. {LAST}.",
    "Hx of {EPONYM}. {CLIN} {clin}.", "{CLIN} given for {clin}.", "Transferred from {PLACE} Hospital.",
    "Lives in {CITY} with daughter {FIRST}.", "{FIRST} {LAST}, RN", "Pt's son {FIRST} called.", "{EPONYM} noted.",
    "{CLIN} {clin} {clin}, {CLIN} {clin}.", "Plan to d/c to {PLACE} Rehab.", "Pt from {CITY}.", "{CLIN} - {clin}.",
    "{FIRST} visited. {CLIN} stable.", "Seen at {PLACE} Medical Center in {CITY}.", "{CLIN} as per {LAST}.",
    "{CLIN} {EPONYM}.", "{FIRST} {LAST} is her HCP.", "Cont {CLIN}, {CLIN} and {CLIN}.", "{CLIN} with {EPONYM}.",
]


def tokenize_labelled(text: str, spans: list[tuple[int, int, str]]) -> tuple[list[str], list[str]]:
    tokens, labels = [], []
    for m in TOKEN_RE.finditer(text):
        label = "O"
        for start, end, phi_type in spans:
            if start < m.end() and m.start() < end:
                label = phi_type
                break
        tokens.append(m.group())
        labels.append(label)
    return tokens, labels


def presidio_sentences() -> list[tuple[list[str], list[str]]]:
    path = corpus_path("presidio-synth", "synth_dataset_v2.json")
    if path is None:
        log.warning("%s; training without Presidio's sentences", MISSING_MESSAGE)
        return []
    out = []
    for index, item in enumerate(json.loads(path.read_text(encoding="utf-8"))):
        if index % 5 == 0:  # held out for `notenlp evaluate deid --format presidio`
            continue
        spans = [(s["start_position"], s["end_position"], PRESIDIO_TYPES[s["entity_type"]])
                 for s in item["spans"] if s["entity_type"] in PRESIDIO_TYPES]
        out.append(tokenize_labelled(item["full_text"], spans))
    return out


def demo_sentences(n_notes: int, gold: Path | None) -> list[tuple[list[str], list[str]]]:
    """Demo notes of seed 1 (evaluation uses seed 0), from a gold.jsonl or the generator."""
    if gold is not None:
        notes = [json.loads(line) for line in gold.read_text(encoding="utf-8").splitlines()[:n_notes] if line.strip()]
    else:
        try:
            from notenlp.demo.generator import iter_demo_notes
        except ImportError:
            log.info("notenlp.demo.generator not available; training without demo notes")
            return []
        notes = iter_demo_notes(n_notes, seed=1)
    out = []
    for note in notes:
        spans = [(p["start"], p["end"], p["type"]) for p in note["phi"] if p["type"] in ("NAME", "LOCATION")]
        out.append(tokenize_labelled(note["text"], spans))
    return out


def nursing_sentences(n_notes: int) -> list[tuple[list[str], list[str]]]:
    """Benchmark dev-part notes written with the training seed, labelled with their planted names and places."""
    if n_notes <= 0:
        return []
    from notenlp.evaluation.nursing_notes import DEV_SEED, generate_notes

    assert NURSING_TRAIN_SEED != DEV_SEED
    out = []
    for note in generate_notes("dev", n_notes, seed=NURSING_TRAIN_SEED):
        spans = [(p["start"], p["end"], p["type"]) for p in note["phi"] if p["type"] in ("NAME", "LOCATION")]
        out.append(tokenize_labelled(note["text"], spans))
    return out


def generated_sentences(deid: Deidentifier, n: int, seed: int = 7) -> list[tuple[list[str], list[str]]]:
    rng = random.Random(seed)
    lex = deid.lex
    first, last = lex.first_name_list[:1500], lex.last_name_list[:4000]
    cities = [c for c in lex.city_list[:1500] if c.isascii()]
    clinical = sorted(w for w in lex.medical_words if len(w) > 3)
    out = []
    for _ in range(n):
        template = rng.choice(TEMPLATES)
        text, spans = "", []
        for literal, field in _split(template):
            text += literal
            if field is None:
                continue
            if field in ("FIRST", "LAST"):
                value, phi_type = rng.choice(first if field == "FIRST" else last).capitalize(), "NAME"
            elif field == "CITY":
                value, phi_type = " ".join(w.capitalize() for w in rng.choice(cities).split()), "LOCATION"
            elif field == "PLACE":
                value, phi_type = rng.choice(last).capitalize(), "LOCATION"
            elif field == "EPONYM":
                value, phi_type = rng.choice(EPONYM_PHRASES), "O"
            elif field == "CLIN":
                value, phi_type = rng.choice(CLINICAL_CAPS + [w.capitalize() for w in rng.sample(clinical, 3)]), "O"
            else:
                value, phi_type = rng.choice(clinical), "O"
            if phi_type != "O":
                spans.append((len(text), len(text) + len(value), phi_type))
            text += value
        out.append(tokenize_labelled(text, spans))
    return out


def _split(template: str):
    import re

    pos = 0
    for m in re.finditer(r"\{(\w+)\}", template):
        yield template[pos:m.start()], m.group(1)
        pos = m.end()
    yield template[pos:], None


def featurize(sentences, deid: Deidentifier):
    """Hashed feature rows of the capitalised word tokens (the tokens the model is asked about)."""
    from scipy.sparse import csr_matrix

    rows, cols, y = [], [], []
    for tokens, labels in sentences:
        keys = [word_key(t) for t in tokens]
        for i, token in enumerate(tokens):
            if not token[0].isupper() or len(token) < 3 or token.isupper():  # the tokens inference asks about
                continue
            buckets = set(hash_features(token_features(tokens, keys, i, deid.lex, deid.feature_cues)))
            rows.extend([len(y)] * len(buckets))
            cols.extend(buckets)
            y.append(LABELS.index(labels[i]))
    matrix = csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(y), N_BUCKETS))
    return matrix, np.array(y)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--demo-notes", type=int, default=400)
    parser.add_argument("--demo-gold", type=Path, default=None,
                        help="demo gold.jsonl to train on (written by `notenlp demo-data --seed 1`) instead of the generator")
    parser.add_argument("--generated", type=int, default=6000)
    parser.add_argument("--nursing-notes", type=int, default=600,
                        help="realistic nursing notes (benchmark dev part, training seed) to train on")
    parser.add_argument("--benchmark-notes", type=int, default=300,
                        help="benchmark dev notes the trained de-identifier is scored on")
    parser.add_argument("--C", type=float, default=0.5, help="inverse L2 regularisation strength")
    parser.add_argument("--no-register", action="store_true", help="skip MLflow logging and registration")
    args = parser.parse_args()

    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import classification_report

    deid = Deidentifier(mode="tag", model=None)
    sentences = (presidio_sentences() + demo_sentences(args.demo_notes, args.demo_gold)
                 + generated_sentences(deid, args.generated) + nursing_sentences(args.nursing_notes))
    random.Random(0).shuffle(sentences)
    cut = int(len(sentences) * 0.9)
    x_train, y_train = featurize(sentences[:cut], deid)
    x_dev, y_dev = featurize(sentences[cut:], deid)
    log.info("training on %d tokens, validating on %d", x_train.shape[0], x_dev.shape[0])
    clf = LogisticRegression(C=args.C, max_iter=2000)
    clf.fit(x_train, y_train)
    report = classification_report(y_dev, clf.predict(x_dev), labels=list(range(len(LABELS))),
                                   target_names=list(LABELS), output_dict=True, zero_division=0)
    print(classification_report(y_dev, clf.predict(x_dev), labels=list(range(len(LABELS))),
                                target_names=list(LABELS), zero_division=0))
    weights = np.zeros((len(LABELS), N_BUCKETS), dtype=np.float32)
    bias = np.zeros(len(LABELS), dtype=np.float32)
    weights[clf.classes_] = clf.coef_
    bias[clf.classes_] = clf.intercept_
    TokenModel(weights, bias).save(args.out)
    log.info("saved %s (%d bytes)", args.out, args.out.stat().st_size)
    benchmark = benchmark_metrics(args.out, args.benchmark_notes)
    for key in ("token_recall", "token_precision", "token_f2", "damage_rate"):
        print(f"realistic dev benchmark {key}: {benchmark[f'{DEID_DEV_GOLD}.{key}']:.4f}")
    metrics_file = os.environ.get("NOTENLP_TRAIN_METRICS")
    if metrics_file:
        Path(metrics_file).write_text(json.dumps(benchmark), encoding="utf-8")
    if not args.no_register:
        register(clf, args, report, x_train.shape[0], benchmark)
    return 0


def benchmark_metrics(model_file: Path, n_notes: int) -> dict[str, float]:
    """The de-identifier with the new model, scored on the realistic benchmark's dev part."""
    from notenlp.evaluation.deid_benchmark import score_benchmark

    scored = Deidentifier(mode="tag", model=str(model_file.resolve()))
    return {f"{DEID_DEV_GOLD}.{k}": v for k, v in score_benchmark(scored, "dev", n_notes).items()}


def register(clf, args, report: dict, n_train: int, benchmark: dict[str, float]) -> None:
    from notenlp.tracking import configure_mlflow, ensure_experiment

    mlflow = configure_mlflow()
    experiment_id = ensure_experiment("notenlp-deid-training")
    with mlflow.start_run(experiment_id=experiment_id, run_name="deid-token-model"):
        mlflow.log_params({"C": args.C, "n_buckets": N_BUCKETS, "train_tokens": n_train,
                           "demo_notes": args.demo_notes, "generated": args.generated,
                           "nursing_notes": args.nursing_notes, "nursing_seed": NURSING_TRAIN_SEED})
        mlflow.log_metrics(benchmark)
        mlflow.log_metrics({f"dev_{label}_{k}": report[label][k] for label in LABELS
                            for k in ("precision", "recall", "f1-score")})
        mlflow.log_artifact(str(args.out), artifact_path="npz")
        import mlflow.sklearn

        mlflow.sklearn.log_model(clf, name="model", registered_model_name="notenlp-deid")
    log.info("registered notenlp-deid in MLflow")


if __name__ == "__main__":
    sys.exit(main())
