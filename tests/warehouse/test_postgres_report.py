"""The data-quality report and ``notenlp vocab info`` / ``compile`` on a PostgreSQL warehouse give what they give on
the DuckDB warehouse holding the same rows. (Real server from conftest; no Spark.)

The report's warehouse is the quality tests' eight nights (the last one drifted), written into DuckDB and then
COPYed into the results and vocabulary schemas; the vocabulary is the bundled demo vocabulary, loaded into both.
"""

from __future__ import annotations

import argparse
import re
from datetime import date

import duckdb
import psycopg
import pytest

from notenlp.config import Settings
from notenlp.quality.report import run as report_cli, write_postgres_report, write_report
from notenlp.warehouse import postgres
from tests.quality.warehouse import DRIFTED, FIRST_NIGHT, STEADY, build_warehouse

RESULT_TABLES = ("note_nlp", "notenlp_run_log", "notenlp_quarantine", "notenlp_phi_summary")
GENERATED = re.compile(r"generated \d{4}-\d\d-\d\d \d\d:\d\d UTC")


def _reset(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("drop schema if exists results cascade; drop schema if exists vocab cascade")


def _copy_into_postgres(settings: Settings, warehouse, tmp_path) -> None:
    """Every row of the DuckDB warehouse's report tables into the results schema, CONCEPT into the vocabulary."""
    with duckdb.connect(str(warehouse), read_only=True) as duck, postgres.connect(settings) as con, \
            con.cursor() as cur:
        for table in (*RESULT_TABLES, "concept"):
            schema = settings.vocabulary_schema if table == "concept" else settings.results_schema
            columns = [r[0] for r in duck.execute(f"describe {table}").fetchall()]
            postgres.copy_in(cur, duck, f'select {", ".join(chr(34) + c + chr(34) for c in columns)} from {table}',
                             f"{schema}.{table}", columns, tmp_path)


@pytest.fixture
def two_warehouses(postgres_url, tmp_path):
    """(DuckDB warehouse, settings of the PostgreSQL warehouse holding the same rows)."""
    _reset(postgres_url)
    warehouse = build_warehouse(tmp_path / "notenlp.duckdb")
    with duckdb.connect(str(warehouse)) as duck:  # the run log's columns of today's warehouses
        duck.execute("alter table notenlp_run_log add column rows_skipped bigint default 0")
        duck.execute("alter table notenlp_run_log add column error varchar")
    settings = Settings(home=tmp_path / "home", warehouse_url=postgres_url)
    postgres.ensure_schema(settings)
    _copy_into_postgres(settings, warehouse, tmp_path)
    return warehouse, settings


def _page(path) -> str:
    return GENERATED.sub("generated (time)", path.read_text(encoding="utf-8"))


def test_the_report_of_a_postgres_warehouse_is_the_duckdb_report(two_warehouses, tmp_path):
    warehouse, settings = two_warehouses
    for night in (FIRST_NIGHT, STEADY, DRIFTED):
        from_duckdb = write_report(warehouse, night, tmp_path / "duckdb")
        from_postgres = write_postgres_report(settings, night, tmp_path / "postgres")
        assert from_postgres.name == from_duckdb.name == f"notenlp-report-{night.isoformat()}.html"
        assert _page(from_postgres) == _page(from_duckdb)
    drifted = _page(from_postgres)
    # what the quality tests check on the DuckDB page holds on this one: the drift is seen, concepts are named
    assert "3 metric(s) drifted" in drifted and "<td>Chest pain</td>" in drifted


def test_notenlp_report_reads_the_postgres_warehouse(two_warehouses, tmp_path, monkeypatch):
    _, settings = two_warehouses
    monkeypatch.setenv("NOTENLP_WAREHOUSE_URL", settings.warehouse_url)
    monkeypatch.setenv("NOTENLP_HOME", str(tmp_path / "home"))
    args = argparse.Namespace(warehouse=None, run_date=None, out=tmp_path / "reports")
    assert report_cli(args) == 0
    assert [p.name for p in (tmp_path / "reports").iterdir()] == [f"notenlp-report-{DRIFTED.isoformat()}.html"]

    _reset(settings.warehouse_url)  # a warehouse with no night: one line, exit status 1
    assert report_cli(argparse.Namespace(warehouse=None, run_date=None, out=tmp_path / "none")) == 1
    assert not (tmp_path / "none").exists()


def _vocab_cli(capsys, *argv: str) -> tuple[int, str]:
    from notenlp.cli import main

    capsys.readouterr()
    code = main(["vocab", *argv])
    return code, capsys.readouterr().out


def _stats(printed: str) -> dict[str, str]:
    return {m[0]: m[1] for m in re.findall(r"^  (\w+)\s+([\d,]+)$", printed, re.M) if m[0] != "bytes"}


@pytest.mark.slow
def test_vocab_info_and_compile_on_postgres_equal_duckdb(postgres_url, tmp_path, monkeypatch, capsys):
    from notenlp.vocab.loader import load_demo

    _reset(postgres_url)
    monkeypatch.delenv("NOTENLP_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("NOTENLP_HOME", str(tmp_path / "home"))
    warehouse = tmp_path / "vocabulary.duckdb"
    load_demo(warehouse)
    code, in_duckdb = _vocab_cli(capsys, "--warehouse", str(warehouse), "info", "--top", "50")
    assert code == 0
    code, compiled_duckdb = _vocab_cli(capsys, "--warehouse", str(warehouse), "compile", "--no-mlflow",
                                       "--out", str(tmp_path / "duckdb.parquet"))
    assert code == 0

    monkeypatch.setenv("NOTENLP_WAREHOUSE_URL", postgres_url)
    code, out = _vocab_cli(capsys, "info")
    assert code == 1 and "no vocabulary in postgresql://postgres@" in out
    assert _vocab_cli(capsys, "load")[0] == 0  # the same bundled demo vocabulary, into the vocab schema
    code, in_postgres = _vocab_cli(capsys, "info", "--top", "50")
    assert code == 0 and in_postgres == in_duckdb
    assert re.search(r"concept\s+[1-9][\d,]*\n", in_postgres)  # counts of a loaded vocabulary, not of nothing
    code, compiled_postgres = _vocab_cli(capsys, "compile", "--no-mlflow", "--out", str(tmp_path / "pg.parquet"))
    assert code == 0
    # the same dictionary statistics (names, keys, rows; not the Parquet's bytes) and the same rows
    assert _stats(compiled_postgres) == _stats(compiled_duckdb)
    with duckdb.connect() as con:
        rows = [con.execute(f"select * from read_parquet('{tmp_path / name}') order by all").fetchall()
                for name in ("duckdb.parquet", "pg.parquet")]
    assert rows[0] == rows[1] and len(rows[0]) > 1000


def test_nights_in_duckdb_copies_only_the_nights_asked(two_warehouses):
    _, settings = two_warehouses
    nights = postgres.night_dates(settings)
    assert nights[0] == FIRST_NIGHT and nights[-1] == DRIFTED and len(nights) == 8
    reads = {"note_nlp": ("note_id", "nlp_date"), "notenlp_run_log": None, "concept": ("concept_id",)}
    with postgres.nights_in_duckdb(settings, reads, [STEADY, DRIFTED]) as con:
        assert con.execute("select distinct nlp_date from note_nlp order by 1").fetchall() == [(STEADY,), (DRIFTED,)]
        assert con.execute("select distinct run_date from notenlp_run_log order by 1").fetchall() == \
            [(STEADY,), (DRIFTED,)]
        assert [r[0] for r in con.execute("describe note_nlp").fetchall()] == ["note_id", "nlp_date"]
        # the concepts those rows name (0, "no concept", is not in CONCEPT)
        assert con.execute("select count(*) from concept").fetchone()[0] == 5
        assert con.execute("select count(*) from notenlp_run_log where run_date = $d",
                           {"d": date(2024, 3, 8)}).fetchone()[0] == 6
