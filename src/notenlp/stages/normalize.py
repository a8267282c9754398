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

from notenlp.schemas import ENTITY

ENTITY_COLUMNS = [c.split()[0] for c in ENTITY.split(", ")]
NORMALIZED_ROW = f"{ENTITY}, error string"
_CONCEPT_FIELDS = ("concept_id", "source_concept_id", "vocabulary_id", "concept_code", "concept_name", "match_score")


@lru_cache(maxsize=2)
def _normalizer(entry_json: str):
    from notenlp.pipeline import load_factory

    entry = json.loads(entry_json)
    return load_factory(entry["factory"])(**entry.get("config", {}))


def whole_notes(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """Batches that never split a note: the rows of the last note of a batch wait for the next one.

    Arrow cuts a partition into batches by row count, so without this a note whose entities straddle
    a cut would be normalized as two documents, each without the other's context (a drug without its
    strength), and the concepts chosen would depend on the partitioning. Needs rows sorted by note_id
    within the partition (``normalize`` sorts them).
    """
    carry: pd.DataFrame | None = None
    for pdf in batches:
        if carry is not None:
            pdf = pd.concat([carry, pdf], ignore_index=True)
        if pdf.empty:
            carry = None
            continue
        last = pdf["note_id"].iloc[-1]
        tail = (pdf["note_id"] == last).to_numpy()
        carry = pdf[tail]
        if not tail.all():
            yield pdf[~tail]
    if carry is not None and not carry.empty:
        yield carry


def _normalize_batches(batches: Iterator[pd.DataFrame], entry: dict[str, Any]) -> Iterator[pd.DataFrame]:
    from notenlp.doc import Doc, Entity
    from notenlp.stages.components import typed_frame

    normalizer = None  # built at the first batch: a night with nothing new never loads the dictionary
    entity_fields = set(Entity.__slots__)
    for pdf in whole_notes(batches):
        if normalizer is None:
            normalizer = _normalizer(json.dumps(entry, sort_keys=True))
        out: list[dict[str, Any]] = []
        for note_id, group in pdf.groupby("note_id", sort=False):
            records = group.drop(columns=["note_text"]).to_dict("records")
            doc = Doc(text=group["note_text"].iloc[0], note_id=int(note_id))
            for record in records:
                fields = {k: v for k, v in record.items() if k in entity_fields}
                doc.entities.append(Entity(text=record["lexical_variant"], id=record["entity_id"], **fields))
            try:
                doc = normalizer(doc)
            except Exception as exc:  # the class name only
                out.extend({**r, "error": type(exc).__name__} for r in records)
                continue
            for record, entity in zip(records, doc.entities):
                out.append({**record, **{f: getattr(entity, f) for f in _CONCEPT_FIELDS}, "error": None})
        yield typed_frame(out, NORMALIZED_ROW)


def normalize(entities: DataFrame, deid_notes: DataFrame, normalizer_entry: dict[str, Any]) -> DataFrame:
    """ENTITY rows -> ENTITY rows with concept columns filled, plus an ``error`` column."""
    joined = entities.join(deid_notes.select("note_id", "note_text"), on="note_id", how="inner")
    return joined.repartition("note_id").sortWithinPartitions("note_id").mapInPandas(
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
