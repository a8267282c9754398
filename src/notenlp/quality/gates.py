"""Great Expectations gates on Spark DataFrames: validate a batch, quarantine failing rows, pass the rest.

``validate_dataframe`` does two things with one suite (``expectations/<suite>.json``):

1. runs it as a real GX 1.x checkpoint on the Spark DataFrame (file context under
   ``<staging>/gx``), which stores the validation result and updates Data Docs in
   ``<staging>/data_docs``;
2. for each expectation GX found unexpected rows for, evaluates its row condition as a Spark column
   (uniqueness through a join of the repeated keys, cross-table checks through left joins) so each
   failing row is quarantined once, with every reason that failed, and the good rows pass on. An
   expectation GX found no unexpected row for is not evaluated again: its rows all pass.

The GX result is configured never to keep unexpected values (they may be note text or PHI):
summaries, logs and Data Docs carry counts only. The summary puts GX's unexpected count beside
the gate's own count per expectation, so the two can be checked against each other.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from notenlp.config import Settings
from notenlp.quality.suites import Suite, expectation_columns, failure_condition, load_suite, prepare

log = logging.getLogger(__name__)

DATASOURCE = "notenlp_spark"
DOCS_SITE = "notenlp"
# Counts only: unexpected values may be note text or PHI and must never reach GX's stores or Data Docs.
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 0, "exclude_unexpected_values": True}
_REASONS = "_quality_reasons"
INDEX_META = "notenlp_index"


@dataclass
class ExpectationOutcome:
    reason: str
    type: str
    columns: list[str]
    rows_failed: int  # rows the gate flagged for this expectation
    gx_unexpected: int | None  # GX's unexpected_count (None when GX reports none for this type)
    gx_success: bool | None


@dataclass
class GateSummary:
    suite: str
    run_date: str
    rows_in: int
    rows_good: int
    rows_quarantined: int
    max_quarantine_rate: float
    gx_success: bool | None
    expectations: list[ExpectationOutcome] = field(default_factory=list)

    @property
    def quarantine_rate(self) -> float:
        return self.rows_quarantined / self.rows_in if self.rows_in else 0.0

    def failed_by_reason(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for e in self.expectations:
            counts[e.reason] = counts.get(e.reason, 0) + e.rows_failed
        return {k: v for k, v in counts.items() if v}

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "quarantine_rate": self.quarantine_rate}

    def format(self) -> str:
        lines = [
            f"suite {self.suite} ({self.run_date}): in={self.rows_in} good={self.rows_good} "
            f"quarantined={self.rows_quarantined} rate={self.quarantine_rate:.2%} "
            f"(max {self.max_quarantine_rate:.2%}) gx_success={self.gx_success}"
        ]
        for e in self.expectations:
            if e.rows_failed or e.gx_unexpected:
                lines.append(f"  {e.reason:<28} {e.type}({', '.join(e.columns)}): rows={e.rows_failed} "
                             f"gx_unexpected={e.gx_unexpected}")
        return "\n".join(lines)


@dataclass
class GateResult:
    good_df: Any  # pyspark DataFrame: the input's columns, rows that passed every expectation
    quarantine_df: Any  # pyspark DataFrame: run_date, stage, record_key, reason, detail
    summary: GateSummary
    _flagged: Any = None  # the frames persisted when there is no work_dir
    _work_dir: Path | None = None

    def release(self) -> None:
        """Drop the stored flagged rows once good_df and quarantine_df have been written."""
        if self._work_dir is not None:
            import shutil

            shutil.rmtree(self._work_dir, ignore_errors=True)
        else:
            for frame in self._flagged or ():
                frame.unpersist()


class QualityGateError(RuntimeError):
    """More rows failed than Settings.max_quarantine_rate allows; carries counts, never row text."""

    def __init__(self, summary: GateSummary):
        self.summary = summary
        super().__init__(f"quality gate failed: {summary.quarantine_rate:.2%} of rows quarantined "
                         f"(max {summary.max_quarantine_rate:.2%})\n{summary.format()}")


def _settings(context: dict[str, Any]) -> Settings:
    return context.get("settings") or Settings.from_env()


def gx_context(staging: Path):
    """The file-backed GX context under ``<staging>/gx`` with the ``notenlp`` Data Docs site."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx

    staging = Path(staging)
    staging.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(staging))
    bars = context.variables.progress_bars
    if (bars.get("globally", True) if isinstance(bars, dict) else getattr(bars, "globally", True)) is not False:
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        context.variables.save()
    sites = context.get_config().data_docs_sites or {}
    if DOCS_SITE not in sites:
        context.add_data_docs_site(site_name=DOCS_SITE, site_config={
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str((staging / "data_docs").resolve())},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
    return context


def _gx_suite(suite: Suite):
    import great_expectations as gx

    # GX reorders results; the index in meta ties each result back to its expectation.
    expectations = [{**e, "meta": {**e.get("meta", {}), INDEX_META: i}} for i, e in enumerate(suite.expectations)]
    return gx.ExpectationSuite(name=suite.name, expectations=expectations,
                               meta={k: v for k, v in suite.raw.get("meta", {}).items()
                                     if k != "great_expectations_version"},
                               notes=suite.raw.get("notes"))


def run_gx_checkpoint(df, suite: Suite, run_date: date | str, staging: Path) -> dict[int | str, dict[str, Any]]:
    """Validate ``df`` with GX (checkpoint + Data Docs); returns {expectation index: {success, unexpected_count}}
    and, under ``"suite"``, the suite's overall success."""
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.core.run_identifier import RunIdentifier

    context = gx_context(staging)
    try:
        datasource = context.data_sources.get(DATASOURCE)
    except (KeyError, LookupError, ValueError):
        # The frames validated are Parquet reads already; GX's default persist kept a second copy of every
        # checked row in the heap (the 100k night's note_nlp gate: "not enough space to cache", then a sort OOM).
        datasource = context.data_sources.add_spark(name=DATASOURCE, persist=False)
    try:
        asset = datasource.get_asset(suite.name)
    except LookupError:
        asset = datasource.add_dataframe_asset(name=suite.name)
    try:
        batch_definition = asset.get_batch_definition(suite.name)
    except (KeyError, LookupError, ValueError):
        batch_definition = asset.add_batch_definition_whole_dataframe(suite.name)
    gx_suite = context.suites.add_or_update(_gx_suite(suite))
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite.name, data=batch_definition, suite=gx_suite))
    checkpoint = context.checkpoints.add_or_update(gx.Checkpoint(
        name=suite.name, validation_definitions=[definition], result_format=RESULT_FORMAT,
        actions=[UpdateDataDocsAction(name="update_data_docs", site_names=[DOCS_SITE])]))
    result = checkpoint.run(batch_parameters={"dataframe": df},
                            run_id=RunIdentifier(run_name=f"{suite.name}-{run_date}"))
    validation = next(iter(result.run_results.values()))
    outcomes: dict[int | str, dict[str, Any]] = {"suite": {"success": validation.success}}
    for r in validation.results:
        meta = r.expectation_config.meta or {}
        if r.exception_info and r.exception_info.get("raised_exception"):
            # Exception text can quote data; log only which expectation broke.
            log.error("GX could not evaluate %s (%s) of suite %s", meta.get("reason"), r.expectation_config.type,
                      suite.name)
        outcomes[int(meta[INDEX_META])] = {"success": r.success,
                                           "unexpected_count": (r.result or {}).get("unexpected_count")}
    return outcomes


