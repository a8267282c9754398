"""Reader for the ADE corpus v2 (``DRUG-AE.rel``, ``DRUG-DOSE.rel``, ``ADE-NEG.txt``).

Each sentence becomes a one-sentence ``Doc`` with DRUG / PROBLEM / DOSE entities and gold
``causes_adverse_event`` / ``has_dose`` relations. The files give document-level offsets, so each
sentence's start is recovered as the shift that puts every mention of the sentence on its text.
Documents are split by PMID, the same way the NER recipe splits them, so held-out abstracts are
unseen by both models.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from notenlp.attributes import DRUG, PROBLEM
from notenlp.corpora import corpus_path
from notenlp.doc import Doc, Entity, Span

log = logging.getLogger(__name__)

ADE_DIR = "ade-corpus-v2"
FILES = {"causes_adverse_event": ("DRUG-AE.rel", PROBLEM), "has_dose": ("DRUG-DOSE.rel", "DOSE")}


@dataclass
class AdeSentence:
    pmid: str
    text: str
    mentions: list[tuple[str, int, int, str]] = field(default_factory=list)  # (text, doc start, doc end, label)
    pairs: list[tuple[int, int, str]] = field(default_factory=list)  # (head mention, tail mention, type)


def split(sentences: list[AdeSentence], root: Path | None = None) -> tuple[list[AdeSentence], list[AdeSentence]]:
    """(training, held-out) sentences, whole abstracts on one side. Held out are the abstracts the NER
    recipe holds out (``notenlp.ner.corpora.split_by_document``: every fifth of the PMIDs with
    annotated mentions, by sorted id), so the end-to-end figures come from abstracts that neither the
    NER model nor the relation classifier was trained on, plus every fifth of the abstracts with
    negative sentences only (the NER recipe reads none of their labels), so the held-out part keeps
    the corpus's share of negative sentences."""
    from notenlp.ner.corpora import read_ade as read_ner_ade, split_by_document

    root = root or corpus_path(ADE_DIR)
    if root is None:
        raise FileNotFoundError(ADE_DIR)
    annotated = read_ner_ade(root)
    held_out = {doc.doc_id for doc in split_by_document(annotated)[1]}
    negative_only = sorted({s.pmid for s in sentences} - {doc.doc_id for doc in annotated})
    held_out.update(negative_only[::5])
    return [s for s in sentences if s.pmid not in held_out], [s for s in sentences if s.pmid in held_out]


def in_dev_split(pmid: str) -> bool:
    """The eighth of the training PMIDs (by a hash) on which recipes choose thresholds."""
    return int(hashlib.md5(pmid.encode()).hexdigest(), 16) % 8 == 0


def _sentence_shift(text: str, mentions: list[tuple[str, int, int, str]]) -> int | None:
    """Document offset of the sentence start that places every mention on its own text."""
    first, start, _, _ = mentions[0]
    position = text.find(first)
    while position >= 0:
        shift = start - position
        if all(text[s - shift:e - shift] == t for t, s, e, _ in mentions):
            return shift
        position = text.find(first, position + 1)
    return None


def read_ade(root: Path | None = None) -> list[AdeSentence]:
    """All sentences of the corpus, positives (with mentions) and negatives (``ADE-NEG.txt``)."""
    root = root or corpus_path(ADE_DIR)
    if root is None:
        raise FileNotFoundError(ADE_DIR)
    sentences: dict[tuple[str, str], AdeSentence] = {}
    for relation, (name, tail_label) in FILES.items():
        for line in (root / name).read_text(encoding="utf-8").splitlines():
            parts = line.split("|")
            if len(parts) < 8:
                continue
            pmid, text = parts[0], "|".join(parts[1:-6])
            tail_text, tail_start, tail_end, drug_text, drug_start, drug_end = parts[-6:]
            sentence = sentences.setdefault((pmid, text), AdeSentence(pmid, text))
            ids = []
            for mention in ((drug_text, int(drug_start), int(drug_end), DRUG),
                            (tail_text, int(tail_start), int(tail_end), tail_label)):
                if mention not in sentence.mentions:
                    sentence.mentions.append(mention)
                ids.append(sentence.mentions.index(mention))
            if (ids[0], ids[1], relation) not in sentence.pairs:
                sentence.pairs.append((ids[0], ids[1], relation))
    negatives = 0
    for line in (root / "ADE-NEG.txt").read_text(encoding="utf-8").splitlines():
        pmid, _, rest = line.partition(" ")
        text = rest.removeprefix("NEG ").strip()
        if text and (pmid, text) not in sentences:
            sentences[(pmid, text)] = AdeSentence(pmid, text)
            negatives += 1
    log.info("ADE corpus: %d sentences (%d negative)", len(sentences), negatives)
    return list(sentences.values())


def to_doc(sentence: AdeSentence, *, with_entities: bool = True) -> tuple[Doc, list[tuple[int, int, int, int, str]]]:
    """One-sentence Doc (gold entities attached when ``with_entities``) and its gold relations as
    ``(head start, head end, tail start, tail end, type)`` in sentence offsets."""
    doc = Doc(text=sentence.text, note_id=sentence.pmid, sentences=[Span(0, len(sentence.text))])
    if not sentence.mentions:
        return doc, []
    shift = _sentence_shift(sentence.text, sentence.mentions)
    entities = []
    for text, start, end, label in sentence.mentions:
        if shift is None:  # offsets disagree with the text: take the first occurrence of the mention
            start = sentence.text.find(text)
            entities.append(Entity(start, start + len(text), text, label))
        else:
            entities.append(Entity(start - shift, end - shift, text, label))
    gold = [(entities[h].start, entities[h].end, entities[t].start, entities[t].end, r) for h, t, r in sentence.pairs]
    if with_entities:
        doc.entities = entities
        doc.relations = []
    return doc, gold

