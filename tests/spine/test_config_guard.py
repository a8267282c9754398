"""Configuration mistakes are one line on stderr, exit 2 and change nothing; one night at a time per home.

Each case runs ``notenlp`` in-process (``cli.main``) and stops before Spark starts; the run lock is held by a
second, real process.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import pytest

from notenlp.cli import main

CSV_HEADER = "ROW_ID,SUBJECT_ID,HADM_ID,CHARTDATE,CHARTTIME,STORETIME,CATEGORY,DESCRIPTION,CGID,ISERROR,TEXT\n"


@pytest.fixture
def notes_csv(tmp_path) -> Path:
    path = tmp_path / "NOTEEVENTS.csv"
    path.write_text(CSV_HEADER + '1,10,100,2101-01-01,,,Nursing,Report,,,"Denies chest pain."\n', encoding="utf-8")
    return path


def _fail(capsys, argv: list[str]) -> str:
    """Run notenlp; it must exit 2 with exactly one line on stderr, which is returned."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.endswith("\n") and err.count("\n") == 1, err
    return err.rstrip("\n")


def test_missing_input_is_one_line_and_writes_nothing(tmp_path, capsys):
    home = tmp_path / "home"
    err = _fail(capsys, ["nightly", "--home", str(home), "--input", str(tmp_path / "nope.csv")])
    assert err == f"notenlp: input {tmp_path / 'nope.csv'} does not exist"
    assert not home.exists()
    err = _fail(capsys, ["run", "ingest", "--home", str(home), "--input", str(tmp_path / "nope.csv")])
    assert err == f"notenlp: input {tmp_path / 'nope.csv'} does not exist"
    assert not home.exists()


def test_verbose_shows_the_trace_then_the_same_line(tmp_path, capsys):
    assert main(["-v", "nightly", "--home", str(tmp_path / "home"), "--input", str(tmp_path / "nope.csv")]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "ConfigError" in err
    assert err.rstrip("\n").splitlines()[-1] == f"notenlp: input {tmp_path / 'nope.csv'} does not exist"


def test_failed_stage_is_one_line_and_verbose_adds_frames_without_messages(tmp_path, capsys):
    home = str(tmp_path / "home")
    line = "notenlp run load 2026-12-01: stage load failed: RuntimeError"
    assert main(["run", "load", "--home", home, "--run-date", "2026-12-01"]) == 1  # nothing ingested
    assert capsys.readouterr().err == line + "\n"
    assert main(["-v", "run", "load", "--home", home, "--run-date", "2026-12-01"]) == 1
    err = capsys.readouterr().err.rstrip("\n").splitlines()
    assert err[-1] == line
    trace = err[err.index("Traceback of the stage failure (frames only; messages left out, they may quote note "
                          "text):"):-1]
    assert any("stages/night.py" in frame for frame in trace) and trace[-1] == "builtins.RuntimeError"
    # Frames show source code; the message itself (rendered with the night's values) is left out.
    assert not any("no nlp_system recorded for run_date=2026-12-01" in frame for frame in trace)


def test_home_that_cannot_be_created(tmp_path, capsys, notes_csv):
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    home = tmp_path / "a-file" / "home"
    err = _fail(capsys, ["nightly", "--home", str(home), "--input", str(notes_csv)])
    assert err == f"notenlp: home {home} cannot be created: {tmp_path / 'a-file'} is a file, not a folder"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_home_without_write_permission(tmp_path, capsys, notes_csv):
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o500)
    try:
        err = _fail(capsys, ["nightly", "--home", str(home), "--input", str(notes_csv)])
    finally:
        home.chmod(0o700)
    assert err.startswith(f"notenlp: home {home} is not writable (Permission denied")
    assert list(home.iterdir()) == []


def test_omop_reader_on_a_csv_names_the_real_cause(tmp_path, capsys, notes_csv):
    home = tmp_path / "home"
    err = _fail(capsys, ["nightly", "--home", str(home), "--source", "omop", "--input", str(notes_csv)])
    assert err == (f"notenlp: --source omop reads an OMOP NOTE table in Parquet, but {notes_csv} is a CSV file: "
                   "pass --source mimic3 or mimic4 for MIMIC CSV, jsonl for JSONL, or export the table to Parquet")
    assert "Denies" not in err and not home.exists()


