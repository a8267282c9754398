"""The nightly DAG, really run: Airflow dag.test() on a SQLite Airflow DB, real Spark, real DuckDB.

Checks the NOTE_NLP rows against the demo gold, that PHI never reaches the warehouse, staging,
logs or MLflow, that re-running a night adds no rows, and that the next night skips unchanged notes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

pytestmark = pytest.mark.slow
RUNNER = Path(__file__).with_name("dag_runner.py")
N_NOTES = 120


def run_dag(home: Path, run_date: str, csv: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "NOTENLP_HOME": str(home),
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow' / 'airflow.db'}",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(RUNNER.parents[2] / "dags"),
        "NOTENLP_SPARK_MASTER": "local[2]",
    }
    (home / "airflow").mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([sys.executable, str(RUNNER), run_date, "mimic3", str(csv)], env=env,
                          capture_output=True, text=True, timeout=1500)
    (home / f"dag-{run_date}.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return proc


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    from notenlp.demo.generator import write_demo

    home = tmp_path_factory.mktemp("nightly")
    paths = write_demo(home / "demo", N_NOTES, 11)
    csv = Path(paths["noteevents"])
    gold = [json.loads(line) for line in (home / "demo" / "gold.jsonl").read_text(encoding="utf-8").splitlines()]
    first = run_dag(home, "2026-11-01", csv)
    con = duckdb.connect(str(home / "warehouse" / "notenlp.duckdb"), read_only=True)
    snapshot = con.execute("select note_nlp_id, note_id, lexical_variant from note_nlp order by 1").fetchall()
    con.close()
    return {"home": home, "csv": csv, "gold": gold, "log": first.stdout + first.stderr, "snapshot": snapshot}


def _warehouse(home: Path):
    return duckdb.connect(str(home / "warehouse" / "notenlp.duckdb"), read_only=True)


def test_notes_and_note_nlp_rows_match_the_demo_gold(night):
    gold = {g["note_id"]: g for g in night["gold"]}
    with _warehouse(night["home"]) as con:
        notes = dict(con.execute("select note_id, note_text from note").fetchall())
        rows = con.execute(
            'select note_id, "offset", lexical_variant, note_nlp_concept_id, term_exists, term_temporal, '
            "term_modifiers, nlp_system, nlp_date from note_nlp").fetchall()
        quarantined = con.execute("select count(*) from notenlp_quarantine where stage <> 'ingest'").fetchone()[0]
    assert len(notes) + quarantined >= len(gold) * 0.95 and set(notes) <= set(gold)
    assert len(rows) > 5 * len(notes)
    for note_id, offset, lexical, _, exists, temporal, modifiers, system, _ in rows:
        start = int(offset)
        assert notes[note_id][start:start + len(lexical)] == lexical
        assert exists in ("Y", "N") and temporal in ("present", "past")
        assert modifiers.startswith("negated=") and system.startswith("notenlp ")
    predicted = {(r[0], r[3]) for r in rows if r[3]}
    expected = {(g["note_id"], e["concept_id"]) for g in night["gold"] if g["note_id"] in notes
                for e in g["entities"] if e["concept_id"] and e["label"] in ("PROBLEM", "DRUG")}
    recall = len(expected & predicted) / len(expected)
    assert recall >= 0.8, f"gold condition/drug concept recall per note {recall:.3f}"
    exists_by_concept = {(r[0], r[3]): r[4] for r in rows if r[3]}
    agree = [exists_by_concept[(g["note_id"], e["concept_id"])] == ("N" if any(
        e[k] for k in ("negated", "possible", "hypothetical", "conditional", "family")) else "Y")
        for g in night["gold"] if g["note_id"] in notes for e in g["entities"]
        if (g["note_id"], e["concept_id"]) in exists_by_concept and e["label"] == "PROBLEM"]
    assert sum(agree) / len(agree) >= 0.85, f"term_exists agreement {sum(agree) / len(agree):.3f}"


def test_note_dates_move_with_one_offset_per_person(night):
    """The default date mode is a de-identified warehouse: no note_date is the source's CHARTDATE."""
    from datetime import date

    gold = {g["note_id"]: g for g in night["gold"]}
    with _warehouse(night["home"]) as con:
        rows = con.execute("select note_id, person_id, note_date from note").fetchall()
    offsets: dict[int, set[int]] = {}
    for note_id, person_id, note_date in rows:
        offsets.setdefault(person_id, set()).add((note_date - date.fromisoformat(gold[note_id]["note_date"])).days)
    assert rows and all(len(days) == 1 and 0 not in days for days in offsets.values())


# Surrogate names and places are drawn from lexicons and may coincide with another patient's
# planted value, so those are checked note by note; identifiers are checked everywhere.
_GLOBAL_TYPES = ("PHONE", "EMAIL", "ID", "URL", "IP")


