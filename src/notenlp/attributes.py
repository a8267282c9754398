"""Every custom attribute an annotator may set, declared in one place.

Components read and write only the attributes declared here, so the JSONL contract,
the Spark schemas and the NOTE_NLP mapping all follow from this module.
"""

from __future__ import annotations

# Assertion flags of an entity, all False unless a component sets them.
ASSERTION_FLAGS: tuple[str, ...] = (
    "negated",
    "possible",
    "hypothetical",
    "conditional",
    "historical",
    "family",
)

# Entity labels produced by the NER engines.
PROBLEM, DRUG, TEST, PROCEDURE = "PROBLEM", "DRUG", "TEST", "PROCEDURE"
MEDICATION_ATTRIBUTES: tuple[str, ...] = ("STRENGTH", "DOSE", "ROUTE", "FREQUENCY", "DURATION", "FORM")
ENTITY_LABELS: tuple[str, ...] = (PROBLEM, DRUG, TEST, PROCEDURE, *MEDICATION_ATTRIBUTES)

# OMOP domain each label may be normalized to (label and concept domain must agree).
LABEL_DOMAINS: dict[str, tuple[str, ...]] = {
    PROBLEM: ("Condition", "Observation"),
    DRUG: ("Drug",),
    TEST: ("Measurement", "Observation"),
    PROCEDURE: ("Procedure", "Observation"),
}

# PHI types of the de-identification contract (finer subtypes map onto these).
PHI_TYPES: tuple[str, ...] = ("NAME", "DATE", "AGE", "ID", "PHONE", "EMAIL", "URL", "IP", "LOCATION")

# Relation types (head label -> tail label).
RELATION_TYPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "has_strength": ((DRUG,), ("STRENGTH",)),
    "has_dose": ((DRUG,), ("DOSE",)),
    "has_route": ((DRUG,), ("ROUTE",)),
    "has_frequency": ((DRUG,), ("FREQUENCY",)),
    "has_duration": ((DRUG,), ("DURATION",)),
    "has_form": ((DRUG,), ("FORM",)),
    "causes_adverse_event": ((DRUG,), (PROBLEM,)),
    "treats": ((DRUG, PROCEDURE), (PROBLEM,)),
    "reveals": ((TEST,), (PROBLEM,)),
}
