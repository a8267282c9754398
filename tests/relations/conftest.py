"""A tiny synthetic relation set and a classifier trained on it, shared by the relation tests."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from notenlp.doc import Doc, Entity, Span
from notenlp.relations.component import RelationExtractor, load_rules
from notenlp.relations.features import FeatureExtractor
from notenlp.relations.model import RelationClassifier
from notenlp.relations.training import pair_examples

CLASSIFIED = {"causes_adverse_event", "treats", "reveals"}

# [head] and <tail> mark the mentions; the third field is the relation between them ("none": unrelated).
TEMPLATES = [
    ("[{d}]-induced <{p}> was noted.", "causes_adverse_event"),
    ("She developed <{p}> after starting [{d}].", "causes_adverse_event"),
    ("<{p}> secondary to [{d}] resolved after it was stopped.", "causes_adverse_event"),
    ("He was started on [{d}] for <{p}>.", "treats"),
    ("Continue [{d}] to treat <{p}>.", "treats"),
    ("[{t}] showed <{p}>.", "reveals"),
    ("[{t}] revealed <{p}>.", "reveals"),
    ("History of <{p}>; takes [{d}] daily.", "none"),
    ("[{d}] was given and the family reports <{p}> in her brother.", "none"),
    ("[{t}] was ordered; <{p}> is chronic.", "none"),
]
DRUGS = ["amoxicillin", "lisinopril", "metformin", "warfarin", "heparin", "cisplatin"]
PROBLEMS = ["rash", "cough", "hypoglycemia", "bleeding", "pneumonia", "hypertension"]
TESTS = ["chest x-ray", "CT scan", "ultrasound", "MRI"]
MARK = re.compile(r"\[([^\]]+)\]|<([^>]+)>")


def make_doc(template: str, **names: str) -> tuple[Doc, list[Entity]]:
    """A one-sentence Doc from a template, with its marked mentions as entities (in order)."""
    filled = template.format(**names)
    entities, cursor, pieces = [], 0, []
    for m in MARK.finditer(filled):
        pieces.append(filled[cursor:m.start()])
        start = sum(len(p) for p in pieces)
        mention = m.group(1) or m.group(2)
        label = "TEST" if m.group(1) and mention in TESTS else ("DRUG" if m.group(1) else "PROBLEM")
        pieces.append(mention)
        entities.append(Entity(start, start + len(mention), mention, label))
        cursor = m.end()
    pieces.append(filled[cursor:])
    text = "".join(pieces)
    doc = Doc(text=text, sentences=[Span(0, len(text))], entities=entities)
    return doc, entities


def synthetic_corpus() -> list[tuple[Doc, list[tuple[int, int, int, int, str]]]]:
    out = []
    for k, (template, kind) in enumerate(TEMPLATES):
        for n in range(len(PROBLEMS)):
            names = {"d": DRUGS[(n + k) % len(DRUGS)], "p": PROBLEMS[n], "t": TESTS[n % len(TESTS)]}
            doc, entities = make_doc(template, **names)
            head, tail = sorted(entities, key=lambda e: e.label == "PROBLEM")
            gold = [] if kind == "none" else [(head.start, head.end, tail.start, tail.end, kind)]
            out.append((doc, gold))
    return out


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    extractor = FeatureExtractor(load_rules())
    x, y = [], []
    for doc, gold in synthetic_corpus():
        for features, label, _ in pair_examples(doc, gold, extractor, {"DRUG", "PROCEDURE", "TEST"}, {"PROBLEM"},
                                                CLASSIFIED):
            x.append(features)
            y.append(label)
    model = RelationClassifier.fit(x, y, c=10.0, min_count=1)
    return model.save(tmp_path_factory.mktemp("relations") / "model.json")


@pytest.fixture(scope="session")
def tiny_extractor(tiny_model_path: Path) -> RelationExtractor:
    return RelationExtractor(model_path=str(tiny_model_path))
