"""OMOP CDM conventions for NOTE_NLP's assertion columns.

``term_exists``: ``N`` when the entity is negated, possible (uncertain), hypothetical,
conditional, or about someone other than the patient; ``Y`` otherwise.
``term_temporal``: ``past`` for historical entities, ``present`` otherwise.
``term_modifiers``: ``key=value`` pairs joined by ``;`` in this fixed order:
``negated``, ``possible``, ``hypothetical``, ``conditional``, ``historical`` (``true``/``false``),
``subject`` (``patient``/``family``), ``section`` (canonical section name, may be empty),
``label`` (entity label). Example:
``negated=true;possible=false;hypothetical=false;conditional=false;historical=false;subject=patient;section=review_of_systems;label=PROBLEM``.

At load (``sql/etl/insert_note_nlp.sql``) NOTE_NLP rows follow the OHDSI convention that a row is a clinical
term and its modifiers live in ``term_modifiers``; more pairs follow ``label``:

* a DRUG row: its medication attributes (linked by the attribute relations) in ``MEDICATION_ATTRIBUTES``
  order, ``strength=500 mg;dose=1 tab;route=PO;frequency=BID;duration=x 7 days;form=tablet``, each present only
  when found (the first written, ``;``/``=``/whitespace runs made one space), with
  ``strength_unit_concept_id`` / ``dose_unit_concept_id`` (UCUM, ``sql/seeds/unit_ucum.csv``) after a strength or
  dose and ``route_concept_id`` (SNOMED Route, ``sql/seeds/route_snomed.csv``) after a route, where the loaded
  vocabulary holds the concept. Attributes are no NOTE_NLP rows of their own.
* a TEST row: the result written right after it, ``value=9.8``, then ``unit=g/dL`` when a known unit follows
  and ``unit_concept_id`` (UCUM) where the vocabulary holds it.
"""

from __future__ import annotations

import re

from notenlp.attributes import ASSERTION_FLAGS, MEDICATION_ATTRIBUTES
from notenlp.doc import Entity

# The assertion flags (notenlp.attributes) written as true/false; ``family`` is written as ``subject``.
_FLAG_KEYS = tuple(flag for flag in ASSERTION_FLAGS if flag != "family")
MODIFIER_KEYS = (*_FLAG_KEYS, "subject", "section", "label")
TERM_TEMPORAL_VALUES = ("present", "past")
# Every flag but ``historical`` (a time, written as term_temporal) says the term does not hold for the patient now.
_ABSENT_FLAGS = tuple(flag for flag in ASSERTION_FLAGS if flag != "historical")


def term_exists(entity: Entity) -> str:
    absent = any(getattr(entity, flag) for flag in _ABSENT_FLAGS)
    return "N" if absent else "Y"


def term_temporal(entity: Entity) -> str:
    return "past" if entity.historical else "present"


def term_modifiers(entity: Entity) -> str:
    flags = [f"{k}={str(getattr(entity, k)).lower()}" for k in _FLAG_KEYS]
    subject = "family" if entity.family else "patient"
    return ";".join([*flags, f"subject={subject}", f"section={entity.section}", f"label={entity.label}"])


def parse_term_modifiers(value: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in value.split(";") if "=" in pair)


_GRAMMAR_CHARACTERS = re.compile(r"[\s;=]+")


def attribute_pairs(attributes: dict[str, str]) -> str:
    """The ``kind=words`` pairs a drug row's ``term_modifiers`` gains at load for its attributes (label -> words
    as written), without concept ids: the same text ``insert_note_nlp.sql`` writes, for readers and tests."""
    pairs = []
    for label in MEDICATION_ATTRIBUTES:
        if label in attributes:
            pairs.append(f"{label.lower()}={_GRAMMAR_CHARACTERS.sub(' ', attributes[label]).strip()}")
    return ";".join(pairs)
