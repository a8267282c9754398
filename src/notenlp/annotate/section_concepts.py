"""LOINC section codes -> OMOP concept ids, from the loaded vocabulary.

The section rules (``resources/annotate/sections.json``) keep each section's LOINC code, not a
concept id: OMOP concept ids are assigned by each Athena release, so they are looked up where
every other concept id of a run comes from (``notenlp.vocab.loader.loaded_vocabulary_warehouse``):
the warehouse's CONCEPT table when it holds a vocabulary (an Athena download loaded with LOINC),
else the shipped demo vocabulary. A code the vocabulary does not hold gives 0, which is
what NOTE_NLP.section_concept_id holds for a section without a concept. The demo vocabulary (the
Synthea27Nj rows: LOINC lab tests only) holds no section code, so demo runs write 0 throughout.
"""

from __future__ import annotations

import csv
import gzip
import logging
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

LOINC = "LOINC"


def loinc_concept_ids(codes: Iterable[str], vocabulary: str | Path | None = None) -> dict[str, int]:
    """The concept id of each LOINC code found in the vocabulary; codes not found are left out.

    ``vocabulary``: a DuckDB warehouse or a folder holding an Athena ``CONCEPT.csv`` (or ``.csv.gz``);
    by default the warehouse of the run's settings when it holds a vocabulary, else the demo vocabulary.
    """
    wanted = tuple(sorted({c.strip() for c in codes if c and c.strip()}))
    if not wanted:
        return {}
    from notenlp.vocab import loader

    source = Path(vocabulary) if vocabulary else (loader.loaded_vocabulary_warehouse() or Path(loader.DEMO_VOCAB_DIR))
    found = _remembered_lookup(wanted, source)
    log.info("LOINC section codes: %d of %d in the vocabulary at %s", len(found), len(wanted), source.name)
    return dict(found)


def _remembered_lookup(codes: tuple[str, ...], source: Path) -> tuple[tuple[str, int], ...]:
    """``_lookup``, remembered on disk per state of the vocabulary's files: reading the demo CONCEPT.csv.gz (or
    opening the warehouse) cost ~0.1 s of every start."""
    from notenlp import cache

    if not source.exists():
        raise FileNotFoundError(f"vocabulary not found: {source}")
    files = sorted(p for p in (source / "CONCEPT.csv", source / "CONCEPT.csv.gz") if p.exists()) if source.is_dir() else [source]
    key = cache.content_key(*codes, *(cache.file_state(p) for p in files), cache.source_bytes(__name__))
    try:
        return cache.cached("section-concepts", key, lambda: _lookup(codes, str(source)))
    except _Unreadable:  # not remembered: the next start reads it again
        return ()


class _Unreadable(Exception):
    """The vocabulary could not be read just now (a writer holds the warehouse)."""


def _lookup(codes: tuple[str, ...], source: str) -> tuple[tuple[str, int], ...]:
    path = Path(source)
    if path.is_dir():
        rows = _csv_rows(path, set(codes))
    elif path.exists():
        rows = _duckdb_rows(path, codes)
    else:
        raise FileNotFoundError(f"vocabulary not found: {path}")
    by_code: dict[str, int] = {}
    for code, concept_id, invalid in sorted(rows, key=lambda r: (r[2], r[1])):  # valid concepts first
        if concept_id and code not in by_code:
            by_code[code] = concept_id
    return tuple(sorted(by_code.items()))


def _duckdb_rows(path: Path, codes: tuple[str, ...]) -> list[tuple[str, int, bool]]:
    import duckdb

    try:
        with duckdb.connect(str(path), read_only=True) as con:
            return [(code, int(concept_id), bool(invalid)) for code, concept_id, invalid in con.execute(
                "SELECT concept_code, concept_id, coalesce(invalid_reason, '') <> '' FROM concept "
                "WHERE vocabulary_id = ? AND list_contains(?, concept_code)", [LOINC, list(codes)]).fetchall()]
    except duckdb.Error as exc:  # e.g. a writer holds the warehouse: sections then carry no concept
        log.warning("cannot read LOINC section concepts from %s (%s); section_concept_id stays 0",
                    path.name, type(exc).__name__)
        raise _Unreadable from None


def _csv_rows(folder: Path, codes: set[str]) -> list[tuple[str, int, bool]]:
    path = next((p for p in (folder / "CONCEPT.csv", folder / "CONCEPT.csv.gz") if p.exists()), None)
    if path is None:
        raise FileNotFoundError(f"no CONCEPT.csv(.gz) in {folder}")
    opener = gzip.open if path.suffix == ".gz" else open
    rows = []
    with opener(path, "rt", encoding="utf-8", newline="") as handle:  # Athena: tab-separated, no quoting
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        for row in reader:
            if row["vocabulary_id"] == LOINC and row["concept_code"] in codes:
                rows.append((row["concept_code"], int(row["concept_id"]), bool((row.get("invalid_reason") or "").strip())))
    return rows
