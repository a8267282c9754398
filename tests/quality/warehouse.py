"""A small DuckDB warehouse with several nights of NOTE_NLP and notenlp tables, one of them drifted."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

DDL = """
create table concept (concept_id integer, concept_name varchar, domain_id varchar, vocabulary_id varchar,
    concept_class_id varchar, standard_concept varchar, concept_code varchar, valid_start_date date,
    valid_end_date date, invalid_reason varchar);
create table note_nlp (note_nlp_id bigint, note_id bigint, section_concept_id integer, snippet varchar,
    "offset" varchar, lexical_variant varchar, note_nlp_concept_id integer, note_nlp_source_concept_id integer,
    nlp_system varchar, nlp_date date, nlp_datetime timestamp, term_exists varchar, term_temporal varchar,
    term_modifiers varchar);
create table note_nlp_relation (note_nlp_relation_id bigint, note_id bigint, note_nlp_id_1 bigint,
    note_nlp_id_2 bigint, relationship_id varchar, score double, nlp_system varchar, nlp_date date,
    nlp_datetime timestamp);
create table notenlp_quarantine (run_date date, stage varchar, record_key varchar, reason varchar, detail varchar);
create table notenlp_run_log (run_date date, stage varchar, started_at timestamp, finished_at timestamp,
    rows_in bigint, rows_out bigint, rows_quarantined bigint, nlp_system varchar);
create table notenlp_phi_summary (run_date date, phi_type varchar, n bigint);
"""

CONCEPTS = [
    (77670, "Chest pain", "Condition", "SNOMED", "Clinical Finding", "S", "29857009"),
    (1112807, "aspirin", "Drug", "RxNorm", "Ingredient", "S", "1191"),
    (317009, "Asthma", "Condition", "SNOMED", "Clinical Finding", "S", "195967001"),
    (45572083, "Chest pain, unspecified", "Condition", "ICD10CM", "5-char billing code", None, "R07.9"),
    (4254663, "Lung function test", "Measurement", "SNOMED", "Procedure", "S", "23426006"),
]
CYCLE = [77670, 1112807, 317009, 45572083, 0, 4254663, 77670, 1112807]
LABELS = ["PROBLEM", "DRUG", "PROBLEM", "PROBLEM", "TEST", "TEST", "PROBLEM", "DRUG"]
STAGES = ["ingest", "deidentify", "annotate", "normalize", "validate", "load"]
FIRST_NIGHT = date(2024, 3, 1)
NIGHTS = 8  # 2024-03-01 .. 2024-03-08; the last one is drifted
DRIFTED = FIRST_NIGHT + timedelta(days=NIGHTS - 1)
STEADY = DRIFTED - timedelta(days=1)
SYSTEM = "notenlp 0.1.0 (test)"


def _modifiers(negated: bool, historical: bool, family: bool, label: str) -> str:
    flags = f"negated={str(negated).lower()};possible=false;hypothetical=false;conditional=false;" \
            f"historical={str(historical).lower()}"
    return f"{flags};subject={'family' if family else 'patient'};section=hpi;label={label}"


NOTE_NLP_COLUMNS = ["note_nlp_id", "note_id", "section_concept_id", "snippet", "offset", "lexical_variant",
                    "note_nlp_concept_id", "note_nlp_source_concept_id", "nlp_system", "nlp_date", "nlp_datetime",
                    "term_exists", "term_temporal", "term_modifiers"]


def build_warehouse(path: Path) -> Path:
    import duckdb
    import pandas as pd

    con = duckdb.connect(str(path))
    con.execute(DDL)
    con.executemany("insert into concept values (?, ?, ?, ?, ?, ?, ?, date '1970-01-01', date '2099-12-31', null)",
                    CONCEPTS)
    note_id = 0
    for night in range(NIGHTS):
        run_date = FIRST_NIGHT + timedelta(days=night)
        drifted = run_date == DRIFTED
        notes = 20 + (0, 2, 1, 3, 1, 2, 0, 1)[night]
        rows = []
        for _ in range(notes):
            note_id += 1
            per_note = 15 if drifted else 4 + note_id % 3
            for k in range(per_note):
                concept = CYCLE[(k + note_id) % len(CYCLE)]
                label = LABELS[(k + note_id) % len(LABELS)]
                negated, historical, family = k % 4 == 1, k % 5 == 2, k % 9 == 3
                rows.append((note_id * 100 + k, note_id, 0, f"snippet {k}", str(k * 10), f"term {k}", concept,
                             0, SYSTEM, run_date, datetime.combine(run_date, datetime.min.time()),
                             "N" if negated or family else "Y", "past" if historical else "present",
                             _modifiers(negated, historical, family, label)))
        night_rows = pd.DataFrame(rows, columns=NOTE_NLP_COLUMNS)  # noqa: F841 (read by DuckDB by name)
        con.execute("insert into note_nlp select * from night_rows")
        start = datetime.combine(run_date, datetime.min.time()) + timedelta(hours=1)
        for i, stage in enumerate(STAGES):
            seconds = 10 + 3 * i + night % 3
            quarantined = 1 if stage == "validate" else 0
            con.execute("insert into notenlp_run_log values (?, ?, ?, ?, ?, ?, ?, ?)",
                        [run_date, stage, start, start + timedelta(seconds=seconds), notes + quarantined, notes,
                         quarantined, SYSTEM])
            start += timedelta(seconds=seconds)
        phi = {"NAME": 3 * notes + night % 2, "DATE": 5 * notes, "ID": notes - night % 3, "PHONE": 2}
        con.executemany("insert into notenlp_phi_summary values (?, ?, ?)",
                        [(run_date, t, n) for t, n in phi.items()])
        con.execute("insert into notenlp_quarantine values (?, 'validate', ?, ?, 'suite=note_nlp')",
                    [run_date, f"{note_id}:99", "concept_unknown_or_nonstandard;offset_out_of_range"])
    con.close()
    return path
