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
    from notenlp.stages import table
    from notenlp.stages.night import Night

    params = dict(params or {})
    settings = Settings.from_env(home=params.get("home") or None)
    night = Night(settings, run_date_of(data_interval_start))
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
