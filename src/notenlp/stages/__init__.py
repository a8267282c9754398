"""The nightly stages as pure Spark DataFrame -> DataFrame functions, plus their runners.

ingest -> deidentify -> annotate -> normalize -> validate -> load. Each stage reads and writes
Parquet under ``<staging>/<stage>/run_date=YYYY-MM-DD`` (schemas in ``notenlp.schemas``), so any
stage can be re-run alone and a re-run replaces that night's partition.
"""
