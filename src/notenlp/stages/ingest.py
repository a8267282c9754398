"""Ingest: map every supported note source onto the canonical NOTE schema.

Sources: MIMIC-III NOTEEVENTS.csv(.gz), MIMIC-IV-Note discharge/radiology.csv(.gz), an OMOP NOTE
table (Parquet, or a DuckDB table exported to Parquet first), and JSONL-contract files. CSV is read
with Spark's multi-line parser, so quoted text with newlines parses and large files stream.
Rows that cannot become a note are returned as quarantine rows with their reason.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from notenlp.schemas import NOTE, QUARANTINE

SOURCES = ("mimic3", "mimic4", "omop", "jsonl")
_MAX_ID = 0x7FFFFFFFFFFFFFFF
NOTE_COLUMNS = [c.split()[0] for c in NOTE.split(", ")]

MIMIC3_COLUMNS = ["ROW_ID", "SUBJECT_ID", "HADM_ID", "CHARTDATE", "CHARTTIME", "STORETIME", "CATEGORY",
                  "DESCRIPTION", "CGID", "ISERROR", "TEXT"]
MIMIC4_COLUMNS = ["note_id", "subject_id", "hadm_id", "note_type", "note_seq", "charttime", "storetime", "text"]


def _read_csv(spark: SparkSession, path: str, columns: list[str]) -> DataFrame:
    schema = ", ".join(f"`{c}` string" for c in columns)
    return (
        spark.read.option("header", True).option("multiLine", True).option("escape", '"')
        .option("quote", '"').option("mode", "PERMISSIVE").schema(schema).csv(path)
    )


def stable_note_id(source: str, column: str):
    """Integer ids stay as they are; other ids become a stable non-negative 63-bit hash."""
    as_long = F.col(column).try_cast("bigint")
    hashed = F.xxhash64(F.lit(source), F.col(column)).bitwiseAND(F.lit(_MAX_ID))
    return F.when(as_long.isNotNull(), as_long).otherwise(hashed)


def mimic3_notes(raw: DataFrame) -> DataFrame:
    return raw.select(
        F.col("ROW_ID").try_cast("bigint").alias("note_id"),
        F.col("ROW_ID").alias("source_note_id"),
        F.col("SUBJECT_ID").try_cast("bigint").alias("person_id"),
        F.col("HADM_ID").try_cast("bigint").alias("visit_occurrence_id"),
        F.try_to_date(F.col("CHARTDATE")).alias("note_date"),
        F.try_to_timestamp(F.col("CHARTTIME")).alias("note_datetime"),
        F.col("CATEGORY").alias("note_type"),
        F.col("DESCRIPTION").alias("note_title"),
        F.lit("mimic3").alias("note_source"),
        F.col("TEXT").alias("note_text"),
        F.when(F.trim(F.col("ISERROR")) == "1", F.lit(True)).otherwise(F.lit(False)).alias("_source_error"),
    )


def mimic4_notes(raw: DataFrame) -> DataFrame:
    return raw.select(
        stable_note_id("mimic4", "note_id").alias("note_id"),
        F.col("note_id").alias("source_note_id"),
        F.col("subject_id").try_cast("bigint").alias("person_id"),
        F.col("hadm_id").try_cast("bigint").alias("visit_occurrence_id"),
        F.to_date(F.try_to_timestamp(F.col("charttime"))).alias("note_date"),
        F.try_to_timestamp(F.col("charttime")).alias("note_datetime"),
        F.col("note_type").alias("note_type"),
        F.concat_ws("-", F.col("note_type"), F.col("note_seq")).alias("note_title"),
        F.lit("mimic4").alias("note_source"),
        F.col("text").alias("note_text"),
        F.lit(False).alias("_source_error"),
    )


def omop_notes(raw: DataFrame) -> DataFrame:
    cols = set(raw.columns)

    def opt(name: str, cast: str):
        return F.col(name).try_cast(cast) if name in cols else F.lit(None).cast(cast)

    return raw.select(
        F.col("note_id").try_cast("bigint").alias("note_id"),
        F.col("note_id").cast("string").alias("source_note_id"),
        F.col("person_id").try_cast("bigint").alias("person_id"),
        opt("visit_occurrence_id", "bigint").alias("visit_occurrence_id"),
        F.col("note_date").try_cast("date").alias("note_date"),
        opt("note_datetime", "timestamp").alias("note_datetime"),
        opt("note_source_value", "string").alias("note_type"),
        opt("note_title", "string").alias("note_title"),
        F.lit("omop").alias("note_source"),
        F.col("note_text").alias("note_text"),
        F.lit(False).alias("_source_error"),
    )


def jsonl_notes(raw: DataFrame) -> DataFrame:
    return raw.select(
        stable_note_id("jsonl", "note_id").alias("note_id"),
        F.col("note_id").cast("string").alias("source_note_id"),
        F.col("person_id").try_cast("bigint").alias("person_id"),
        F.lit(None).cast("bigint").alias("visit_occurrence_id"),
        F.try_to_date(F.col("note_date")).alias("note_date"),
        F.lit(None).cast("timestamp").alias("note_datetime"),
        F.lit(None).cast("string").alias("note_type"),
        F.lit(None).cast("string").alias("note_title"),
        F.lit("jsonl").alias("note_source"),
        F.col("text").alias("note_text"),
        F.lit(False).alias("_source_error"),
    )


def read_source(spark: SparkSession, source: str, path: str) -> DataFrame:
    """Raw source rows mapped onto NOTE columns plus ``_source_error``."""
    if source == "mimic3":
        return mimic3_notes(_read_csv(spark, path, MIMIC3_COLUMNS))
    if source == "mimic4":
        return mimic4_notes(_read_csv(spark, path, MIMIC4_COLUMNS))
    if source == "omop":
        return omop_notes(spark.read.parquet(path))
    if source == "jsonl":
        schema = "note_id string, person_id bigint, note_date string, text string"
        return jsonl_notes(spark.read.schema(schema).json(path))
    raise ValueError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")


def _rejection_reason():
    return (
        F.when(F.col("_source_error"), F.lit("source_marked_error"))
        .when(F.col("note_id").isNull(), F.lit("missing_or_invalid_note_id"))
        .when(F.col("person_id").isNull(), F.lit("missing_or_invalid_person_id"))
        .when(F.col("note_date").isNull(), F.lit("missing_or_invalid_note_date"))
        .when(F.col("note_text").isNull() | (F.length(F.trim(F.col("note_text"))) == 0), F.lit("empty_text"))
    )


def canonical_notes(mapped: DataFrame) -> tuple[DataFrame, DataFrame]:
    """Split mapped rows into canonical notes and quarantine rows (reason, never the text)."""
    tagged = mapped.withColumn("_reason", _rejection_reason())
    notes = (
        tagged.filter(F.col("_reason").isNull())
        .withColumn("text_hash", F.sha2(F.col("note_text"), 256))
        .dropDuplicates(["note_id", "text_hash"])
        .select(*NOTE_COLUMNS)
    )
    quarantine = tagged.filter(F.col("_reason").isNotNull()).select(
        F.lit("ingest").alias("stage"),
        F.coalesce(F.col("source_note_id"), F.lit("<no id>")).alias("record_key"),
        F.col("_reason").alias("reason"),
        F.concat(F.lit("note_source="), F.col("note_source")).alias("detail"),
    )
    return notes, quarantine


def duplicate_ids(notes: DataFrame) -> tuple[DataFrame, DataFrame]:
    """A note id that arrives twice with different texts is ambiguous: keep none, quarantine all."""
    counts = notes.groupBy("note_id").agg(F.count(F.lit(1)).alias("_n"))
    joined = notes.join(counts, on="note_id", how="inner")
    good = joined.filter(F.col("_n") == 1).drop("_n")
    bad = joined.filter(F.col("_n") > 1).select(
        F.lit("ingest").alias("stage"),
        F.col("source_note_id").alias("record_key"),
        F.lit("duplicate_note_id_with_different_text").alias("reason"),
        F.concat(F.lit("copies="), F.col("_n").cast("string")).alias("detail"),
    )
    return good, bad


def only_new_or_changed(notes: DataFrame, processed: DataFrame | None) -> DataFrame:
    """Drop notes already processed with the same text hash by the same nlp_system on an earlier night.

    ``processed`` has (note_id, text_hash) of earlier nights under the current nlp_system; a new
    pipeline or model version therefore has no rows and everything is processed again.
    """
    if processed is None:
        return notes
    return notes.join(processed.select("note_id", "text_hash"), on=["note_id", "text_hash"], how="left_anti")


QUARANTINE_COLUMNS = [c.split()[0] for c in QUARANTINE.split(", ")]
