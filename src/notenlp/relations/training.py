"""Training examples for the relation classifier, shared by the recipe and the evaluation.

Positive pairs come from gold relations (ADE corpus v2, demo gold); negatives are every other
admissible pair in scope. The ADE corpus annotates only the mentions that take part in an adverse
event, so a term list (``Gazetteer``: ADE training-split mentions plus BC5CDR chemical/disease
mentions) adds the other drug and problem mentions of each sentence, negative sentences included:
those pairs teach the classifier what an unrelated or indication pair looks like. The recipe's
default instead takes the mentions the annotate pipeline finds and moves the gold onto them
(``align_to_found``), so training pairs look like the pairs met end to end.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from notenlp.attributes import ASSERTION_FLAGS, DRUG, PROBLEM, PROCEDURE, TEST
from notenlp.corpora import corpus_path
from notenlp.doc import Doc, Entity
from notenlp.relations.ade import AdeSentence, to_doc
from notenlp.relations.features import ADMISSIBLE, TOKEN, FeatureExtractor, candidate_pairs, overlapping
from notenlp.relations.model import NONE

log = logging.getLogger(__name__)

GoldSpans = list[tuple[int, int, int, int, str]]  # (head start, head end, tail start, tail end, type)


class Gazetteer:
    """Longest-match lookup of lower-cased token sequences -> DRUG / PROBLEM."""

    def __init__(self, terms: dict[tuple[str, ...], str]):
        self.terms = terms
        self.max_len = max((len(k) for k in terms), default=0)

    @classmethod
    def build(cls, labelled: Iterable[tuple[str, str]], *, min_chars: int = 3) -> "Gazetteer":
        votes: dict[tuple[str, ...], Counter] = defaultdict(Counter)
        for text, label in labelled:
            key = tuple(t.lower() for t in TOKEN.findall(text))
            if key and len(text) >= min_chars and not key[0].isdigit():
                votes[key][label] += 1
        return cls({key: counter.most_common(1)[0][0] for key, counter in votes.items()})

    def find(self, text: str) -> list[Entity]:
        tokens = [(m.start(), m.end(), m.group().lower()) for m in TOKEN.finditer(text)]
        found, k = [], 0
        while k < len(tokens):
            for n in range(min(self.max_len, len(tokens) - k), 0, -1):
                label = self.terms.get(tuple(t for _, _, t in tokens[k:k + n]))
                if label:
                    start, end = tokens[k][0], tokens[k + n - 1][1]
                    found.append(Entity(start, end, text[start:end], label, source="gazetteer"))
                    k += n
                    break
            else:
                k += 1
        return found


def bc5cdr_terms() -> Iterator[tuple[str, str]]:
    """(mention text, DRUG/PROBLEM) from the BC5CDR training and development files, when present."""
    root = corpus_path("bc5cdr")
    if root is None:
        return
    labels = {"Chemical": DRUG, "Disease": PROBLEM}
    for path in sorted(root.glob("*.PubTator.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) >= 5 and parts[4] in labels:
                yield parts[3], labels[parts[4]]


def ade_gazetteer(train: list[AdeSentence]) -> Gazetteer:
    terms = [(text, label) for s in train for text, _, _, label in s.mentions if label in (DRUG, PROBLEM)]
    return Gazetteer.build([*terms, *bc5cdr_terms()])


def add_entities(doc: Doc, extra: Iterable[Entity]) -> None:
    """Add mentions that overlap none already there (gold mentions win)."""
    taken = [(e.start, e.end) for e in doc.entities]
    for entity in extra:
        if all(entity.end <= s or entity.start >= e for s, e in taken):
            doc.entities.append(entity)
            taken.append((entity.start, entity.end))


class GoldPairs:
    """The training label of a candidate pair: its gold type (of ``classified``) or ``none``; ``None``
    for an unrelated pair that repeats the wording of a related one (the drug named twice in a
    sentence, one mention annotated), which is left out rather than taught as a negative."""

    def __init__(self, doc: Doc, gold: GoldSpans, classified: set[str]):
        self.lower = doc.text.lower()
        self.by_span = {(h0, h1, t0, t1): r for h0, h1, t0, t1, r in gold if r in classified}
        self.related_words = {(self.lower[h0:h1], self.lower[t0:t1]) for h0, h1, t0, t1 in self.by_span}

    def label(self, head: Entity, tail: Entity) -> str | None:
        label = self.by_span.get((head.start, head.end, tail.start, tail.end), NONE)
        if label == NONE and (self.lower[head.start:head.end], self.lower[tail.start:tail.end]) in self.related_words:
            return None
        return label


def pair_examples(doc: Doc, gold: GoldSpans, extractor: FeatureExtractor, heads: set[str], tails: set[str],
                  classified: set[str]) -> Iterator[tuple[dict[str, float], str, list[str]]]:
    """(features, label, types the labels admit) for every candidate pair the ``GoldPairs`` label keeps."""
    labels = GoldPairs(doc, gold, classified)
    ctx = extractor.context(doc)
    for i, j in candidate_pairs(ctx, heads, tails):
        head, tail = doc.entities[i], doc.entities[j]
        allowed = [t for t in ADMISSIBLE[(head.label, tail.label)] if t in classified]
        if not allowed or overlapping(head, tail):  # nested mentions are related by rule, not classified
            continue
        label = labels.label(head, tail)
        if label is not None:
            yield extractor.features(ctx, i, j), label, allowed


def ade_docs(sentences: list[AdeSentence], gazetteer: Gazetteer | None) -> Iterator[tuple[Doc, GoldSpans]]:
    """Sentence Docs with gold mentions, plus gazetteer mentions when a gazetteer is given."""
    for sentence in sentences:
        doc, gold = to_doc(sentence)
        if gazetteer is not None:
            add_entities(doc, gazetteer.find(doc.text))
        yield doc, gold


def align_to_found(doc: Doc, gold: GoldSpans, found: Iterable[Entity],
                   labels: tuple[str, ...] = (DRUG, PROBLEM)) -> tuple[Doc, GoldSpans]:
    """The Doc with the entities a pipeline found, so training pairs look like the pairs met end to end.

    Each gold mention (of ``labels``) moves onto the found mention of its label it overlaps most;
    a gold mention nothing overlaps is added as it is; gold relations follow their mentions.
    """
    entities = [e for e in found if e.label in labels]
    moved: dict[tuple[int, int], tuple[int, int]] = {}
    for mention in doc.entities:
        span = (mention.start, mention.end)
        if mention.label not in labels:
            continue
        overlaps = [e for e in entities if e.label == mention.label and e.start < mention.end and mention.start < e.end]
        if overlaps:
            best = max(overlaps, key=lambda e: min(e.end, mention.end) - max(e.start, mention.start))
            moved[span] = (best.start, best.end)
        else:
            entities.append(mention)
            moved[span] = span
    relations = []
    for h0, h1, t0, t1, kind in gold:
        head, tail = moved.get((h0, h1)), moved.get((t0, t1))
        if head and tail and (*head, *tail, kind) not in relations:
            relations.append((*head, *tail, kind))
    aligned = Doc(text=doc.text, note_id=doc.note_id, sentences=doc.sentences, entities=entities)
    return aligned, relations


def ade_found_docs(sentences: list[AdeSentence], find: Callable[[Doc], Doc]) -> Iterator[tuple[Doc, GoldSpans]]:
    """Sentence Docs with the mentions ``find`` (the annotate pipeline's entity steps) gives, gold aligned onto them."""
    started = time.time()
    for k, sentence in enumerate(sentences):
        gold_doc, gold = to_doc(sentence)
        found = find(to_doc(sentence, with_entities=False)[0])
        doc, relations = align_to_found(gold_doc, gold, found.entities)
        doc.sentences = found.sentences
        yield doc, relations
        if (k + 1) % 2000 == 0:
            log.info("ADE sentences through the entity pipeline: %d/%d (%.0f s)", k + 1, len(sentences),
                     time.time() - started)


def demo_doc(note: dict[str, Any]) -> tuple[Doc, GoldSpans]:
    """A Doc with the gold entities (assertion flags, sections) of one demo-gold note, and its relations."""
    entities = []
    for e in note["entities"]:
        entity = Entity(e["start"], e["end"], e.get("text", note["text"][e["start"]:e["end"]]), e["label"],
                        id=-1, section=e.get("section", ""))
        for flag in ASSERTION_FLAGS:
            setattr(entity, flag, bool(e.get(flag, False)))
        entities.append(entity)
    by_id = {e["id"]: entity for e, entity in zip(note["entities"], entities)}
    gold = [(by_id[r["head"]].start, by_id[r["head"]].end, by_id[r["tail"]].start, by_id[r["tail"]].end, r["type"])
            for r in note.get("relations", []) if r["head"] in by_id and r["tail"] in by_id]
    doc = Doc(text=note["text"], note_id=note.get("note_id", ""), person_id=note.get("person_id"),
              note_date=note.get("note_date"), entities=entities)
    return doc, gold


def demo_found_doc(note: dict[str, Any], find: Callable[[Doc], Doc]) -> tuple[Doc, GoldSpans]:
    """A demo-gold note with the mentions ``find`` gives; gold drugs, problems, tests and procedures moved onto them."""
    gold_doc, gold = demo_doc(note)
    found = find(Doc(text=note["text"], note_id=note.get("note_id", "")))
    doc, relations = align_to_found(gold_doc, gold, found.entities, labels=(DRUG, PROBLEM, TEST, PROCEDURE))
    doc.sentences, doc.sections = found.sentences, found.sections
    return doc, relations


def read_demo_gold(path: str | Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
