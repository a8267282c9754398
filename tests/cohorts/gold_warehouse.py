"""A DuckDB warehouse holding the demo generator's gold as if the pipeline had found it exactly.

NOTE from the gold notes, NOTE_NLP from the gold entities (assertion columns by the OMOP rules of
``notenlp.omop``; medication attributes, as the load writes them, in their drug row's ``term_modifiers``
and not as rows), ``note_nlp_relation`` from the gold relations between two NOTE_NLP rows, and the
shipped demo vocabulary: the
SQL under test then sees what a perfect night would load, and expected answers come from the gold in
Python, not from the SQL's own output.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd

from notenlp.attributes import MEDICATION_ATTRIBUTES
from notenlp.demo.generator import write_demo
from notenlp.nightly import DEMO_NOTES, DEMO_SEED
from notenlp.omop import attribute_pairs
from notenlp.vocab.loader import load_demo
from notenlp.warehouse import ensure_schema



def entity_id(note_id: int, entity: int) -> int:
    return note_id * 100_000 + entity


def exists(entity: dict) -> str:
    return "N" if any(entity[k] for k in ("negated", "possible", "hypothetical", "conditional", "family")) else "Y"


def read_gold(folder: Path) -> list[dict]:
    paths = write_demo(folder, DEMO_NOTES, DEMO_SEED)
    return [json.loads(line) for line in Path(paths["gold"]).read_text(encoding="utf-8").splitlines()]


def build(path: Path, gold: list[dict]) -> None:
    con = duckdb.connect(str(path))
    ensure_schema(con)
    load_demo(con, icd10cm=False)
    notes, entities, relations = [], [], []
    for g in gold:
        notes.append((g["note_id"], g["person_id"], g["note_date"], g["text"]))
        by_id = {e["id"]: e for e in g["entities"]}
        labels = {e["id"]: e["label"] for e in g["entities"]}
        attributes: dict[int, dict[str, str]] = {}  # drug -> label -> the first such attribute's words
        for r in sorted(g["relations"], key=lambda r: by_id[r["tail"]]["start"]):
            tail = by_id[r["tail"]]
            if tail["label"] in MEDICATION_ATTRIBUTES:
                attributes.setdefault(r["head"], {}).setdefault(tail["label"], tail["text"])
        for e in g["entities"]:
            if e["label"] in MEDICATION_ATTRIBUTES:
                continue
            flags = ";".join(f"{k}={str(e[k]).lower()}" for k in ("negated", "possible", "hypothetical",
                                                                    "conditional", "historical"))
            modifiers = f"{flags};subject={'family' if e['family'] else 'patient'};section={e['section']};" \
                        f"label={e['label']}"
            if e["id"] in attributes:
                modifiers += ";" + attribute_pairs(attributes[e["id"]])
            entities.append((entity_id(g["note_id"], e["id"]), g["note_id"], str(e["start"]), e["text"],
                             e["concept_id"], e["source_concept_id"], exists(e),
                             "past" if e["historical"] else "present", modifiers))
        for k, r in enumerate(g["relations"]):
            if labels[r["tail"]] in MEDICATION_ATTRIBUTES:
                continue
            relations.append((entity_id(g["note_id"], 90_000 + k), g["note_id"], entity_id(g["note_id"], r["head"]),
                              entity_id(g["note_id"], r["tail"]), r["type"]))
    # DataFrames, read by DuckDB by name: row-by-row executemany takes minutes for the demo's 17k rows.
    note_rows = pd.DataFrame(notes, columns=["note_id", "person_id", "note_date", "note_text"])  # noqa: F841
    entity_rows = pd.DataFrame(entities, columns=[  # noqa: F841
        "note_nlp_id", "note_id", "offset", "lexical_variant", "concept_id", "source_concept_id", "term_exists",
        "term_temporal", "term_modifiers"])
    relation_rows = pd.DataFrame(relations, columns=[  # noqa: F841
        "note_nlp_relation_id", "note_id", "note_nlp_id_1", "note_nlp_id_2", "relationship_id"])
    con.execute("insert into note (note_id, person_id, note_date, note_type_concept_id, note_class_concept_id, "
                "note_text, encoding_concept_id, language_concept_id) select note_id, person_id, note_date::date, "
                "32817, 0, note_text, 32678, 4180186 from note_rows")
    con.execute("insert into note_nlp (note_nlp_id, note_id, section_concept_id, \"offset\", lexical_variant, "
                "note_nlp_concept_id, note_nlp_source_concept_id, nlp_system, nlp_date, term_exists, term_temporal, "
                "term_modifiers) select note_nlp_id, note_id, 0, \"offset\", lexical_variant, concept_id, "
                "source_concept_id, 'gold', date '2026-12-01', term_exists, term_temporal, term_modifiers "
                "from entity_rows")
    con.execute("insert into note_nlp_relation (note_nlp_relation_id, note_id, note_nlp_id_1, note_nlp_id_2, "
                "relationship_id, score, nlp_system, nlp_date) select note_nlp_relation_id, note_id, note_nlp_id_1, "
                "note_nlp_id_2, relationship_id, 1.0, 'gold', date '2026-12-01' from relation_rows")
    con.close()
