"""The normalization dictionary: every way a concept is written, keyed for fast lookup.

``compile_dictionary(warehouse, out)`` reads the loaded OMOP vocabulary and writes one Parquet
artifact with a row per (normalized key, candidate concept):

- concept names and CONCEPT_SYNONYM names of the Condition, Drug, Measurement, Procedure and
  Observation domains, with written variants (``name_variants``: word order, qualifiers in
  brackets, trailing ``symptom``/``finding``); a non-standard concept reaches its standard
  concept through 'Maps to' (``source_concept_id`` keeps the matched concept);
- RxNorm products parsed into ``ingredient @ strength`` keys (``metformin @ 500 MG``) with their
  dose form, plain ingredient names (salts dropped) and brand names;
- lay terms (``resources/vocab/lay_terms.json``) and abbreviations with their disambiguation
  rules (``resources/vocab/abbreviations.json``), resolved to the first listed concept name
  the vocabulary has; abbreviations also stand in for their expansion inside longer names
  (``CKD stage 3``).

Candidates under one key are ranked: kind (name, synonym, lay, variant, ...), standard source
first, vocabulary (SNOMED, RxNorm, LOINC, others), shorter concept name, lower concept id.
The compile streams through DuckDB, so a full Athena download compiles in bounded memory.
``Dictionary.load(path)`` reads the artifact for the matcher and the normalizer.
"""

from __future__ import annotations

import json
import logging
import math
import multiprocessing
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from notenlp.resources import resource_path
from notenlp.vocab import drugs, text

log = logging.getLogger(__name__)

DOMAINS: tuple[str, ...] = ("Condition", "Drug", "Measurement", "Procedure", "Observation")
KIND_RANK = {"name": 0, "synonym": 1, "lay": 2, "abbreviation": 2, "variant": 3, "ingredient": 4, "brand": 5,
             "abbreviated": 6, "strength": 7}
VOCABULARY_RANK = {"SNOMED": 0, "RxNorm": 1, "LOINC": 2, "RxNorm Extension": 3, "ICD10CM": 4}
PRODUCT_CLASSES = frozenset({
    "Clinical Drug", "Branded Drug", "Quant Clinical Drug", "Quant Branded Drug", "Clinical Drug Comp",
    "Branded Drug Comp", "Clinical Pack", "Branded Pack",
})
STRIP_SUFFIXES = ("symptom", "finding", "disorder")
MAX_CANDIDATES = 8
BATCH_ROWS = 200_000
COLUMNS = ("key", "kind", "rank", "source_concept_id", "concept_id", "domain_id", "vocabulary_id", "concept_code",
           "concept_name", "concept_class_id", "form", "extra")


def _term_rows(row: tuple, kind: str) -> list[tuple]:
    """Keys of one concept name/synonym: the name, its variants, and drug product keys."""
    (term, source_concept_id, source_class, source_is_standard, concept_id, domain_id, vocabulary_id,
     concept_code, concept_name, concept_class_id) = row
    base = (source_concept_id, concept_id, domain_id, vocabulary_id, concept_code, concept_name, concept_class_id)
    out = []
    for i, variant in enumerate(text.name_variants(term, STRIP_SUFFIXES)):
        out.append((text.key(variant), kind if i == 0 else "variant", not source_is_standard, *base, "", ""))
    if domain_id == "Drug":
        if source_class in PRODUCT_CLASSES:
            pack_keys, pack_form = drugs.pack_ingredient_keys(term)
            for key in pack_keys:
                out.append((key, "ingredient", not source_is_standard, *base, pack_form, ""))
            product = drugs.parse_product(term)
            if product is not None:
                if len(product.ingredients) == 1:
                    ingredient = product.ingredients[0]
                    out.append((drugs.strength_key(ingredient, product.strengths[0]), "strength",
                                not source_is_standard, *base, product.form, ""))
                    out.append((text.key(drugs.plain_ingredient(ingredient)), "ingredient",
                                not source_is_standard, *base, product.form, ""))
                else:
                    combo = drugs.combo_key([text.key(drugs.plain_ingredient(i)) for i in product.ingredients])
                    out.append((combo, "ingredient", not source_is_standard, *base, product.form, ""))
            brand = drugs.brand_of(term)
            if brand:
                out.append((text.key(brand), "brand", not source_is_standard, *base,
                            product.form if product else "", ""))
        elif source_class == "Ingredient":
            plain = text.key(drugs.plain_ingredient(term))
            if plain != out[0][0]:
                out.append((plain, "variant", not source_is_standard, *base, "", ""))
    return [r for r in out if r[0]]


