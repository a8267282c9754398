"""De-identify canonical notes on Spark workers; PHI audit rows travel only to the sealed area.

Each note has one date offset: the site's (``Settings.date_shift_table``) when one is configured,
else its person's keyed offset. Dates in the text move by it; in ``date_mode`` "shift" the note
row's ``note_date`` and ``note_datetime`` move by the same days, so the interval between a note and
the dates it mentions holds. The offset leaves the worker only in the sealed output.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from notenlp.config import ConfigError
from notenlp.schemas import DEID_NOTE, NOTE, PHI_AUDIT, column_types, columns

NOTE_COLUMNS = columns(NOTE)
DEID_COLUMNS = columns(DEID_NOTE)
AUDIT_FIELDS = columns(PHI_AUDIT)
AUDIT_STRUCT = ", ".join(f"{name}: {typ}" for name, typ in column_types(PHI_AUDIT))
NOTE_ROW_DATES = ("note_date", "note_datetime")  # every date column of the NOTE row

# What the worker returns (to the sealed work folder): the de-identified note, the note's date offset,
# its sealed audit rows, and an error class if any.
DEID_OUTPUT = f"{DEID_NOTE}, date_shift_days int, phi_audit array<struct<{AUDIT_STRUCT}>>, error string"
OUTPUT_COLUMNS = [*DEID_COLUMNS, "date_shift_days", "phi_audit", "error"]
_SITE_SHIFT = "site_date_shift_days"
NO_DATE_SHIFT = "no_date_shift_for_person"  # quarantine reason: the site's table has no offset for the person


def site_date_shifts(spark, path: Path | str) -> DataFrame:
    """The site's per-person offsets (``person_id, date_shift_days``) from CSV or Parquet, checked.

    Raises ConfigError (one line, no values) when the table lacks a column, holds a row that is not two
    integers, or gives a person twice.
    """
    from pyspark.errors import AnalysisException

    path = Path(path)
    try:
        raw = (spark.read.option("header", True).csv(str(path)) if path.suffix.lower() == ".csv"
               else spark.read.parquet(str(path)))
    except AnalysisException:
        raise ConfigError(f"NOTENLP_DATE_SHIFT_TABLE {path} cannot be read as {path.suffix or 'Parquet'}") from None
    missing = [c for c in ("person_id", "date_shift_days") if c not in raw.columns]
    if missing:
        raise ConfigError(f"NOTENLP_DATE_SHIFT_TABLE {path} lacks column(s) {', '.join(missing)} "
                          "(needs person_id, date_shift_days)")
    table = raw.select(
        F.col("person_id").try_cast("bigint").alias("person_id"),
        F.col("date_shift_days").try_cast("int").alias("date_shift_days"),
        F.col("date_shift_days").try_cast("double").alias("_as_double"),
    )
    # An integrality test, so exact on purpose: 12.5 days (a Parquet double) must not become 12.
    readable = (F.col("person_id").isNotNull() & F.col("date_shift_days").isNotNull()
                & (F.col("_as_double") == F.col("date_shift_days").cast("double")))
    stats = table.agg(
        F.count(F.lit(1)).alias("rows"),
        F.sum(F.when(readable, 0).otherwise(1)).alias("unreadable"),
        F.count_distinct(F.when(readable, F.col("person_id"))).alias("persons"),
    ).first()
    if stats["unreadable"]:
        raise ConfigError(f"NOTENLP_DATE_SHIFT_TABLE {path}: {stats['unreadable']} of {stats['rows']} rows are not "
                          "an integer person_id and an integer date_shift_days")
    duplicated = stats["rows"] - stats["persons"]
    if duplicated:
        raise ConfigError(f"NOTENLP_DATE_SHIFT_TABLE {path}: {duplicated} rows repeat a person_id (one offset per person)")
    return table.select("person_id", "date_shift_days")


def shift_note_row(record: dict[str, Any], days: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The note row with every date column moved by ``days``, and the sealed audit row of each moved value."""
    present = [column for column in NOTE_ROW_DATES if not pd.isna(record[column])]
    moved = {column: record[column] + timedelta(days=days) for column in present}
    audit = [
        {"note_id": record["note_id"], "person_id": record["person_id"], "start": None, "end": None,
         "phi_type": "DATE", "phi_subtype": f"NOTE.{column}", "detector": "note_row",
         "original": str(record[column]), "replacement": str(moved[column]), "date_shift_days": days}
        for column in present
    ]
    return {**record, **moved}, audit


def _failed(record: dict[str, Any], error: str) -> dict[str, Any]:
    return {**record, "deid_text_hash": None, "date_shift_days": None, "phi_count": 0, "phi_types": {},
            "phi_audit": [], "error": error}


