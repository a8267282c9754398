"""Hand the warehouse's concept table to Spark (for concept checks) without JDBC."""

from __future__ import annotations

from notenlp.warehouse import connect


def concept_frame(spark, night):
    """concept_id, domain_id, standard_concept, invalid_reason of every loaded concept, as a Spark DataFrame."""
    path = night.meta_dir / "concept.parquet"
    if night.settings.on_postgres:
        from notenlp.warehouse import postgres

        postgres.export_concepts(night.settings, path)
        return spark.read.parquet(str(path))
    with connect(night.settings.warehouse) as con:
        con.execute(
            "copy (select concept_id, domain_id, standard_concept, invalid_reason from concept) "
            f"to '{path}' (format parquet)"
        )
    return spark.read.parquet(str(path))
