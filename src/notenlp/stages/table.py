"""The one table of a night's stages: what each reads and writes, whether it needs Spark, how it runs.

The Airflow DAG (task order), ``notenlp.orchestration`` (the tasks' callable), ``notenlp run <stage>``
(``stages/cli.py`` and the spark-submit jobs) and ``run_night`` all read it. Importing it imports
nothing heavy: each stage's run function is imported when it runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stage:
    name: str
    inputs: tuple[str, ...]  # the partitions (or sources) it reads
    outputs: tuple[str, ...]  # what it writes
    needs_spark: bool
    run: str  # "module:function", called as function(spark, night, params) -> StageLog | list[StageLog] | dict
    logged: bool = True  # writes a run-log record (the report, written after load, does not)
    fuses: tuple[str, ...] = ()  # a pass: runs these stages at once, each writing its own outputs and record


STAGE_TABLE: tuple[Stage, ...] = (
    Stage("ingest", ("source input",), ("sealed/staging/ingest", "quarantine/stage=ingest"), True,
          "notenlp.stages.table:_ingest"),
    Stage("deidentify", ("ingest",), ("deidentify", "deidentify/_phi_summary", "quarantine/stage=deidentify",
                                      "sealed phi_audit.duckdb"), True, "notenlp.stages.table:_deidentify"),
    Stage("annotate", ("deidentify",), ("annotate", "quarantine/stage=annotate"), True,
          "notenlp.stages.table:_annotate"),
    Stage("normalize", ("deidentify", "annotate"), ("normalize", "quarantine/stage=normalize"), True,
          "notenlp.stages.table:_normalize"),
    Stage("validate", ("ingest", "deidentify", "annotate", "normalize", "warehouse concept"),
          ("validate/note", "validate/note_nlp", "validate/note_nlp_relation", "quarantine/stage=validate"), True,
          "notenlp.stages.table:_validate"),
    Stage("load", ("validate", "quarantine", "deidentify/_phi_summary"),
          ("warehouse note, note_nlp, note_nlp_relation, notenlp_* tables",), False, "notenlp.stages.table:_load"),
    # Derived tables users query, rebuilt from the loaded warehouse as a whole (cheap DuckDB SQL, no Spark).
    Stage("refresh_cohorts", ("warehouse",), ("warehouse note_fact, patient_summary, cohort, cohort_definition",),
          False, "notenlp.stages.table:_refresh_cohorts", logged=False),
    Stage("report", ("warehouse",), ("reports",), False, "notenlp.stages.table:_report", logged=False),
)
# Consecutive stages that can run as one pass over the notes (run_night does so when Settings.fused_text):
# one mapInPandas and one Parquet write instead of three jobs, two text rereads and an entity shuffle.
PASSES: tuple[Stage, ...] = (
    Stage("text", ("ingest",), tuple(o for s in STAGE_TABLE if s.name in ("deidentify", "annotate", "normalize")
                                     for o in s.outputs), True, "notenlp.stages.table:_text",
          fuses=("deidentify", "annotate", "normalize")),
)
STAGES_BY_NAME = {s.name: s for s in (*STAGE_TABLE, *PASSES)}
NIGHT_STAGES = tuple(s.name for s in STAGE_TABLE if s.logged)  # what `notenlp run` runs, one by one
TASKS = tuple(s.name for s in STAGE_TABLE)  # the DAG's tasks, in order


def night_plan(settings, *, sparknlp_input: str | None = None) -> tuple[str, ...]:
    """The steps of ``run_night``: NIGHT_STAGES, each pass's stages replaced by the pass when
    ``settings.fused_text`` (not with Spark NLP input or engine: their entities come from a Spark pipeline)."""
    plan = list(NIGHT_STAGES)
    if not settings.fused_text or sparknlp_input or settings.engine == "sparknlp":
        return tuple(plan)
    for fused in PASSES:
        first = plan.index(fused.fuses[0])
        plan[first:first + len(fused.fuses)] = [fused.name]
    return tuple(plan)


def stage(name: str) -> Stage:
    try:
        return STAGES_BY_NAME[name]
    except KeyError:
        raise ValueError(f"no stage {name!r} (stages: {', '.join(TASKS)})") from None


def run_stage(name: str, night, params: dict[str, Any] | None = None, spark=None):
    """Run one stage of ``night``; ``spark`` is created when the stage needs it and none is given.

    ``params``: ``source`` and ``input`` (ingest), ``sparknlp_input`` (normalize).
    """
    import importlib

    from notenlp.preflight import guarded

    entry = stage(name)
    params = dict(params or {})
    with guarded(night, (name,), params):  # ConfigError (one line) before any work; the night lock held
        if entry.needs_spark and spark is None:
            from notenlp.spark_session import get_spark, input_bytes

            read = [params.get("input")] if name == "ingest" else \
                [str(night.part(i)) for i in entry.inputs if i in STAGES_BY_NAME]
            spark = get_spark(night.settings, f"notenlp-{name}-{night.run_date}",
                              input_size=sum(input_bytes(p) for p in read))
        module, function = entry.run.split(":")
        started = datetime.now(timezone.utc).replace(tzinfo=None)
        try:
            return getattr(importlib.import_module(module), function)(spark, night, params)
        except StageFailed:  # a pass's stage failed, recorded under its own name
            raise
        except Exception as exc:
            failure = StageFailed(name, failure_cause(exc))
            if entry.logged:
                _log_failure(night, name, started, failure.cause)
            raise failure from exc


class StageFailed(RuntimeError):
    """A stage failed: one line naming the stage and the cause (an exception class, never row text)."""

    def __init__(self, stage_name: str, cause: str):
        self.stage, self.cause = stage_name, cause
        super().__init__(f"stage {stage_name} failed: {cause}")


# Our own errors whose messages carry counts and paths only, never note text.
_PLAIN_MESSAGES = ("StageQuarantineError", "QualityGateError", "FileNotFoundError", "StageFailed", "ConfigError")


def failure_cause(exc: BaseException) -> str:
    """The exception's class (and the JVM's exception class for a Spark failure); messages only where they
    cannot quote data (our own count errors, Java's OutOfMemoryError)."""
    name = type(exc).__name__
    if name in _PLAIN_MESSAGES:
        return f"{name}: {str(exc).splitlines()[0]}" if str(exc) else name
    java = getattr(exc, "java_exception", None)
    if java is not None:
        try:
            causes = []
            throwable = java
            while throwable is not None and len(causes) < 8:
                causes.append(throwable)
                throwable = throwable.getCause()
            root = causes[-1]
            java_name = root.getClass().getName()
            if java_name.endswith("OutOfMemoryError"):
                return f"{name}: {java_name}: {root.getMessage()}"
            return f"{name}: {java_name}"
        except Exception:  # the JVM may be gone
            return name
    text = str(exc)
    if "OutOfMemoryError" in text:
        return f"{name}: java.lang.OutOfMemoryError"
    return name


def failure_frames(failure: BaseException) -> str:
    """What ``-v`` prints above a failed stage's line: the Python frames (file, line, code) of the cause and of
    the exceptions it was raised from, with their classes; never their messages, which may quote note text."""
    import traceback

    lines = ["Traceback of the stage failure (frames only; messages left out, they may quote note text):\n"]
    exc: BaseException | None = failure.__cause__ or failure
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        lines += traceback.format_tb(exc.__traceback__)
        lines.append(f"{type(exc).__module__}.{type(exc).__qualname__}\n")
        exc = exc.__cause__ or exc.__context__
    return "".join(lines)


def _log_failure(night, name: str, started, cause: str) -> None:
    """The failed stage's run-log record (``error`` in its JSON) and the night's quarantine rows, put in
    notenlp_run_log and notenlp_quarantine; a failure to log never hides the stage's own failure."""
    import json

    try:
        night.meta_dir.mkdir(parents=True, exist_ok=True)
        path = night.meta_dir / f"stage_{name}.json"
        record = {"stage": name, "started_at": started.isoformat(),
                  "finished_at": datetime.now(timezone.utc).replace(tzinfo=None).isoformat(), "rows_in": 0,
                  "rows_out": 0, "rows_quarantined": 0, "rows_skipped": 0}
        if path.exists():  # the stage wrote its counts, then failed a check on them: keep the counts
            written = json.loads(path.read_text(encoding="utf-8"))
            if written.get("started_at", "") >= record["started_at"]:
                record = written
        path.write_text(json.dumps({**record, "error": cause}), encoding="utf-8")
        from notenlp.warehouse.load import load_quarantine, load_run_log

        load_run_log(night)
        load_quarantine(night)  # what the stage quarantined before it failed, with its reasons
    except Exception as exc:
        log.warning("could not record the failure of stage %s (%s)", name, type(exc).__name__)
    log.error("stage %s failed: %s", name, cause)


# Adapters from the common signature to the runner's functions.
def _ingest(spark, night, params):
    from notenlp.stages import runner

    if not params.get("input"):
        raise ValueError("ingest needs an input path (--input, DAG param 'input' or NOTENLP_INPUT)")
    return runner.run_ingest(spark, night, params.get("source") or "mimic3", params["input"])


def _deidentify(spark, night, params):
    from notenlp.stages import runner

    return runner.run_deidentify(spark, night)


def _annotate(spark, night, params):
    from notenlp.stages import runner

    return runner.run_annotate(spark, night)


def _normalize(spark, night, params):
    from notenlp.stages import runner

    return runner.run_normalize(spark, night, params.get("sparknlp_input") or None)


def _text(spark, night, params):
    from notenlp.stages import runner

    return runner.run_text(spark, night)


def _validate(spark, night, params):
    from notenlp.stages import runner

    return runner.run_validate(spark, night)


def _load(spark, night, params):
    from notenlp.stages import runner

    return runner.run_load(night)


def _refresh_cohorts(spark, night, params):
    from notenlp.cohorts import refresh_warehouse

    if night.settings.on_postgres:  # the cohort SQL is DuckDB's dialect
        log.info("cohorts, note_fact and patient_summary are refreshed in DuckDB warehouses only; "
                 "not on PostgreSQL")
        return {}
    return refresh_warehouse(night.settings.warehouse, night.run_date)


def _report(spark, night, params):
    from notenlp.quality.report import write_night_report

    return {"report": str(write_night_report(night.settings, night.run_date, night.settings.home / "reports"))}