_UNIQUE_TYPES = ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique")


def _with_duplicate_flags(df, spec: Suite, indices):
    """Uniqueness by the keys alone: the keys seen more than once, joined back as ``_dup_<i>``.

    Same rows as the window form in ``suites.failure_condition`` (a null key is never a duplicate of a
    single column; compound keys compare nulls as equal, like a window's partitions), but only the key
    columns are shuffled, not whole rows, and the join is a broadcast when (as usual) few keys repeat.
    Only the expectations in ``indices`` are flagged. Returns the frame and {expectation index: failure column}.
    """
    from functools import reduce

    from pyspark.sql import functions as F

    flags = {}
    for i in indices:
        e = spec.expectations[i]
        if e["type"] not in _UNIQUE_TYPES:
            continue
        columns = [e["kwargs"]["column"]] if "column" in e["kwargs"] else list(e["kwargs"]["column_list"])
        present = reduce(lambda a, b: a | b, [F.col(c).isNotNull() for c in columns])
        keys = [f"_dupk_{i}_{j}" for j in range(len(columns))]
        repeated = (df.filter(present).groupBy(*columns).count().filter(F.col("count") > 1)
                    .select(*[F.col(c).alias(k) for c, k in zip(columns, keys)], F.lit(True).alias(f"_dup_{i}")))
        on = reduce(lambda a, b: a & b, [df[c].eqNullSafe(repeated[k]) for c, k in zip(columns, keys)])
        df = df.join(repeated, on, how="left").drop(*keys)
        flags[i] = present & F.coalesce(F.col(f"_dup_{i}"), F.lit(False))
    return df, flags


