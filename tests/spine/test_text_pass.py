"""The fused text pass's worker function, without Spark: each note's rows, and where a failure lands.

The annotate pipeline and the normalizer are stand-ins (unit test of our own wiring); de-identification
is the real one.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from notenlp.doc import Entity, Relation

SECRET = "ab" * 32


def _notes() -> pd.DataFrame:
    from notenlp.stages import deidentify as deid

    rows = [
        {"note_id": i, "source_note_id": str(i), "person_id": 7, "visit_occurrence_id": None,
         "note_date": date(2026, 3, i), "note_datetime": None, "note_type": "Nursing", "note_title": None,
         "note_source": "mimic3", "note_text": text, deid._SITE_SHIFT: None}
        for i, text in ((1, "Pt denies chest pain. Started aspirin."), (2, "BOOM note"), (3, "Nothing found."))
    ]
    return pd.DataFrame(rows, columns=[*deid.NOTE_COLUMNS, deid._SITE_SHIFT])


class _Pipeline:
    """Two entities and a relation per note mentioning 'pain'; raises on a note saying BOOM."""

    def __call__(self, doc):
        if "BOOM" in doc.text:
            raise RuntimeError("stand-in failure")
        for word, label in (("pain", "PROBLEM"), ("aspirin", "DRUG")):
            start = doc.text.find(word)
            if start >= 0:
                doc.entities.append(Entity(start=start, end=start + len(word), text=word, label=label,
                                           id=len(doc.entities)))
        if len(doc.entities) == 2:
            doc.relations.append(Relation(head=1, tail=0, type="TREATS", score=0.5))
        return doc


def _normalizer(doc):
    for entity in doc.entities:
        entity.concept_id = 100 + entity.id
    return doc


def test_each_note_carries_its_stage_rows_and_failures_stay_with_their_stage(monkeypatch):
    from notenlp.stages import components, normalize, text

    monkeypatch.setattr(components, "pipeline", lambda config: _Pipeline())
    monkeypatch.setattr(normalize, "_normalizer", lambda entry_json: _normalizer)
    batches = list(text._text_batches(iter([_notes()]), {"mode": "surrogate", "secret_hex": SECRET}, {}, {},
                                      "shift", False))
    out = pd.concat(batches)
    assert list(out.columns) == text.OUTPUT_COLUMNS
    by_note = {int(r["note_id"]): r for r in out.to_dict("records")}
    assert all(r["error"] is None for r in by_note.values())  # de-identification passed every note

    first = by_note[1]
    kinds = [a["record_type"] for a in first["annotations"]]
    assert kinds == ["entity", "entity", "relation", "note"]
    assert [(n["entity_id"], n["concept_id"], n["error"]) for n in first["normalized"]] == [(0, 100, None), (1, 101, None)]
    # Only what the normalizer sets travels: text.normalized() takes the other columns from the entity row.
    assert set(first["normalized"][0]) == {"entity_id", *normalize.CONCEPT_FIELDS, "error"}
    assert first["annotations"][0]["lexical_variant"] == "pain"

    failed = by_note[2]  # annotation failed: one error row (annotate's quarantine), nothing to normalize
    assert failed["annotations"] == [{"record_type": "error", "note_id": 2, "error": "RuntimeError"}]
    assert failed["normalized"] == []

    empty = by_note[3]  # annotated, no entities: a note row only
    assert [a["record_type"] for a in empty["annotations"]] == ["note"] and empty["normalized"] == []


def test_a_failed_normalization_quarantines_that_notes_entities_only(monkeypatch):
    from notenlp.stages import components, normalize, text

    def failing(doc):
        if doc.note_id == 1:
            raise ValueError("stand-in failure")
        return _normalizer(doc)

    monkeypatch.setattr(components, "pipeline", lambda config: _Pipeline())
    monkeypatch.setattr(normalize, "_normalizer", lambda entry_json: failing)
    out = pd.concat(text._text_batches(iter([_notes()]), {"mode": "surrogate", "secret_hex": SECRET}, {}, {},
                                       "shift", False))
    normalized = {int(r["note_id"]): r["normalized"] for r in out.to_dict("records")}
    assert [n["error"] for n in normalized[1]] == ["ValueError", "ValueError"]
