"""Annotate de-identified notes on Spark workers with the composed component pipeline.

The worker emits one flat row per entity, per relation, and one ``note`` row per note
(or an ``error`` row), so a single pass feeds the entity and relation tables and the
stage's reconciliation (notes in = notes annotated + notes quarantined).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from notenlp.omop import term_exists, term_modifiers, term_temporal
from notenlp.schemas import ENTITY, RELATION, column_types, columns

ENTITY_COLUMNS = columns(ENTITY)
RELATION_COLUMNS = columns(RELATION)
_ENTITY_ONLY = ", ".join(f"{name} {kind}" for name, kind in column_types(ENTITY) if name != "note_id")
ANNOTATION_ROW = (
    f"record_type string, note_id bigint, {_ENTITY_ONLY}, head_entity_id int, tail_entity_id int, "
    "relationship string, relation_score double, error string"
)
SNIPPET_CONTEXT = 60


def snippet(text: str, start: int, end: int, width: int = SNIPPET_CONTEXT) -> str:
    """A one-line window of de-identified text around a term, at most 250 characters (NOTE_NLP.snippet)."""
    window = text[max(0, start - width): min(len(text), end + width)]
    # Runs of whitespace become one space, ends stripped. str.split() splits on exactly the characters
    # that \s matches in a str pattern, so this equals re.sub(r"\s+", " ", window).strip(), at about a
    # third of the cost (it runs once per entity).
    return " ".join(window.split())[:250]


def entity_rows(note_id: int, doc) -> list[dict[str, Any]]:
    rows = []
    for e in doc.entities:
        rows.append({
            "record_type": "entity", "note_id": note_id, "entity_id": e.id, "start": e.start, "end": e.end,
            "lexical_variant": doc.text[e.start:e.end], "snippet": snippet(doc.text, e.start, e.end),
            "label": e.label, "source": e.source, "score": float(e.score), "section": e.section,
            "section_concept_id": int(e.section_concept_id or 0), **e.assertion(), "term_exists": term_exists(e), "term_temporal": term_temporal(e),
            "term_modifiers": term_modifiers(e), "concept_id": int(e.concept_id or 0), "source_concept_id": int(e.source_concept_id or 0),
            "vocabulary_id": e.vocabulary_id, "concept_code": e.concept_code,
            "concept_name": e.concept_name, "match_score": float(e.match_score),
        })
    for r in doc.relations:
        rows.append({"record_type": "relation", "note_id": note_id, "head_entity_id": r.head,
                     "tail_entity_id": r.tail, "relationship": r.type, "relation_score": float(r.score)})
    rows.append({"record_type": "note", "note_id": note_id})
    return rows


def _annotate_batches(batches: Iterator[pd.DataFrame], config: dict[str, Any]) -> Iterator[pd.DataFrame]:
    from notenlp.stages.components import pipeline, typed_frame

    nlp = None  # built at the first batch: a night with nothing new never loads the models
    for pdf in batches:
        if nlp is None:
            nlp = pipeline(config)
        rows: list[dict[str, Any]] = []
        given = pdf["targets"] if "targets" in pdf.columns else [None] * len(pdf)
        for note_id, person_id, note_date, text, targets in zip(pdf["note_id"], pdf["person_id"], pdf["note_date"],
                                                                pdf["note_text"], given):
            rows.extend(annotate_note(nlp, note_id, person_id, note_date, text, targets))
        yield typed_frame(rows, ANNOTATION_ROW)


def annotate_note(nlp, note_id, person_id, note_date, text: str, targets=None) -> list[dict[str, Any]]:
    """One de-identified note's annotation rows, or its single ``error`` row. ``targets``: entities found
    upstream (Spark NLP's chunks), to which the pipeline adds no NER of its own."""
    from notenlp.doc import TARGET_LABELS, TARGET_SCORES, Doc, Span

    try:
        doc = Doc(text=text, note_id=int(note_id), person_id=int(person_id), note_date=str(note_date))
        if targets is not None:
            doc.targets = [Span(int(t["start"]), int(t["end"])) for t in targets]
            doc.user_data[TARGET_LABELS] = [t["label"] for t in targets]
            doc.user_data[TARGET_SCORES] = [float(t["score"]) for t in targets]
        doc = nlp(doc)
    except Exception as exc:  # the class name only: messages may quote note text
        return [{"record_type": "error", "note_id": int(note_id), "error": type(exc).__name__}]
    return entity_rows(int(note_id), doc)


def annotate(deid_notes: DataFrame, config: dict[str, Any]) -> DataFrame:
    """DEID_NOTE rows -> flat annotation rows (``record_type`` entity | relation | note | error)."""
    return deid_notes.select("note_id", "person_id", "note_date", "note_text").mapInPandas(
        lambda it: _annotate_batches(it, config), ANNOTATION_ROW
    )


TARGETS = "array<struct<start:int,end:int,label:string,score:double>>"


def sparknlp_targets(deid_notes: DataFrame, model, chunk_col: str = "ner_chunk") -> DataFrame:
    """DEID_NOTE rows plus ``targets``: the chunks a Spark NLP ``PipelineModel`` finds in ``note_text``.

    The model reads a ``text`` column (DocumentAssembler's usual input) and writes ``chunk_col``;
    chunk ``end`` is inclusive in Spark NLP and becomes exclusive here; labels map through
    ``notenlp.interop.sparknlp.LABEL_ALIASES``; ``metadata.confidence`` is the score (1.0 when absent).
    """
    from notenlp.interop.sparknlp import LABEL_ALIASES

    aliases = F.create_map(*[F.lit(x) for pair in LABEL_ALIASES.items() for x in pair])
    found = model.transform(deid_notes.select("note_id", "person_id", "note_date", "note_text",
                                              F.col("note_text").alias("text")))

    def target(chunk):
        label = F.upper(F.coalesce(chunk["metadata"]["entity"], F.lit("")))
        return F.struct(chunk["begin"].cast("int").alias("start"), (chunk["end"] + 1).cast("int").alias("end"),
                        F.coalesce(F.element_at(aliases, label), label).alias("label"),
                        F.coalesce(chunk["metadata"]["confidence"].cast("double"), F.lit(1.0)).alias("score"))

    return found.select("note_id", "person_id", "note_date", "note_text",
                        F.coalesce(F.transform(F.col(chunk_col), target), F.array().cast(TARGETS))
                        .cast(TARGETS).alias("targets"))


def annotate_with_targets(notes: DataFrame, config: dict[str, Any], source: str) -> DataFrame:
    """``annotate`` for notes that carry ``targets`` (from ``sparknlp_targets``): those spans are the
    entities (``source`` names their system), and the pipeline's sections, ConText assertion, relations
    and normalization run on them as on its own."""
    config = json.loads(json.dumps(config))
    for component in config["components"]:
        if component["name"] == "targets":
            component["config"] = {**component.get("config", {}), "source": source}
    return notes.select("note_id", "person_id", "note_date", "note_text", "targets").mapInPandas(
        lambda it: _annotate_batches(it, config), ANNOTATION_ROW
    )


def entities(annotations: DataFrame) -> DataFrame:
    return annotations.filter(F.col("record_type") == "entity").select(*ENTITY_COLUMNS)


def relations(annotations: DataFrame) -> DataFrame:
    return annotations.filter(F.col("record_type") == "relation").select(
        "note_id", "head_entity_id", "tail_entity_id", "relationship", F.col("relation_score").alias("score")
    )


def annotate_quarantine(annotations: DataFrame) -> DataFrame:
    return annotations.filter(F.col("record_type") == "error").select(
        F.lit("annotate").alias("stage"),
        F.col("note_id").cast("string").alias("record_key"),
        F.lit("annotator_error").alias("reason"),
        F.concat(F.lit("exception="), F.col("error")).alias("detail"),
    )
