"""What produced a NOTE_NLP row: the ``nlp_system`` string and the fingerprints it is made of.

``nlp_system`` names the notenlp version, a fingerprint of the annotate pipeline (its config and
the content of every rule, lexicon and model file it points to), the de-identification rules, and
the registered model versions in use. The incremental logic keys on it: when it changes, every
note is processed again. Every content fingerprint of the project is computed here.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from notenlp import __version__
from notenlp.resources import RESOURCE_DIR, resource_path

NLP_SYSTEM_MAX = 250  # NOTE_NLP.nlp_system is varchar(250)
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


def fingerprint_files(paths: list[Path]) -> str:
    """Hash of files by name and bytes (by modification time above 50 MB): a cache key for what was built from them."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes() if path.stat().st_size < 50_000_000 else str(path.stat().st_mtime_ns).encode())
    return digest.hexdigest()[:16]


def fingerprint_dir(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


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
