"""A night's preparation: warehouse and vocabulary, the effective pipeline config, ``nlp_system``
(``notenlp.fingerprints``), and the incremental state.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from notenlp.fingerprints import deid_choices, nlp_system
from notenlp.pipeline import load_config

log = logging.getLogger(__name__)


def apply_overrides(config: dict[str, Any], overrides: dict[str, dict[str, Any]]) -> dict[str, Any]:
    config = json.loads(json.dumps(config))
    for entry in config["components"]:
        entry["config"] = {**entry.get("config", {}), **overrides.get(entry["name"], {})}
    return config


def effective_annotate_config(settings, dictionary_path: Path | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """The night's pipeline config with registered champion models and the compiled dictionary."""
    config = load_config(settings.annotate_pipeline)
    overrides: dict[str, dict[str, Any]] = {}
    versions: dict[str, str] = {}
    if settings.use_registered_models:
        from notenlp.lifecycle.registry import champion_versions, pipeline_overrides_from_champions

        overrides, versions = pipeline_overrides_from_champions(settings), champion_versions(settings)
    if dictionary_path is not None:
        for name in ("dictionary", "normalize"):
            overrides.setdefault(name, {})["dictionary"] = str(dictionary_path)
    return apply_overrides(config, overrides), versions


def prepare_home(settings) -> Path:
    """The home's warehouse schema, vocabulary (the bundled demo one when the warehouse has none) and compiled
    normalization dictionary; returns the dictionary. Once per home (or per vocabulary), not per night:
    ``run_night`` runs it as its own step before ingest so a fresh home's one-time load is timed apart from
    the night; when they exist already it only checks them (a fraction of a second)."""
    if settings.on_postgres:
        from notenlp.warehouse import postgres

        postgres.ensure_schema(settings)
        postgres.ensure_vocabulary(settings)
    else:
        _prepare_duckdb(settings)
    from notenlp.vocab.lookup import compiled_dictionary_for

    # PostgreSQL: the vocabulary schema, copied once per vocabulary state into a DuckDB file.
    vocabulary = postgres.vocabulary_snapshot(settings) if settings.on_postgres else settings.warehouse
    return compiled_dictionary_for(vocabulary, settings.staging)


def prepare_night(night) -> Path | None:
    """Before a night's ingest: ``prepare_home``, the effective pipeline config,
    ``nlp_system``, and the incremental state. Returns the Parquet of (note_id, text_hash) already
    processed on earlier nights by the same nlp_system, or None when there is none.
    """
    settings = night.settings
    night.meta_dir.mkdir(parents=True, exist_ok=True)
    dictionary_path = prepare_home(settings)
    config, versions = effective_annotate_config(settings, dictionary_path)
    system = nlp_system(config, versions, deid_settings=deid_choices(settings))
    (night.meta_dir / "annotate_pipeline.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    (night.meta_dir / "nlp_system.txt").write_text(system, encoding="utf-8")
    log.info("nlp_system: %s", system)
    processed = night.meta_dir / "processed.parquet"
    if settings.on_postgres:
        from notenlp.warehouse import postgres

        n = postgres.export_note_state(settings, system, night.run_date, processed)
        if not n:
            processed.unlink(missing_ok=True)
            return None
    else:
        n = _note_state_duckdb(settings, system, night.run_date, processed)
        if not n:
            return None
    log.info("incremental: %d notes already processed by this nlp_system on earlier nights", n)
    return processed


def _prepare_duckdb(settings) -> None:
    from notenlp.vocab.loader import has_vocabulary, load_demo
    from notenlp.warehouse import connect, ensure_schema

    with connect(settings.warehouse) as con:
        ensure_schema(con)
        if not has_vocabulary(con):
            log.info("no vocabulary in the warehouse: loading the bundled demo vocabulary (notenlp vocab load "
                     "--athena DIR loads a full Athena download)")
            load_demo(con)


def _note_state_duckdb(settings, system: str, run_date, processed: Path) -> int:
    from notenlp.warehouse import connect

    with connect(settings.warehouse) as con:
        params = {"nlp_system": system, "run_date": run_date.isoformat()}
        n = con.execute(
            "select count(*) from notenlp_note_state where nlp_system = $nlp_system and run_date < $run_date::date",
            params,
        ).fetchone()[0]
        if n:
            con.execute(
                f"copy (select note_id, text_hash from notenlp_note_state where nlp_system = $nlp_system "
                f"and run_date < $run_date::date) to '{processed}' (format parquet)",
                params,
            )
    return n
