"""Expectation suites (GX 1.x suite JSON in ``expectations/``) and their row-level Spark form.

A suite's ``meta.notenlp`` block says how to prepare a frame before the expectations run:

* ``record_key``: columns that identify a row in quarantine (joined with ``:``);
* ``lookups``: left joins with frames passed in ``context`` (for cross-table checks such as
  concept-in-CONCEPT); each adds ``<as>_found`` and the ``select`` expressions of the right side;
* ``derived_columns``: Spark SQL expressions evaluated after the lookups (lengths, the text at an
  offset, concept status...), so every expectation is a plain GX column expectation.

Every expectation's ``meta.reason`` names it in quarantine rows and summaries. ``failure_condition``
turns an expectation into a Spark column that is true exactly for the rows GX counts as unexpected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from notenlp.resources import data_dir

EXPECTATIONS_DIR = data_dir("expectations")


@dataclass(frozen=True)
class Lookup:
    context: str  # key of the frame in the gate's context
    alias: str
    left: str
    right: str
    select: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Suite:
    name: str
    expectations: list[dict[str, Any]]
    record_key: list[str]
    lookups: list[Lookup]
    derived_columns: dict[str, str]
    raw: dict[str, Any]

    @property
    def reasons(self) -> list[str]:
        return [e["meta"]["reason"] for e in self.expectations]


def suite_path(name: str | Path) -> Path:
    path = Path(name)
    if path.suffix == ".json" and path.exists():
        return path
    return EXPECTATIONS_DIR / f"{name}.json"


def load_suite(name: str | Path) -> Suite:
    path = suite_path(name)
    if not path.exists():
        known = sorted(p.stem for p in EXPECTATIONS_DIR.glob("*.json"))
        raise FileNotFoundError(f"no expectation suite {name!r} (known: {', '.join(known)})")
    raw = json.loads(path.read_text(encoding="utf-8"))
    spec = raw.get("meta", {}).get("notenlp", {})
    expectations = raw["expectations"]
    for e in expectations:
        if e["type"] not in FAILURE_CONDITIONS:
            raise ValueError(f"suite {raw['name']}: expectation type {e['type']} has no row-level form")
        if not e.get("meta", {}).get("reason"):
            raise ValueError(f"suite {raw['name']}: expectation {e['type']} needs meta.reason")
    lookups = [Lookup(context=x["context"], alias=x["as"], left=x["left"], right=x["right"],
                      select=dict(x.get("select", {}))) for x in spec.get("lookups", [])]
    return Suite(name=raw["name"], expectations=expectations, record_key=list(spec.get("record_key", [])),
                 lookups=lookups, derived_columns=dict(spec.get("derived_columns", {})), raw=raw)


def prepare(df, suite: Suite, context: dict[str, Any]):
    """``df`` with the suite's lookup and derived columns added; one output row per input row."""
    from pyspark.sql import functions as F

    missing = sorted({x.context for x in suite.lookups} - set(context))
    if missing:
        raise ValueError(f"suite {suite.name} needs context frames: {', '.join(missing)}")
    for lookup in suite.lookups:
        key = f"_{lookup.alias}_key"
        # One row per key on the right, so a left join can never multiply input rows.
        right = context[lookup.context].select(
            F.col(lookup.right).alias(key),
            F.lit(True).alias(f"{lookup.alias}_found"),
            *[F.expr(expr).alias(name) for name, expr in lookup.select.items()],
        ).dropDuplicates([key])
        df = df.join(right, df[lookup.left] == right[key], how="left").drop(key)
        df = df.withColumn(f"{lookup.alias}_found", F.coalesce(F.col(f"{lookup.alias}_found"), F.lit(False)))
    for name, expr in suite.derived_columns.items():
        df = df.withColumn(name, F.expr(expr))
    return df


def _kw(expectation: dict[str, Any]) -> dict[str, Any]:
    return expectation["kwargs"]


def _column(expectation):
    from pyspark.sql import functions as F

    return F.col(_kw(expectation)["column"])


