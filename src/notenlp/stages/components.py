"""Per-worker caches of annotators: each Python worker builds a component once, not per batch or row."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

T = TypeVar("T")


def long_lived(build: Callable[[], T]) -> T:
    """``build()`` for a component that lives as long as the worker, then frozen out of the cyclic collector.

    The components hold hundreds of thousands of objects (dictionary candidates, model tables, lexicons)
    that stay alive: each full collection walked them all for nothing, and the allocation-heavy work per
    note set one off every few notes (gc.freeze cut the annotate pipeline's CPU by about a fifth over
    demo notes, the dictionary matcher's by a third). The collector also pauses while they are built."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        component = build()
    finally:
        if collecting:
            gc.enable()
    gc.freeze()
    return component

from notenlp.schemas import column_types


@lru_cache(maxsize=4)
def _deidentifier(config_json: str):
    from notenlp.deid import Deidentifier

    return long_lived(lambda: Deidentifier(**json.loads(config_json)))


def deidentifier(config: dict[str, Any]):
    return _deidentifier(json.dumps(config, sort_keys=True))


@lru_cache(maxsize=4)
def _pipeline(config_json: str):
    from notenlp.pipeline import Pipeline

    return long_lived(lambda: Pipeline.from_config(json.loads(config_json)))


def pipeline(config: dict[str, Any]):
    """The composed annotate pipeline for an effective (already overridden) pipeline config."""
    return _pipeline(json.dumps(config, sort_keys=True))


_PANDAS_TYPES = {"bigint": "Int64", "int": "Int32", "double": "float64", "boolean": "boolean", "string": "object"}


def typed_frame(rows: list[dict[str, Any]], ddl: str):
    """A pandas frame with the column types of a flat Spark DDL, so Arrow never guesses from NaN."""
    import pandas as pd

    columns = column_types(ddl)
    frame = pd.DataFrame(rows, columns=[name for name, _ in columns])
    for name, spark_type in columns:
        dtype = _PANDAS_TYPES.get(spark_type)
        if dtype == "object":
            frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
        elif dtype:
            frame[name] = frame[name].astype(dtype)
    return frame