def _compile_chunk(chunk: list[tuple]):
    """Keys of a chunk of (term, kind, concept fields...) rows, as an Arrow table (runs in a worker)."""
    rows: list[tuple] = []
    for term, kind, *rest in chunk:
        if term:
            rows.extend(_term_rows((term, *rest), kind))
    return _arrow_batch(rows)


def _arrow_batch(rows: list[tuple]):
    import pyarrow as pa

    names = ("key", "kind", "nonstandard_source", "source_concept_id", "concept_id", "domain_id", "vocabulary_id",
             "concept_code", "concept_name", "concept_class_id", "form", "extra")
    return pa.table({name: [r[i] for r in rows] for i, name in enumerate(names)})


def _load_json(name: str) -> dict[str, Any]:
    return json.loads(resource_path("vocab", name).read_text(encoding="utf-8"))


def compile_dictionary(warehouse_path: str | Path, out_path: str | Path, *,
                       domains: tuple[str, ...] = DOMAINS, workers: int | None = None) -> dict[str, int]:
    """Compile the dictionary artifact from a warehouse that holds the vocabulary tables.

    ``workers``: processes that normalize terms (default: the CPU count, at most 8).
    """
    import duckdb

    started = time.perf_counter()
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    # A scratch database file, not memory: a full download's terms outgrow RAM.
    scratch = tempfile.TemporaryDirectory(prefix="notenlp-dictionary-")
    con = duckdb.connect(str(Path(scratch.name) / "compile.duckdb"))
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    con.execute("ATTACH ? AS vocab (READ_ONLY)", [str(warehouse_path)])
    domain_list = ", ".join(f"'{d}'" for d in domains)
    con.execute(f"""
        CREATE TABLE src AS
        WITH maps AS (
            SELECT r.concept_id_1 AS source_id, t.concept_id, t.domain_id, t.vocabulary_id, t.concept_code,
                   t.concept_name, t.concept_class_id,
                   row_number() OVER (PARTITION BY r.concept_id_1 ORDER BY t.concept_id) AS rn
            FROM vocab.concept_relationship r JOIN vocab.concept t ON t.concept_id = r.concept_id_2
            WHERE r.relationship_id = 'Maps to' AND r.invalid_reason IS NULL
              AND t.standard_concept = 'S' AND t.invalid_reason IS NULL)
        SELECT c.concept_id AS source_concept_id, c.concept_class_id AS source_class,
               coalesce(c.standard_concept = 'S', false) AS source_is_standard,
               CASE WHEN c.standard_concept = 'S' THEN c.concept_id ELSE coalesce(m.concept_id, 0) END AS concept_id,
               CASE WHEN c.standard_concept = 'S' OR m.concept_id IS NULL THEN c.domain_id ELSE m.domain_id END AS domain_id,
               CASE WHEN c.standard_concept = 'S' OR m.concept_id IS NULL THEN c.vocabulary_id ELSE m.vocabulary_id END AS vocabulary_id,
               CASE WHEN c.standard_concept = 'S' OR m.concept_id IS NULL THEN c.concept_code ELSE m.concept_code END AS concept_code,
               CASE WHEN c.standard_concept = 'S' OR m.concept_id IS NULL THEN c.concept_name ELSE m.concept_name END AS concept_name,
               CASE WHEN c.standard_concept = 'S' OR m.concept_id IS NULL THEN c.concept_class_id ELSE m.concept_class_id END AS concept_class_id
        FROM vocab.concept c
        LEFT JOIN maps m ON m.source_id = c.concept_id AND m.rn = 1 AND c.standard_concept IS DISTINCT FROM 'S'
        WHERE (c.invalid_reason IS NULL OR m.concept_id IS NOT NULL)
    """)
    con.execute(f"DELETE FROM src WHERE domain_id NOT IN ({domain_list})")
    con.execute("""CREATE TABLE terms (key VARCHAR, kind VARCHAR, nonstandard_source BOOLEAN,
        source_concept_id INTEGER, concept_id INTEGER, domain_id VARCHAR, vocabulary_id VARCHAR,
        concept_code VARCHAR, concept_name VARCHAR, concept_class_id VARCHAR, form VARCHAR, extra VARCHAR)""")
    stream = con.execute("""
        SELECT t.term, t.kind, s.source_concept_id, s.source_class, s.source_is_standard, s.concept_id, s.domain_id,
               s.vocabulary_id, s.concept_code, s.concept_name, s.concept_class_id
        FROM src s JOIN (
            SELECT concept_id, concept_name AS term, 'name' AS kind FROM vocab.concept
            UNION ALL
            SELECT concept_id, concept_synonym_name, 'synonym' FROM vocab.concept_synonym
        ) t ON t.concept_id = s.source_concept_id
    """)
    source_terms = 0
    writer = con.cursor()

    first = stream.fetchmany(BATCH_ROWS)

    def chunks():
        chunk = first
        while chunk:
            yield chunk
            chunk = stream.fetchmany(BATCH_ROWS)

    # Normalizing terms is Python work: spread it over processes (when there is more than one
    # chunk of it), DuckDB does the rest.
    workers = max(1, min(workers or os.cpu_count() or 1, 8)) if len(first) == BATCH_ROWS else 1
    executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) if workers > 1 else None
    try:
        batches = executor.map(_compile_chunk, chunks()) if executor else map(_compile_chunk, chunks())
        for batch in batches:
            source_terms += batch.num_rows
            writer.register("_batch", batch)
            writer.execute("INSERT INTO terms SELECT * FROM _batch")
            writer.unregister("_batch")
            log.info("compiled %d keys so far (%.0fs)", source_terms, time.perf_counter() - started)
    finally:
        if executor:
            executor.shutdown()
    extra_rows = _curated_rows(con) + _abbreviated_rows(con)
    if extra_rows:
        writer.register("_batch", _arrow_batch(extra_rows))
        writer.execute("INSERT INTO terms SELECT * FROM _batch")
        writer.unregister("_batch")
    vocab_rank = " ".join(f"WHEN '{v}' THEN {r}" for v, r in VOCABULARY_RANK.items())
    kind_rank = " ".join(f"WHEN '{k}' THEN {r}" for k, r in KIND_RANK.items())
    con.execute(f"""
        COPY (
            SELECT key, kind, rank, source_concept_id, concept_id, domain_id, vocabulary_id, concept_code,
                   concept_name, concept_class_id, form, extra
            FROM (
                SELECT *, row_number() OVER (
                    PARTITION BY key, kind = 'abbreviation'
                    ORDER BY concept_id = 0, CASE kind {kind_rank} ELSE 9 END, nonstandard_source,
                             CASE vocabulary_id {vocab_rank} ELSE 5 END,
                             -- a lab named without specimen is, by clinical convention, serum/plasma chemistry
                             concept_name NOT LIKE '%Serum or Plasma%', length(concept_name), concept_id) AS rank
                FROM (SELECT DISTINCT ON (key, kind, source_concept_id, concept_id, extra) * FROM terms)
            )
            WHERE rank <= {MAX_CANDIDATES} OR kind IN ('abbreviation', 'strength')
            ORDER BY key, rank
        ) TO '{out_path}' (FORMAT parquet, COMPRESSION zstd)
    """)
    stats = {
        "term_rows": source_terms,
        "keys": con.execute(f"SELECT count(DISTINCT key) FROM read_parquet('{out_path}')").fetchone()[0],
        "rows": con.execute(f"SELECT count(*) FROM read_parquet('{out_path}')").fetchone()[0],
        "bytes": out_path.stat().st_size,
    }
    writer.close()
    con.close()
    scratch.cleanup()
    log.info("dictionary %s: %d keys, %d rows, %d bytes in %.1fs", out_path.name, stats["keys"], stats["rows"],
             stats["bytes"], time.perf_counter() - started)
    return stats


