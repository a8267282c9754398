"""Normalize entity rows to OMOP concepts on Spark workers.

Entities arrive from the annotate stage, or from Spark NLP annotation columns converted by
``notenlp.interop.sparknlp``; either way they are ENTITY rows. Rows keep their ids and offsets;
only the concept columns change. The note text is joined in so that context (section, nearby
words) can disambiguate abbreviations.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any
import json

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from notenlp.schemas import ENTITY, columns

ENTITY_COLUMNS = columns(ENTITY)
NORMALIZED_ROW = f"{ENTITY}, error string"
CONCEPT_FIELDS = ("concept_id", "source_concept_id", "vocabulary_id", "concept_code", "concept_name", "match_score")


@lru_cache(maxsize=2)
def _normalizer(entry_json: str):
    from notenlp.pipeline import load_factory
    from notenlp.stages.components import long_lived

    entry = json.loads(entry_json)
    return long_lived(lambda: load_factory(entry["factory"])(**entry.get("config", {})))


def entry_json(entry: dict[str, Any]) -> str:
    """The normalizer's cache key."""
    return json.dumps(entry, sort_keys=True)


def _normalize_batches(batches: Iterator[pd.DataFrame], entry: dict[str, Any]) -> Iterator[pd.DataFrame]:
    from notenlp.stages.components import typed_frame

    normalizer = None  # built at the first batch: a night with nothing new never loads the dictionary
    for pdf in batches:
        if normalizer is None:
            normalizer = _normalizer(entry_json(entry))
        out: list[dict[str, Any]] = []
        for note_id, entities, text in zip(pdf["note_id"], pdf["entities"], pdf["note_text"]):
            # One row per note: a note's entities are one document whatever the partitioning.
            out.extend(normalize_note(normalizer, note_id, entities, text))
        yield typed_frame(out, NORMALIZED_ROW)


def normalize_note(normalizer, note_id, entities, text: str) -> list[dict[str, Any]]:
    """One note's entity rows (ENTITY fields; ``note_id`` optional) as NORMALIZED_ROW dicts, in entity_id order."""
    note_id = int(note_id)
    records = [{**e, "note_id": note_id} for e in sorted(entities, key=_entity_id)]
    return normalize_records(normalizer, note_id, records, text)


def _entity_id(entity: dict[str, Any]):
    return entity["entity_id"]


def normalize_records(normalizer, note_id: int, records: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """``normalize_note`` for rows already in entity_id order with their ``note_id``; the rows are this
    call's own, so their concept fields are filled in place (and ``error`` added) instead of copied."""
    from notenlp.doc import Doc, Entity

    entity_fields = _entity_fields()
    doc = Doc(text=text, note_id=note_id)
    entities = doc.entities
    for record in records:
        fields = {k: v for k, v in record.items() if k in entity_fields}
        entities.append(Entity(text=record["lexical_variant"], id=record["entity_id"], **fields))
    try:
        doc = normalizer(doc)
    except Exception as exc:  # the class name only
        return [{**r, "error": type(exc).__name__} for r in records]
    for record, entity in zip(records, doc.entities):
        for f in CONCEPT_FIELDS:
            record[f] = getattr(entity, f)
        record["error"] = None
    return records


@lru_cache(maxsize=1)
def _entity_fields() -> frozenset[str]:
    from notenlp.doc import Entity

    return frozenset(Entity.__slots__)


def normalize(entities: DataFrame, deid_notes: DataFrame, normalizer_entry: dict[str, Any]) -> DataFrame:
    """ENTITY rows -> ENTITY rows with concept columns filled, plus an ``error`` column.

    Entities are gathered into one row per note before the note text is joined, so the text travels
    once per note (not once per entity) and a note's entities are never split between two Arrow
    batches (which made a drug lose its strength's context and the concept depend on partitioning).
    """
    fields = [c for c in ENTITY_COLUMNS if c != "note_id"]
    per_note = entities.groupBy("note_id").agg(F.collect_list(F.struct(*fields)).alias("entities"))
    joined = per_note.join(deid_notes.select("note_id", "note_text"), on="note_id", how="inner")
    return joined.select("note_id", "entities", "note_text").mapInPandas(
        lambda it: _normalize_batches(it, normalizer_entry), NORMALIZED_ROW
    )


def normalized_entities(out: DataFrame) -> DataFrame:
    return out.filter(F.col("error").isNull()).select(*ENTITY_COLUMNS)


def normalize_quarantine(out: DataFrame) -> DataFrame:
    return out.filter(F.col("error").isNotNull()).select(
        F.lit("normalize").alias("stage"),
        F.concat_ws(":", F.col("note_id").cast("string"), F.col("entity_id").cast("string")).alias("record_key"),
        F.lit("normalizer_error").alias("reason"),
        F.concat(F.lit("exception="), F.col("error")).alias("detail"),
    )
