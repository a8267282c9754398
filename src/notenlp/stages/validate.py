"""Validate a night's outputs with the Great Expectations gates before anything reaches the warehouse.

De-identified notes, entities (NOTE_NLP rows) and relations each pass their expectation suite;
failing rows go to quarantine with the expectation that failed, good rows go on. Entities of a
quarantined note and relations with a quarantined end are quarantined too, so counts reconcile:
rows in = rows validated + rows quarantined. These functions return frames; the validate stage
(``runner.run_validate``) writes them, and each check reads the previous one's written output.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from notenlp.schemas import DEID_NOTE, RELATION, columns

log = logging.getLogger(__name__)
_MAX_ID = 0x7FFFFFFFFFFFFFFF
QUARANTINE_COLUMNS = ("stage", "record_key", "reason", "detail")
DEID_COLUMNS = columns(DEID_NOTE)
RELATION_COLUMNS = columns(RELATION)


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


@dataclass
class Checked:
    """One gate's outcome: the rows that pass, the quarantine rows (QUARANTINE_COLUMNS), the gate to release."""

    good: DataFrame
    quarantine: DataFrame
    gate: Any

    @property
    def rows_in(self) -> int:
        return self.gate.summary.rows_in


def check_notes(deid: DataFrame, raw: DataFrame, context: dict[str, Any], run_date, work_dir) -> Checked:
    """De-identified notes through ``deid_notes``; their length is compared with the ingested text's."""
    from notenlp.quality.gates import validate_dataframe

    lengths = raw.select("note_id", F.length("note_text").alias("orig_length"))
    notes = deid.join(lengths, on="note_id", how="left")
    gate = validate_dataframe(notes, "deid_notes", run_date=run_date, context=context, work_dir=work_dir)
    return Checked(gate.good_df.select(*DEID_COLUMNS), _quarantine_rows(gate.quarantine_df), gate)


def check_entities(entities: DataFrame, good_notes: DataFrame, nlp_system: str, context: dict[str, Any], run_date,
                   work_dir) -> Checked:
    """Entities of the notes that passed through ``note_nlp``; an entity of a quarantined note is quarantined.

    The note text is joined in only for the offset checks and dropped before uniqueness windows,
    GX and storage, so nothing downstream carries one copy of the text per entity.
    """
    from notenlp.quality.gates import validate_dataframe

    texts = good_notes.select("note_id", "note_text")
    with_text = entities.join(texts, on="note_id", how="left")
    orphaned = with_text.filter(F.col("note_text").isNull()).select(
        F.lit("validate").alias("stage"),
        F.concat_ws(":", "note_id", "entity_id").alias("record_key"),
        F.lit("note_quarantined").alias("reason"),
        F.col("label").alias("detail"),
    )
    candidates = with_note_nlp_ids(with_text.filter(F.col("note_text").isNotNull())).withColumn(
        "nlp_system", F.lit(nlp_system))
    gate = validate_dataframe(candidates, "note_nlp", run_date=run_date, context=context,
                              drop_after_prepare=("note_text",), work_dir=work_dir)
    return Checked(gate.good_df, _quarantine_rows(gate.quarantine_df).unionByName(orphaned), gate)


def check_relations(relations: DataFrame, good_entities: DataFrame, context: dict[str, Any], run_date,
                    work_dir) -> Checked:
    """Relations whose ends survived, through ``note_nlp_relation``; the others are quarantined."""
    from notenlp.quality.gates import validate_dataframe

    linked, dangling = relations_with_ids(relations, good_entities)
    gate = validate_dataframe(linked, "note_nlp_relation", run_date=run_date,
                              context={**context, "note_nlp": good_entities}, work_dir=work_dir)
    return Checked(gate.good_df, _quarantine_rows(gate.quarantine_df).unionByName(dangling), gate)


def night_relations(annotations: DataFrame) -> DataFrame:
    from notenlp.stages.annotate import relations as annotation_relations

    return annotation_relations(annotations).select(*RELATION_COLUMNS)