class _NameIndex:
    """Standard concepts by exact key, for the names that lay terms and abbreviations point to."""

    def __init__(self, con, names: set[str]):
        import pyarrow as pa

        con.register("_wanted", pa.table({"key": sorted({_name_key(n) for n in names})}))
        rows = con.execute(
            """SELECT key, source_concept_id, concept_id, domain_id, vocabulary_id, concept_code, concept_name,
                      concept_class_id
               FROM terms WHERE key IN (SELECT key FROM _wanted) AND concept_id <> 0
                 AND kind IN ('name', 'synonym', 'ingredient', 'variant')
               ORDER BY key, CASE kind WHEN 'name' THEN 0 WHEN 'synonym' THEN 1 WHEN 'variant' THEN 2 ELSE 3 END,
                        nonstandard_source, length(concept_name), concept_id"""
        ).fetchall()
        con.unregister("_wanted")
        self.by_key: dict[str, list[tuple]] = defaultdict(list)
        for key, *fields in rows:
            self.by_key[key].append(tuple(fields))

    def best(self, names: list[str], domain: str | None, forms: frozenset[str] = frozenset()) -> tuple | None:
        """The best concept written exactly as one of ``names`` (in order of preference); with dose-form
        words (``levonorgestrel IUD``), the drug of the best-fitting form, ties kept in rank order."""
        for name in names:
            found = [fields for fields in self.by_key.get(_name_key(name), ()) if domain is None or fields[2] == domain]
            if found and forms:
                return max(found, key=lambda fields: drugs.form_score(_product_form(fields[5], fields[6]), forms))
            if found:
                return found[0]
        return None