def _stored(df, work_dir: Path | None, name: str):
    """``df`` computed once: written as Parquet under ``work_dir`` and read back (memory does not grow with the
    rows), or without a ``work_dir`` persisted in memory and disk (the caller's ``release`` unpersists it)."""
    from pyspark import StorageLevel

    if work_dir is None:
        return df.persist(StorageLevel.MEMORY_AND_DISK)
    path = Path(work_dir) / name
    df.write.mode("overwrite").parquet(str(path))
    return df.sparkSession.read.parquet(str(path))


def _suspects(gx_outcomes: dict, n: int) -> list[int]:
    """The expectations whose failing rows must be found: GX counted unexpected rows, or could not count them
    (an exception, or a type whose result has no unexpected_count). The others have no failing row."""
    return [i for i in range(n) if gx_outcomes.get(i, {}).get("unexpected_count") != 0]


def validate_dataframe(df, suite: str, *, run_date: date | str, context: dict[str, Any] | None = None,
                       drop_after_prepare: tuple[str, ...] = (), work_dir: Path | None = None) -> GateResult:
    """Validate ``df`` with the named suite; quarantine failing rows; raise when too many fail.

    ``context`` holds the frames the suite's lookups join (e.g. ``concept``, ``note_nlp``) and
    optionally ``settings`` (staging folder, ``max_quarantine_rate``), ``stage`` (quarantine
    rows' stage, default ``validate``) and ``max_quarantine_rate`` (overrides the settings).

    ``drop_after_prepare`` names wide columns that only the suite's derived columns read (the note
    text beside each entity): they are dropped once those are computed, so no shuffle, GX scan or
    stored copy carries them, and ``good_df`` lacks them. With ``work_dir`` the checked rows are
    written there once as Parquet and GX, every count and output read that (memory does not grow
    with the rows; ``release`` removes it); without it they are persisted in memory and disk.
    A frame with no rows skips the GX checkpoint (nothing to validate; ``gx_success`` is None).

    GX runs first, on every row. Row by row flags (``suites.failure_condition``) are then computed only
    for the expectations GX found unexpected rows for (or could not count): on a clean batch, the usual
    case, no expectation is evaluated twice and every row is good with GX's counts of zero.
    """
    from pyspark.sql import functions as F

    context = dict(context or {})
    settings = _settings(context)
    max_rate = float(context.get("max_quarantine_rate", settings.max_quarantine_rate))
    stage = context.get("stage", "validate")
    spec = load_suite(suite)
    original_columns = [c for c in df.columns if c not in drop_after_prepare]
    t0 = time.perf_counter()
    checked = _stored(prepare(df, spec, context).drop(*drop_after_prepare), work_dir, "checked")
    rows_in = checked.count()
    t1 = time.perf_counter()
    if rows_in:
        gx_outcomes = run_gx_checkpoint(checked, spec, run_date, settings.staging)
    else:
        gx_outcomes = {"suite": {"success": None}}
    t2 = time.perf_counter()
    suspects = _suspects(gx_outcomes, len(spec.expectations)) if rows_in else []
    failed = {i: 0 for i in range(len(spec.expectations))}
    flagged, stored = checked, [checked]
    if suspects:
        with_dups, duplicate_flags = _with_duplicate_flags(checked, spec, suspects)
        failures = [(duplicate_flags[i] if i in duplicate_flags else failure_condition(spec.expectations[i]))
                    .alias(f"_fail_{i}") for i in suspects]
        reason_tags = F.array(*[F.when(F.col(f"_fail_{i}"), F.lit(spec.reasons[i])) for i in suspects])
        flagged = _stored(
            with_dups.select("*", *failures).drop(*[f"_dup_{i}" for i in duplicate_flags])
            .withColumn(_REASONS, F.array_sort(F.array_distinct(F.filter(reason_tags, lambda x: x.isNotNull())))),
            work_dir, "flagged")
        stored.append(flagged)
        counts = flagged.agg(F.sum((F.size(_REASONS) > 0).cast("long")).alias("rows_quarantined"),
                             *[F.sum(F.col(f"_fail_{i}").cast("long")).alias(f"_fail_{i}") for i in suspects]).first()
        rows_quarantined = int(counts["rows_quarantined"] or 0)
        failed.update({i: int(counts[f"_fail_{i}"] or 0) for i in suspects})
    else:
        rows_quarantined = 0
        flagged = checked.withColumn(_REASONS, F.array().cast("array<string>"))
    log.debug("suite %s: %d rows checked and stored %.1fs, GX checkpoint %.1fs, row flags for %d expectations "
              "%.1fs", spec.name, rows_in, t1 - t0, t2 - t1, len(suspects), time.perf_counter() - t2)
    outcomes = []
    for i, e in enumerate(spec.expectations):
        gx_row = gx_outcomes.get(i, {})
        outcomes.append(ExpectationOutcome(
            reason=spec.reasons[i], type=e["type"], columns=expectation_columns(e),
            rows_failed=failed[i], gx_unexpected=gx_row.get("unexpected_count"),
            gx_success=gx_row.get("success")))
    summary = GateSummary(suite=spec.name, run_date=str(run_date), rows_in=rows_in,
                          rows_good=rows_in - rows_quarantined, rows_quarantined=rows_quarantined,
                          max_quarantine_rate=max_rate, gx_success=gx_outcomes["suite"]["success"],
                          expectations=outcomes)
    for o in outcomes:
        if o.gx_unexpected is not None and o.gx_unexpected != o.rows_failed:
            log.warning("suite %s, %s: GX counted %d unexpected rows, the gate %d", spec.name, o.reason,
                        o.gx_unexpected, o.rows_failed)
    log.info("%s", summary.format())

    key = F.concat_ws(":", *[F.col(c).cast("string") for c in spec.record_key]) if spec.record_key \
        else F.lit(None).cast("string")
    quarantine_df = flagged.filter(F.size(_REASONS) > 0).select(
        F.lit(str(run_date)).cast("date").alias("run_date"),
        F.lit(stage).alias("stage"),
        key.alias("record_key"),
        F.concat_ws(";", _REASONS).alias("reason"),
        F.lit(f"suite={spec.name}").alias("detail"),
    )
    good_df = flagged.filter(F.size(_REASONS) == 0).select(*original_columns)
    result = GateResult(good_df=good_df, quarantine_df=quarantine_df, summary=summary, _flagged=stored,
                        _work_dir=work_dir)
    if summary.quarantine_rate > max_rate:
        result.release()
        raise QualityGateError(summary)
    return result


def data_docs_index(settings: Settings | None = None, *, staging: Path | None = None) -> Path:
    """The GX Data Docs site's index.html under ``<staging>/data_docs`` (each checkpoint updates it)."""
    return Path(staging or (settings or Settings.from_env()).staging) / "data_docs" / "index.html"


def build_data_docs(settings: Settings | None = None, *, staging: Path | None = None) -> Path:
    """Rebuild the GX Data Docs site in ``<staging>/data_docs`` from every stored validation; returns index.html."""
    staging = Path(staging or (settings or Settings.from_env()).staging)
    context = gx_context(staging)
    context.build_data_docs(site_names=[DOCS_SITE])
    index = data_docs_index(staging=staging)
    log.info("GX Data Docs: %s", index)
    return index

