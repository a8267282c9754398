"""The text stages run as one pass give the night the staged path gives: same warehouse rows, same run log.

Two real nights over the same small demo input and surrogate key, one stage by stage, one with
deidentify + annotate + normalize fused (``Settings.fused_text``), compared table by table.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.floats import approx_floats

pytestmark = pytest.mark.slow
N_NOTES = 30
SEED = 13
RUN_DATE = date(2026, 11, 3)
# Everything a night puts in the warehouse, less the times it ran at and nlp_system (it fingerprints the
# pipeline config, whose paths name each night's home).
TABLES = {
    "note": "select * from note",
    "note_nlp": "select * exclude (nlp_date, nlp_datetime, nlp_system) from note_nlp",
    "note_nlp_relation": "select * exclude (nlp_datetime, nlp_system) from note_nlp_relation",
    "notenlp_quarantine": "select * from notenlp_quarantine",
    "notenlp_run_log": "select * exclude (started_at, finished_at, nlp_system) from notenlp_run_log",
    "notenlp_phi_summary": "select * from notenlp_phi_summary",
}


def _night(spark, root: Path, csv: Path, fused: bool):
    from notenlp.config import Settings
    from notenlp.nightly_bench import fix_secret
    from notenlp.stages.runner import run_night

    settings = Settings(home=root / ("fused" if fused else "staged"), spark_master="local[2]",
                        spark_shuffle_partitions=2, use_registered_models=False, fused_text=fused)
    fix_secret(settings, SEED)
    logs = run_night(settings, RUN_DATE, "mimic3", str(csv))
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        tables = {name: sorted(con.execute(sql).fetchall(), key=repr) for name, sql in TABLES.items()}
    finally:
        con.close()
    return settings, logs, tables


@pytest.fixture(scope="module")
def nights(spark, tmp_path_factory):
    from notenlp.demo.generator import write_demo

    root = tmp_path_factory.mktemp("fused")
    csv = Path(write_demo(root / "demo", N_NOTES, SEED)["noteevents"])
    return {fused: _night(spark, root, csv, fused) for fused in (False, True)}


def test_fused_night_loads_the_rows_the_staged_night_loads(nights):
    staged, fused = nights[False][2], nights[True][2]
    assert len(staged["note"]) >= N_NOTES * 0.9
    assert len(staged["note_nlp"]) > 5 * len(staged["note"]) and staged["note_nlp_relation"]
    for table in TABLES:
        assert fused[table] == approx_floats(staged[table]), table


def test_fused_night_logs_each_stage_with_the_staged_counts(nights):
    def counts(logs):
        return [(r.stage, r.rows_in, r.rows_out, r.rows_quarantined, r.rows_skipped) for r in logs]

    staged, fused = nights[False][1], nights[True][1]
    assert [r.stage for r in fused] == ["ingest", "deidentify", "annotate", "normalize", "validate", "load"]
    assert counts(fused) == counts(staged)


def test_fused_night_leaves_no_sealed_work_and_the_same_stage_partitions(nights):
    import pyarrow.parquet as pq

    from notenlp.stages.night import Night

    staged, fused = Night(nights[False][0], RUN_DATE), Night(nights[True][0], RUN_DATE)
    assert not fused.sealed_work.exists()
    for stage in ("deidentify", "annotate", "normalize"):
        tables = [pq.read_table(n.part(stage)).to_pylist() for n in (staged, fused)]
        assert sorted(tables[1], key=repr) == approx_floats(sorted(tables[0], key=repr)), stage
