"""Pipeline component: statistical NER (``notenlp.ner.component:ModelNER``)."""

from __future__ import annotations

import bisect
import logging
from collections.abc import Callable

from notenlp.doc import Doc, Entity, overlapping_entities
from notenlp.ner.model import NerModel
from notenlp.ner.tokenize import split_sentences
from notenlp.resources import file_or_resource

log = logging.getLogger(__name__)

DEFAULT_MODEL = "ner/ner_crf.zip"


class ModelNER:
    """Adds PROBLEM/DRUG/TEST/PROCEDURE entities found by the CRF (source "model").

    Tags each of ``doc.sentences`` (the model's own splitter when there are none), then makes
    the note consistent (abbreviations defined in it, repeated mention strings). On overlap
    with an entity already there, whatever its label, the longer of the two is kept, and on a
    tie the entity already there (a dictionary hit carries a concept; the normalizer gives the
    model's mentions theirs). Docs scored against given targets (``doc.targets`` set) are left
    alone.
    """

    def __init__(self, *, model_path: str = DEFAULT_MODEL, labels: list[str] | None = None, min_score: float = 0.0,
                 domain: str | None = None):
        """``domain``: the annotation convention to tag by (see :class:`NerModel`); default the model's.

        ``model_path`` defaults to the shipped file in the signature itself, where model packaging
        (``notenlp.lifecycle.pyfunc.file_setting_defaults``) reads it: so a registered NER model carries its weights
        and a champion downloaded from a tracking server runs them, not the host's installed file."""
        path = file_or_resource(model_path or DEFAULT_MODEL)
        self.model = NerModel.load(path, domain)
        self.labels = set(labels) if labels is not None else set(self.model.labels)
        self.min_score = min_score
        log.info("NER model %s loaded (labels %s, domain %s)", path.name, ", ".join(sorted(self.labels)),
                 self.model.domain or "shared")

    def __call__(self, doc: Doc) -> Doc:
        if doc.targets is not None:
            return doc
        if doc.sentences:
            spans = [(s.start, s.end) for s in doc.sentences]
        else:
            spans = split_sentences(doc.text)
        mentions = self.model.predict_document(doc.text, spans)
        sentence_at = sentence_index(doc)
        for mention in mentions:
            if mention.label not in self.labels or mention.score < self.min_score:
                continue
            entity = Entity(start=mention.start, end=mention.end, text=doc.text[mention.start:mention.end],
                            label=mention.label, source="model", score=round(mention.score, 4),
                            sentence=sentence_at(mention.start))
            merge(doc.entities, entity)
        return doc


def sentence_index(doc: Doc) -> Callable[[int], int]:
    """``doc.sentence_at`` (-1 without sentences), by bisection when the sentences are ordered and disjoint."""
    sentences = doc.sentences
    if not sentences:
        return lambda offset: -1
    if any(a.end > b.start for a, b in zip(sentences, sentences[1:])):
        return doc.sentence_at
    starts = [s.start for s in sentences]

    def sentence_at(offset: int) -> int:
        i = bisect.bisect_right(starts, offset) - 1
        return i if i >= 0 and offset < sentences[i].end else -1

    return sentence_at


def merge(entities: list[Entity], new: Entity) -> None:
    """Add ``new`` unless an overlapping entity is at least as long; drop the overlapping
    entities that it outgrows. A shorter dictionary hit inside a model mention ("pain" in
    "chest pain") is a partial match: letting it win cost strict F1 on BC5CDR, NCBI Disease and
    the demo gold alike."""
    overlapping = overlapping_entities(entities, new.start, new.end)
    length = new.end - new.start
    if any(e.end - e.start >= length for e in overlapping):
        return
    for e in overlapping:
        entities.remove(e)
    entities.append(new)
