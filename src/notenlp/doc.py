"""The document model every annotator reads and writes.

A component is any callable ``component(doc) -> doc``; it adds to ``doc.sentences``,
``doc.sections``, ``doc.entities``, ``doc.relations`` or ``doc.phi`` and never changes
``doc.text`` (de-identification returns a *new* Doc for the replaced text).
Offsets are Python string indices into ``doc.text``, end exclusive.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from notenlp.attributes import ASSERTION_FLAGS

# doc.user_data keys: the label and score of each of doc.targets (entities found upstream, e.g. by Spark NLP).
TARGET_LABELS = "target_labels"
TARGET_SCORES = "target_scores"


@dataclass(slots=True)
class Span:
    start: int
    end: int


@dataclass(slots=True)
class Section:
    start: int
    end: int
    name: str  # canonical section name, e.g. "past_medical_history"
    header: str = ""  # header text as written (offsets start..start+len(header))
    concept_id: int = 0  # LOINC section concept id, 0 when none exists


@dataclass(slots=True)
class PhiSpan:
    start: int
    end: int
    type: str  # one of attributes.PHI_TYPES
    subtype: str = ""  # finer type, e.g. "DATE.YEAR", "ID.MRN"
    source: str = ""  # detector that found it: "pattern", "lexicon", "model", "placeholder"
    score: float = 1.0


@dataclass(slots=True)
class Entity:
    start: int
    end: int
    text: str
    label: str  # one of attributes.ENTITY_LABELS
    id: int = -1  # position in doc.entities once the pipeline finishes
    source: str = ""  # "dictionary", "model", "rule" or "target"
    score: float = 1.0
    section: str = ""
    section_concept_id: int = 0
    sentence: int = -1
    negated: bool = False
    possible: bool = False
    hypothetical: bool = False
    conditional: bool = False
    historical: bool = False
    family: bool = False
    concept_id: int = 0  # standard concept (NOTE_NLP.note_nlp_concept_id)
    source_concept_id: int = 0  # matched concept (NOTE_NLP.note_nlp_source_concept_id)
    vocabulary_id: str = ""
    concept_code: str = ""
    concept_name: str = ""
    match_score: float = 0.0

    def assertion(self) -> dict[str, bool]:
        return {flag: getattr(self, flag) for flag in ASSERTION_FLAGS}


def overlapping_entities(entities: list[Entity], start: int, end: int) -> list[Entity]:
    """The entities that share at least one character with ``[start, end)``."""
    return [e for e in entities if e.start < end and start < e.end]


@dataclass(slots=True)
class Relation:
    head: int  # Entity.id
    tail: int  # Entity.id
    type: str  # one of attributes.RELATION_TYPES
    score: float = 1.0


@dataclass(slots=True)
class Doc:
    text: str
    note_id: str | int = ""
    person_id: int | None = None
    note_date: str | None = None  # ISO date
    sentences: list[Span] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    phi: list[PhiSpan] = field(default_factory=list)
    targets: list[Span] | None = None  # externally given entity spans (assertion scoring)
    user_data: dict[str, Any] = field(default_factory=dict)

    def section_at(self, offset: int) -> Section | None:
        for section in self.sections:
            if section.start <= offset < section.end:
                return section
        return None

    def sentence_at(self, offset: int) -> int:
        for i, sentence in enumerate(self.sentences):
            if sentence.start <= offset < sentence.end:
                return i
        return -1

    def finalize(self) -> "Doc":
        """Sort entities by offset and give them their ids; relation ends follow."""
        order = sorted(range(len(self.entities)), key=lambda i: (self.entities[i].start, self.entities[i].end))
        new_id = {self.entities[old].id if self.entities[old].id >= 0 else old: new for new, old in enumerate(order)}
        self.entities = [self.entities[i] for i in order]
        for i, entity in enumerate(self.entities):
            entity.id = i
        for relation in self.relations:
            relation.head = new_id.get(relation.head, relation.head)
            relation.tail = new_id.get(relation.tail, relation.tail)
        return self


def to_dict(obj: Any) -> dict[str, Any]:
    return asdict(obj)
