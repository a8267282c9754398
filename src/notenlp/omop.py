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

from notenlp.doc import Entity

MODIFIER_KEYS = ("negated", "possible", "hypothetical", "conditional", "historical", "subject", "section", "label")
TERM_TEMPORAL_VALUES = ("present", "past")


def term_exists(entity: Entity) -> str:
    absent = entity.negated or entity.possible or entity.hypothetical or entity.conditional or entity.family
    return "N" if absent else "Y"


def term_temporal(entity: Entity) -> str:
    return "past" if entity.historical else "present"


def term_modifiers(entity: Entity) -> str:
    flags = [f"{k}={str(getattr(entity, k)).lower()}" for k in MODIFIER_KEYS[:5]]
    subject = "family" if entity.family else "patient"
    return ";".join([*flags, f"subject={subject}", f"section={entity.section}", f"label={entity.label}"])


def parse_term_modifiers(value: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in value.split(";") if "=" in pair)
