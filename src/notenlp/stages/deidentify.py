"""De-identify canonical notes on Spark workers; PHI audit rows travel only to the sealed area."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from notenlp.schemas import DEID_NOTE, NOTE, PHI_AUDIT

NOTE_COLUMNS = [c.split()[0] for c in NOTE.split(", ")]
DEID_COLUMNS = [c.split()[0] for c in DEID_NOTE.split(", ")]
AUDIT_FIELDS = [c.split()[0] for c in PHI_AUDIT.split(", ")]
AUDIT_STRUCT = ", ".join(f"{name}: {typ}" for name, typ in (c.split() for c in PHI_AUDIT.split(", ")))

# What the worker returns: the de-identified note, its sealed audit rows, and an error class if any.
DEID_OUTPUT = f"{DEID_NOTE}, phi_audit array<struct<{AUDIT_STRUCT}>>, error string"


def _deidentify_batches(batches: Iterator[pd.DataFrame], config: dict[str, Any]) -> Iterator[pd.DataFrame]:
    from notenlp.doc import Doc
    from notenlp.stages.components import deidentifier

    deid = deidentifier(config)
    for pdf in batches:
        out = []
        for row in pdf.itertuples(index=False):
            record = row._asdict()
            try:
                doc = Doc(text=record["note_text"], note_id=int(record["note_id"]), person_id=int(record["person_id"]),
                          note_date=str(record["note_date"]))
                result = deid.deidentify(doc)
            except Exception as exc:  # the class name only: messages may quote PHI
                out.append({**record, "deid_text_hash": None, "date_shift_days": None, "phi_count": 0,
                            "phi_types": {}, "phi_audit": [], "error": type(exc).__name__})
                continue
            audit = [
                {"note_id": record["note_id"], "person_id": record["person_id"], "start": span.start, "end": span.end,
                 "phi_type": span.type, "phi_subtype": span.subtype, "detector": span.source,
                 "original": record["note_text"][span.start:span.end], "replacement": replacement,
                 "date_shift_days": result.date_shift_days}
                for span, replacement in zip(result.phi, result.replacements)
            ]
            out.append({**record, "note_text": result.text, "deid_text_hash": None,
                        "date_shift_days": result.date_shift_days, "phi_count": len(result.phi),
                        "phi_types": dict(Counter(span.type for span in result.phi)), "phi_audit": audit,
                        "error": None})
        yield pd.DataFrame(out, columns=[*NOTE_COLUMNS, "deid_text_hash", "date_shift_days", "phi_count",
                                         "phi_types", "phi_audit", "error"])


def deidentify(notes: DataFrame, config: dict[str, Any]) -> DataFrame:
    """NOTE rows -> DEID_NOTE rows plus ``phi_audit`` (sealed) and ``error`` columns."""
    out = notes.select(*NOTE_COLUMNS).mapInPandas(lambda it: _deidentify_batches(it, config), DEID_OUTPUT)
    return out.withColumn(
        "deid_text_hash", F.when(F.col("error").isNull(), F.sha2(F.col("note_text"), 256))
    )


def deidentified_notes(out: DataFrame) -> DataFrame:
    return out.filter(F.col("error").isNull()).select(*DEID_COLUMNS)


def phi_audit_rows(out: DataFrame) -> DataFrame:
    return out.filter(F.col("error").isNull()).select(F.explode("phi_audit").alias("a")).select("a.*")


def deid_quarantine(out: DataFrame) -> DataFrame:
    return out.filter(F.col("error").isNotNull()).select(
        F.lit("deidentify").alias("stage"),
        F.col("note_id").cast("string").alias("record_key"),
        F.lit("deidentifier_error").alias("reason"),
        F.concat(F.lit("exception="), F.col("error")).alias("detail"),
    )
