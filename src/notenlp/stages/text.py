"""The text stages (deidentify, annotate, normalize) in one pass over the notes: one ``mapInPandas``, one write.

Run stage by stage, a night starts three Spark jobs over the notes, writes and rereads the de-identified
text twice, and shuffles every entity row to gather a note's entities again before normalizing them. Here a
worker takes each ingested note through all three in memory and returns one row per note: the
de-identified note with its sealed audit rows (``deidentify.DEID_OUTPUT``), its annotation rows
(``annotate.ANNOTATION_ROW``) and what normalizing its entities gave (``NORMALIZED_CONCEPTS``: a normalized
entity row, ``normalize.NORMALIZED_ROW``, is its annotation entity row with these concept columns, so only
they travel; ``normalized`` puts the rows back together). The runner
(``runner.run_text``) splits that into each stage's usual partitions, quarantine and run-log record, so
what a stage writes and counts means what it means when the stage runs alone.

Each step gets exactly the input its own stage would give it: annotate sees the de-identified note row
(shifted dates included), normalize sees the entity rows annotate emits, rebuilt into a document the way
``normalize._normalize_batches`` rebuilds them (so a concept never depends on which path ran).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from notenlp.schemas import column_types
from notenlp.stages import annotate as ann
from notenlp.stages import deidentify as deid
from notenlp.stages import normalize as norm


def _struct_fields(flat_ddl: str) -> str:
    """A flat row DDL (``a int, b string``) as struct fields (```a`: int, `b`: string``)."""
    return ", ".join(f"`{name}`: {kind}" for name, kind in column_types(flat_ddl))


# Per normalized entity, in entity_id order: the columns the normalizer sets, and its error. The other
# NORMALIZED_ROW columns are the note's annotation entity row's, which already travels in `annotations`:
# sending them twice doubled what crosses from Python to the JVM and into the sealed Parquet.
_CONCEPT_COLUMNS = ("entity_id", *norm.CONCEPT_FIELDS, "error")
_ROW_TYPES = dict(column_types(norm.NORMALIZED_ROW))
NORMALIZED_CONCEPTS = ", ".join(f"{c} {_ROW_TYPES[c]}" for c in _CONCEPT_COLUMNS)
TEXT_OUTPUT = (f"{deid.DEID_OUTPUT}, annotations array<struct<{_struct_fields(ann.ANNOTATION_ROW)}>>, "
               f"normalized array<struct<{_struct_fields(NORMALIZED_CONCEPTS)}>>")
OUTPUT_COLUMNS = [*deid.OUTPUT_COLUMNS, "annotations", "normalized"]


def _text_batches(batches: Iterator[pd.DataFrame], deid_config: dict[str, Any], annotate_config: dict[str, Any],
                  normalizer_entry: dict[str, Any], date_mode: str, site_table: bool) -> Iterator[pd.DataFrame]:
    from notenlp.stages.components import pipeline

    nlp = normalizer = None  # built at the first note that needs them: an empty night loads no model
    columns = norm.ENTITY_COLUMNS
    for deidentified in deid._deidentify_batches(batches, deid_config, date_mode, site_table):
        annotations, normalized = [], []
        for record in deidentified.to_dict("records"):
            if record["error"] is not None:
                annotations.append([])
                normalized.append([])
                continue
            if nlp is None:
                nlp = pipeline(annotate_config)
            rows = ann.annotate_note(nlp, record["note_id"], record["person_id"], record["note_date"],
                                     record["note_text"])
            annotations.append(rows)
            # The entity rows as the normalize stage reads them: ENTITY columns, in entity_id order (their
            # note_id is already the note's); fresh dicts that normalize_records may fill in place.
            entities = [dict(zip(columns, map(row.get, columns))) for row in rows if row["record_type"] == "entity"]
            if not entities:
                normalized.append([])
                continue
            if normalizer is None:
                normalizer = norm._normalizer(norm.entry_json(normalizer_entry))
            entities.sort(key=norm._entity_id)
            done = norm.normalize_records(normalizer, int(record["note_id"]), entities, record["note_text"])
            normalized.append([{c: row[c] for c in _CONCEPT_COLUMNS} for row in done])
        deidentified["annotations"] = annotations
        deidentified["normalized"] = normalized
        yield deidentified[OUTPUT_COLUMNS]


def text_pass(notes: DataFrame, deid_config: dict[str, Any], annotate_config: dict[str, Any],
              normalizer_entry: dict[str, Any], *, date_mode: str = "shift",
              date_shifts: DataFrame | None = None) -> DataFrame:
    """NOTE rows -> one row per note: ``deidentify``'s output columns plus ``annotations`` and ``normalized``.

    ``annotate_config``: the annotate pipeline without its normalize component; ``normalizer_entry``: that
    component. A note whose de-identification failed has no annotations; one whose annotation failed has a
    single ``error`` annotation row and nothing normalized.
    """
    notes, site_table = deid.with_site_shifts(notes, date_shifts)
    out = notes.mapInPandas(
        lambda it: _text_batches(it, deid_config, annotate_config, normalizer_entry, date_mode, site_table),
        TEXT_OUTPUT)
    return out.withColumn("deid_text_hash", F.when(F.col("error").isNull(), F.sha2(F.col("note_text"), 256)))


def text_pass_with(spark, notes: DataFrame, deid_config: dict[str, Any], annotate_config: dict[str, Any],
                   normalizer_entry: dict[str, Any], settings) -> DataFrame:
    """``text_pass`` under the run's date settings (as ``deidentify.deidentify_with``)."""
    shifts = deid.site_date_shifts(spark, settings.date_shift_table) if settings.date_shift_table else None
    return text_pass(notes, deid_config, annotate_config, normalizer_entry, date_mode=settings.date_mode,
                     date_shifts=shifts)


def deid_output(out: DataFrame) -> DataFrame:
    """The pass's de-identification columns: what ``deidentify.deidentify`` returns for the same notes."""
    return out.select(*deid.OUTPUT_COLUMNS)


def annotations(out: DataFrame) -> DataFrame:
    """The annotate stage's rows (``ANNOTATION_ROW``) of the notes that were de-identified."""
    return out.filter(F.col("error").isNull()).select(F.explode("annotations").alias("a")).select("a.*")


def normalized(out: DataFrame) -> DataFrame:
    """The normalize stage's rows (``NORMALIZED_ROW``): each annotation entity row with the concept columns
    and error of its ``normalized`` element (both arrays are in entity_id order, one element per entity)."""
    entities = F.filter("annotations", lambda a: a["record_type"] == "entity")
    rows = F.zip_with(entities, "normalized", lambda a, n: F.struct(
        *[(n if c in _CONCEPT_COLUMNS else a)[c].alias(c) for c in norm.ENTITY_COLUMNS], n["error"].alias("error")))
    return out.select(F.explode(rows).alias("n")).select("n.*")
