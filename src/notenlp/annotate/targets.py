"""Entities given from outside (``doc.targets``): assertion scoring and the JSONL ``targets`` field.

When a doc carries targets, its entities are exactly those spans; every NER component
(dictionary, model, medication attributes) leaves such docs alone.
"""

from __future__ import annotations

from notenlp.attributes import PROBLEM
from notenlp.doc import Doc, Entity


def has_targets(doc: Doc) -> bool:
    """True when the entities of ``doc`` are fixed by its targets and NER must not add any."""
    return doc.targets is not None


class TargetEntities:
    """Turns ``doc.targets`` into ``PROBLEM`` entities with source ``"target"``; docs without targets pass through."""

    def __init__(self, *, label: str = PROBLEM):
        self.label = label

    def __call__(self, doc: Doc) -> Doc:
        if doc.targets is None:
            return doc
        doc.entities = [
            Entity(start=t.start, end=t.end, text=doc.text[t.start:t.end], label=self.label, source="target")
            for t in doc.targets
        ]
        return doc
