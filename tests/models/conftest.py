"""A toy model in a tmp MLflow store: rules files, gold notes, a training recipe and a catalog naming them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from .components import toy_config, write_rules

RECIPE = Path(__file__).parent / "toy_recipe" / "train.py"
TOY = "notenlp-toy"

# Hand-written notes without PHI; entities carry the labels and negation the toy annotators should find.
NOTES = [
    ("Patient denies chest pain. Started aspirin for headache.",
     [("chest pain", "PROBLEM", True), ("aspirin", "DRUG", False), ("headache", "PROBLEM", False)]),
    ("No fever. History of diabetes treated with metformin.",
     [("fever", "PROBLEM", True), ("diabetes", "PROBLEM", False), ("metformin", "DRUG", False)]),
    ("Cough improving on amoxicillin. No rash.",
     [("cough", "PROBLEM", False), ("amoxicillin", "DRUG", False), ("rash", "PROBLEM", True)]),
    ("Reports nausea; ondansetron given.",
     [("nausea", "PROBLEM", False), ("ondansetron", "DRUG", False)]),
]


def gold_records(indices=range(len(NOTES))) -> list[dict]:
    records = []
    for i in indices:
        text, entities = NOTES[i]
        found = []
        for n, (term, label, negated) in enumerate(entities):
            start = text.lower().index(term)
            found.append({"id": n, "start": start, "end": start + len(term), "text": text[start:start + len(term)],
                          "label": label, "negated": negated})
        records.append({"note_id": i + 1, "person_id": 100 + i, "text": text, "entities": found, "relations": []})
    return records


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@dataclass
class ToyWorld:
    home: Path
    lexicon: Path
    gold: Path
    training: Path
    catalog: Path

    def train_on(self, indices) -> None:
        """Point the recipe at a subset of the notes for its next run."""
        write_jsonl(self.training, gold_records(indices))


@pytest.fixture
def toy_world(tmp_path, monkeypatch) -> ToyWorld:
    home = tmp_path / "home"
    lexicon, negation = write_rules(tmp_path / "rules", {}, ["no", "denies"])
    gold = write_jsonl(tmp_path / "toy_gold.jsonl", gold_records())
    training = tmp_path / "training.jsonl"
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps({"models": [{
        "name": TOY, "pipeline": toy_config(lexicon, negation), "owns": ["tagger"], "recipe": str(RECIPE),
        "gold": [str(gold)], "tracked": ["toy_gold.entity_strict_f1", "toy_gold.negated_f1"], "margin": 0.05,
    }]}), encoding="utf-8")
    for key in ("MLFLOW_TRACKING_URI", "NOTENLP_MLFLOW_TRACKING_URI", "NOTENLP_MLFLOW_ARTIFACTS"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("NOTENLP_HOME", str(home))
    monkeypatch.setenv("NOTENLP_MODEL_CATALOG", str(catalog))
    monkeypatch.setenv("TOY_TRAINING", str(training))
    monkeypatch.setenv("TOY_LEXICON", str(lexicon))
    return ToyWorld(home, lexicon, gold, training, catalog)
