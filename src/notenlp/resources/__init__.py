"""Data files that carry clinical knowledge: rules, lexicons, demo vocabulary, pipeline configs."""

from __future__ import annotations

from pathlib import Path

RESOURCE_DIR = Path(__file__).resolve().parent


def resource_path(*parts: str) -> Path:
    """Path of a shipped resource; absolute paths pass through unchanged."""
    if parts and Path(parts[-1]).is_absolute():
        return Path(parts[-1])
    return RESOURCE_DIR.joinpath(*parts)
