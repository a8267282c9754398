"""Build the annotate pipeline from whatever of its components can be imported here.

The default pipeline names components that other parts of the project provide (dictionary
matcher, model NER, normalizer, relation extractor); a component whose module is not
installed is left out with a warning instead of failing the whole pipeline.
"""

from __future__ import annotations

import gc
import importlib
import json
import logging
from pathlib import Path
from typing import Any

from notenlp.pipeline import Pipeline, load_config, load_factory

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
    """The pipeline without its unavailable components; returns it and the names left out.

    A component is unavailable when its module is not installed, or when it cannot be built
    here because a file it needs (a trained model, a compiled vocabulary) does not exist.
    """
    # The components build hundreds of thousands of objects (dictionary candidates, model tables) that all
    # stay alive: the cyclic collector, run over and over while they are built, finds nothing to free.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _load_available_pipeline(config, disable)
    finally:
        if collecting:
            gc.enable()


def _load_available_pipeline(config: str | Path | dict[str, Any], disable: tuple[str, ...]) -> tuple[Pipeline, list[str]]:
    cfg = json.loads(json.dumps(load_config(config)))
    left_out = missing_components(cfg)
    components = []
    kept_entries = []
    for entry in cfg["components"]:
        name = entry["name"]
        if name in disable or name in left_out or entry.get("enabled", True) is False:
            continue
        try:
            component = load_factory(entry["factory"])(**entry.get("config", {}))
        except (FileNotFoundError, NotADirectoryError) as exc:
            log.warning("component %s cannot be built here (%s: missing %s), left out",
                        name, type(exc).__name__, getattr(exc, "filename", "") or "a file")
            left_out.append(name)
            continue
        components.append((name, component))
        kept_entries.append(entry)
    if left_out:
        log.warning("components not available here, left out: %s", ", ".join(left_out))
    cfg["components"] = kept_entries
    return Pipeline(components, cfg), left_out
