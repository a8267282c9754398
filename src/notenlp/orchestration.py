"""What the Airflow tasks call: one stage of the night given by the task's data interval."""

from __future__ import annotations

import logging
import os
from datetime import date, datetime
from typing import Any

from notenlp.config import Settings

log = logging.getLogger(__name__)


def run_date_of(data_interval_start: datetime | str) -> date:
    if isinstance(data_interval_start, str):
        data_interval_start = datetime.fromisoformat(data_interval_start)
    return data_interval_start.date()


def run_stage(stage: str, data_interval_start: datetime | str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run ``stage`` for the night starting at ``data_interval_start``; idempotent per night."""
    from notenlp.stages import runner

    params = params or {}
    settings = Settings.from_env(home=params.get("home") or None)
    night = runner.Night(settings, run_date_of(data_interval_start))
    if stage == "load":
        record = runner.run_load(night)
    elif stage == "report":
        from notenlp.quality.report import write_report

        path = write_report(settings.warehouse, night.run_date, settings.home / "reports")
        return {"report": str(path)}
    else:
        from notenlp.spark_session import get_spark

        spark = get_spark(settings, f"notenlp-{stage}-{night.run_date}")
        if stage == "ingest":
            source = params.get("source") or os.environ.get("NOTENLP_SOURCE", "mimic3")
            input_path = params.get("input") or os.environ.get("NOTENLP_INPUT")
            if not input_path:
                raise ValueError("ingest needs an input: DAG param 'input' or NOTENLP_INPUT")
            record = runner.run_ingest(spark, night, source, input_path)
        else:
            record = {
                "deidentify": lambda: runner.run_deidentify(spark, night),
                "annotate": lambda: runner.run_annotate(spark, night),
                "normalize": lambda: runner.run_normalize(spark, night, params.get("sparknlp_input") or None),
                "validate": lambda: runner.run_validate(spark, night),
            }[stage]()
    return {"stage": stage, "run_date": night.run_date.isoformat(), "rows_in": record.rows_in,
            "rows_out": record.rows_out, "rows_quarantined": record.rows_quarantined}