def _deidentify_batches(batches: Iterator[pd.DataFrame], config: dict[str, Any], date_mode: str,
                        site_table: bool) -> Iterator[pd.DataFrame]:
    from notenlp.deid.audit import audit_rows
    from notenlp.doc import Doc
    from notenlp.stages.components import deidentifier

    deid = deidentifier(config)
    for pdf in batches:
        out = []
        for row in pdf.itertuples(index=False):
            record = row._asdict()
            site_shift = record.pop(_SITE_SHIFT)
            if site_table and pd.isna(site_shift):
                out.append(_failed(record, NO_DATE_SHIFT))
                continue
            row_audit: list[dict[str, Any]] = []
            try:
                doc = Doc(text=record["note_text"], note_id=int(record["note_id"]), person_id=int(record["person_id"]),
                          note_date=str(record["note_date"]))
                days = int(site_shift) if site_table else deid.date_shift_days(doc)
                result = deid.deidentify(doc, date_shift_days=days)
                if date_mode == "shift":
                    record, row_audit = shift_note_row(record, days)
            except Exception as exc:  # the class name only: messages may quote PHI
                out.append(_failed(record, type(exc).__name__))
                continue
            audit = audit_rows(record["note_id"], record["person_id"], record["note_text"], result) + row_audit
            out.append({**record, "note_text": result.text, "deid_text_hash": None, "date_shift_days": days,
                        "phi_count": len(result.phi), "phi_types": dict(Counter(span.type for span in result.phi)),
                        "phi_audit": audit, "error": None})
        yield pd.DataFrame(out, columns=OUTPUT_COLUMNS)


def deidentify(notes: DataFrame, config: dict[str, Any], *, date_mode: str = "shift",
               date_shifts: DataFrame | None = None) -> DataFrame:
    """NOTE rows -> DEID_NOTE rows plus ``date_shift_days``, ``phi_audit`` (sealed) and ``error`` columns.

    ``date_shifts`` (from ``site_date_shifts``): the site's offsets; a note whose person has none is
    returned with error ``no_date_shift_for_person``. ``date_mode`` "shift" moves the row's dates too.
    """
    notes, site_table = with_site_shifts(notes, date_shifts)
    out = notes.mapInPandas(lambda it: _deidentify_batches(it, config, date_mode, site_table), DEID_OUTPUT)
    return out.withColumn(
        "deid_text_hash", F.when(F.col("error").isNull(), F.sha2(F.col("note_text"), 256))
    )


def with_site_shifts(notes: DataFrame, date_shifts: DataFrame | None) -> tuple[DataFrame, bool]:
    """NOTE columns plus each note's site offset (null without a site table), as the worker reads them."""
    if date_shifts is None:
        notes = notes.withColumn(_SITE_SHIFT, F.lit(None).cast("int"))
    else:
        offsets = date_shifts.select("person_id", F.col("date_shift_days").alias(_SITE_SHIFT))
        notes = notes.join(offsets, on="person_id", how="left")
    return notes.select(*NOTE_COLUMNS, _SITE_SHIFT), date_shifts is not None


def deidentify_with(spark, notes: DataFrame, config: dict[str, Any], settings) -> DataFrame:
    """``deidentify`` under the run's date settings: ``date_mode`` and the site's offsets table, if any."""
    shifts = site_date_shifts(spark, settings.date_shift_table) if settings.date_shift_table else None
    return deidentify(notes, config, date_mode=settings.date_mode, date_shifts=shifts)


def deidentified_notes(out: DataFrame) -> DataFrame:
    """The staged notes: DEID_NOTE columns only, so the date offset never leaves the sealed area."""
    return out.filter(F.col("error").isNull()).select(*DEID_COLUMNS)


def phi_audit_rows(out: DataFrame) -> DataFrame:
    return out.filter(F.col("error").isNull()).select(F.explode("phi_audit").alias("a")).select("a.*")


def deid_quarantine(out: DataFrame) -> DataFrame:
    no_shift = F.col("error") == NO_DATE_SHIFT
    return out.filter(F.col("error").isNotNull()).select(
        F.lit("deidentify").alias("stage"),
        F.col("note_id").cast("string").alias("record_key"),
        F.when(no_shift, F.lit(NO_DATE_SHIFT)).otherwise(F.lit("deidentifier_error")).alias("reason"),
        F.when(no_shift, F.lit("person_id not in NOTENLP_DATE_SHIFT_TABLE"))
        .otherwise(F.concat(F.lit("exception="), F.col("error"))).alias("detail"),
    )
