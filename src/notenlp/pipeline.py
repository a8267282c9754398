"""Compose annotator components from a JSON pipeline config.

A pipeline config is data: an ordered list of ``{"name", "factory", "config"}`` where
``factory`` is ``"module:callable"`` and ``config`` holds the component's keyword-only,
JSON-serialisable settings. ``resources/pipelines/*.json`` ship the defaults.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from notenlp.doc import Doc
from notenlp.resources import resource_path

Component = Callable[[Doc], Doc]


def load_factory(spec: str) -> Callable[..., Component]:
    module_name, _, attr = spec.partition(":")
    if not attr:
        raise ValueError(f"factory {spec!r} must look like 'package.module:Callable'")
    return getattr(importlib.import_module(module_name), attr)


def load_config(config: str | Path | dict[str, Any]) -> dict[str, Any]:
    if isinstance(config, dict):
        return config
    path = Path(config)
    if not path.exists():
        path = resource_path("pipelines", f"{config}.json" if not str(config).endswith(".json") else str(config))
    return json.loads(path.read_text(encoding="utf-8"))


class Pipeline:
    """An ordered list of named components; ``pipeline(doc) -> doc``."""

    def __init__(self, components: list[tuple[str, Component]], config: dict[str, Any] | None = None):
        self.components = components
        self.config = config or {}

    @classmethod
    def from_config(
        cls,
        config: str | Path | dict[str, Any],
        *,
        overrides: dict[str, dict[str, Any]] | None = None,
        disable: Iterable[str] = (),
    ) -> "Pipeline":
        cfg = json.loads(json.dumps(load_config(config)))  # deep copy, JSON-only by construction
        disabled = set(disable)
        components = []
        for entry in cfg["components"]:
            name = entry["name"]
            if name in disabled or entry.get("enabled", True) is False:
                continue
            settings = {**entry.get("config", {}), **(overrides or {}).get(name, {})}
            entry["config"] = settings
            components.append((name, load_factory(entry["factory"])(**settings)))
        cfg["components"] = [e for e in cfg["components"] if e["name"] in {n for n, _ in components}]
        return cls(components, cfg)

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.components]

    def fingerprint(self) -> str:
        """Short hash of the effective config and the files it names (``notenlp.fingerprints``)."""
        from notenlp.fingerprints import fingerprint_config

        return fingerprint_config(self.config)

    def __call__(self, doc: Doc) -> Doc:
        for _, component in self.components:
            doc = component(doc)
        return doc.finalize()

    def pipe(self, docs: Iterable[Doc]) -> Iterator[Doc]:
        for doc in docs:
            yield self(doc)
