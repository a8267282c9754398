"""Schemas of the data handed between stages (Parquet under ``staging/<stage>/run_date=...``).

These are the project's data contracts; docs/tables.md ("Staging") documents them.
They are Spark DDL strings so that ``mapInPandas`` and readers use them directly,
and they import nothing heavy. ``columns`` and ``column_types`` read one apart.
"""

from __future__ import annotations

from notenlp.attributes import ASSERTION_FLAGS


def column_types(ddl: str) -> list[tuple[str, str]]:
    """``(name, type)`` of each column of a flat DDL string such as ``ENTITY``."""
    return [(part.split(None, 1)[0], part.split(None, 1)[1]) for part in ddl.split(", ")]


def columns(ddl: str) -> list[str]:
    """The column names of a flat DDL string, in order."""
    return [name for name, _ in column_types(ddl)]


# Canonical note: every input format (MIMIC-III, MIMIC-IV-Note, OMOP NOTE, JSONL) maps onto it.
NOTE = ", ".join([
    "note_id bigint",  # OMOP note_id: the source id when it is an integer, else a stable 63-bit hash of it
    "source_note_id string",  # the id as the source wrote it (MIMIC-III ROW_ID, MIMIC-IV note_id, ...)
    "person_id bigint",
    "visit_occurrence_id bigint",  # MIMIC HADM_ID
    "note_date date",
    "note_datetime timestamp",
    "note_type string",  # source category, e.g. 'Discharge summary', 'Radiology'
    "note_title string",
    "note_source string",  # mimic3 | mimic4 | omop | jsonl
    "note_text string",
    "text_hash string",  # sha256 of note_text as ingested
])

# De-identified note: NOTE with note_text replaced (and, in date_mode "shift", note_date and note_datetime
# moved by the note's date offset); PHI counts by type, never values. The offset itself stays sealed.
DEID_NOTE = ", ".join([
    NOTE,
    "deid_text_hash string",
    "phi_count int",
    "phi_types map<string,int>",
])

# Sealed PHI audit rows, written only under Settings.sealed (owner-only), never to the warehouse.
PHI_AUDIT = ", ".join([
    "note_id bigint",
    "person_id bigint",
    "start int",
    "end int",
    "phi_type string",
    "phi_subtype string",
    "detector string",
    "original string",
    "replacement string",
    "date_shift_days int",
])

# One row per entity found in a de-identified note; offsets into the de-identified text.
ENTITY = ", ".join([
    "note_id bigint",
    "entity_id int",
    "start int",
    "end int",
    "lexical_variant string",
    "snippet string",
    "label string",
    "source string",
    "score double",
    "section string",
    "section_concept_id int",
    *(f"{flag} boolean" for flag in ASSERTION_FLAGS),
    "term_exists string",  # OMOP convention, notenlp.omop.term_exists
    "term_temporal string",  # notenlp.omop.term_temporal
    "term_modifiers string",  # notenlp.omop.term_modifiers grammar
    "concept_id int",
    "source_concept_id int",
    "vocabulary_id string",
    "concept_code string",
    "concept_name string",
    "match_score double",
])

RELATION = ", ".join([
    "note_id bigint",
    "head_entity_id int",
    "tail_entity_id int",
    "relationship string",
    "score double",
])

# Rows that a stage could not process, with the reason; no note text, no PHI.
QUARANTINE = ", ".join([
    "stage string",
    "record_key string",
    "reason string",
    "detail string",
])