def _product_form(concept_name: str, concept_class_id: str) -> str:
    if concept_class_id == "Ingredient":
        return ""
    product = drugs.parse_product(concept_name)
    return product.form if product else drugs.pack_ingredient_keys(concept_name)[1]


def _name_key(name: str) -> str:
    """Key of a concept name in the curated lists; ``a + b`` names a combination product."""
    if " + " in name:
        return drugs.combo_key([text.key(drugs.plain_ingredient(part)) for part in name.split(" + ")])
    return text.key(name)


def _curated_rows(con) -> list[tuple]:
    lay = _load_json("lay_terms.json")["terms"]
    config = _load_json("abbreviations.json")
    wanted = {n for spec in lay.values() for n in spec["names"]}
    wanted |= {n for spec in config["abbreviations"].values() for sense in spec["senses"] for n in sense["names"]}
    brands = drugs.drug_data().brands
    wanted |= set(brands.values())
    index = _NameIndex(con, wanted)
    rows: list[tuple] = []
    for phrase, spec in lay.items():
        best = index.best(spec["names"], spec.get("domain"))
        if best:
            rows.append((text.key(phrase), "lay", False, *best, "", ""))
    for brand, ingredients in brands.items():
        best = index.best([ingredients], "Drug", drugs.written_forms(brand.split(), max_tokens=4))
        if best:
            rows.append((text.key(brand), "lay", False, *best, "", ""))
    window = int(config.get("window", 8))
    for surface, spec in config["abbreviations"].items():
        for number, sense in enumerate(spec["senses"]):
            best = index.best(sense["names"], sense.get("domain")) if sense["names"] else None
            if sense["names"] and best is None:
                continue
            rule = {"surface": surface, "case_sensitive": spec.get("case_sensitive", True), "sense": number,
                    "senses": len(spec["senses"]), "context": sense.get("context", []),
                    "sections": sense.get("sections", []), "default": sense.get("default", len(spec["senses"]) == 1),
                    "window": window}
            fields = best or (0, 0, "", "", "", "", "")
            rows.append((text.key(surface), "abbreviation", False, *fields, "", json.dumps(rule, sort_keys=True)))
    return rows


