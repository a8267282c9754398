"""Build the annotate pipeline from whatever of its components can be imported here.

The default pipeline names components that other parts of the project provide (dictionary
matcher, model NER, normalizer, relation extractor); a component whose module is not
installed is left out with a warning instead of failing the whole pipeline.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

from notenlp.pipeline import Pipeline, load_config

log = logging.getLogger(__name__)


def missing_components(config: dict[str, Any]) -> list[str]:
    """Names of the enabled components whose factory module or callable cannot be imported."""
    missing = []
    for entry in config["components"]:
        if entry.get("enabled", True) is False:
            continue
        module_name, _, attr = entry["factory"].partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                missing.append(entry["name"])
                continue
            raise
        if not hasattr(module, attr):
            missing.append(entry["name"])
    return missing


def load_available_pipeline(config: str | Path | dict[str, Any] = "annotate", *,
                            disable: tuple[str, ...] = ()) -> tuple[Pipeline, list[str]]:
    """The pipeline without its unavailable components; returns it and the names left out."""
    cfg = load_config(config)
    missing = missing_components(cfg)
    if missing:
        log.warning("components not available here, left out: %s", ", ".join(missing))
    return Pipeline.from_config(cfg, disable=[*disable, *missing]), missing
