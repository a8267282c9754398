"""OMOP CDM conventions for NOTE_NLP's assertion columns.

``term_exists``: ``N`` when the entity is negated, possible (uncertain), hypothetical,
conditional, or about someone other than the patient; ``Y`` otherwise.
``term_temporal``: ``past`` for historical entities, ``present`` otherwise.
``term_modifiers``: ``key=value`` pairs joined by ``;`` in this fixed order:
``negated``, ``possible``, ``hypothetical``, ``conditional``, ``historical`` (``true``/``false``),
``subject`` (``patient``/``family``), ``section`` (canonical section name, may be empty),
``label`` (entity label). Example:
``negated=true;possible=false;hypothetical=false;conditional=false;historical=false;subject=patient;section=review_of_systems;label=PROBLEM``.
"""

from __future__ import annotations

from notenlp.attributes import ASSERTION_FLAGS
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
