"""Validate a night's outputs with the Great Expectations gates before anything reaches the warehouse.

De-identified notes, entities (NOTE_NLP rows) and relations each pass their expectation suite;
failing rows go to quarantine with the expectation that failed, good rows go on. Entities of a
quarantined note and relations with a quarantined end are quarantined too, so counts reconcile:
rows in = rows validated + rows quarantined.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import reduce

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from notenlp.schemas import DEID_NOTE, ENTITY, NOTE, RELATION

log = logging.getLogger(__name__)
_MAX_ID = 0x7FFFFFFFFFFFFFFF
QUARANTINE_COLUMNS = ("stage", "record_key", "reason", "detail")


@dataclass
class ValidationResult:
    rows_in: int
    rows_out: int
    rows_quarantined: int


def with_note_nlp_ids(entities: DataFrame) -> DataFrame:
    """Stable NOTE_NLP ids: a re-run of the same night reproduces them."""
    return entities.withColumn(
        "note_nlp_id",
        F.xxhash64(F.col("note_id"), F.col("start"), F.col("end"), F.col("label")).bitwiseAND(F.lit(_MAX_ID)),
    )


def relations_with_ids(relations: DataFrame, entities: DataFrame) -> tuple[DataFrame, DataFrame]:
    """Resolve relation ends to note_nlp ids; a relation whose end did not survive is quarantined."""
    ends = entities.select("note_id", "entity_id", "note_nlp_id")
    head = ends.withColumnRenamed("entity_id", "head_entity_id").withColumnRenamed("note_nlp_id", "note_nlp_id_1")
    tail = ends.withColumnRenamed("entity_id", "tail_entity_id").withColumnRenamed("note_nlp_id", "note_nlp_id_2")
    joined = (
        relations.join(head, on=["note_id", "head_entity_id"], how="left")
        .join(tail, on=["note_id", "tail_entity_id"], how="left")
        .withColumn(
            "note_nlp_relation_id",
            F.xxhash64("note_id", "head_entity_id", "tail_entity_id", "relationship").bitwiseAND(F.lit(_MAX_ID)),
        )
    )
    resolved = F.col("note_nlp_id_1").isNotNull() & F.col("note_nlp_id_2").isNotNull()
    dangling = joined.filter(~resolved).select(
        F.lit("validate").alias("stage"),
        F.concat_ws(":", "note_id", "head_entity_id", "tail_entity_id").alias("record_key"),
        F.lit("relation_end_quarantined").alias("reason"),
        F.col("relationship").alias("detail"),
    )
    return joined.filter(resolved), dangling


def _quarantine_rows(df: DataFrame) -> DataFrame:
    cols = set(df.columns)
    return df.select(*[F.col(c).cast("string") if c in cols else F.lit(None).cast("string").alias(c)
                       for c in QUARANTINE_COLUMNS])


def validate_night(spark, night) -> ValidationResult:
    from notenlp.quality.gates import build_data_docs, validate_dataframe
    from notenlp.stages.annotate import relations as annotation_relations
    from notenlp.stages.runner import _write
    from notenlp.warehouse.concepts import concept_frame

    run_date = night.run_date
    raw = spark.read.schema(NOTE).parquet(str(night.part("ingest")))
    deid = spark.read.schema(DEID_NOTE).parquet(str(night.part("deidentify")))
    entities = spark.read.schema(ENTITY).parquet(str(night.part("normalize")))
    relations = annotation_relations(spark.read.parquet(str(night.part("annotate")))).select(
        *[c.split()[0] for c in RELATION.split(", ")])
    concept = concept_frame(spark, night)
    context = {"concept": concept, "settings": night.settings}

    notes = deid.join(raw.select("note_id", F.length("note_text").alias("orig_length")), on="note_id", how="left")
    note_gate = validate_dataframe(notes, "deid_notes", run_date=run_date, context=context)
    good_notes = note_gate.good_df.select(*[c.split()[0] for c in DEID_NOTE.split(", ")]).cache()

    texts = good_notes.select("note_id", "note_text")
    with_text = entities.join(texts, on="note_id", how="left")
    orphaned = with_text.filter(F.col("note_text").isNull()).select(
        F.lit("validate").alias("stage"),
        F.concat_ws(":", "note_id", "entity_id").alias("record_key"),
        F.lit("note_quarantined").alias("reason"),
        F.col("label").alias("detail"),
    )
    candidates = with_note_nlp_ids(with_text.filter(F.col("note_text").isNotNull())).withColumn(
        "nlp_system", F.lit(night.nlp_system))
    entity_gate = validate_dataframe(candidates, "note_nlp", run_date=run_date, context=context)
    good_entities = entity_gate.good_df.drop("note_text").cache()

    linked, dangling = relations_with_ids(relations, good_entities)
    relation_gate = validate_dataframe(linked, "note_nlp_relation", run_date=run_date,
                                       context={**context, "note_nlp": good_entities})

    n_notes = _write(good_notes, night.part("validate", "note"))
    n_entities = _write(good_entities, night.part("validate", "note_nlp"))
    n_relations = _write(relation_gate.good_df, night.part("validate", "note_nlp_relation"))
    quarantined = [_quarantine_rows(q) for q in (note_gate.quarantine_df, entity_gate.quarantine_df,
                                                  relation_gate.quarantine_df)] + [orphaned, dangling]
    n_quarantined = _write(reduce(DataFrame.unionByName, quarantined), night.quarantine_part("validate"))
    rows_in = deid.count() + entities.count() + relations.count()
    for gate in (note_gate, entity_gate, relation_gate):
        gate.release()
    log.info("Great Expectations Data Docs: %s", build_data_docs(night.settings))
    good_notes.unpersist()
    good_entities.unpersist()
    return ValidationResult(rows_in, n_notes + n_entities + n_relations, n_quarantined)