def _not_null(expectation):
    return _column(expectation).isNull()


def _unique(expectation):
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    c = _column(expectation)
    return c.isNotNull() & (F.count(F.lit(1)).over(Window.partitionBy(c)) > 1)


def _compound_unique(expectation):
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    cols = [F.col(c) for c in _kw(expectation)["column_list"]]
    any_present = F.greatest(*[c.isNotNull() for c in cols]) if len(cols) > 1 else cols[0].isNotNull()
    return any_present & (F.count(F.lit(1)).over(Window.partitionBy(*cols)) > 1)


def _in_set(expectation):
    c = _column(expectation)
    return c.isNotNull() & ~c.isin(list(_kw(expectation)["value_set"]))


def _between_condition(c, kwargs: dict[str, Any]):
    from pyspark.sql import functions as F

    ok = F.lit(True)
    if kwargs.get("min_value") is not None:
        low = F.lit(kwargs["min_value"])
        ok = ok & ((c > low) if kwargs.get("strict_min") else (c >= low))
    if kwargs.get("max_value") is not None:
        high = F.lit(kwargs["max_value"])
        ok = ok & ((c < high) if kwargs.get("strict_max") else (c <= high))
    return ok


def _between(expectation):
    c = _column(expectation)
    return c.isNotNull() & ~_between_condition(c, _kw(expectation))


def _lengths_between(expectation):
    from pyspark.sql import functions as F

    c = _column(expectation)
    return c.isNotNull() & ~_between_condition(F.length(c), _kw(expectation))


def _match_regex(expectation):
    c = _column(expectation)
    return c.isNotNull() & ~c.rlike(_kw(expectation)["regex"])


def _not_match_regex(expectation):
    c = _column(expectation)
    return c.isNotNull() & c.rlike(_kw(expectation)["regex"])


def _pair(expectation):
    from pyspark.sql import functions as F

    return F.col(_kw(expectation)["column_A"]), F.col(_kw(expectation)["column_B"])


def _pair_equal(expectation):
    from pyspark.sql import functions as F

    a, b = _pair(expectation)
    return F.coalesce(a != b, F.lit(False))


def _pair_a_greater(expectation):
    from pyspark.sql import functions as F

    a, b = _pair(expectation)
    ok = (a >= b) if _kw(expectation).get("or_equal") else (a > b)
    return F.coalesce(~ok, F.lit(False))


def _unique_within_record(expectation):
    from pyspark.sql import functions as F

    values = F.filter(F.array(*[F.col(c) for c in _kw(expectation)["column_list"]]), lambda x: x.isNotNull())
    return F.size(F.array_distinct(values)) < F.size(values)


FAILURE_CONDITIONS = {
    "expect_column_values_to_not_be_null": _not_null,
    "expect_column_values_to_be_unique": _unique,
    "expect_compound_columns_to_be_unique": _compound_unique,
    "expect_column_values_to_be_in_set": _in_set,
    "expect_column_values_to_be_between": _between,
    "expect_column_value_lengths_to_be_between": _lengths_between,
    "expect_column_values_to_match_regex": _match_regex,
    "expect_column_values_to_not_match_regex": _not_match_regex,
    "expect_column_pair_values_to_be_equal": _pair_equal,
    "expect_column_pair_values_a_to_be_greater_than_b": _pair_a_greater,
    "expect_select_column_values_to_be_unique_within_record": _unique_within_record,
}


def failure_condition(expectation: dict[str, Any]):
    """A Spark boolean column, true for the rows this expectation finds unexpected."""
    return FAILURE_CONDITIONS[expectation["type"]](expectation)


def expectation_columns(expectation: dict[str, Any]) -> list[str]:
    kwargs = _kw(expectation)
    if "column" in kwargs:
        return [kwargs["column"]]
    if "column_list" in kwargs:
        return list(kwargs["column_list"])
    return [kwargs["column_A"], kwargs["column_B"]]
