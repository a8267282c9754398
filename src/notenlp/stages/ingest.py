"""Ingest: map every supported note source onto the canonical NOTE schema.

Sources: MIMIC-III NOTEEVENTS.csv(.gz), MIMIC-IV-Note discharge/radiology.csv(.gz), an OMOP NOTE
table (Parquet, or a DuckDB table exported to Parquet first), and JSONL-contract files. CSV and JSONL
are read record by record (``notenlp.stages.source_files``, one Spark task per file): each record keeps
its file and line numbers, and a broken quote damages one record, not the rest of the file. The input's
header must match ``--source`` (``check_input``). Rows that cannot become a note are returned as
quarantine rows with their reason, keyed by id or line number, never by text.
"""

from __future__ import annotations

from functools import partial

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from notenlp.config import ConfigError
from notenlp.schemas import NOTE, QUARANTINE, columns
from notenlp.stages.source_files import OMOP_REQUIRED, RECORD_FIELDS, check_source, read_records, record_columns

SOURCES = ("mimic3", "mimic4", "omop", "jsonl")
_MAX_ID = 0x7FFFFFFFFFFFFFFF
NOTE_COLUMNS = columns(NOTE)
# A source id that is an id (not text that a broken row put in the id column); else the record's line.
_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
# Control characters that plain text does not hold (tab, newline, CR, VT and FF are allowed).
_CONTROL = r"[\x00-\x08\x0E-\x1F\x7F-\x9F]"


def check_input(source: str, path: str) -> list[str]:
    """The input's files, once they are what ``source`` reads: else one ConfigError line."""
    if source not in SOURCES:
        raise ConfigError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    return check_source(source, path)


def _read_records(spark: SparkSession, source: str, files: list[str]) -> DataFrame:
    """Each file's records (``source_files.read_records``), one Spark task per file; every column a string."""
    columns = list(RECORD_FIELDS) + list(record_columns(source))
    schema = ", ".join(f"`{c}` {'int' if c in ('_line', '_line_end') else 'string'}" for c in columns)
    rdd = spark.sparkContext.parallelize(files, len(files)).flatMap(partial(read_records, source))
    return spark.createDataFrame(rdd, schema)


def _read_omop(spark: SparkSession, path: str) -> DataFrame:
    try:
        raw = spark.read.parquet(path)
    except Exception as exc:  # AnalysisException / Py4JJavaError: the file is not Parquet
        raise ConfigError(f"input {path} does not match --source omop: it is not OMOP NOTE Parquet "
                          f"({type(exc).__name__}); MIMIC CSV needs --source mimic3 or mimic4") from None
    missing = [c for c in OMOP_REQUIRED if c not in raw.columns]
    if missing:
        raise ConfigError(f"input {path} does not match --source omop: it lacks column(s) {', '.join(missing)}")
    return raw


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
        *RECORD_FIELDS,  # the record's file, lines and problem, for its quarantine row
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
        *RECORD_FIELDS,  # the record's file, lines and problem, for its quarantine row
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
        F.input_file_name().alias("_file"),
        F.lit(None).cast("int").alias("_line"),
        F.lit(None).cast("int").alias("_line_end"),
        F.lit(None).cast("string").alias("_problem"),
        F.lit(None).cast("string").alias("_problem_detail"),
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
        *RECORD_FIELDS,  # the record's file, lines and problem, for its quarantine row
    )


def read_source(spark: SparkSession, source: str, path: str) -> DataFrame:
    """Source records mapped onto NOTE columns plus ``_source_error`` and the record's trace (``_file``,
    ``_line``, ``_line_end``, ``_problem``, ``_problem_detail``); a ConfigError when the input is not
    ``source``."""
    files = check_input(source, path)
    if source == "omop":
        return omop_notes(_read_omop(spark, path))
    mapper = {"mimic3": mimic3_notes, "mimic4": mimic4_notes, "jsonl": jsonl_notes}[source]
    return mapper(_read_records(spark, source, files))


