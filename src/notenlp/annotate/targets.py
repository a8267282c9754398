"""Entities given from outside (``doc.targets``): assertion scoring and the JSONL ``targets`` field.

When a doc carries targets, its entities are exactly those spans; every NER component
(dictionary, model, medication attributes) leaves such docs alone. A caller that knows the
targets' labels (an evaluation on labelled gold) gives them, one per target, in
``doc.user_data["target_labels"]``; ConText rules may apply to some labels only.
"""

from __future__ import annotations

from notenlp.attributes import PROBLEM
from notenlp.doc import Doc, Entity

TARGET_LABELS = "target_labels"


def has_targets(doc: Doc) -> bool:
    """True when the entities of ``doc`` are fixed by its targets and NER must not add any."""
    return doc.targets is not None


class TargetEntities:
    """Turns ``doc.targets`` into entities with source ``"target"`` (label ``PROBLEM`` unless
    ``doc.user_data["target_labels"]`` gives each target's); docs without targets pass through."""

    def __init__(self, *, label: str = PROBLEM):
        self.label = label

    def __call__(self, doc: Doc) -> Doc:
        if doc.targets is None:
            return doc
        labels = doc.user_data.get(TARGET_LABELS) or [self.label] * len(doc.targets)
        if len(labels) != len(doc.targets):
            raise ValueError(f"{len(labels)} target labels for {len(doc.targets)} targets")
        doc.entities = [
            Entity(start=t.start, end=t.end, text=doc.text[t.start:t.end], label=label, source="target")
            for t, label in zip(doc.targets, labels)
        ]
        return doc
