"""Entities given from outside (``doc.targets``): assertion scoring and the JSONL ``targets`` field.

When a doc carries targets, its entities are exactly those spans; every NER component
(dictionary, model, medication attributes) leaves such docs alone. A caller that knows the
targets' labels (an evaluation on labelled gold) gives them, one per target, in
``doc.user_data["target_labels"]``; ConText rules may apply to some labels only.
"""

from __future__ import annotations

from notenlp.attributes import PROBLEM
from notenlp.doc import TARGET_LABELS, TARGET_SCORES, Doc, Entity


def has_targets(doc: Doc) -> bool:
    """True when the entities of ``doc`` are fixed by its targets and NER must not add any."""
    return doc.targets is not None


class TargetEntities:
    """Turns ``doc.targets`` into entities with source ``"target"`` (label ``PROBLEM`` unless
    ``doc.user_data["target_labels"]`` gives each target's; ``"target_scores"`` their scores, else 1.0);
    docs without targets pass through. ``source``: what NOTE_NLP's nlp_system records for them (the
    Spark NLP engine gives its chunks as targets with source ``"sparknlp"``)."""

    def __init__(self, *, label: str = PROBLEM, source: str = "target"):
        self.label = label
        self.source = source

    def __call__(self, doc: Doc) -> Doc:
        if doc.targets is None:
            return doc
        labels = doc.user_data.get(TARGET_LABELS) or [self.label] * len(doc.targets)
        if len(labels) != len(doc.targets):
            raise ValueError(f"{len(labels)} target labels for {len(doc.targets)} targets")
        scores = doc.user_data.get(TARGET_SCORES) or [1.0] * len(doc.targets)
        doc.entities = [
            Entity(start=t.start, end=t.end, text=doc.text[t.start:t.end], label=label, source=self.source,
                   score=float(score))
            for t, label, score in zip(doc.targets, labels, scores)
        ]
        return doc