def _rejection() -> tuple:
    """(reason, detail) columns: null reason for a note that can be ingested. Details are counts and line
    numbers, never text."""
    text = F.col("note_text")
    controls = F.length(text) - F.length(F.regexp_replace(text, _CONTROL, ""))
    rules = [
        (F.col("_problem").isNotNull(), F.col("_problem"), F.col("_problem_detail")),
        (F.col("_source_error"), F.lit("source_marked_error"), None),
        (F.col("note_id").isNull(), F.lit("missing_or_invalid_note_id"), None),
        (F.col("person_id").isNull(), F.lit("missing_or_invalid_person_id"), None),
        (F.col("note_date").isNull(), F.lit("missing_or_invalid_note_date"), None),
        (text.isNull() | (F.length(text) == 0), F.lit("empty_text"), None),
        (text.rlike(r"(?U)^\s*$"), F.lit("blank_text"), F.concat(F.lit("chars="), F.length(text).cast("string"))),
        (text.rlike(_CONTROL), F.lit("binary_text"), F.concat(F.lit("control_chars="), controls.cast("string"))),
    ]
    reason = detail = None
    for condition, why, more in rules:
        reason = F.when(condition, why) if reason is None else reason.when(condition, why)
        detail = (F.when(condition, more if more is not None else F.lit(None).cast("string")) if detail is None
                  else detail.when(condition, more if more is not None else F.lit(None).cast("string")))
    return reason, detail


def quarantine_rows(rows: DataFrame, reason, detail=None) -> DataFrame:
    """Ingest's quarantine rows (QUARANTINE columns): keyed by the source id when it is an id, else by the
    record's line; the detail names the source, file and line numbers. Never the text."""
    line = F.concat(F.lit("line="), F.col("_line").cast("string"))
    key = F.when(F.col("source_note_id").rlike(_ID_PATTERN), F.col("source_note_id")) \
        .otherwise(F.coalesce(line, F.lit("<no id>")))
    where = F.concat_ws("; ", F.concat(F.lit("note_source="), F.col("note_source")),
                        F.concat(F.lit("file="), F.regexp_extract(F.col("_file"), r"([^/]*)$", 1)),
                        F.when(F.col("_line").isNotNull() & F.col("_problem").isNull(),
                               F.concat(F.lit("lines="), F.col("_line").cast("string"), F.lit("-"),
                                        F.col("_line_end").cast("string"))))
    return rows.select(
        F.lit("ingest").alias("stage"),
        key.alias("record_key"),
        reason.alias("reason"),
        F.concat_ws("; ", where, detail if detail is not None else F.lit(None).cast("string")).alias("detail"),
    )


def canonical_notes(mapped: DataFrame) -> tuple[DataFrame, DataFrame]:
    """Split mapped rows into canonical notes (exact copies of a row once) and quarantine rows (reason,
    never the text)."""
    reason, detail = _rejection()
    tagged = mapped.withColumn("_reason", reason).withColumn("_detail", detail)
    notes = (
        tagged.filter(F.col("_reason").isNull())
        .withColumn("text_hash", F.sha2(F.col("note_text"), 256))
        .dropDuplicates(["note_id", "text_hash"])
        .select(*NOTE_COLUMNS, *RECORD_FIELDS)
    )
    quarantine = quarantine_rows(tagged.filter(F.col("_reason").isNotNull()), F.col("_reason"), F.col("_detail"))
    return notes, quarantine


def exact_copies(mapped: DataFrame) -> int:
    """How many acceptable rows repeat an earlier row's id and text (``canonical_notes`` keeps one of each),
    counted on their own so that the run log's counts reconcile from records, not from a remainder."""
    reason, _ = _rejection()
    counts = (mapped.filter(reason.isNull()).groupBy("note_id", F.sha2(F.col("note_text"), 256).alias("_h"))
              .agg(F.count(F.lit(1)).alias("_n")))
    return int(counts.agg(F.sum(F.col("_n") - 1)).first()[0] or 0)


def duplicate_ids(notes: DataFrame) -> tuple[DataFrame, DataFrame]:
    """A note id that arrives twice with different texts is ambiguous: keep none, quarantine all."""
    counts = notes.groupBy("note_id").agg(F.count(F.lit(1)).alias("_n"))
    joined = notes.join(counts, on="note_id", how="inner")
    good = joined.filter(F.col("_n") == 1).drop("_n")
    bad = quarantine_rows(joined.filter(F.col("_n") > 1), F.lit("duplicate_note_id_with_different_text"),
                          F.concat(F.lit("copies="), F.col("_n").cast("string")))
    return good, bad


def only_new_or_changed(notes: DataFrame, processed: DataFrame | None) -> DataFrame:
    """Drop notes already processed with the same text hash by the same nlp_system on an earlier night.

    ``processed`` has (note_id, text_hash) of earlier nights under the current nlp_system; a new
    pipeline or model version therefore has no rows and everything is processed again.
    """
    if processed is None:
        return notes
    return notes.join(processed.select("note_id", "text_hash"), on=["note_id", "text_hash"], how="left_anti")


QUARANTINE_COLUMNS = columns(QUARANTINE)