def _phi_values(gold: list[dict], types: tuple[str, ...]) -> set[str]:
    return {p["text"] for g in gold for p in g["phi"]
            if p["type"] in types and len(p["text"]) >= 6 and not p["text"].startswith("[**")}


def test_phi_never_reaches_warehouse_staging_logs_or_mlflow(night):
    phi = _phi_values(night["gold"], _GLOBAL_TYPES)
    assert len(phi) > 50
    home = night["home"]
    texts = [night["log"]]
    with _warehouse(home) as con:
        for (table,) in con.execute("select table_name from information_schema.tables").fetchall():
            frame = con.execute(f'select * from "{table}"').df()
            texts += [" ".join(frame[c].astype(str)) for c in frame.columns if frame[c].dtype == object]
    for parquet in (home / "staging").rglob("*.parquet"):
        frame = pd.read_parquet(parquet)
        texts += [" ".join(frame[c].astype(str)) for c in frame.columns if frame[c].dtype == object]
    for folder in ("airflow", "mlruns", "reports", "staging"):
        for path in (home / folder).rglob("*"):
            if path.is_file() and path.suffix in {".log", ".json", ".txt", ".html", ".yaml", ".md"}:
                texts.append(path.read_text(encoding="utf-8", errors="replace"))
    haystack = "\n".join(texts)
    sealed = home / "sealed" / "phi_audit.duckdb"
    assert sealed.exists() and (sealed.stat().st_mode & 0o777) == 0o600
    assert (home / "sealed").stat().st_mode & 0o777 == 0o700
    with duckdb.connect(str(sealed), read_only=True) as con:
        assert con.execute("select count(*) from phi_audit").fetchone()[0] > 0
        # Surrogates come from the same fictional ranges as the demo's planted values (555-01xx phones, ...),
        # so a value that the audit shows was written as a replacement is a surrogate, not a leak.
        surrogates = {r[0] for r in con.execute("select replacement from phi_audit").fetchall()}
    leaked = sorted(value for value in phi if value in haystack and value not in surrogates)
    assert not leaked, f"{len(leaked)} planted identifiers leaked"


def test_names_and_places_of_a_note_do_not_survive_in_it(night):
    with _warehouse(night["home"]) as con:
        texts = dict(con.execute("select note_id, note_text from note").fetchall())
        snippets = dict(con.execute("select note_id, string_agg(snippet, ' ') from note_nlp group by 1").fetchall())
    planted = leaked = 0
    for g in night["gold"]:
        if g["note_id"] not in texts:
            continue
        own = texts[g["note_id"]] + " " + (snippets.get(g["note_id"]) or "")
        values = _phi_values([g], ("NAME", "LOCATION"))
        planted += len(values)
        leaked += sum(1 for value in values if value in own)
    assert planted > 50
    # De-identification recall is measured by `notenlp evaluate deid`; here a leak rate above 2% fails.
    assert leaked / planted <= 0.02, f"{leaked} of {planted} planted names/places survived in their own note"


def test_the_night_refreshes_facts_summaries_and_cohorts(night):
    """refresh_cohorts ran after load: note_fact holds every fact row, patient_summary and every cohort
    definition are there, and NOTE_NLP ids fit the official integer column."""
    from notenlp.cohorts import load_definitions

    with _warehouse(night["home"]) as con:
        facts = con.execute("select count(*) from note_fact").fetchone()[0]
        fact_rows = con.execute("select count(*) from note_nlp where regexp_matches(term_modifiers, "
                                "'label=(PROBLEM|DRUG|TEST|PROCEDURE)($|[^A-Z])')").fetchone()[0]
        summary = con.execute("select count(distinct person_id) from patient_summary").fetchone()[0]
        names = {r[0] for r in con.execute("select cohort_definition_name from cohort_definition").fetchall()}
        biggest = con.execute("select max(note_nlp_id) from note_nlp").fetchone()[0]
    assert facts == fact_rows > 0 and summary > 0
    assert names == {d.name for d in load_definitions()}
    assert biggest < 2**31


def test_rerunning_the_same_night_adds_no_rows(night):
    run_dag(night["home"], "2026-11-01", night["csv"])
    with _warehouse(night["home"]) as con:
        again = con.execute("select note_nlp_id, note_id, lexical_variant from note_nlp order by 1").fetchall()
    assert again == night["snapshot"]


def test_next_night_processes_only_new_or_changed_notes(night):
    run_dag(night["home"], "2026-11-02", night["csv"])
    with _warehouse(night["home"]) as con:
        ingest = con.execute("select rows_in, rows_out, rows_skipped from notenlp_run_log "
                             "where run_date = '2026-11-02' and stage = 'ingest'").fetchone()
        total = con.execute("select count(*) from note_nlp").fetchone()[0]
    assert ingest[1] == 0 and ingest[2] > 0
    assert total == len(night["snapshot"])