def _abbreviated_rows(con) -> list[tuple]:
    """``CKD stage 3`` for ``Chronic kidney disease stage 3``: single-sense abbreviations inside longer names."""
    expansions = con.execute("""
        SELECT DISTINCT a.key AS abbreviation, n.key AS expansion FROM terms a
        JOIN terms n ON n.concept_id = a.concept_id AND n.kind = 'name'
        WHERE a.kind = 'abbreviation' AND a.extra LIKE '%"senses": 1,%' AND a.concept_id <> 0
          AND length(n.key) - length(replace(n.key, ' ', '')) >= 1
    """).fetchall()
    rows: list[tuple] = []
    for abbreviation, expansion in expansions:
        for (key, *fields) in con.execute(
            """SELECT key, source_concept_id, concept_id, domain_id, vocabulary_id, concept_code, concept_name,
                      concept_class_id FROM terms
               WHERE kind IN ('name', 'synonym', 'variant') AND concept_id <> 0 AND key <> ?
                 AND contains(' ' || key || ' ', ?)""",
            [expansion, f" {expansion} "],
        ).fetchall():
            short = f" {key} ".replace(f" {expansion} ", f" {abbreviation} ").strip()
            rows.append((short, "abbreviated", False, *fields, "", ""))
    return rows


@dataclass(frozen=True, slots=True)
class Candidate:
    key: str
    kind: str
    source_concept_id: int
    concept_id: int
    domain_id: str
    vocabulary_id: str
    concept_code: str
    concept_name: str
    concept_class_id: str
    form: str
    rule: dict | None


