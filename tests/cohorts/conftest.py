"""One gold warehouse of the 300-note demo for the module: built in DuckDB in a few seconds, no Spark."""

from __future__ import annotations

from datetime import date

import pytest

from . import gold_warehouse

NIGHT = date(2026, 12, 1)


@pytest.fixture(scope="package")
def gold(tmp_path_factory):
    return gold_warehouse.read_gold(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="package")
def refreshed(tmp_path_factory, gold):
    """The gold warehouse after one refresh, at ``home/warehouse/notenlp.duckdb`` (the CLI's default place)."""
    from notenlp.cohorts import refresh_warehouse

    home = tmp_path_factory.mktemp("home")
    path = home / "warehouse" / "notenlp.duckdb"
    path.parent.mkdir()
    gold_warehouse.build(path, gold)
    refresh_warehouse(path, NIGHT)
    return path
