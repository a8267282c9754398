"""The JSONL contract of ``notenlp deid`` and ``notenlp annotate`` (external scorers use it).

Input line: ``{"note_id", "person_id"?, "note_date"?, "text", "targets"?: [{"start", "end", "label"?}]}``.
A target's optional ``label`` (PROBLEM, DRUG, TEST, ...) lets label-specific assertion rules apply.
Reading and writing stream line by line, so a million-line file runs in bounded memory.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from notenlp.doc import Doc, Span

ENTITY_FIELDS = (
    "id", "start", "end", "text", "label", "section", "negated", "possible", "hypothetical",
    "conditional", "historical", "family", "term_exists", "term_temporal", "term_modifiers",
    "concept_id", "source_concept_id", "vocabulary_id", "concept_code",
)


class ContractError(ValueError):
    """An input line that does not follow the JSONL contract; says which line and why, never its text."""


@contextmanager
def _open(path: str | Path, mode: str) -> Iterator[IO[str]]:
    if str(path) == "-":
        yield sys.stdin if "r" in mode else sys.stdout
        return
    with open(path, mode, encoding="utf-8") as handle:
        yield handle


def read_docs(path: str | Path) -> Iterator[Doc]:
    with _open(path, "r") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ContractError(f"line {line_no}: not valid JSON ({exc.msg} at column {exc.colno})") from None
            yield doc_from_record(record, line_no)


def doc_from_record(record: dict[str, Any], line_no: int = 0) -> Doc:
    if not isinstance(record, dict):
        raise ContractError(f"line {line_no}: expected a JSON object")
    if "note_id" not in record or not isinstance(record.get("text"), str):
        raise ContractError(f"line {line_no}: needs 'note_id' and a string 'text'")
    targets = record.get("targets")
    spans = None
    labels: list[str] = []
    if targets is not None:
        try:
            spans = [Span(int(t["start"]), int(t["end"])) for t in targets]
            labels = [t.get("label") for t in targets]
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ContractError(f"line {line_no}: 'targets' must be a list of {{start, end, label?}}") from None
        text_len = len(record["text"])
        if any(not 0 <= s.start < s.end <= text_len for s in spans):
            raise ContractError(f"line {line_no}: a target span lies outside the text")
        if any(labels) and not all(isinstance(label, str) and label for label in labels):
            raise ContractError(f"line {line_no}: give a 'label' to every target or to none")
    person = record.get("person_id")
    doc = Doc(
        text=record["text"],
        note_id=record["note_id"],
        person_id=int(person) if person is not None else None,
        note_date=record.get("note_date"),
        targets=spans,
    )
    if any(labels):
        from notenlp.doc import TARGET_LABELS

        doc.user_data[TARGET_LABELS] = labels
    return doc


def write_records(path: str | Path, records: Iterable[dict[str, Any]]) -> int:
    count = 0
    with _open(path, "w") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
        handle.flush()
    return count


def annotation_record(doc: Doc) -> dict[str, Any]:
    from notenlp.omop import term_exists, term_modifiers, term_temporal

    entities = []
    for e in doc.entities:
        entities.append({
            "id": e.id, "start": e.start, "end": e.end, "text": e.text, "label": e.label,
            "section": e.section, "negated": e.negated, "possible": e.possible,
            "hypothetical": e.hypothetical, "conditional": e.conditional, "historical": e.historical,
            "family": e.family, "term_exists": term_exists(e), "term_temporal": term_temporal(e),
            "term_modifiers": term_modifiers(e), "concept_id": e.concept_id or None,
            "source_concept_id": e.source_concept_id or None, "vocabulary_id": e.vocabulary_id or None,
            "concept_code": e.concept_code or None,
        })
    relations = [{"head": r.head, "tail": r.tail, "type": r.type, "score": round(r.score, 4)} for r in doc.relations]
    return {"note_id": doc.note_id, "entities": entities, "relations": relations}