class Dictionary:
    """The compiled artifact in memory: key -> ranked candidates, plus abbreviation rules."""

    def __init__(self, candidates: dict[str, list[Candidate]], abbreviations: dict[str, list[Candidate]]):
        self.candidates = candidates
        self.abbreviations = abbreviations
        self._bags: dict[str, list[Candidate]] | None = None
        self._token_index: dict[str, set[str]] | None = None
        self._trigrams: tuple[dict[str, list[int]], list[str], list[int]] | None = None

    @classmethod
    def load(cls, path: str | Path) -> "Dictionary":
        import pyarrow.parquet as pq

        table = pq.read_table(path, columns=[c for c in COLUMNS if c != "rank"])
        data = table.to_pydict()
        candidates: dict[str, list[Candidate]] = defaultdict(list)
        abbreviations: dict[str, list[Candidate]] = defaultdict(list)
        for i in range(table.num_rows):
            extra = data["extra"][i]
            candidate = Candidate(
                data["key"][i], data["kind"][i], data["source_concept_id"][i], data["concept_id"][i],
                data["domain_id"][i], data["vocabulary_id"][i], data["concept_code"][i], data["concept_name"][i],
                data["concept_class_id"][i], data["form"][i] or "", json.loads(extra) if extra else None,
            )
            target = abbreviations if candidate.kind == "abbreviation" else candidates
            target[candidate.key].append(candidate)
        log.info("loaded dictionary %s: %d keys, %d abbreviations", Path(path).name, len(candidates), len(abbreviations))
        return cls(dict(candidates), dict(abbreviations))

    # Bags and fuzzy indexes serve the normalizer; they are built on first use only.
    def by_bag(self, bag: str) -> list[Candidate]:
        if self._bags is None:
            bags: dict[str, list[Candidate]] = defaultdict(list)
            for key, candidates in self.candidates.items():
                for candidate in candidates:
                    if candidate.kind not in ("strength", "brand") and candidate.concept_id:
                        bags[text.bag(key.split(" "))].append(candidate)
            self._bags = dict(bags)
        return self._bags.get(bag, [])

    def correct_token(self, token: str) -> tuple[str, int] | None:
        """The dictionary word closest to an unknown word (one edit; two for words of 9+ letters).

        A deletion index (every word with one letter dropped) finds the candidates without
        scanning the vocabulary: two words within one edit share a one-deletion form.
        """
        if len(token) < 5 or not token.isalpha():
            return None
        if self._token_index is None:
            # Distinct words first: keys repeat words many times over, and indexing each
            # occurrence made building the index cost seconds per process.
            words = {word for key in self.candidates for word in key.split(" ")
                     if len(word) >= 4 and word.isalpha()}
            index: dict[str, set[str]] = defaultdict(set)
            for word in words:
                index[word].add(word)
                for i in range(len(word)):
                    index[word[:i] + word[i + 1:]].add(word)
            self._token_index = dict(index)
        limit = 2 if len(token) >= 9 else 1
        pool: set[str] = set(self._token_index.get(token, ()))
        for i in range(len(token)):
            pool |= self._token_index.get(token[:i] + token[i + 1:], set())
        best: tuple[str, int] | None = None
        for word in sorted(pool):
            distance = text.edit_distance(token, word, limit)
            if distance <= limit and (best is None or distance < best[1]):
                best = (word, distance)
        return best

    def trigram_search(self, query: str, allowed: set[str] | None, limit: int = 20,
                       min_dice: float = 0.0) -> list[tuple[float, str]]:
        """Keys most similar to ``query`` by character trigram Dice coefficient, best first.

        With ``min_dice``, only keys at least that similar are returned (the same ones, in the same
        order, as without it), found from the query's rarest trigrams: a key with Dice >= t shares at
        least t/(2-t) of the query's trigrams, so it holds one of the rarest ones.
        """
        if self._trigrams is None:
            postings: dict[str, list[int]] = defaultdict(list)
            keys = [k for k, cands in self.candidates.items() if any(c.concept_id for c in cands) and len(k) <= 80]
            sizes = []
            for i, key in enumerate(keys):
                grams = _trigrams(key)
                sizes.append(len(grams))
                for gram in grams:
                    postings[gram].append(i)
            self._trigrams = (dict(postings), keys, sizes)
        postings, keys, sizes = self._trigrams
        grams = _trigrams(query)
        counts: dict[int, int] = defaultdict(int)
        if min_dice > 0:
            needed = math.ceil(min_dice * len(grams) / (2 - min_dice) - 1e-9)
            by_rarity = sorted(grams, key=lambda gram: len(postings.get(gram, ())))
            rare = by_rarity[:len(grams) - max(needed, 1) + 1]
            for gram in rare:
                for i in postings.get(gram, ()):
                    counts[i] += 1
            for i in counts:
                counts[i] += len(grams & _trigrams(keys[i])) - counts[i]
        else:
            for gram in grams:
                for i in postings.get(gram, ()):
                    counts[i] += 1
        scored = []
        for i, shared in counts.items():
            dice = 2 * shared / (len(grams) + sizes[i])
            if dice < min_dice:
                continue
            key = keys[i]
            if allowed is None or any(c.domain_id in allowed for c in self.candidates[key]):
                scored.append((dice, key))
        scored.sort(key=lambda item: (-item[0], item[1]))
        return scored[:limit]


def _trigrams(value: str) -> set[str]:
    padded = f"  {value} "
    return {padded[i:i + 3] for i in range(len(padded) - 2)}
