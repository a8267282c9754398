"""Data files that carry clinical knowledge: rules, lexicons, demo vocabulary, pipeline configs."""

from __future__ import annotations

from pathlib import Path

RESOURCE_DIR = Path(__file__).resolve().parent


def resource_path(*parts: str) -> Path:
    """Path of a shipped resource; absolute paths pass through unchanged."""
    if parts and Path(parts[-1]).is_absolute():
        return Path(parts[-1])
    return RESOURCE_DIR.joinpath(*parts)


def file_or_resource(path: str | Path) -> Path:
    """``path`` itself when it exists; otherwise it names a shipped resource ("ner/ner_crf.zip")."""
    given = Path(path)
    return given if given.exists() else resource_path(*given.parts)
