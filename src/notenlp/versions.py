"""What produced a NOTE_NLP row: the ``nlp_system`` string, and a night's effective pipeline config.

``nlp_system`` names the notenlp version, a fingerprint of the annotate pipeline (its config and
the content of every rule, lexicon and model file it points to), the de-identification rules, and
the registered model versions in use. The incremental logic keys on it: when it changes, every
note is processed again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from notenlp import __version__
from notenlp.pipeline import load_config
from notenlp.resources import RESOURCE_DIR, resource_path

log = logging.getLogger(__name__)
NLP_SYSTEM_MAX = 250
# Compiled dictionaries under <staging>/_dictionary are named by their vocabulary's content key; DuckDB does
# not write the same Parquet bytes twice, so that name, not the bytes, identifies one.
DICTIONARY_DIR = "_dictionary"


def _file_for(value: str) -> Path | None:
    if not isinstance(value, str) or not value or len(value) > 1000:
        return None
    for candidate in (Path(value), resource_path(value)):
        try:
            if candidate.is_file():
                return candidate
        except OSError:
            return None
    return None


def fingerprint_config(config: dict[str, Any]) -> str:
    """Hash of a pipeline config plus the bytes of every file its settings point to.

    A setting naming a file enters by its file name and bytes, not its full path, so the same pipeline has
    the same id whatever folder holds the night's home or the installed package (local mode and a cluster
    run from another home, a checkout and a wheel all write the same ``nlp_system``).
    """
    files: list[Path] = []

    def portable(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: portable(value[key]) for key in sorted(value)}
        if isinstance(value, list):
            return [portable(item) for item in value]
        if (path := _file_for(value)) is not None:
            if path.parent.name != DICTIONARY_DIR:
                files.append(path)
            return path.name
        return value

    digest = hashlib.sha256(json.dumps(portable(config), sort_keys=True).encode())
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def fingerprint_dir(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def apply_overrides(config: dict[str, Any], overrides: dict[str, dict[str, Any]]) -> dict[str, Any]:
    config = json.loads(json.dumps(config))
    for entry in config["components"]:
        entry["config"] = {**entry.get("config", {}), **overrides.get(entry["name"], {})}
    return config


def deid_choices(settings) -> str:
    """The settings that change a note's de-identified text or row dates, so a change reprocesses the notes."""
    table = settings.date_shift_table
    table_part = ""
    if table is not None:
        digest = hashlib.sha256(table.read_bytes()).hexdigest()[:12] if table.is_file() else fingerprint_dir(table)
        table_part = f" table {digest}"
    return f"{settings.deid_mode} dates {settings.date_mode}{table_part}"


def nlp_system(annotate_config: dict[str, Any], model_versions: dict[str, str] | None = None, *,
               deid_settings: str = "") -> str:
    deid_files = fingerprint_dir(RESOURCE_DIR / 'deid') if (RESOURCE_DIR / 'deid').is_dir() else 'none'
    parts = [f"notenlp {__version__}", f"pipeline {fingerprint_config(annotate_config)}",
             f"deid {deid_files}{' ' + deid_settings if deid_settings else ''}"]
    parts += [f"{name} v{version}" for name, version in sorted((model_versions or {}).items())]
    text = "; ".join(parts)
    return text if len(text) <= NLP_SYSTEM_MAX else text[: NLP_SYSTEM_MAX - 13] + "; +" + hashlib.sha256(
        text.encode()).hexdigest()[:10]


def effective_annotate_config(settings, dictionary_path: Path | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """The night's pipeline config with registered champion models and the compiled dictionary."""
    config = load_config(settings.annotate_pipeline)
    overrides: dict[str, dict[str, Any]] = {}
    versions: dict[str, str] = {}
    if settings.use_registered_models:
        from notenlp.models.registry import champion_versions, pipeline_overrides_from_champions

        overrides, versions = pipeline_overrides_from_champions(settings), champion_versions(settings)
    if dictionary_path is not None:
        for name in ("dictionary", "normalize"):
            overrides.setdefault(name, {})["dictionary"] = str(dictionary_path)
    return apply_overrides(config, overrides), versions


def compiled_dictionary_for(settings) -> Path:
    """The normalization dictionary of the warehouse's vocabulary, compiled once per vocabulary content."""
    import os
    import tempfile

    from notenlp.vocab.dictionary import compile_dictionary
    from notenlp.vocab.lookup import vocabulary_key
    from notenlp.warehouse import connect

    # PostgreSQL: the vocabulary schema, copied once per vocabulary state into a DuckDB file.
    vocabulary = settings.warehouse
    if settings.on_postgres:
        from notenlp.warehouse import postgres

        vocabulary = postgres.vocabulary_snapshot(settings)
    with connect(vocabulary, read_only=True) as con:
        key = vocabulary_key(con)
    out = settings.staging / DICTIONARY_DIR / f"dictionary-{key}.parquet"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        log.info("compiling the normalization dictionary from the warehouse vocabulary ...")
        with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
            partial = Path(tmp) / out.name
            stats = compile_dictionary(vocabulary, partial)
            os.replace(partial, out)
        log.info("dictionary compiled: %s", stats)
    return out


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
    return compiled_dictionary_for(settings)


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
