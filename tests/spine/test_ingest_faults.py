"""A MIMIC-III night with every kind of bad row mixed in: every good row is ingested, every bad row is quarantined
with its reason, counts reconcile from records, and no note text leaves the sealed area, on the failure path too.

The same night runs twice on one home: first with the default quarantine limit (it fails, and must still leave
its run-log row and its quarantine rows in the warehouse), then with a limit it passes.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from tests.spine.test_source_files import MIMIC3_COLUMNS, good, mimic3_line

PHI = "Zabriskie"  # planted in every note, good and bad
RUN_DATE = date(2026, 11, 20)
GOOD_IDS = list(range(1, 13))
# record key -> reason; the broken quote's span has no id: it is keyed by its first line.
EXPECTED = {
    "line=10": "unparseable_line",
    "102": "missing_column",
    "103": "blank_text",
    "104": "binary_text",
    "105": "invalid_utf8",
    "106": "source_marked_error",
    "107": "missing_or_invalid_note_date",
    "108": "empty_text",
}
DUPLICATED = "109"  # twice, different texts: both copies quarantined


def night_csv(path: Path) -> Path:
    rows = [mimic3_line(i, good(i)) for i in GOOD_IDS[:2]]
    rows.append(mimic3_line(101, good(101)).replace("Line two", 'He said "stop'))  # lines 10-13
    rows += [mimic3_line(i, good(i)) for i in GOOD_IDS[2:]]
    rows += [
        f"102,112,202,2101-03-04,,,Nursing,Report,,\n",  # the TEXT column is missing
        mimic3_line(103, " \n\t  "),
        mimic3_line(104, f"{PHI} \x00\x01\x02\x03 junk"),
        mimic3_line(105, f"{PHI} caf\udcc3 \udcff"),
        mimic3_line(106, good(106), ISERROR="1"),
        mimic3_line(107, good(107), CHARTDATE="2101-13-45"),
        mimic3_line(108, ""),
        mimic3_line(109, good(109)), mimic3_line(109, good(109) + " addendum"),
        mimic3_line(110, good(110)), mimic3_line(110, good(110)),  # an exact copy: one note, one skip
    ]
    path.write_bytes((",".join(MIMIC3_COLUMNS) + "\n" + "".join(rows)).encode("utf-8", "surrogateescape"))
    return path


def texts_outside_sealed(home: Path):
    """(file, text) for every file under ``home`` but ``sealed/``; Parquet and DuckDB files by their values."""
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        if "sealed" in path.relative_to(home).parts:
            continue
        if path.suffix == ".parquet":
            yield path, json.dumps(pq.read_table(path).to_pylist(), default=str)
        elif path.suffix == ".duckdb":
            with duckdb.connect(str(path), read_only=True) as con:
                tables = [t[0] for t in con.execute("show tables").fetchall()]
                yield path, " ".join(str(con.execute(f'select * from "{t}"').fetchall()) for t in tables)
        else:
            raw = path.read_bytes()
            yield path, (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8", "replace")


@pytest.fixture(scope="module")
def nights(spark, tmp_path_factory):
    from notenlp.config import Settings
    from notenlp.stages.night import Night
    from notenlp.stages.table import StageFailed, run_stage

    root = tmp_path_factory.mktemp("ingest-faults")
    csv = night_csv(root / "NOTEEVENTS.csv")
    home = root / "home"
    params = {"source": "mimic3", "input": str(csv)}
    logs = io.StringIO()
    handler = logging.StreamHandler(logs)
    logging.getLogger().addHandler(handler)
    try:
        with pytest.raises(StageFailed) as failed:
            run_stage("ingest", Night(Settings(home=home, use_registered_models=False), RUN_DATE), params, spark)
        with duckdb.connect(str(home / "warehouse" / "notenlp.duckdb"), read_only=True) as con:
            after_failure = {
                "run_log": con.execute("select stage, rows_in, rows_out, rows_quarantined, rows_skipped, error "
                                       "from notenlp_run_log where run_date = $d", {"d": RUN_DATE}).fetchall(),
                "quarantine": con.execute("select record_key, reason, detail from notenlp_quarantine "
                                          "where run_date = $d and stage = 'ingest'", {"d": RUN_DATE}).fetchall(),
            }
        leaked_after_failure = [str(p) for p, text in texts_outside_sealed(home) if PHI in text]
        night = Night(Settings(home=home, use_registered_models=False, max_quarantine_rate=0.5), RUN_DATE)
        passed = run_stage("ingest", night, params, spark)
    finally:
        logging.getLogger().removeHandler(handler)
    return {"failed": failed.value, "after_failure": after_failure, "leaked_after_failure": leaked_after_failure,
            "passed": passed, "night": night, "home": home, "spark": spark, "logs": logs.getvalue()}


def test_a_failed_night_leaves_its_run_log_row_and_quarantine_rows(nights):
    assert str(nights["failed"]) == (
        "stage ingest failed: StageQuarantineError: ingest: 10 of 24 rows quarantined (41.7% > max 5.0%); "
        "reasons: duplicate_note_id_with_different_text=2, binary_text=1, blank_text=1, empty_text=1, "
        "invalid_utf8=1, missing_column=1, missing_or_invalid_note_date=1, source_marked_error=1, "
        "unparseable_line=1")
    (run_log,) = nights["after_failure"]["run_log"]
    assert run_log[:5] == ("ingest", 24, 13, 10, 1)
    assert run_log[5].startswith("StageQuarantineError: ingest: 10 of 24 rows quarantined")
    reasons = {key: reason for key, reason, _ in nights["after_failure"]["quarantine"]}
    assert reasons == {**EXPECTED, DUPLICATED: "duplicate_note_id_with_different_text"}


def test_every_good_row_in_every_bad_row_quarantined_with_its_reason(nights):
    spark, night, log = nights["spark"], nights["night"], nights["passed"]
    assert (log.rows_in, log.rows_out, log.rows_quarantined, log.rows_skipped) == (24, 13, 10, 1)
    notes = {r.note_id: r.note_text for r in spark.read.parquet(str(night.part("ingest"))).collect()}
    assert notes == {i: good(i) for i in [*GOOD_IDS, 110]}
    rows = spark.read.parquet(str(night.quarantine_part("ingest"))).collect()
    assert sorted((r.record_key, r.reason) for r in rows) == sorted(
        [*EXPECTED.items(), (DUPLICATED, "duplicate_note_id_with_different_text"),
         (DUPLICATED, "duplicate_note_id_with_different_text")])
    details = {r.reason: r.detail for r in rows}
    assert details["unparseable_line"].startswith("note_source=mimic3; file=NOTEEVENTS.csv; lines=10-13; ")
    assert details["missing_column"] == ("note_source=mimic3; file=NOTEEVENTS.csv; lines=54-54; fields=10 of 11; "
                                         "missing=TEXT")
    assert details["invalid_utf8"].endswith("; replaced_bytes=2")
    assert details["binary_text"].endswith("lines=57-57; control_chars=4")
    assert details["blank_text"].endswith("lines=55-56; chars=5")


def test_no_note_text_outside_the_sealed_area_or_in_logs(nights):
    assert nights["leaked_after_failure"] == []
    assert [str(p) for p, text in texts_outside_sealed(nights["home"]) if PHI in text] == []
    assert PHI not in nights["logs"]
    ingest_files = [p for p in nights["night"].part("ingest").rglob("*") if p.is_file()]
    assert ingest_files and all(p.stat().st_mode & 0o077 == 0 for p in ingest_files)


def test_a_wrong_source_is_one_line_before_any_work(spark, tmp_path):
    """Preflight reads the file's header before the stage starts: one ConfigError line (exit 2 on the CLI),
    and the night writes nothing."""
    from notenlp.config import ConfigError, Settings
    from notenlp.stages.night import Night
    from notenlp.stages.table import run_stage

    csv = night_csv(tmp_path / "NOTEEVENTS.csv")
    night = Night(Settings(home=tmp_path / "home"), RUN_DATE)
    with pytest.raises(ConfigError) as refused:
        run_stage("ingest", night, {"source": "mimic4", "input": str(csv)}, spark)
    assert str(refused.value) == (
        f"input {csv} does not match --source mimic4: it looks like MIMIC-III "
        "NOTEEVENTS (--source mimic3); MIMIC-IV-Note needs a header line note_id,subject_id,hadm_id,note_type,"
        "note_seq,charttime,storetime,text")
    assert not (night.meta_dir / "stage_ingest.json").exists()
    assert not night.settings.warehouse.exists()