def test_omop_parquet_without_the_note_columns(tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from notenlp.preflight import check_input

    folder = tmp_path / "note"
    folder.mkdir()
    pq.write_table(pa.table({"note_id": [1], "text": ["Denies chest pain."]}), folder / "part-0.parquet")
    (folder / "_SUCCESS").write_text("", encoding="utf-8")
    err = _fail(capsys, ["run", "ingest", "--home", str(tmp_path / "home"), "--source", "omop", "--input",
                         str(folder)])
    assert err == (f"notenlp: --source omop needs the OMOP NOTE columns note_id, person_id, note_date, note_text, "
                   f"but {folder / 'part-0.parquet'} lacks person_id, note_date, note_text")
    pq.write_table(pa.table({"NOTE_ID": [1], "person_id": [2], "note_date": ["2101-01-01"], "note_text": ["x"]}),
                   folder / "part-0.parquet")
    check_input("omop", str(folder))  # Spark resolves column names case-insensitively


# ------------------------------------------------------------------------------------------------ run lock
HOLDER = textwrap.dedent("""
    import os, sys
    from datetime import date
    from notenlp.config import Settings
    from notenlp.runlock import night_lock
    with night_lock(Settings(home=sys.argv[1]), date(2026, 12, 1), "annotate"):
        print("held", flush=True)
        if sys.argv[2] == "die":
            os._exit(0)  # killed mid-night: the lock file keeps naming it
        sys.stdin.read()  # until the test closes stdin
""")


def _hold(home: Path, how: str = "hold") -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(home), how], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_second_night_on_a_home_is_refused_with_the_running_night(tmp_path, capsys, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.delenv("NOTENLP_WAREHOUSE", raising=False)
    holder = _hold(home)
    try:
        before = sorted(p.relative_to(home) for p in home.rglob("*"))
        err = _fail(capsys, ["run", "deidentify", "--home", str(home), "--run-date", "2026-12-02"])
        lock = (home / ".notenlp-night.lock").resolve()
        assert err.startswith(f"notenlp: {home.resolve()} is in use by night 2026-12-01 (stage annotate, pid "
                              f"{holder.pid} on {socket.gethostname()}, started ")
        assert err.endswith(f"; wait for it to finish or stop that process (lock file {lock})")
        assert sorted(p.relative_to(home) for p in home.rglob("*")) == before  # no staging written

        # Another home sharing the warehouse file is refused on the warehouse's lock.
        other = tmp_path / "other"
        monkeypatch.setenv("NOTENLP_WAREHOUSE", str(home / "warehouse" / "notenlp.duckdb"))
        err = _fail(capsys, ["run", "load", "--home", str(other), "--run-date", "2026-12-02"])
        assert err.startswith(f"notenlp: {(home / 'warehouse').resolve()} is in use by night 2026-12-01 (stage "
                              f"annotate, pid {holder.pid} ")
        assert not (other / "staging").exists()
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert (home / ".notenlp-night.lock").read_text(encoding="utf-8") == ""  # released cleanly


def test_stale_lock_of_a_dead_night_is_taken_over_with_a_warning(tmp_path, caplog):
    from notenlp.config import Settings
    from notenlp.runlock import night_lock

    home = tmp_path / "home"
    dead = _hold(home, "die")
    dead.wait(timeout=30)
    lock = home / ".notenlp-night.lock"
    assert json.loads(lock.read_text(encoding="utf-8"))["pid"] == dead.pid
    with caplog.at_level("WARNING", logger="notenlp.runlock"):
        with night_lock(Settings(home=home), date(2026, 12, 2), "ingest"):
            mine = json.loads(lock.read_text(encoding="utf-8"))
            assert (mine["pid"], mine["run_date"], mine["stage"]) == (os.getpid(), "2026-12-02", "ingest")
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(w.startswith(f"taking over the stale lock {lock.resolve()} of night 2026-12-01 (stage annotate, "
                            f"pid {dead.pid} ") and w.endswith("that process is gone") for w in warnings), warnings
    assert lock.read_text(encoding="utf-8") == ""


def test_run_night_holds_the_lock_across_its_stages(tmp_path):
    """Re-entrant in one process: run_stage inside run_night names its stage in the lock instead of refusing."""
    from notenlp.config import Settings
    from notenlp.runlock import night_lock

    settings = Settings(home=tmp_path / "home")
    lock = settings.home / ".notenlp-night.lock"
    with night_lock(settings, date(2026, 12, 1)):
        with night_lock(settings, date(2026, 12, 1), "validate"):
            assert json.loads(lock.read_text(encoding="utf-8"))["stage"] == "validate"
        assert json.loads(lock.read_text(encoding="utf-8"))["stage"] is None


# ----------------------------------------------------------------------------------------------- MLflow
def _warehouse_with_night(settings, nlp_system: str) -> None:
    from notenlp.warehouse import connect, ensure_schema

    with connect(settings.warehouse) as con:
        ensure_schema(con)
        con.execute("insert into notenlp_note_state values (1, 'h', ?, date '2026-11-30')", [nlp_system])


def test_unreachable_tracking_server_is_refused_within_seconds(tmp_path, monkeypatch):
    """A closed port, then a server that accepts the connection and never answers (MLflow's defaults wait
    120 s per try, 7 retries): both refused, the silent one after the probe's timeout."""
    from notenlp.config import ConfigError, Settings
    from notenlp.preflight import PROBE_TIMEOUT_S, check_models

    for key in ("MLFLOW_HTTP_REQUEST_TIMEOUT", "MLFLOW_HTTP_REQUEST_MAX_RETRIES"):
        monkeypatch.delenv(key, raising=False)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    uri = f"http://127.0.0.1:{closed.getsockname()[1]}"
    closed.close()
    monkeypatch.setenv("NOTENLP_MLFLOW_TRACKING_URI", uri)
    with pytest.raises(ConfigError, match=f"^MLflow store {uri} did not answer within {PROBE_TIMEOUT_S}s "):
        check_models(Settings.from_env(home=tmp_path / "home"))  # also imports MLflow's client before the clock

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    uri = f"http://127.0.0.1:{silent.getsockname()[1]}"
    monkeypatch.setenv("NOTENLP_MLFLOW_TRACKING_URI", uri)
    started = time.perf_counter()
    try:
        with pytest.raises(ConfigError) as refused:
            check_models(Settings.from_env(home=tmp_path / "home"))
    finally:
        silent.close()
    assert time.perf_counter() - started < 6 * PROBE_TIMEOUT_S
    assert str(refused.value).startswith(f"MLflow store {uri} did not answer within {PROBE_TIMEOUT_S}s (")
    assert os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "30"  # the night's own calls are bounded too
    assert not (tmp_path / "home").exists()


def test_store_without_the_champions_earlier_nights_used(tmp_path, monkeypatch, capsys, notes_csv, caplog):
    """An empty store would run the shipped models and reprocess every note: refused unless allowed, and
    passes once the store holds the champion."""
    from mlflow import MlflowClient

    from notenlp.config import Settings
    from notenlp.preflight import check_models
    from notenlp.tracking import configure_mlflow

    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps({"models": [{"name": "notenlp-toy", "owns": ["context"]}]}), encoding="utf-8")
    monkeypatch.setenv("NOTENLP_MODEL_CATALOG", str(catalog))
    for key in ("MLFLOW_TRACKING_URI", "NOTENLP_MLFLOW_TRACKING_URI", "NOTENLP_ALLOW_SHIPPED_MODELS"):
        monkeypatch.delenv(key, raising=False)
    home = tmp_path / "home"
    settings = Settings(home=home)
    _warehouse_with_night(settings, "notenlp 0.1.0; pipeline abc; deid def surrogate dates shift; notenlp-toy v3")
    store = settings.mlflow_tracking_uri

    err = _fail(capsys, ["run", "ingest", "--home", str(home), "--input", str(notes_csv), "--run-date", "2026-12-01"])
    assert err == (f"notenlp: MLflow store {store} lacks the champion of notenlp-toy (the night of 2026-11-30 in "
                   "this warehouse used it): the night would run the shipped model files and reprocess every note; "
                   "point NOTENLP_MLFLOW_TRACKING_URI at the registry that holds the champions, or pass "
                   "--allow-shipped-models")
    assert not (home / "staging").exists() and not (home / "mlruns").exists()  # the store was not even created

    with caplog.at_level("WARNING", logger="notenlp.preflight"):
        assert check_models(Settings(home=home, allow_shipped_models=True)) == {}
    assert any("running the shipped model files (--allow-shipped-models)" in r.getMessage() for r in caplog.records)

    configure_mlflow(settings)
    client = MlflowClient()
    client.create_registered_model("notenlp-toy")
    version = client.create_model_version("notenlp-toy", source=(tmp_path / "model").as_uri())
    client.set_registered_model_alias("notenlp-toy", "champion", version.version)
    assert check_models(settings) == {"notenlp-toy": "1"}


def test_store_named_on_purpose_must_hold_a_champion(tmp_path, monkeypatch, capsys, notes_csv):
    store = f"sqlite:///{tmp_path / 'elsewhere' / 'mlflow.db'}"
    monkeypatch.setenv("NOTENLP_MLFLOW_TRACKING_URI", store)
    monkeypatch.delenv("NOTENLP_ALLOW_SHIPPED_MODELS", raising=False)
    home = tmp_path / "home"
    err = _fail(capsys, ["nightly", "--home", str(home), "--input", str(notes_csv)])
    assert err.startswith(f"notenlp: MLflow store {store} holds no champion model (NOTENLP_MLFLOW_TRACKING_URI "
                          "names it on purpose): the night would run the shipped model files")
    assert not (home / "staging").exists() and not (tmp_path / "elsewhere").exists()
    # Naming the home's own store is the default, not a choice: a fresh home runs the shipped files.
    from notenlp.config import Settings
    from notenlp.preflight import check_models

    monkeypatch.setenv("NOTENLP_MLFLOW_TRACKING_URI", Settings.home_tracking_uri(home))
    assert check_models(Settings.from_env(home=home)) == {}
    assert not (home / "mlruns").exists()
