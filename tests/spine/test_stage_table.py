"""The table of stages: every reader agrees with it, and a failing stage leaves a record and one line."""

from __future__ import annotations

import json
from datetime import date

import pytest


def test_table_orders_the_night_and_the_dag():
    from notenlp.stages.table import NIGHT_STAGES, STAGE_TABLE, TASKS

    assert NIGHT_STAGES == ("ingest", "deidentify", "annotate", "normalize", "validate", "load")
    assert TASKS == (*NIGHT_STAGES, "refresh_cohorts", "report")
    produced = {"source input", "warehouse concept", "warehouse", "quarantine"}
    for entry in STAGE_TABLE:  # each stage reads only what an earlier stage (or the world) provides
        for needed in entry.inputs:
            assert needed in produced or any(needed == out.split("/")[0] for out in produced), (entry.name, needed)
        produced |= set(entry.outputs) | {entry.name}


def test_failed_stage_leaves_its_record_and_one_line(tmp_path):
    from notenlp.config import Settings
    from notenlp.stages.night import Night
    from notenlp.stages.table import StageFailed, run_stage

    night = Night(Settings(home=tmp_path), date(2026, 12, 1))
    with pytest.raises(StageFailed) as failure:
        run_stage("load", night)  # nothing ingested: load cannot know the night's nlp_system
    assert str(failure.value) == "stage load failed: RuntimeError"
    assert "\n" not in str(failure.value)
    record = json.loads((night.meta_dir / "stage_load.json").read_text(encoding="utf-8"))
    assert record["error"] == "RuntimeError" and record["stage"] == "load"


def test_unknown_stage_is_one_clear_error(tmp_path):
    from notenlp.config import Settings
    from notenlp.stages.night import Night
    from notenlp.stages.table import run_stage

    with pytest.raises(ValueError, match="no stage 'loads'"):
        run_stage("loads", Night(Settings(home=tmp_path), date(2026, 12, 1)))


def test_the_plan_fuses_the_text_stages_only_when_asked(tmp_path):
    from notenlp.config import Settings
    from notenlp.stages.table import NIGHT_STAGES, PASSES, night_plan

    for fused in PASSES:  # a pass replaces stages that run one after another
        first = NIGHT_STAGES.index(fused.fuses[0])
        assert NIGHT_STAGES[first:first + len(fused.fuses)] == fused.fuses

    assert night_plan(Settings(home=tmp_path, fused_text=False)) == NIGHT_STAGES
    assert night_plan(Settings(home=tmp_path)) == ("ingest", "text", "validate", "load")
    # Spark NLP entities replace annotate's: normalize must then run on its own.
    assert night_plan(Settings(home=tmp_path), sparknlp_input="x.parquet") == NIGHT_STAGES
