"""What the Airflow tasks call: one stage of the night given by the task's data interval."""

from __future__ import annotations

import logging
import os
from datetime import date, datetime
from typing import Any

from notenlp.config import Settings

log = logging.getLogger(__name__)


def run_date_of(when: datetime | date | str) -> date:
    if isinstance(when, str):
        when = datetime.fromisoformat(when)
    return when.date() if isinstance(when, datetime) else when


def night_of_run(logical_date: datetime | str | None, run_after: datetime | str | None) -> date:
    """The night a DAG run processes: its logical date; a manual run without one, the day it was run.

    Not ``data_interval_start``: Airflow 3 gives a manual run triggered for a logical date the data
    interval that ends when it was triggered, so a rerun or backfill of 2026-12-05 would process the
    trigger day instead.
    """
    when = logical_date if logical_date is not None else run_after
    if when is None:
        raise ValueError("the DAG run has neither a logical date nor a run-after time")
    return run_date_of(when)


def run_stage(stage: str, night_date: datetime | date | str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run ``stage`` for the night of ``night_date``; idempotent per night."""
    from notenlp.stages import table
    from notenlp.stages.night import Night

    params = dict(params or {})
    settings = Settings.from_env(home=params.get("home") or None)
    night = Night(settings, run_date_of(night_date))
    if stage == "ingest":
        params["source"] = params.get("source") or os.environ.get("NOTENLP_SOURCE", "mimic3")
        params["input"] = params.get("input") or os.environ.get("NOTENLP_INPUT")
        if not params["input"]:
            raise ValueError("ingest needs an input: DAG param 'input' or NOTENLP_INPUT")
    record = table.run_stage(stage, night, params)
    if not table.stage(stage).logged:
        return record
    return {"stage": stage, "run_date": night.run_date.isoformat(), "rows_in": record.rows_in,
            "rows_out": record.rows_out, "rows_quarantined": record.rows_quarantined}
